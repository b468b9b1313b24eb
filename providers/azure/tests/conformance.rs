//! The conformance suite against Microsoft's Rust SDK talking to the local
//! Key Vault over TLS, authenticated with the client-credentials flow at its
//! token endpoint; then what only Key Vault has (pages by `nextLink`, the
//! challenge handshake, one token for every call).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use secrecy::SecretString;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_secrets_azure::AzureBackend;
use strata_secrets_conformance::{
    CaseResult, Fault, ServerFaults, Suite, VaultHarness, VaultSetup,
};
use strata_secrets_core::vault::{Descriptor, Fetched, VaultBackend, kit};
use strata_secrets_core::{Environment, ErrorKind, Table, Value};
use strata_secrets_test_servers::azure::LocalKeyVault;

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

async fn backend_for(table: &Table) -> AzureBackend {
    kit::connect_with::<AzureBackend>(table, &Environment::default())
        .await
        .unwrap()
}

struct AzureHarness {
    vaults: Mutex<Vec<LocalKeyVault>>,
}

#[strata_secrets_core::async_trait]
impl VaultHarness for AzureHarness {
    fn descriptor(&self) -> &'static Descriptor {
        &strata_secrets_azure::DESCRIPTOR
    }

    fn server(&self) -> ServerFaults {
        ServerFaults {
            forbid: true,
            forbid_list: true,
            faults: Fault::ALL.to_vec(),
            fail_next: true,
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
        kv.fail_next(setup.fail_next, 503);
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
        let backend = backend_for(&table).await;
        self.vaults.lock().unwrap().push(kv);
        Arc::new(backend)
    }
}

/// Pages follow `nextLink`; the token is fetched once, after the SDK's
/// challenge handshake; each push is a new version.
async fn pages_tokens_and_versions() -> CaseResult {
    let kv = LocalKeyVault::start().await;
    kv.put(
        "Sources--Pipedrive",
        "[sources.pipedrive]\napi_key = \"k\"\n",
    );
    for i in 0..4 {
        kv.put(&format!("s{i}"), "x");
    }
    kv.set_max_page_size(2);
    let b = backend_for(&section(&kv)).await;
    assert!(matches!(
        b.fetch("sources--pipedrive").await.unwrap(),
        Fetched::Found(_)
    ));
    let names = b.list().await.unwrap();
    assert_eq!(names.len(), 5);
    assert_eq!(kv.count("list", ""), 3, "5 secrets in pages of 2");
    let v1 = b
        .store("dlt-secrets-toml", &SecretString::from("a = 1"))
        .await
        .unwrap();
    let v2 = b
        .store("dlt-secrets-toml", &SecretString::from("a = 2"))
        .await
        .unwrap();
    assert_ne!(v1, v2);
    assert_eq!(kv.count("token", ""), 1, "the token is cached");
    assert!(
        kv.count("challenge", "") >= 1,
        "the SDK's challenge handshake ran"
    );
    Ok(())
}

/// One attempt per call: a passing failure is an error marked temporary,
/// which the engine retries; a denial is not.
async fn one_attempt_per_call() -> CaseResult {
    let kv = LocalKeyVault::start().await;
    kv.put("k", "v");
    let b = backend_for(&section(&kv)).await;
    b.fetch("k").await.unwrap();
    kv.reset_counts();
    kv.fail_next(1, 503);
    let err = b.fetch("k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.is_temporary());
    assert_eq!(kv.count("get", "k"), 1);
    kv.fail_always(Some(403));
    let err = b.fetch("k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(!err.is_temporary());
    Ok(())
}

fn main() -> std::process::ExitCode {
    Suite::new()
        .vault(AzureHarness {
            vaults: Mutex::new(Vec::new()),
        })
        .test(
            "azure_key_vault::pages_tokens_and_versions",
            pages_tokens_and_versions,
        )
        .test(
            "azure_key_vault::one_attempt_per_call",
            one_attempt_per_call,
        )
        .run()
}
