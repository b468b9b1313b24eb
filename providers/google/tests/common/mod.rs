//! Helpers shared by the Google tests and the latency example.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use strata_conformance::google::LocalSecretManager;
use strata_core::vault::{VaultOptions, VaultProvider};
use strata_core::{Lookup, Path, Resolver, Table, Value};
use strata_google::{GoogleBackend, GoogleConfig};

/// The `[providers.google_secrets]` table for a local server, as dlt's
/// bootstrap writes it: project_id, client_email, private_key, no key id.
pub fn section(server: &LocalSecretManager) -> Table {
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

/// A backend with a short backoff.
pub async fn backend(server: &LocalSecretManager) -> GoogleBackend {
    let config = GoogleConfig::from_table(&section(server)).await.unwrap();
    GoogleBackend::connect(&config).await.unwrap()
}

/// A vault provider over the server.
pub async fn provider(server: &LocalSecretManager, options: VaultOptions) -> VaultProvider {
    VaultProvider::new(std::sync::Arc::new(backend(server).await), options)
}

/// Resolves `destination.bigquery.credentials` the way dlt resolves an
/// embedded credentials configuration: the whole table first (a native
/// value or fragment), then, when that is missing, each field (here all
/// five at once).
pub async fn resolve_credentials(resolver: &Resolver) -> Table {
    const FIELDS: [&str; 5] = [
        "project_id",
        "client_email",
        "private_key",
        "private_key_id",
        "token_uri",
    ];
    let table_path = Path::parse("destination.bigquery.credentials").unwrap();
    if let Ok(r) = resolver.get(&table_path, &Lookup::secret()).await
        && let Some(t) = r.expose().to_table()
    {
        return t.into_owned();
    }
    let lookups = FIELDS.iter().map(|f| {
        let path = table_path.child(f).unwrap();
        async move { (f, resolver.get(&path, &Lookup::secret()).await) }
    });
    let mut out = Table::default();
    for (f, r) in futures::future::join_all(lookups).await {
        if let Ok(r) = r {
            out.insert((*f).to_owned(), r.expose().clone());
        }
    }
    out
}
