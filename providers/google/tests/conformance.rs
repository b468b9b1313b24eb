//! The whole conformance suite (provider and vault cases) against the
//! official client talking to the local Secret Manager, with service-account
//! credentials exchanged at its token endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::section;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_conformance::google::LocalSecretManager;
use strata_conformance::{Fault, VaultCapabilities, VaultHarness, VaultSetup};
use strata_core::Value;
use strata_core::vault::VaultBackend;
use strata_google::{GoogleBackend, GoogleConfig};

struct GoogleHarness {
    servers: Mutex<Vec<LocalSecretManager>>,
}

#[strata_core::async_trait]
impl VaultHarness for GoogleHarness {
    fn name(&self) -> &str {
        "google_secrets"
    }

    fn capabilities(&self) -> VaultCapabilities {
        VaultCapabilities {
            naming: strata_google::NAMING,
            can_list: true,
            can_forbid: true,
            forbid_list: true,
            faults: Fault::ALL.to_vec(),
            max_value_len: strata_google::NAMING.max_value_len,
            empty_values: true,
            binary_values: true,
        }
    }

    async fn make(&self, setup: &VaultSetup) -> Arc<dyn VaultBackend> {
        let server = LocalSecretManager::start().await;
        for (name, bytes) in &setup.secrets {
            server.put(name, bytes);
        }
        for name in &setup.forbidden {
            server.forbid(name);
        }
        if setup.forbid_list {
            server.forbid_list();
        }
        let mut table = section(&server);
        match setup.fault {
            Some(Fault::Unauthenticated) => server.fail_always(Some(401)),
            Some(Fault::RateLimited) => server.fail_always(Some(429)),
            Some(Fault::Unavailable) => server.fail_always(Some(503)),
            Some(Fault::Timeout) => {
                server.set_latency(Duration::from_secs(3));
                table.insert("timeout".into(), Value::Float(0.2));
            }
            None => {}
        }
        let config = GoogleConfig::from_table(&table).await.unwrap();
        let backend = GoogleBackend::connect(&config).await.unwrap();
        self.servers.lock().unwrap().push(server);
        Arc::new(backend)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_backend_passes_the_whole_suite() {
    let harness = GoogleHarness {
        servers: Mutex::new(Vec::new()),
    };
    let report = strata_conformance::run_vault(&harness).await;
    assert!(
        report.not_applicable.is_empty(),
        "{:?}",
        report.not_applicable
    );
}
