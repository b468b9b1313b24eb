//! AWS Secrets Manager backend for strata's vault engine (docs/vaults.md).
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
mod transport;

pub use backend::{AwsBackend, NAMING};
pub use config::{
    AwsConfig, AwsCredentials, AwsSettings, DEFAULT_PREFIX, DEFAULT_TIMEOUT, SECTION,
};
pub use error::READ_PERMISSION;

use std::sync::Arc;
use strata_secrets_core::typed::Configuration;
use strata_secrets_core::vault::{BuildFuture, Descriptor, VaultProvider};
use strata_secrets_core::{Environment, Resolver};

/// The AWS Secrets Manager backend, as the facade registers it:
/// `[providers] enable_aws_secrets = true`, settings in
/// `[providers.aws_secrets]` ([`AwsSettings`]).
pub static DESCRIPTOR: Descriptor = Descriptor {
    name: "aws",
    section: SECTION,
    naming: NAMING,
    settings: <AwsSettings as Configuration>::FIELDS,
    ambient_variables: &[
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ],
    endpoint_keys: &["credentials.endpoint_url"],
    credential_keys: &[
        "credentials.aws_secret_access_key",
        "credentials.aws_access_key_id",
    ],
    build,
};

fn build<'a>(resolver: &'a Resolver, _env: &'a Environment) -> BuildFuture<'a> {
    Box::pin(async move {
        let config = AwsConfig::resolve(resolver).await?;
        let backend = AwsBackend::connect(&config).await?;
        Ok(VaultProvider::new(Arc::new(backend), config.options))
    })
}
