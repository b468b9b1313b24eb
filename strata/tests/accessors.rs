//! `Strata::config`, `Strata::secret` and `Strata::walk_value` read values
//! in place when the environment and the files answer; they must give what
//! the full lookups (`get`, `walk`) give, and the same errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Project;
use std::sync::Arc;
use strata::secrecy::ExposeSecret;
use strata::vault::{MemoryVault, VaultOptions, VaultProvider};
use strata::{ErrorKind, Lookup, Strata};

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

#[tokio::test]
async fn in_place_reads_agree_with_the_full_lookups() {
    let p = sample();
    let s = open(&p, &[("SOURCES__CRM__REGION", "us")]);
    let paths = [
        "sources.crm.token",
        "sources.crm.port",
        "sources.crm.region",
        "sources.crm.page",
        "sources.crm.leaked",
        "sources.crm.shared",
        "sources.crm.absent",
    ];
    for path in paths {
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
    s.register(Arc::new(VaultProvider::new(
        vault.clone(),
        VaultOptions {
            only_toml_fragments: false,
            ..Default::default()
        },
    )));
    assert_eq!(
        s.secret("sources.crm.token").await.unwrap().expose_secret(),
        "from-vault"
    );
    assert_eq!(vault.fetch_count("sources-crm-token"), 1);
}
