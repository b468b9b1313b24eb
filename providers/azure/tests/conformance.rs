//! The whole conformance suite (provider and vault cases) against
//! Microsoft's Rust SDK talking to the local Key Vault, authenticated with
//! the client-credentials flow at its token endpoint; plus request counts,
//! pagination and pushes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_azure::{AzureBackend, AzureConfig};
use strata_conformance::azure::LocalKeyVault;
use strata_conformance::{Fault, VaultCapabilities, VaultHarness, VaultSetup};
use strata_core::vault::{Fetched, VaultBackend};
use strata_core::{ErrorKind, Table, Value};

fn section(kv: &LocalKeyVault) -> Table {
    let p = kv.principal();
    let mut creds = Table::default();
    creds.insert("azure_tenant_id".into(), Value::from(p.tenant_id.as_str()));
    creds.insert("azure_client_id".into(), Value::from(p.client_id.as_str()));
    creds.insert(
        "azure_client_secret".into(),
        Value::from(p.client_secret.as_str()),
    );
    let mut t = Table::default();
    t.insert("vault_url".into(), Value::from(kv.vault_url()));
    t.insert("authority_host".into(), Value::from(kv.authority_host()));
    t.insert(
        "ca_certificate".into(),
        Value::from(kv.ca_certificate_pem()),
    );
    t.insert("credentials".into(), Value::Table(creds));
    t
}

struct AzureHarness {
    vaults: Mutex<Vec<LocalKeyVault>>,
}

#[strata_core::async_trait]
impl VaultHarness for AzureHarness {
    fn name(&self) -> &str {
        "azure_key_vault"
    }

    fn capabilities(&self) -> VaultCapabilities {
        VaultCapabilities {
            naming: strata_azure::NAMING,
            can_list: true,
            can_forbid: true,
            forbid_list: true,
            faults: vec![
                Fault::Unauthenticated,
                Fault::RateLimited,
                Fault::Unavailable,
            ],
            max_value_len: strata_azure::NAMING.max_value_len,
            empty_values: true,
            // Key Vault values are JSON strings: always text
            binary_values: false,
        }
    }

    async fn make(&self, setup: &VaultSetup) -> Arc<dyn VaultBackend> {
        let kv = LocalKeyVault::start().await;
        for (name, bytes) in &setup.secrets {
            kv.put(name, &String::from_utf8_lossy(bytes));
        }
        for name in &setup.forbidden {
            kv.forbid(name);
        }
        if setup.forbid_list {
            kv.forbid_list();
        }
        let mut table = section(&kv);
        match setup.fault {
            Some(Fault::Unauthenticated) => {
                let creds = table
                    .get_mut("credentials")
                    .unwrap()
                    .as_table_mut()
                    .unwrap();
                creds.insert("azure_client_secret".into(), Value::from("wrong-secret"));
            }
            Some(Fault::RateLimited) => kv.fail_always(Some(429)),
            Some(Fault::Unavailable) => kv.fail_always(Some(503)),
            Some(Fault::Timeout) => {
                kv.set_latency(Duration::from_secs(3));
                table.insert("timeout".into(), Value::Float(0.3));
            }
            None => {}
        }
        let backend =
            AzureBackend::connect(&AzureConfig::from_table(&table).await.unwrap()).unwrap();
        self.vaults.lock().unwrap().push(kv);
        Arc::new(backend)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_backend_passes_the_whole_suite() {
    let harness = AzureHarness {
        vaults: Mutex::new(Vec::new()),
    };
    let report = strata_conformance::run_vault(&harness).await;
    assert!(report.passed.len() >= 25, "{:?}", report.passed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_case_insensitive_pages_follow_next_link_and_pushes_add_versions() {
    let kv = LocalKeyVault::start().await;
    kv.put(
        "Sources--Pipedrive",
        "[sources.pipedrive]\napi_key = \"k\"\n",
    );
    for i in 0..4 {
        kv.put(&format!("s{i}"), "x");
    }
    kv.set_max_page_size(2);
    let b = AzureBackend::connect(&AzureConfig::from_table(&section(&kv)).await.unwrap()).unwrap();
    assert!(matches!(
        b.fetch("sources--pipedrive").await.unwrap(),
        Fetched::Found(_)
    ));
    let names = b.list().await.unwrap();
    assert_eq!(names.len(), 5);
    assert_eq!(kv.count("list", ""), 3, "5 secrets in pages of 2");
    let v1 = b
        .store("dlt-secrets-toml", &"a = 1".to_owned().into())
        .await
        .unwrap();
    let v2 = b
        .store("dlt-secrets-toml", &"a = 2".to_owned().into())
        .await
        .unwrap();
    assert_ne!(v1, v2);
    assert_eq!(kv.count("token", ""), 1, "the token is cached");
    assert!(
        kv.count("challenge", "") >= 1,
        "the SDK's challenge handshake ran"
    );
    // the engine refuses a value over Key Vault's limit before any request
    let provider = strata_core::vault::VaultProvider::new(Arc::new(b), Default::default());
    let too_big = "x".repeat(25_001);
    let err = provider
        .store(&strata_core::Path::parse("big").unwrap(), &too_big.into())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidName, "{err}");
    assert!(err.to_string().contains("25000"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_and_errors() {
    let kv = LocalKeyVault::start().await;
    kv.put("k", "v");
    let b = AzureBackend::connect(&AzureConfig::from_table(&section(&kv)).await.unwrap()).unwrap();
    b.fetch("k").await.unwrap();
    kv.reset_counts();
    kv.fail_next(1, 503);
    // the client makes one attempt: the engine retries
    assert_eq!(
        b.fetch("k").await.unwrap_err().kind(),
        ErrorKind::Unavailable
    );
    assert_eq!(kv.count("get", "k"), 1);
    kv.set_latency(Duration::from_millis(1));
    kv.fail_always(Some(403));
    assert_eq!(
        b.fetch("k").await.unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
}

/// The documented scenarios of docs/vaults.md with Azure names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_counts_of_the_documented_scenarios() {
    use strata_core::vault::{VaultOptions, VaultProvider};
    use strata_core::{Lookup, Path, Resolver};
    const FIELDS: [&str; 5] = [
        "project_id",
        "client_email",
        "private_key",
        "private_key_id",
        "token_uri",
    ];
    let toml = || {
        let mut s = "[destination.bigquery.credentials]\n".to_owned();
        for f in FIELDS {
            s.push_str(&format!("{f} = \"{f}-value\"\n"));
        }
        s
    };
    type Scenario = (&'static str, Vec<(String, String)>, [usize; 2]);
    let scenarios: Vec<Scenario> = vec![
        (
            "dlt_secrets_toml",
            vec![("dlt-secrets-toml".into(), toml())],
            [1, 2],
        ),
        (
            "fragment",
            vec![("destination--bigquery--credentials".into(), toml())],
            [4, 2],
        ),
        (
            "single values",
            FIELDS
                .iter()
                .map(|f| {
                    (
                        format!(
                            "destination--bigquery--credentials--{}",
                            f.replace('_', "-")
                        ),
                        format!("{f}-value"),
                    )
                })
                .collect(),
            [9, 6],
        ),
    ];
    for (name, secrets, [without_list, with_list]) in scenarios {
        for list in [false, true] {
            let kv = LocalKeyVault::start().await;
            for (n, v) in &secrets {
                kv.put(n, v);
            }
            let backend =
                AzureBackend::connect(&AzureConfig::from_table(&section(&kv)).await.unwrap())
                    .unwrap();
            let options = VaultOptions {
                only_secrets: true,
                only_toml_fragments: false,
                list_secrets: list,
                prefetch_single_values: false,
                ..VaultOptions::default()
            };
            let resolver = Resolver::new()
                .with_provider(Arc::new(VaultProvider::new(Arc::new(backend), options)));
            let table = Path::parse("destination.bigquery.credentials").unwrap();
            for _ in 0..2 {
                let whole = resolver.get(&table, &Lookup::secret()).await;
                let got: Vec<Option<String>> = match whole {
                    Ok(r) => {
                        let t = r.expose().to_table().unwrap().into_owned();
                        FIELDS
                            .iter()
                            .map(|f| t.get(*f).map(|v| v.to_text()))
                            .collect()
                    }
                    Err(_) => {
                        let mut out = Vec::new();
                        for f in FIELDS {
                            let r = resolver
                                .get(&table.child(f).unwrap(), &Lookup::secret())
                                .await
                                .unwrap();
                            out.push(Some(r.expose().to_text()));
                        }
                        out
                    }
                };
                for (f, v) in FIELDS.iter().zip(got) {
                    assert_eq!(v, Some(format!("{f}-value")), "{name}: {f}");
                }
            }
            let want = if list { with_list } else { without_list };
            assert_eq!(kv.api_requests(), want, "{name}, list_secrets = {list}");
            assert_eq!(kv.count("token", ""), 1, "{name}: one token");
        }
    }
}

/// Key Vault names are case-insensitive: a secret stored as
/// `Sources--Pipedrive` is listed under that case, and `list_secrets` must
/// still let the lookup of `sources--pipedrive` through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_compares_names_without_case() {
    use strata_core::vault::{VaultOptions, VaultProvider};
    use strata_core::{Lookup, Path, Resolver};
    let kv = LocalKeyVault::start().await;
    kv.put(
        "Sources--Pipedrive",
        "[sources.pipedrive]\napi_key = \"k\"\n",
    );
    let backend =
        AzureBackend::connect(&AzureConfig::from_table(&section(&kv)).await.unwrap()).unwrap();
    assert_eq!(backend.list().await.unwrap(), ["Sources--Pipedrive"]);
    let options = VaultOptions {
        only_secrets: true,
        only_toml_fragments: true,
        list_secrets: true,
        prefetch_single_values: false,
        ..VaultOptions::default()
    };
    let resolver =
        Resolver::new().with_provider(Arc::new(VaultProvider::new(Arc::new(backend), options)));
    let r = resolver
        .get(
            &Path::parse("sources.pipedrive.api_key").unwrap(),
            &Lookup::secret(),
        )
        .await
        .unwrap();
    assert_eq!(r.expose().as_str(), Some("k"));
    assert_eq!(kv.count("get", "sources--pipedrive"), 1);
}
