//! AWS Secrets Manager backend for strata's vault engine (SPEC §7).
//!
//! It follows dlt 1.31's own AWS provider: secret names are the prefix
//! (`secret_name_prefix`, default `dlt/`) followed by the normalized path
//! segments joined with `/` (`dlt/sources/pipedrive/api_key`); the prefix
//! also filters the listing. `GetSecretValue` reads string secrets (binary
//! ones are an error that says so), `ListSecrets` is paginated, and `strata
//! push` uses `PutSecretValue` (or `CreateSecret` for a new secret).
#![warn(missing_docs)]

mod backend;
mod config;
mod error;

pub use backend::{AwsBackend, Tuning};
pub use config::{AwsConfig, AwsCredentials, SECTION};
pub use error::READ_PERMISSION;

use std::sync::Arc;
use strata_core::vault::VaultProvider;
use strata_core::{Error, Table};

/// Builds the vault provider from the `[providers.aws_secrets]` table.
pub async fn provider(section: &Table) -> Result<VaultProvider, Error> {
    let config = AwsConfig::from_table(section)?;
    let backend = AwsBackend::connect(&config).await?;
    Ok(VaultProvider::new(Arc::new(backend), config.options))
}
