//! Runs the local Key Vault as a standalone server, for the Python
//! package's tests and for trying strata (or dlt) against it by hand.
//!
//! ```text
//! local-key-vault [--secret NAME=FILE]...
//! ```
//!
//! It prints one JSON line (`vault_url`, `authority_host`, `ca_pem`,
//! `tenant_id`, `client_id`, `client_secret`: a service principal made for
//! this run) and serves until it is killed.

use strata_secrets_test_servers::azure::LocalKeyVault;

fn usage() -> ! {
    eprintln!("usage: local-key-vault [--secret NAME=FILE]...");
    std::process::exit(2)
}

fn main() {
    let mut secrets = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--secret" => {
                let v = args.next().unwrap_or_else(|| usage());
                let (name, file) = v.split_once('=').unwrap_or_else(|| usage());
                let text = std::fs::read_to_string(file).unwrap_or_else(|e| {
                    eprintln!("cannot read {file}: {e}");
                    std::process::exit(2)
                });
                secrets.push((name.to_owned(), text));
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
        let server = LocalKeyVault::start().await;
        for (name, text) in &secrets {
            server.put(name, text);
        }
        let p = server.principal();
        println!(
            "{}",
            serde_json::json!({
                "vault_url": server.vault_url(),
                "authority_host": server.authority_host(),
                "ca_pem": server.ca_certificate_pem(),
                "tenant_id": p.tenant_id,
                "client_id": p.client_id,
                "client_secret": p.client_secret,
            })
        );
        std::future::pending::<()>().await;
    });
}
