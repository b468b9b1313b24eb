//! The strata half of `bench/run.py`'s vault comparison: resolves a 5-field
//! credentials configuration through the vault that the environment enables
//! (`PROVIDERS__ENABLE_GOOGLE_SECRETS`, `PROVIDERS__ENABLE_HASHICORP_VAULT`
//! and friends), and prints the wall time as one JSON line.
//!
//! Protocol (so the driver can reset the server's request counts between
//! the warm-up and the measured run): after opening the workspace and
//! fetching a token (one request for a name that is not stored) it prints
//! `ready`, waits for a line on standard input, resolves, and prints
//! `{"ms": <wall time>, "fields": 5}`.
//!
//! `cargo run --release -p strata-secrets --features google --example vault_bench` (run by bench/run.py)

use std::io::BufRead;
use std::time::Instant;
use strata_secrets::secrecy::SecretString;
use strata_secrets::{Configuration, Options, Path, Strata};

/// `destination.warehouse.credentials`: five secrets.
#[derive(Configuration)]
#[config(credentials)]
struct WarehouseCredentials {
    host: SecretString,
    port: SecretString,
    database: SecretString,
    username: SecretString,
    password: SecretString,
}

/// `destination.warehouse`
#[derive(Configuration)]
struct Warehouse {
    #[config(nested)]
    credentials: WarehouseCredentials,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let strata = Strata::open(Options::default()).await?;
    let vault = strata
        .vaults()
        .first()
        .ok_or("no vault is enabled in the environment")?;
    // authenticate outside the measured run, as the driver does for dlt
    let warm_up = vault.provider.name_of(&Path::parse("warm_up")?)?;
    vault.provider.given_backend().fetch(&warm_up).await?;
    println!("ready");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let started = Instant::now();
    let warehouse: Warehouse = strata.resolve(&["destination", "warehouse"], None).await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let c = &warehouse.credentials;
    let fields = [&c.host, &c.port, &c.database, &c.username, &c.password].len();
    println!("{{\"ms\": {ms:.3}, \"fields\": {fields}}}");
    Ok(())
}
