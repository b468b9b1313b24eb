//! Google-specific behaviour against the local Secret Manager: request
//! counts of the documented scenarios, retries, authentication, versions,
//! pagination and pushes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{backend, provider, resolve_credentials, section};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;
use strata_conformance::google::{LocalSecretManager, TestServiceAccount};
use strata_core::vault::{Fetched, VaultBackend, VaultOptions};
use strata_core::{ErrorKind, Value};
use strata_google::{GoogleBackend, GoogleConfig};

const FIELDS: [&str; 5] = [
    "project_id",
    "client_email",
    "private_key",
    "private_key_id",
    "token_uri",
];

fn creds_toml(prefix: &str) -> String {
    let mut s = format!("[{prefix}]\n");
    for f in FIELDS {
        s.push_str(&format!("{f} = \"{f}-value\"\n"));
    }
    s
}

/// One `dlt_secrets_toml` holding everything; a
/// `destination-bigquery-credentials` fragment; single values only. Each
/// with and without `list_secrets`. The numbers are in docs/vaults.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_counts_of_the_documented_scenarios() {
    type Scenario = (&'static str, Vec<(String, String)>, [usize; 2]);
    let scenarios: Vec<Scenario> = vec![
        (
            "dlt_secrets_toml",
            vec![(
                "dlt_secrets_toml".into(),
                creds_toml("destination.bigquery.credentials"),
            )],
            [1, 2],
        ),
        (
            "fragment",
            vec![(
                "destination-bigquery-credentials".into(),
                creds_toml("destination.bigquery.credentials"),
            )],
            [4, 2],
        ),
        (
            "single values",
            FIELDS
                .iter()
                .map(|f| {
                    (
                        format!("destination-bigquery-credentials-{f}"),
                        format!("{f}-value"),
                    )
                })
                .collect(),
            [9, 6],
        ),
    ];
    for (name, secrets, [without_list, with_list]) in scenarios {
        for list in [false, true] {
            let server = LocalSecretManager::start().await;
            for (n, v) in &secrets {
                server.put(n, v.as_bytes());
            }
            let options = VaultOptions {
                only_secrets: true,
                only_toml_fragments: false,
                list_secrets: list,
                prefetch_single_values: false,
                ..VaultOptions::default()
            };
            let resolver = strata_core::Resolver::new()
                .with_provider(Arc::new(provider(&server, options).await));
            let creds = resolve_credentials(&resolver).await;
            for f in FIELDS {
                assert_eq!(
                    creds.get(f),
                    Some(&Value::from(format!("{f}-value"))),
                    "{name}: {f}"
                );
            }
            // twice: the second resolution is served from the cache
            resolve_credentials(&resolver).await;
            let want = if list { with_list } else { without_list };
            assert_eq!(server.api_requests(), want, "{name}, list_secrets = {list}");
            assert_eq!(server.count("list", ""), usize::from(list), "{name}");
            assert_eq!(
                server.count_method("token"),
                1,
                "{name}: one token for every call"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_attempt_per_call_with_passing_failures_marked_temporary() {
    let server = LocalSecretManager::start().await;
    server.put("k", b"v");
    let b = backend(&server).await;
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
    // the engine retries them
    let provider = strata_core::vault::VaultProvider::new(
        std::sync::Arc::new(b),
        strata_core::vault::VaultOptions {
            only_toml_fragments: false,
            ..Default::default()
        },
    );
    server.reset_counts();
    server.fail_next(2, 503);
    let got = strata_core::Provider::get(&provider, &strata_core::Path::parse("k").unwrap(), true)
        .await
        .unwrap();
    assert!(got.found().is_some());
    // `dlt_secrets_toml` is asked first: two 503s, then its answer; then `k`
    assert_eq!(server.count("access", "k"), 1);
    assert_eq!(server.count_method("access"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_server_does_not_know_is_unauthenticated() {
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
    let config = GoogleConfig::from_table(&table).await.unwrap();
    let b = GoogleBackend::connect(&config).await.unwrap();
    let err = b.fetch("k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(err.to_string().contains("/token"), "{err}");
    assert!(!err.to_string().contains("PRIVATE KEY"), "{err}");
    assert_eq!(server.api_requests(), 0, "no API call without a token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_versions_pagination_and_pushes() {
    let server = LocalSecretManager::start().await;
    server.put("k", b"one");
    server.put("k", b"two");
    let mut table = section(&server);
    table.insert("version".into(), Value::from("1"));
    let pinned = GoogleBackend::connect(&GoogleConfig::from_table(&table).await.unwrap())
        .await
        .unwrap();
    let Fetched::Found(text) = pinned.fetch("k").await.unwrap() else {
        panic!("found")
    };
    assert_eq!(secrecy::ExposeSecret::expose_secret(&text), "one");
    let latest = backend(&server).await;
    let Fetched::Found(text) = latest.fetch("k").await.unwrap() else {
        panic!("found")
    };
    assert_eq!(secrecy::ExposeSecret::expose_secret(&text), "two");

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
    let Fetched::Found(text) = latest.fetch("pushed").await.unwrap() else {
        panic!("found")
    };
    assert_eq!(secrecy::ExposeSecret::expose_secret(&text), "a = 2");
    let provider =
        strata_core::vault::VaultProvider::new(std::sync::Arc::new(latest), Default::default());
    let too_big = SecretString::from("x".repeat(64 * 1024 + 1));
    assert_eq!(
        provider
            .store(&strata_core::Path::parse("big").unwrap(), &too_big)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidName
    );
    assert_eq!(
        server.count("create", ""),
        2,
        "the oversized value made no request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_added_per_request() {
    let server = LocalSecretManager::start().await;
    server.put("k", b"v");
    let b = backend(&server).await;
    b.fetch("k").await.unwrap();
    server.set_latency(Duration::from_millis(30));
    let started = std::time::Instant::now();
    b.fetch("k").await.unwrap();
    // not a timing test of strata: only that the fault injection works
    assert!(started.elapsed() >= Duration::from_millis(30));
}
