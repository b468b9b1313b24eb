//! `Strata::config`, `Strata::secret` and `Strata::walk_value` read values
//! in place when the environment and the files answer; they must give what
//! the full lookups (`get`, `walk`) give, and the same errors.

use crate::common::Project;
use std::sync::Arc;
use strata_secrets::secrecy::ExposeSecret;
use strata_secrets::vault::VaultOptions;
use strata_secrets::{ErrorKind, Lookup, Strata};
use strata_secrets_conformance::TestVault as MemoryVault;

fn open(p: &Project, env: &[(&str, &str)]) -> Strata {
    Strata::open_local(p.options(env)).unwrap()
}

fn sample() -> Project {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[sources.crm]\ntoken = \"from-secrets\"\nport = \"0123\"\n[sources]\nshared = \"up-one\"\n",
    );
    p.write(
        ".dlt/config.toml",
        "[sources.crm]\nregion = \"eu\"\npage = 50\nleaked = \"canary-in-config\"\n",
    );
    p
}

const PATHS: [&str; 7] = [
    "sources.crm.token",
    "sources.crm.port",
    "sources.crm.region",
    "sources.crm.page",
    "sources.crm.leaked",
    "sources.crm.shared",
    "sources.crm.absent",
];

/// Every in-place read of `paths` gives what its full lookup gives.
async fn assert_agree(s: &Strata, paths: &[&str]) {
    for &path in paths {
        for lookup in [
            Lookup::config(),
            Lookup::secret(),
            Lookup::config().pipeline("pipe"),
        ] {
            // exact get, read as text (config and secret have no pipeline)
            if lookup.pipeline.is_none() {
                let full = s
                    .get(path, &lookup)
                    .await
                    .and_then(|r| r.deserialize::<String>());
                let quick = if lookup.secret {
                    s.secret(path).await.map(|v| v.expose_secret().to_owned())
                } else {
                    s.config::<String>(path).await
                };
                match (&full, &quick) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{path} {lookup:?}"),
                    (Err(a), Err(b)) => {
                        assert_eq!(a.kind(), b.kind(), "{path} {lookup:?}");
                        assert_eq!(a.to_string(), b.to_string(), "{path} {lookup:?}");
                    }
                    _ => panic!("{path} {lookup:?}: {full:?} vs {quick:?}"),
                }
            }
            // section walk
            let full = s
                .walk(path, &lookup)
                .await
                .and_then(|r| r.deserialize::<String>());
            let quick = s.walk_value::<String>(path, &lookup).await;
            match (&full, &quick) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "walk {path} {lookup:?}"),
                (Err(a), Err(b)) => {
                    assert_eq!(a.kind(), b.kind(), "walk {path} {lookup:?}");
                    assert_eq!(a.to_string(), b.to_string(), "walk {path} {lookup:?}");
                }
                _ => panic!("walk {path} {lookup:?}: {full:?} vs {quick:?}"),
            }
        }
    }
}

#[tokio::test]
async fn in_place_reads_agree_with_the_full_lookups() {
    let p = sample();
    let s = open(&p, &[("SOURCES__CRM__REGION", "us")]);
    assert_agree(&s, &PATHS).await;
    // text converts on request, in place as in the full lookup
    assert_eq!(s.config::<u32>("sources.crm.port").await.unwrap(), 123);
    assert_eq!(
        s.config::<String>("sources.crm.region").await.unwrap(),
        "us"
    );
    // a secret never comes from config.toml, in place or not
    let err = s.secret("sources.crm.leaked").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Missing);
    assert!(!err.to_string().contains("canary"), "{err}");
    let err = s
        .walk_value::<String>("sources.crm.leaked", &Lookup::secret())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ValueNotSecret);
    // a bad conversion is the full lookup's error, naming path and type
    let err = s.config::<u32>("sources.crm.region").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conversion);
    assert!(err.to_string().contains("sources.crm.region"), "{err}");
}

#[tokio::test]
async fn a_vault_in_the_chain_is_asked_through_its_full_lookup() {
    let p = Project::workspace();
    let vault = Arc::new(MemoryVault::new());
    vault.insert("sources-crm-token", "from-vault");
    let mut s = open(&p, &[]);
    s.register(Arc::new(vault.provider(VaultOptions {
        only_toml_fragments: false,
        ..Default::default()
    })));
    assert_eq!(
        s.secret("sources.crm.token").await.unwrap().expose_secret(),
        "from-vault"
    );
    assert_eq!(vault.fetch_count("sources-crm-token"), 1);
}

#[tokio::test]
async fn reads_agree_once_they_go_through_the_index() {
    // many keys, some overridden by the environment, one answered by a
    // secret file: the index must give what the chain gives
    let p = sample();
    let mut secrets = String::from(
        "[sources.crm]\ntoken = \"from-secrets\"\nport = \"0123\"\n[sources]\nshared = \"up-one\"\n",
    );
    let mut config =
        String::from("[sources.crm]\nregion = \"eu\"\npage = 50\nleaked = \"canary-in-config\"\n");
    let mut paths: Vec<String> = PATHS.map(String::from).to_vec();
    for i in 0..40 {
        secrets.push_str(&format!("[sources.s{i}]\nkey = \"secret-{i}\"\n"));
        config.push_str(&format!("[sources.c{i}]\nkey = \"config-{i}\"\n"));
        paths.push(format!("sources.s{i}.key"));
        paths.push(format!("sources.c{i}.key"));
    }
    // a secret in both files: the secrets file answers both kinds
    config.push_str("[sources.s0]\nkey = \"shadowed\"\n");
    p.write(".dlt/secrets.toml", &secrets);
    p.write(".dlt/config.toml", &config);
    let run_secrets = p.path().join("run-secrets");
    std::fs::create_dir_all(&run_secrets).unwrap();
    std::fs::write(run_secrets.join("sources--s1--key"), "from-file").unwrap();
    let mut options = p.options(&[
        ("SOURCES__CRM__REGION", "us"),
        ("SOURCES__S2__KEY", "from-env"),
        ("SOURCES__C3__KEY", "from-env"),
    ]);
    options.secrets_dir = Some(run_secrets);
    let s = Strata::open_local(options).unwrap();
    // read until the resolver's index of in-place reads is built (about as
    // many reads as leaves; core's own tests check when it is built)
    for _ in 0..3 {
        for path in &paths {
            let _ = s.config::<String>(path).await;
        }
    }
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    assert_agree(&s, &paths).await;
    // what the environment, a secret file and the secrets file say
    let secret = |path: &'static str| {
        let s = &s;
        async move { s.secret(path).await.unwrap().expose_secret().to_owned() }
    };
    assert_eq!(secret("sources.s1.key").await, "from-file");
    assert_eq!(secret("sources.s2.key").await, "from-env");
    assert_eq!(
        s.config::<String>("sources.s0.key").await.unwrap(),
        "secret-0"
    );
    assert_eq!(
        s.config::<String>("sources.c3.key").await.unwrap(),
        "from-env"
    );
    assert_eq!(s.config::<u32>("sources.crm.port").await.unwrap(), 123);
    let err = s.secret("sources.c4.key").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Missing);
    assert!(!err.to_string().contains("config-4"), "{err}");
}
