//! AWS Secrets Manager backend for strata's vault engine ([docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html)).
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

pub use backend::AwsBackend;
pub use config::{AwsConfig, AwsCredentials, AwsSettings};

use async_trait::async_trait;
use std::borrow::Cow;
use std::time::Duration;
use strata_secrets_core::naming::VaultNaming;
use strata_secrets_core::vault::kit::Backend;
use strata_secrets_core::vault::{Descriptor, VaultOptions};
use strata_secrets_core::{Environment, Error};

/// The settings table, `[providers.aws_secrets]`.
pub(crate) const SECTION: &str = "aws_secrets";

/// Secrets Manager's names (with dlt's default prefix, which the
/// `secret_name_prefix` setting replaces): normalized segments joined with
/// `/`, letters, digits and `/_+=.@-`, at most 512 characters; values up to
/// 64 KiB.
pub(crate) const NAMING: VaultNaming = VaultNaming {
    vault: "AWS Secrets Manager",
    prefix: Cow::Borrowed(crate::config::DEFAULT_PREFIX),
    separator: "/",
    replace: &[],
    extra_chars: "/_+=.@-",
    max_name_len: 512,
    max_value_len: 64 * 1024,
    case_insensitive: false,
};

/// Seconds one request may take, by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The AWS Secrets Manager backend, as the facade registers it:
/// `[providers] enable_aws_secrets = true`, settings in
/// `[providers.aws_secrets]` ([`AwsSettings`]).
pub static DESCRIPTOR: Descriptor = Descriptor::of::<AwsBackend>();

#[async_trait]
impl Backend for AwsBackend {
    const NAME: &'static str = "aws";
    const SECTION: &'static str = SECTION;
    const NAMING: VaultNaming = NAMING;
    const DEFAULT_TIMEOUT: Duration = DEFAULT_TIMEOUT;
    const AMBIENT_VARIABLES: &'static [&'static str] = &[
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ];
    const ENDPOINT_KEYS: &'static [&'static str] = &["credentials.endpoint_url"];
    const CREDENTIAL_KEYS: &'static [&'static str] = &[
        "credentials.aws_secret_access_key",
        "credentials.aws_access_key_id",
    ];
    type Settings = AwsSettings;

    async fn connect(
        settings: AwsSettings,
        options: &VaultOptions,
        _env: &Environment,
    ) -> Result<Self, Error> {
        AwsBackend::new(&AwsConfig::from_settings(settings)?, options).await
    }

    /// With the `secret_name_prefix` setting.
    fn naming(&self) -> VaultNaming {
        self.naming.clone()
    }
}
