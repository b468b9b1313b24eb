//! Wall time of resolving a 5-field credentials table through Google Secret
//! Manager with 20 ms added to every request (token request included), in
//! the three documented scenarios, with and without `list_secrets`.
//!
//! `cargo run -p strata-google --example latency`

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_conformance::google::LocalSecretManager;
use strata_core::vault::VaultOptions;

const LATENCY: Duration = Duration::from_millis(20);
const FIELDS: [&str; 5] = [
    "project_id",
    "client_email",
    "private_key",
    "private_key_id",
    "token_uri",
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let table = |prefix: &str| {
        let mut s = format!("[{prefix}]\n");
        for f in FIELDS {
            s.push_str(&format!("{f} = \"{f}-value\"\n"));
        }
        s
    };
    let scenarios: Vec<(&str, Vec<(String, String)>)> = vec![
        (
            "one dlt_secrets_toml",
            vec![(
                "dlt_secrets_toml".into(),
                table("destination.bigquery.credentials"),
            )],
        ),
        (
            "destination-bigquery-credentials fragment",
            vec![(
                "destination-bigquery-credentials".into(),
                table("destination.bigquery.credentials"),
            )],
        ),
        (
            "single values only",
            FIELDS
                .iter()
                .map(|f| {
                    (
                        format!("destination-bigquery-credentials-{f}"),
                        format!("{f}-value"),
                    )
                })
                .collect(),
        ),
    ];
    println!(
        "{:<44} {:>12} {:>9} {:>10} {:>12}   (token already fetched; the token request adds one more round trip)",
        "scenario", "list_secrets", "requests", "wall (ms)", "round trips"
    );
    for (name, secrets) in scenarios {
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
            let provider = common::provider(&server, options).await;
            // authenticate first (a request for a name that is not stored)
            provider.backend().fetch("warm-up").await.unwrap();
            server.reset_counts();
            let resolver = strata_core::Resolver::new().with_provider(Arc::new(provider));
            server.set_latency(LATENCY);
            let started = Instant::now();
            let creds = common::resolve_credentials(&resolver).await;
            let wall = started.elapsed();
            assert_eq!(creds.len(), 5, "{name}: all five fields resolve");
            println!(
                "{name:<44} {list:>12} {:>9} {:>10.1} {:>12.1}",
                server.api_requests(),
                wall.as_secs_f64() * 1000.0,
                wall.as_secs_f64() / LATENCY.as_secs_f64()
            );
        }
    }
    println!(
        "(a round trip is {} ms of added latency)",
        LATENCY.as_millis()
    );
}
