//! Azure Key Vault backend for strata's vault engine (docs/vaults.md).
//!
//! Names: normalized segments with `_` turned into `-`, joined with `--`
//! (`destination--bigquery--credentials--project-id`); Key Vault names are
//! case-insensitive, so `api_key`, `api-key` and `API_KEY` are one secret.
//! `dlt_secrets_toml` is stored as `dlt-secrets-toml`. Values are at most
//! 25 KB.
#![warn(missing_docs)]

mod backend;
mod config;
mod error;
mod transport;

pub use backend::{AzureBackend, NAMING};
pub use config::{
    AzureConfig, AzureCredentialFields, AzureCredentials, AzureSettings, ClientSecret,
    DEFAULT_TIMEOUT, PUBLIC_AUTHORITY, SECTION,
};
pub use error::READER_ROLE;

use std::sync::Arc;
use strata_secrets_core::typed::Configuration;
use strata_secrets_core::vault::{BuildFuture, Descriptor, VaultProvider};
use strata_secrets_core::{Environment, Resolver};

/// The Azure Key Vault backend, as the facade registers it:
/// `[providers] enable_azure_key_vault = true`, settings in
/// `[providers.azure_key_vault]` ([`AzureSettings`]).
pub static DESCRIPTOR: Descriptor = Descriptor {
    name: "azure",
    section: SECTION,
    naming: NAMING,
    settings: <AzureSettings as Configuration>::FIELDS,
    ambient_variables: &[
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_PASSWORD",
    ],
    endpoint_keys: &["vault_url", "authority_host"],
    credential_keys: &["credentials.azure_client_secret"],
    build,
};

fn build<'a>(resolver: &'a Resolver, _env: &'a Environment) -> BuildFuture<'a> {
    Box::pin(async move {
        let config = AzureConfig::resolve(resolver).await?;
        let backend = AzureBackend::connect(&config)?;
        Ok(VaultProvider::new(Arc::new(backend), config.options))
    })
}
