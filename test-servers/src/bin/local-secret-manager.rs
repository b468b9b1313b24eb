//! Runs the local Secret Manager as a standalone server, for benchmarks and
//! for trying strata (or dlt) against it by hand.
//!
//! ```text
//! local-secret-manager [--port N] [--key-out FILE] [--latency-ms N] [--secret NAME=FILE]...
//! ```
//!
//! It prints one JSON line (`endpoint`, `token_uri`, `project`) and serves
//! until it is killed. `--key-out` writes the test service account's JSON key
//! (made for this run only) with its `token_uri` pointing here.
//!
//! Besides Google's API it answers `GET /_local/counts` (requests so far,
//! per method and secret, as JSON) and `POST /_local/reset` (forget them),
//! without latency or authentication, so a benchmark can count the requests
//! each client made.

use std::time::Duration;
use strata_secrets_test_servers::google::{LocalSecretManager, TestServiceAccount};

fn usage() -> ! {
    eprintln!(
        "usage: local-secret-manager [--port N] [--key-out FILE] [--latency-ms N] [--secret NAME=FILE]..."
    );
    std::process::exit(2)
}

fn main() {
    let mut port = 0u16;
    let mut key_out = None;
    let mut latency = 0u64;
    let mut secrets = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--port" => port = value().parse().unwrap_or_else(|_| usage()),
            "--key-out" => key_out = Some(value()),
            "--latency-ms" => latency = value().parse().unwrap_or_else(|_| usage()),
            "--secret" => {
                let v = value();
                let (name, file) = v.split_once('=').unwrap_or_else(|| usage());
                let bytes = std::fs::read(file).unwrap_or_else(|e| {
                    eprintln!("cannot read {file}: {e}");
                    std::process::exit(2)
                });
                secrets.push((name.to_owned(), bytes));
            }
            _ => usage(),
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("cannot start a runtime: {e}");
            std::process::exit(2)
        });
    runtime.block_on(async move {
        let account = TestServiceAccount::generate("strata-local");
        let server = LocalSecretManager::start_with(account, &format!("127.0.0.1:{port}")).await;
        server.set_latency(Duration::from_millis(latency));
        for (name, bytes) in &secrets {
            server.put(name, bytes);
        }
        if let Some(path) = key_out
            && let Err(e) = std::fs::write(&path, server.account().json_key(&server.token_uri(), false)) {
                eprintln!("cannot write {path}: {e}");
                std::process::exit(2)
            }
        println!(
            "{}",
            serde_json::json!({"endpoint": server.endpoint(), "token_uri": server.token_uri(), "project": server.project()})
        );
        std::future::pending::<()>().await;
    });
}
