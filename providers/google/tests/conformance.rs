//! The conformance suite against the official client talking to the local
//! Secret Manager, with service-account credentials exchanged at its token
//! endpoint; then what only Google has (pinned versions, pages, the token
//! exchange).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_secrets_conformance::{
    CaseResult, Fault, ServerFaults, Suite, VaultHarness, VaultSetup,
};
use strata_secrets_core::vault::{
    Descriptor, Fetched, VaultBackend, VaultOptions, VaultProvider, kit,
};
use strata_secrets_core::{Environment, ErrorKind, Path, ProviderExt, Table, Value};
use strata_secrets_google::GoogleBackend;
use strata_secrets_test_servers::google::{LocalSecretManager, TestServiceAccount};

/// The `[providers.google_secrets]` table for a local server, as dlt's
/// bootstrap writes it: project_id, client_email, private_key, no key id.
fn section(server: &LocalSecretManager) -> Table {
    let account = server.account();
    let mut creds = Table::default();
    creds.insert(
        "project_id".into(),
        Value::from(account.project_id.as_str()),
    );
    creds.insert(
        "client_email".into(),
        Value::from(account.client_email.as_str()),
    );
    creds.insert(
        "private_key".into(),
        Value::from(account.private_key_pem.as_str()),
    );
    creds.insert("token_uri".into(), Value::from(server.token_uri()));
    let mut t = Table::default();
    t.insert("credentials".into(), Value::Table(creds));
    t.insert("endpoint".into(), Value::from(server.endpoint()));
    t
}

async fn backend_for(table: &Table) -> GoogleBackend {
    kit::connect_with::<GoogleBackend>(table, &Environment::default())
        .await
        .unwrap()
}

struct GoogleHarness {
    servers: Mutex<Vec<LocalSecretManager>>,
}

#[strata_secrets_core::async_trait]
impl VaultHarness for GoogleHarness {
    fn descriptor(&self) -> &'static Descriptor {
        &strata_secrets_google::DESCRIPTOR
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
        server.fail_next(setup.fail_next, 503);
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
        let backend = backend_for(&table).await;
        self.servers.lock().unwrap().push(server);
        Arc::new(backend)
    }
}

/// One attempt per call: a passing failure is an error marked temporary,
/// which the engine (not the client) retries.
async fn passing_failures_are_marked_temporary() -> CaseResult {
    let server = LocalSecretManager::start().await;
    server.put("k", b"v");
    let b = backend_for(&section(&server)).await;
    for (status, kind) in [
        (503, ErrorKind::Unavailable),
        (429, ErrorKind::RateLimited),
        (500, ErrorKind::Unavailable),
    ] {
        server.reset_counts();
        server.fail_next(1, status);
        let err = b.fetch("k").await.unwrap_err();
        assert_eq!(err.kind(), kind, "{status}: {err}");
        assert!(err.is_temporary(), "{status}");
        assert_eq!(server.count("access", "k"), 1, "{status}: one attempt");
    }
    server.drop_next(1);
    let err = b.fetch("k").await.unwrap_err();
    assert!(err.is_temporary(), "a dropped connection: {err}");
    Ok(())
}

async fn a_key_the_server_does_not_know_is_unauthenticated() -> CaseResult {
    let server = LocalSecretManager::start().await;
    server.put("k", b"v");
    let stranger = TestServiceAccount::generate(&server.account().project_id);
    let mut table = section(&server);
    let creds = table
        .get_mut("credentials")
        .unwrap()
        .as_table_mut()
        .unwrap();
    creds.insert(
        "private_key".into(),
        Value::from(stranger.private_key_pem.as_str()),
    );
    let b = backend_for(&table).await;
    let err = b.fetch("k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(!err.is_temporary(), "{err}");
    assert!(err.to_string().contains("/token"), "{err}");
    assert!(!err.to_string().contains("PRIVATE KEY"), "{err}");
    assert_eq!(server.api_requests(), 0, "no API call without a token");
    Ok(())
}

async fn pinned_versions_pages_and_pushes() -> CaseResult {
    let server = LocalSecretManager::start().await;
    server.put("k", b"one");
    server.put("k", b"two");
    let mut table = section(&server);
    table.insert("version".into(), Value::from("1"));
    let pinned = backend_for(&table).await;
    let Fetched::Found(text) = pinned.fetch("k").await.unwrap() else {
        return Err("the pinned version was not found".into());
    };
    assert_eq!(text.expose_secret(), "one");
    let latest = backend_for(&section(&server)).await;
    let Fetched::Found(text) = latest.fetch("k").await.unwrap() else {
        return Err("the latest version was not found".into());
    };
    assert_eq!(text.expose_secret(), "two");

    for i in 0..5 {
        server.put(&format!("s{i}"), b"x");
    }
    server.set_max_page_size(2);
    let names = latest.list().await.unwrap();
    assert_eq!(names.len(), 6);
    assert!(names.contains(&"s4".to_owned()) && names.contains(&"k".to_owned()));
    assert_eq!(server.count("list", ""), 3, "6 secrets in pages of 2");

    let v1 = latest
        .store("pushed", &SecretString::from("a = 1"))
        .await
        .unwrap();
    let v2 = latest
        .store("pushed", &SecretString::from("a = 2"))
        .await
        .unwrap();
    assert_eq!((v1.as_str(), v2.as_str()), ("1", "2"));
    Ok(())
}

/// The token is exchanged once and reused by every call of a lookup.
async fn one_token_for_every_call() -> CaseResult {
    let server = LocalSecretManager::start().await;
    server.put(
        "destination-bigquery",
        b"[destination.bigquery]\nlocation = \"EU\"\n",
    );
    let provider = VaultProvider::of(
        Arc::new(backend_for(&section(&server)).await),
        VaultOptions {
            only_toml_fragments: false,
            ..VaultOptions::default()
        },
    );
    for at in ["destination.bigquery.location", "destination.bigquery.x.y"] {
        provider.get(&Path::parse(at).unwrap(), true).await.unwrap();
    }
    assert!(server.api_requests() >= 4, "{}", server.api_requests());
    assert_eq!(server.count_method("token"), 1);
    Ok(())
}

fn main() -> std::process::ExitCode {
    Suite::new()
        .vault(GoogleHarness {
            servers: Mutex::new(Vec::new()),
        })
        .test(
            "google_secrets::passing_failures_are_marked_temporary",
            passing_failures_are_marked_temporary,
        )
        .test(
            "google_secrets::a_key_the_server_does_not_know_is_unauthenticated",
            a_key_the_server_does_not_know_is_unauthenticated,
        )
        .test(
            "google_secrets::pinned_versions_pages_and_pushes",
            pinned_versions_pages_and_pushes,
        )
        .test(
            "google_secrets::one_token_for_every_call",
            one_token_for_every_call,
        )
        .run()
}
