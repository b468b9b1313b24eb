//! The vault engine ([docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html)).
//!
//! A vault backend implements two calls, [`VaultBackend::fetch`] (one secret
//! by name) and optionally [`VaultBackend::list`]. [`VaultProvider`] does the
//! rest: the fetch plan (`dlt_secrets_toml`, section fragments, single
//! values), `only_secrets`, `only_toml_fragments`, `list_secrets`, a cache of
//! every fetch with one request per name under concurrency, concurrent
//! fetches merged in plan order, and the error mapping (access denied on a
//! fetch is "nothing" plus a warning; every other error fails the lookup).

mod descriptor;
mod engine;
pub mod kit;
pub mod layers;
pub mod leases;
mod memory_vault;
mod settings;

pub use descriptor::{BuildFuture, Descriptor, KeyFile};
pub use engine::VaultProvider;
pub use leases::{Lease, LeaseProvider, LeaseSource};

pub use memory_vault::{MEMORY_DESCRIPTOR, MEMORY_NAMING, MemoryVault};
pub use settings::{CommonSettings, MAX_SECONDS, settings_from_table};

use crate::error::{Error, ErrorKind};
use async_trait::async_trait;
use secrecy::SecretString;
use std::fmt;
use std::time::Duration;

/// The key of a whole `secrets.toml` stored as one secret.
pub const SECRETS_TOML_KEY: &str = "dlt_secrets_toml";
/// Top sections whose fragments are fetched, in this order.
pub const KNOWN_SECTIONS: [&str; 2] = ["sources", "destination"];

/// What a fetch found.
#[derive(Debug)]
pub enum Fetched {
    /// The secret's text (the latest, or the pinned, version).
    Found(SecretString),
    /// A structured secret (the fields of a key-value store's entry): a
    /// table at the secret's path (for `dlt_secrets_toml`, the document
    /// itself). Core places it; a backend encodes nothing.
    Table(crate::value::Table),
    /// No such secret (or no enabled version).
    NotFound,
    /// The vault would not show it, for a reason that is not a missing
    /// permission (an unrecognized key, a secret scheduled for deletion):
    /// nothing, plus this warning, which says what is wrong.
    Withheld(String),
}

/// One version of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The vault's own id of the version (a number, or an opaque id).
    pub id: String,
    /// When it was made (RFC 3339), when the vault says.
    pub created: Option<String>,
    /// Its state in the vault's words (`enabled`, `destroyed`, a staging label, ...).
    pub state: String,
}

/// What a vault can do: the one place it is said is the backend's
/// [`VaultBackend::capabilities`], which the engine, the commands and the
/// conformance suite read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Names can be listed ([`VaultBackend::list`]).
    pub list: bool,
    /// Values can be written ([`VaultBackend::store`], `strata push`).
    pub store: bool,
    /// Versions can be listed and read ([`VaultBackend::versions`]).
    pub versions: bool,
    /// An empty text can be stored.
    pub empty_values: bool,
    /// Bytes that are not UTF-8 can be stored (a read of them is an error).
    pub binary_values: bool,
}

/// A vault's client: one fetch by name, and optionally a listing.
///
/// Behaviour the conformance suite checks (`strata_secrets_conformance::vault`):
/// - `fetch` returns the stored text exactly, for payloads up to the vault's
///   size limit, and [`Fetched::NotFound`] for a name that is not stored;
/// - a payload that is not UTF-8 text is an error, not a value;
/// - access denied is an [`ErrorKind::PermissionDenied`] error, refused
///   credentials [`ErrorKind::Unauthenticated`], an unreachable or failing
///   service [`ErrorKind::Unavailable`], throttling
///   [`ErrorKind::RateLimited`]; the passing ones (throttling, 5xx, a
///   dropped connection, a timeout) are marked temporary, and the engine
///   retries them within [`VaultOptions::deadline`] (a backend makes one
///   attempt per call: its client's own retries are off);
/// - `list` returns every secret name, across pages;
/// - no error message holds a secret's text.
#[async_trait]
pub trait VaultBackend: Send + Sync + fmt::Debug {
    /// What this vault can do (the conformance suite runs the cases that
    /// apply).
    fn capabilities(&self) -> Capabilities;

    /// Fetches one secret by name.
    async fn fetch(&self, name: &str) -> Result<Fetched, Error>;

    /// Every secret name in the vault.
    async fn list(&self) -> Result<Vec<String>, Error> {
        Err(Error::new(
            ErrorKind::Unsupported,
            "this vault cannot list secrets".to_owned(),
        ))
    }

    /// Stores `value` as a new version of the secret `name` (creating the
    /// secret if needed) and returns the new version's id. Optional. The
    /// engine has checked the value against the naming rule's size limit.
    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        let _ = (name, value);
        Err(Error::new(
            ErrorKind::Unsupported,
            "this vault cannot store secrets".to_owned(),
        ))
    }

    /// Stores `value` as a new version that follows version `base` (`None`:
    /// the secret has no version yet). The engine has checked `base`
    /// against the latest version just before; a backend whose vault can
    /// check it atomically (check-and-set) does so here. The default stores
    /// without the check.
    async fn store_after(
        &self,
        name: &str,
        value: &SecretString,
        base: Option<&str>,
    ) -> Result<String, Error> {
        let _ = base;
        self.store(name, value).await
    }

    /// Every version of the secret `name`, oldest first (empty when there
    /// is no such secret). Optional.
    async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        let _ = name;
        Err(Error::new(
            ErrorKind::Unsupported,
            "this vault cannot list versions".to_owned(),
        ))
    }

    /// The text of version `id` of the secret `name`. Optional.
    async fn fetch_version(&self, name: &str, id: &str) -> Result<Fetched, Error> {
        let _ = (name, id);
        Err(Error::new(
            ErrorKind::Unsupported,
            "this vault cannot read versions".to_owned(),
        ))
    }

    /// What to grant when reading a secret is denied
    /// (`roles/secretmanager.secretAccessor`).
    fn access_hint(&self) -> String;

    /// Where the vault is (`projects/p`, a vault URL), for reports.
    fn location(&self) -> String;
}

/// The options of [docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html), from `[providers.<vault>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaultOptions {
    /// Answer only secret lookups.
    pub only_secrets: bool,
    /// Fetch only `dlt_secrets_toml` and the section fragments, never a
    /// single value.
    pub only_toml_fragments: bool,
    /// List all names once, then never fetch a name that is not listed.
    pub list_secrets: bool,
    /// When a typed configuration's lookups reach this vault for single
    /// values (`only_toml_fragments` and `list_secrets` off), fetch the
    /// names its native value and its fields may need in one round, instead
    /// of one walk path after the other. Faster (three round trips where
    /// the walk takes up to six), but it may fetch names a one-by-one walk
    /// would not (the fields, when the native value is found).
    pub prefetch_single_values: bool,
    /// How long one call to the backend (a fetch, a listing, a store,
    /// token requests included) may take before it counts as failed.
    pub timeout: Duration,
    /// How long one call may take with its retries: a call that failed
    /// for a passing reason (throttling, a server error, a dropped
    /// connection, a timeout) is tried again, with exponential backoff and
    /// jitter, until it succeeds or this much time has passed.
    pub deadline: Duration,
    /// How long a fetched value (or miss) may be served from the cache;
    /// `None`: for the provider's life, as dlt does.
    pub max_age: Option<Duration>,
    /// How many requests a minute the provider may send; more is an error.
    pub max_requests: Option<u32>,
}

/// The default of [`VaultOptions::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of [`VaultOptions::deadline`].
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

impl Default for VaultOptions {
    /// dlt's defaults: only secrets, only fragments, no listing; 10 s per
    /// call, 60 s with retries.
    fn default() -> Self {
        Self {
            only_secrets: true,
            only_toml_fragments: true,
            list_secrets: false,
            prefetch_single_values: false,
            timeout: DEFAULT_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            max_age: None,
            max_requests: None,
        }
    }
}
