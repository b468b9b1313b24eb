//! Azure Key Vault backend for strata's vault engine ([docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html)).
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

pub use backend::AzureBackend;
pub use config::{AzureConfig, AzureCredentialFields, AzureSettings};

use async_trait::async_trait;
use std::borrow::Cow;
use std::time::Duration;
use strata_secrets_core::naming::VaultNaming;
use strata_secrets_core::vault::kit::Backend;
use strata_secrets_core::vault::{Descriptor, VaultOptions};
use strata_secrets_core::{Environment, Error};

/// The settings table, `[providers.azure_key_vault]`.
pub(crate) const SECTION: &str = "azure_key_vault";

/// Key Vault's names: normalized segments with `_` turned into `-`, joined
/// with `--` (the Azure configuration convention for sections), letters,
/// digits and `-`, at most 127 characters, compared without case; values up
/// to 25 KB.
pub(crate) const NAMING: VaultNaming = VaultNaming {
    vault: "Azure Key Vault",
    prefix: Cow::Borrowed(""),
    separator: "--",
    replace: &[('_', '-')],
    extra_chars: "-",
    max_name_len: 127,
    max_value_len: 25_000,
    case_insensitive: true,
};

/// Seconds one request may take, by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The Azure Key Vault backend, as the facade registers it:
/// `[providers] enable_azure_key_vault = true`, settings in
/// `[providers.azure_key_vault]` ([`AzureSettings`]).
pub static DESCRIPTOR: Descriptor = Descriptor::of::<AzureBackend>();

#[async_trait]
impl Backend for AzureBackend {
    const NAME: &'static str = "azure";
    const SECTION: &'static str = SECTION;
    const NAMING: VaultNaming = NAMING;
    const DEFAULT_TIMEOUT: Duration = DEFAULT_TIMEOUT;
    const AMBIENT_VARIABLES: &'static [&'static str] = &[
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_PASSWORD",
    ];
    const ENDPOINT_KEYS: &'static [&'static str] = &["vault_url", "authority_host"];
    const CREDENTIAL_KEYS: &'static [&'static str] = &["credentials.azure_client_secret"];
    type Settings = AzureSettings;

    async fn connect(
        settings: AzureSettings,
        options: &VaultOptions,
        _env: &Environment,
    ) -> Result<Self, Error> {
        AzureBackend::new(&AzureConfig::from_settings(settings)?, options)
    }
}
