//! Google Secret Manager backend for strata's vault engine (SPEC §7).
//!
//! The backend implements [`VaultBackend`](strata_core::vault::VaultBackend)
//! (fetch `versions/latest` or a pinned version, list with pagination, store a
//! new version for `strata push`) through Google's official client
//! `google-cloud-secretmanager-v1`, which retries and backs off on its own.
//! Everything else (the fetch plan, caching, options) is core's
//! [`VaultProvider`](strata_core::vault::VaultProvider).
//!
//! Credentials: explicit service-account fields (dlt's bootstrap:
//! `project_id`, `client_email`, `private_key`, no `private_key_id` needed)
//! are exchanged for tokens at the key's `token_uri` through yup-oauth2; with
//! none, the platform's application default credentials.
#![warn(missing_docs)]

mod backend;
mod config;
mod error;

pub use backend::{GoogleBackend, SCOPE, Tuning};
pub use config::{
    Credentials, GOOGLE_TOKEN_URI, GoogleBootstrap, GoogleConfig, SECTION, ServiceAccount,
    resolve_credentials,
};
pub use error::ACCESSOR_ROLE;

use std::sync::Arc;
use strata_core::vault::VaultProvider;
use strata_core::{Error, Resolver, Table};

/// Builds the vault provider from the `[providers.google_secrets]` table.
pub async fn provider(section: &Table) -> Result<VaultProvider, Error> {
    let config = GoogleConfig::from_table(section)?;
    let backend = GoogleBackend::connect(&config).await?;
    Ok(VaultProvider::new(Arc::new(backend), config.options))
}

/// Builds the vault provider from the chain above it: the options of the
/// `[providers.google_secrets]` table, and the service account resolved as
/// a typed configuration ([`GoogleBootstrap`]), as dlt bootstraps it.
pub async fn bootstrap(resolver: &Resolver, options: &Table) -> Result<VaultProvider, Error> {
    let credentials = resolve_credentials(resolver).await?;
    let config = GoogleConfig::with_credentials(options, credentials)?;
    let backend = GoogleBackend::connect(&config).await?;
    Ok(VaultProvider::new(Arc::new(backend), config.options))
}
