//! Google Secret Manager backend for strata's vault engine (docs/vaults.md).
//!
//! The backend implements [`VaultBackend`](strata_secrets_core::vault::VaultBackend)
//! (fetch `versions/latest` or a pinned version, list with pagination, store a
//! new version for `strata push`) through Google's official client
//! `google-cloud-secretmanager-v1`, which retries and backs off on its own.
//! Everything else (the fetch plan, caching, options) is core's
//! [`VaultProvider`](strata_secrets_core::vault::VaultProvider).
//!
//! Credentials: explicit service-account fields (dlt's bootstrap:
//! `project_id`, `client_email`, `private_key`, no `private_key_id` needed)
//! are exchanged for tokens at the key's `token_uri` (the JWT-bearer
//! grant); with none, the platform's application default credentials.
//! Every request goes through strata's HTTP policy (`strata-secrets-http`).
#![warn(missing_docs)]

mod backend;
mod config;
mod error;
mod token;
mod transport;

pub use backend::{GoogleBackend, NAMING, SCOPE};
pub use config::{
    Credentials, DEFAULT_TIMEOUT, GOOGLE_TOKEN_URI, GcpServiceAccountCredentials, GoogleConfig,
    GoogleSettings, SECTION, ServiceAccount,
};
pub use error::ACCESSOR_ROLE;

use std::sync::Arc;
use strata_secrets_core::typed::Configuration;
use strata_secrets_core::vault::{BuildFuture, Descriptor, VaultProvider};
use strata_secrets_core::{Environment, Resolver};

/// The Google Secret Manager backend, as the facade registers it:
/// `[providers] enable_google_secrets = true`, settings in
/// `[providers.google_secrets]` ([`GoogleSettings`]).
pub static DESCRIPTOR: Descriptor = Descriptor {
    name: "google",
    section: SECTION,
    naming: NAMING,
    settings: <GoogleSettings as Configuration>::FIELDS,
    ambient_variables: &["GOOGLE_APPLICATION_CREDENTIALS"],
    endpoint_keys: &["endpoint"],
    credential_keys: &["credentials.private_key", "credentials"],
    build,
};

fn build<'a>(resolver: &'a Resolver, _env: &'a Environment) -> BuildFuture<'a> {
    Box::pin(async move {
        let config = GoogleConfig::resolve(resolver).await?;
        let backend = GoogleBackend::connect(&config).await?;
        Ok(VaultProvider::new(Arc::new(backend), config.options))
    })
}
