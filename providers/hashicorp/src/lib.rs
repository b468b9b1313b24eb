//! HashiCorp Vault / OpenBao backend for strata's vault engine
//! (docs/vaults.md), over a KV version 2 secrets engine through `vaultrs`.
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

pub use backend::{HashicorpBackend, NAMING};
pub use config::{
    Auth, DEFAULT_MOUNT, DEFAULT_PATH_PREFIX, DEFAULT_TIMEOUT, HashicorpConfig, HashicorpSettings,
    JwtSource, KUBERNETES_TOKEN_PATH, SECTION, TokenSource,
};

use std::sync::Arc;
use strata_secrets_core::typed::Configuration;
use strata_secrets_core::vault::{BuildFuture, Descriptor, LeaseProvider, VaultProvider};
use strata_secrets_core::{Environment, Resolver};

/// The HashiCorp Vault / OpenBao backend, as the facade registers it:
/// `[providers] enable_hashicorp_vault = true`, settings in
/// `[providers.hashicorp_vault]` ([`HashicorpSettings`]).
pub static DESCRIPTOR: Descriptor = Descriptor {
    name: "hashicorp",
    section: SECTION,
    naming: NAMING,
    settings: <HashicorpSettings as Configuration>::FIELDS,
    ambient_variables: &["VAULT_TOKEN"],
    endpoint_keys: &["url"],
    credential_keys: &["token", "secret_id", "jwt"],
    build,
};

fn build<'a>(resolver: &'a Resolver, env: &'a Environment) -> BuildFuture<'a> {
    Box::pin(async move {
        let config = HashicorpConfig::resolve(resolver, env).await?;
        let backend = Arc::new(HashicorpBackend::connect(&config)?);
        let provider = VaultProvider::new(backend.clone(), config.options);
        if config.leases.is_empty() {
            return Ok(provider);
        }
        Ok(provider.with_leases(LeaseProvider::new(
            backend,
            format!("{SECTION} leases"),
            config.leases,
        )))
    })
}
