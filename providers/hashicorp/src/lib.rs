//! HashiCorp Vault / OpenBao backend for strata's vault engine
//! ([docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html)), over a KV version 2 secrets engine through `vaultrs`.
//!
//! Names are dlt's secret names with `/` between segments under
//! `<mount>/data/<path_prefix>/` (`secret/data/dlt/sources/pipedrive/api_key`),
//! which is also the API path a policy grants. A secret whose data is one
//! field `value` holding text is that text (so `dlt_secrets_toml` and the
//! section fragments are TOML in `value`); any other data map is a table at
//! the secret's path, so `bao kv put secret/dlt/sources/pipedrive
//! api_key=...` answers `sources.pipedrive.api_key`. Listing walks `LIST`
//! on the metadata path; `strata push` writes a new KV version with
//! check-and-set; versions are KV versions.
//!
//! Authentication: a token (the `token` setting, `VAULT_TOKEN`, or
//! `~/.vault-token`), AppRole, JWT or Kubernetes login. A 403 is told
//! apart with `auth/token/lookup-self`: a token that can still look itself
//! up was denied the read (nothing, plus a warning naming the capability);
//! one that cannot is refused, and the backend logs in (or reads the token
//! file) again once. Renewable tokens are renewed when two-thirds of their
//! lease is gone.
#![warn(missing_docs)]

mod api;
mod backend;
mod config;
mod error;

pub use backend::HashicorpBackend;
pub use config::{HashicorpConfig, HashicorpSettings};

use async_trait::async_trait;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;
use strata_secrets_core::naming::VaultNaming;
use strata_secrets_core::vault::kit::Backend;
use strata_secrets_core::vault::{Descriptor, LeaseProvider, VaultOptions};
use strata_secrets_core::{Environment, Error};

/// The settings table, `[providers.hashicorp_vault]`.
pub(crate) const SECTION: &str = "hashicorp_vault";

/// KV v2 names (with the default mount and path prefix, which the `mount`
/// and `path_prefix` settings replace): `<mount>/data/<path_prefix>/`
/// followed by the normalized segments joined with `/`, as the API path of
/// the secret, so a name is also the path a policy grants; at most 512
/// characters (Vault sets no limit; this one keeps names sane); values up
/// to 512 KiB (Vault's default request size limit is 32 MiB; KV
/// documents suggest staying far below).
pub(crate) const NAMING: VaultNaming = VaultNaming {
    vault: "HashiCorp Vault",
    prefix: Cow::Borrowed("secret/data/dlt/"),
    separator: "/",
    replace: &[],
    extra_chars: "/_-.",
    max_name_len: 512,
    max_value_len: 512 * 1024,
    case_insensitive: false,
};

/// Seconds one request may take, by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The HashiCorp Vault / OpenBao backend, as the facade registers it:
/// `[providers] enable_hashicorp_vault = true`, settings in
/// `[providers.hashicorp_vault]` ([`HashicorpSettings`]).
pub static DESCRIPTOR: Descriptor = Descriptor::of::<HashicorpBackend>();

#[async_trait]
impl Backend for HashicorpBackend {
    const NAME: &'static str = "hashicorp";
    const SECTION: &'static str = SECTION;
    const NAMING: VaultNaming = NAMING;
    const DEFAULT_TIMEOUT: Duration = DEFAULT_TIMEOUT;
    const AMBIENT_VARIABLES: &'static [&'static str] = &["VAULT_TOKEN"];
    const ENDPOINT_KEYS: &'static [&'static str] = &["url"];
    const CREDENTIAL_KEYS: &'static [&'static str] = &["token", "secret_id", "jwt"];
    type Settings = HashicorpSettings;

    async fn connect(
        settings: HashicorpSettings,
        options: &VaultOptions,
        env: &Environment,
    ) -> Result<Self, Error> {
        HashicorpBackend::new(&HashicorpConfig::from_settings(settings, env)?, options)
    }

    /// Under the mount and path prefix the settings give.
    fn naming(&self) -> VaultNaming {
        self.naming.clone()
    }

    fn leases(self: &Arc<Self>) -> Option<LeaseProvider> {
        let map = self.lease_mappings();
        if map.is_empty() {
            return None;
        }
        Some(LeaseProvider::new(
            self.clone(),
            format!("{SECTION} leases"),
            map,
        ))
    }
}
