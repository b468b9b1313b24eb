//! The conformance suite (provider and vault cases) and the request counts
//! of the documented scenarios, against moto's server through the official
//! AWS SDK.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use strata_aws::{AwsBackend, AwsConfig};
use strata_conformance::moto::MotoServer;
use strata_conformance::proxy::AwsFaultProxy;
use strata_conformance::{Fault, VaultCapabilities, VaultHarness, VaultSetup};
use strata_core::vault::{VaultBackend, VaultOptions, VaultProvider};
use strata_core::{Lookup, Path, Resolver, Table, Value};

fn section(moto: &MotoServer) -> Table {
    let mut creds = Table::default();
    creds.insert("aws_access_key_id".into(), Value::from("testing"));
    creds.insert("aws_secret_access_key".into(), Value::from("testing"));
    creds.insert("region_name".into(), Value::from("eu-central-1"));
    creds.insert("endpoint_url".into(), Value::from(moto.endpoint()));
    let mut t = Table::default();
    t.insert("credentials".into(), Value::Table(creds));
    t
}

async fn sdk_client(moto: &MotoServer) -> aws_sdk_secretsmanager::Client {
    let creds =
        aws_sdk_secretsmanager::config::Credentials::new("testing", "testing", None, None, "test");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(creds)
        .endpoint_url(moto.endpoint())
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&sdk)
}

async fn seed(moto: &MotoServer, secrets: &[(String, Vec<u8>)]) {
    let client = sdk_client(moto).await;
    for (name, bytes) in secrets {
        let req = client.create_secret().name(name);
        let req = match String::from_utf8(bytes.clone()) {
            Ok(text) => req.secret_string(text),
            Err(_) => {
                req.secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(bytes.clone()))
            }
        };
        req.send().await.unwrap();
    }
}

struct AwsHarness {
    moto: MotoServer,
    proxies: Mutex<Vec<AwsFaultProxy>>,
    backends: Mutex<usize>,
}

#[strata_core::async_trait]
impl VaultHarness for AwsHarness {
    fn name(&self) -> &str {
        "aws_secrets"
    }

    fn capabilities(&self) -> VaultCapabilities {
        VaultCapabilities {
            naming: strata_aws::NAMING,
            can_list: true,
            // moto enforces no IAM and injects no faults: a proxy in
            // front of it answers with AWS's error shapes
            can_forbid: true,
            forbid_list: true,
            faults: Fault::ALL.to_vec(),
            max_value_len: strata_aws::NAMING.max_value_len,
            empty_values: false,
            binary_values: true,
        }
    }

    async fn make(&self, setup: &VaultSetup) -> Arc<dyn VaultBackend> {
        // every case uses its providers one after the other, so a fresh
        // vault per backend is a reset of the one server
        self.moto.reset();
        seed(&self.moto, &setup.secrets).await;
        *self.backends.lock().unwrap() += 1;
        let proxy = AwsFaultProxy::start(&self.moto.endpoint()).await;
        for name in &setup.forbidden {
            proxy.forbid(name);
        }
        if setup.forbid_list {
            proxy.forbid_list();
        }
        let mut table = section(&self.moto);
        let creds = table
            .get_mut("credentials")
            .unwrap()
            .as_table_mut()
            .unwrap();
        creds.insert("endpoint_url".into(), Value::from(proxy.endpoint()));
        match setup.fault {
            Some(Fault::Unauthenticated) => proxy.fail_always(Some((400, "ExpiredTokenException"))),
            Some(Fault::RateLimited) => proxy.fail_always(Some((400, "ThrottlingException"))),
            Some(Fault::Unavailable) => proxy.fail_always(Some((500, "InternalServiceError"))),
            Some(Fault::Timeout) => {
                proxy.set_latency(std::time::Duration::from_secs(3));
                table.insert("timeout".into(), Value::Float(0.2));
            }
            None => {}
        }
        let config = AwsConfig::from_table(&table).await.unwrap();
        let backend = AwsBackend::connect(&config).await.unwrap();
        self.proxies.lock().unwrap().push(proxy);
        Arc::new(backend)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_backend_passes_the_suite_against_moto() {
    let harness = AwsHarness {
        moto: MotoServer::start(),
        proxies: Mutex::new(Vec::new()),
        backends: Mutex::new(0),
    };
    let report = strata_conformance::run_vault(&harness).await;
    assert!(*harness.backends.lock().unwrap() > 20);
    assert!(report.passed.len() >= 26, "{:?}", report.passed);
    assert!(
        report.not_applicable.is_empty(),
        "{:?}",
        report.not_applicable
    );
}

const FIELDS: [&str; 5] = [
    "project_id",
    "client_email",
    "private_key",
    "private_key_id",
    "token_uri",
];

/// Fetches through a counting wrapper: moto counts nothing itself.
async fn resolve_credentials(resolver: &Resolver) -> Table {
    let table_path = Path::parse("destination.bigquery.credentials").unwrap();
    if let Ok(r) = resolver.get(&table_path, &Lookup::secret()).await
        && let Some(t) = r.expose().to_table()
    {
        return t.into_owned();
    }
    let mut out = Table::default();
    let lookups = FIELDS.iter().map(|f| {
        let p = table_path.child(f).unwrap();
        async move { (f, resolver.get(&p, &Lookup::secret()).await) }
    });
    for (f, r) in futures_join(lookups).await {
        if let Ok(r) = r {
            out.insert((*f).to_owned(), r.expose().clone());
        }
    }
    out
}

async fn futures_join<F: std::future::Future>(it: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut out = Vec::new();
    let handles: Vec<F> = it.collect();
    for h in handles {
        out.push(h.await);
    }
    out
}

/// The same scenarios as Google's, with AWS names; counted at the SDK
/// boundary (moto does not count). The numbers are in docs/vaults.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_counts_of_the_documented_scenarios() {
    let moto = MotoServer::start();
    let toml = |prefix: &str| {
        let mut s = format!("[{prefix}]\n");
        for f in FIELDS {
            s.push_str(&format!("{f} = \"{f}-value\"\n"));
        }
        s
    };
    type Scenario = (&'static str, Vec<(String, Vec<u8>)>, [usize; 2]);
    let scenarios: Vec<Scenario> = vec![
        (
            "dlt_secrets_toml",
            vec![(
                "dlt/dlt_secrets_toml".into(),
                toml("destination.bigquery.credentials").into_bytes(),
            )],
            [1, 1],
        ),
        (
            "fragment",
            vec![(
                "dlt/destination/bigquery/credentials".into(),
                toml("destination.bigquery.credentials").into_bytes(),
            )],
            [4, 1],
        ),
        (
            "single values",
            FIELDS
                .iter()
                .map(|f| {
                    (
                        format!("dlt/destination/bigquery/credentials/{f}"),
                        format!("{f}-value").into_bytes(),
                    )
                })
                .collect(),
            [9, 5],
        ),
    ];
    for (name, secrets, [without_list, with_list]) in scenarios {
        for list in [false, true] {
            moto.reset();
            seed(&moto, &secrets).await;
            let config = AwsConfig::from_table(&section(&moto)).await.unwrap();
            let backend = Arc::new(strata_conformance::vault::Counting::new(Arc::new(
                AwsBackend::connect(&config).await.unwrap(),
            )));
            let options = VaultOptions {
                only_secrets: true,
                only_toml_fragments: false,
                list_secrets: list,
                prefetch_single_values: false,
                ..VaultOptions::default()
            };
            let resolver = Resolver::new()
                .with_provider(Arc::new(VaultProvider::new(backend.clone(), options)));
            let creds = resolve_credentials(&resolver).await;
            for f in FIELDS {
                assert_eq!(
                    creds.get(f),
                    Some(&Value::from(format!("{f}-value"))),
                    "{name}: {f}"
                );
            }
            resolve_credentials(&resolver).await;
            let want = if list { with_list } else { without_list };
            assert_eq!(
                backend.fetches(),
                want,
                "{name}, list_secrets = {list}: fetches"
            );
            assert_eq!(backend.lists(), usize::from(list), "{name}: lists");
        }
    }
}
