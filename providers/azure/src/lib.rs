//! Azure Key Vault backend for strata's vault engine (SPEC §7).
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

pub use backend::{AzureBackend, Tuning};
pub use config::{AzureConfig, AzureCredentials, ClientSecret, PUBLIC_AUTHORITY, SECTION};
pub use error::READER_ROLE;

use std::sync::Arc;
use strata_core::vault::VaultProvider;
use strata_core::{Error, Table};

/// Builds the vault provider from the `[providers.azure_key_vault]` table.
pub async fn provider(section: &Table) -> Result<VaultProvider, Error> {
    let config = AzureConfig::from_table(section)?;
    let backend = AzureBackend::connect(&config)?;
    Ok(VaultProvider::new(Arc::new(backend), config.options))
}
