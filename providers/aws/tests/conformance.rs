//! The conformance suite against moto's server through the official AWS
//! SDK, with a proxy in front of moto that injects AWS's own error shapes
//! (moto enforces no IAM and injects no faults).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use strata_secrets_aws::AwsBackend;
use strata_secrets_conformance::{Fault, ServerFaults, Suite, VaultHarness, VaultSetup};
use strata_secrets_core::vault::{Descriptor, VaultBackend, kit};
use strata_secrets_core::{Environment, Table, Value};
use strata_secrets_test_servers::aws_proxy::AwsFaultProxy;
use strata_secrets_test_servers::moto::MotoServer;

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
}

#[strata_secrets_core::async_trait]
impl VaultHarness for AwsHarness {
    fn descriptor(&self) -> &'static Descriptor {
        &strata_secrets_aws::DESCRIPTOR
    }

    fn server(&self) -> ServerFaults {
        ServerFaults {
            forbid: true,
            forbid_list: true,
            faults: Fault::ALL.to_vec(),
            fail_next: true,
        }
    }

    /// One moto server for every case: each backend resets it, so the
    /// cases run one at a time.
    fn serial(&self) -> bool {
        true
    }

    async fn make(&self, setup: &VaultSetup) -> Arc<dyn VaultBackend> {
        self.moto.reset();
        seed(&self.moto, &setup.secrets).await;
        let proxy = AwsFaultProxy::start(&self.moto.endpoint()).await;
        for name in &setup.forbidden {
            proxy.forbid(name);
        }
        if setup.forbid_list {
            proxy.forbid_list();
        }
        proxy.fail_next(setup.fail_next, 500, "InternalServiceError");
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
        let backend = kit::connect_with::<AwsBackend>(&table, &Environment::default())
            .await
            .unwrap();
        self.proxies.lock().unwrap().push(proxy);
        Arc::new(backend)
    }
}

fn main() -> std::process::ExitCode {
    let moto = MotoServer::start();
    Suite::new()
        .vault(AwsHarness {
            moto,
            proxies: Mutex::new(Vec::new()),
        })
        .run()
}
