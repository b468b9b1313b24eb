//! A small Rust pipeline that declares what it needs as structs and resolves
//! them in one call each from the bundled dlt workspace:
//!
//! `cargo run -p strata-secrets --example pipeline -- examples/quickstart [PROFILE]`

use strata_secrets::credentials::ConnectionStringCredentials;
use strata_secrets::secrecy::{ExposeSecret, SecretString};
use strata_secrets::{Configuration, Options, Strata};

/// `[sources.pipedrive]`
#[derive(Configuration, Debug)]
struct PipedriveSource {
    api_key: SecretString,
    #[config(default = 100)]
    page_size: u32,
}

/// `[destination.warehouse]`
#[derive(Configuration, Debug)]
struct Warehouse {
    destination_type: String,
    #[config(nested)]
    credentials: Option<WarehouseCredentials>,
}

#[derive(Configuration, Debug)]
struct WarehouseCredentials {
    database: String,
    password: Option<SecretString>,
}

/// `[destination.analytics]`: a connection string in one value, if set.
#[derive(Configuration, Debug)]
struct Analytics {
    #[config(nested)]
    credentials: ConnectionStringCredentials,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), strata_secrets::Error> {
    let mut args = std::env::args().skip(1);
    let workspace = args.next().unwrap_or_else(|| "examples/quickstart".into());
    let profile = args.next();
    let strata = Strata::open(Options {
        run_dir: Some(workspace.into()),
        profile,
        ..Options::default()
    })
    .await?;
    let source: PipedriveSource = strata.resolve(&["sources", "pipedrive"], None).await?;
    let warehouse: Warehouse = strata.resolve(&["destination", "warehouse"], None).await?;
    println!(
        "profile {}: pipedrive page size {}, api key of {} characters",
        strata
            .workspace()
            .profile()
            .map(|p| p.as_str())
            .unwrap_or("none"),
        source.page_size,
        source.api_key.expose_secret().len()
    );
    match &warehouse.credentials {
        Some(c) => println!(
            "warehouse: {} database `{}` ({})",
            warehouse.destination_type,
            c.database,
            if c.password.is_some() {
                "with a password"
            } else {
                "no password"
            }
        ),
        None => println!(
            "warehouse: {} without credentials",
            warehouse.destination_type
        ),
    }
    match strata
        .resolve::<Analytics>(&["destination", "analytics"], None)
        .await
    {
        Ok(a) => println!(
            "analytics: {}@{}/{}",
            a.credentials.username, a.credentials.host, a.credentials.database
        ),
        Err(e) if e.is_missing() => println!(
            "analytics: not configured (set DESTINATION__ANALYTICS__CREDENTIALS=postgresql://user:pw@host/db)"
        ),
        Err(e) => return Err(e),
    }
    Ok(())
}
