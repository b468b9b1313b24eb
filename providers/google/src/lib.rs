//! Google Secret Manager backend for strata's vault engine ([docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html)).
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

pub use backend::GoogleBackend;
pub use config::{GcpServiceAccountCredentials, GoogleConfig, GoogleSettings};

use async_trait::async_trait;
use std::borrow::Cow;
use std::time::Duration;
use strata_secrets_core::naming::VaultNaming;
use strata_secrets_core::vault::kit::Backend;
use strata_secrets_core::vault::{Descriptor, KeyFile, VaultOptions};
use strata_secrets_core::{Environment, Error};

/// The settings table, `[providers.google_secrets]`.
pub(crate) const SECTION: &str = "google_secrets";

/// Secret Manager's names: normalized segments joined with `-`, letters,
/// digits, `-` and `_`, at most 255 characters; values up to 64 KiB.
pub(crate) const NAMING: VaultNaming = VaultNaming {
    vault: "Google Secret Manager",
    prefix: Cow::Borrowed(""),
    separator: "-",
    replace: &[],
    extra_chars: "-_",
    max_name_len: 255,
    max_value_len: 64 * 1024,
    case_insensitive: false,
};

/// Seconds one request (or token exchange) may take, by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The Google Secret Manager backend, as the facade registers it:
/// `[providers] enable_google_secrets = true`, settings in
/// `[providers.google_secrets]` ([`GoogleSettings`]).
pub static DESCRIPTOR: Descriptor = Descriptor::of::<GoogleBackend>();

#[async_trait]
impl Backend for GoogleBackend {
    const NAME: &'static str = "google";
    const SECTION: &'static str = SECTION;
    const NAMING: VaultNaming = NAMING;
    const DEFAULT_TIMEOUT: Duration = DEFAULT_TIMEOUT;
    const AMBIENT_VARIABLES: &'static [&'static str] = &["GOOGLE_APPLICATION_CREDENTIALS"];
    const ENDPOINT_KEYS: &'static [&'static str] = &["endpoint"];
    const CREDENTIAL_KEYS: &'static [&'static str] = &["credentials.private_key", "credentials"];
    /// A service account's key: what Google's client libraries read from
    /// the file `GOOGLE_APPLICATION_CREDENTIALS` names.
    const KEY_FILE: Option<KeyFile> = Some(KeyFile {
        variable: "GOOGLE_APPLICATION_CREDENTIALS",
        fields: &["client_email", "private_key"],
        defaults: &[
            ("type", "service_account"),
            ("token_uri", "https://oauth2.googleapis.com/token"),
        ],
    });
    type Settings = GoogleSettings;

    async fn connect(
        settings: GoogleSettings,
        options: &VaultOptions,
        _env: &Environment,
    ) -> Result<Self, Error> {
        GoogleBackend::new(&GoogleConfig::from_settings(settings)?, options).await
    }
}
