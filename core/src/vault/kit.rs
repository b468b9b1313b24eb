//! The backend kit ([docs/writing-a-backend.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/writing_a_backend/index.html)): a backend says what it is
//! ([`Backend`]'s constants and settings) and how to connect; core resolves
//! its settings from the chain, checks the options every vault shares, and
//! builds the provider. [`Descriptor::of`] turns it into the descriptor the
//! facade registers.

use super::{BuildFuture, settings_from_table};
use super::{
    CommonSettings, Descriptor, KeyFile, LeaseProvider, VaultBackend, VaultOptions, VaultProvider,
};
use crate::environment::Environment;
use crate::error::Error;
use crate::naming::VaultNaming;
use crate::resolver::Resolver;
use crate::typed::{self, Configuration};
use crate::value::Table;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// The table every vault's settings live under: `[providers.<section>]`.
pub const PROVIDERS: &str = "providers";

/// A vault backend as the kit builds it: its name, settings and naming as
/// data, and one way to connect. Implement this and [`VaultBackend`] (fetch,
/// and optionally list); `pub static DESCRIPTOR: Descriptor =
/// Descriptor::of::<MyBackend>();` registers it.
#[async_trait]
pub trait Backend: VaultBackend + Sized + 'static {
    /// The short name users type (`strata push --vault NAME`), also the
    /// facade's cargo feature.
    const NAME: &'static str;
    /// The settings table, `[providers.<SECTION>]`; the switch is
    /// `[providers] enable_<SECTION>`.
    const SECTION: &'static str;
    /// The naming rule with its default settings.
    const NAMING: VaultNaming;
    /// Seconds one request may take when `timeout` is not set.
    const DEFAULT_TIMEOUT: Duration = super::DEFAULT_TIMEOUT;
    /// The vendor's variables with the user's own credentials (see
    /// [`Descriptor::ambient_variables`]).
    const AMBIENT_VARIABLES: &'static [&'static str] = &[];
    /// The settings keys that choose where requests go (see
    /// [`Descriptor::endpoint_keys`]).
    const ENDPOINT_KEYS: &'static [&'static str] = &[];
    /// The settings keys that hold explicit credentials (see
    /// [`Descriptor::credential_keys`]).
    const CREDENTIAL_KEYS: &'static [&'static str] = &[];
    /// The settings keys that name a program to run (see
    /// [`Descriptor::program_keys`]).
    const PROGRAM_KEYS: &'static [&'static str] = &[];
    /// The key file the vendor's libraries read (see
    /// [`Descriptor::key_file`]).
    const KEY_FILE: Option<KeyFile> = None;

    /// The keys of `[providers.<SECTION>]`: a configuration that flattens
    /// [`CommonSettings`] (`#[config(flatten)] common: CommonSettings`) and
    /// says where with `AsRef`.
    type Settings: Configuration + AsRef<CommonSettings> + Send;

    /// Connects with `settings` (already resolved from the chain), the
    /// engine `options` core made of the common ones, and `env` for the
    /// vendor's own variables (an address, a token): never the process's.
    async fn connect(
        settings: Self::Settings,
        options: &VaultOptions,
        env: &Environment,
    ) -> Result<Self, Error>;

    /// The rule that names this vault's secrets as connected: [`Self::NAMING`]
    /// unless a setting changes it (a prefix, say).
    fn naming(&self) -> VaultNaming {
        Self::NAMING
    }

    /// Leased credentials beside the vault, when its settings map any (only
    /// a backend that can lease returns one).
    fn leases(self: &Arc<Self>) -> Option<LeaseProvider> {
        None
    }
}

impl Descriptor {
    /// The descriptor of backend `B`.
    pub const fn of<B: Backend>() -> Descriptor {
        Descriptor {
            name: B::NAME,
            section: B::SECTION,
            naming: B::NAMING,
            settings: <B::Settings as Configuration>::FIELDS,
            ambient_variables: B::AMBIENT_VARIABLES,
            endpoint_keys: B::ENDPOINT_KEYS,
            credential_keys: B::CREDENTIAL_KEYS,
            program_keys: B::PROGRAM_KEYS,
            key_file: B::KEY_FILE,
            build: build::<B>,
        }
    }
}

fn build<'a, B: Backend>(resolver: &'a Resolver, env: &'a Environment) -> BuildFuture<'a> {
    Box::pin(async move {
        let settings: B::Settings =
            typed::resolve_embedded(resolver, &[PROVIDERS], B::SECTION, None).await?;
        provider::<B>(settings, env).await
    })
}

/// The provider of `B` with `settings`.
async fn provider<B: Backend>(
    settings: B::Settings,
    env: &Environment,
) -> Result<VaultProvider, Error> {
    let options = settings.as_ref().options(B::SECTION, B::DEFAULT_TIMEOUT)?;
    let backend = Arc::new(B::connect(settings, &options, env).await?);
    let provider = VaultProvider::of(backend.clone(), options);
    Ok(match backend.leases() {
        Some(leases) => provider.with_leases(leases),
        None => provider,
    })
}

/// Backend `B` connected with settings given as one table, as if it were
/// `[providers.<SECTION>]` and nothing else were set: for tests, and for
/// programs that hold the table themselves.
pub async fn connect_with<B: Backend>(table: &Table, env: &Environment) -> Result<B, Error> {
    let settings: B::Settings = settings_from_table(B::SECTION, table).await?;
    let options = settings.as_ref().options(B::SECTION, B::DEFAULT_TIMEOUT)?;
    B::connect(settings, &options, env).await
}

/// [`connect_with`], as the engine's provider.
pub async fn provider_with<B: Backend>(
    table: &Table,
    env: &Environment,
) -> Result<VaultProvider, Error> {
    let settings: B::Settings = settings_from_table(B::SECTION, table).await?;
    provider::<B>(settings, env).await
}

/// A backend's checked configuration with the engine options core made of
/// its settings (see [`checked`]); reads as the configuration.
#[derive(Debug)]
pub struct Checked<C> {
    /// What the backend made of its settings.
    pub config: C,
    /// The engine options of the common settings.
    pub options: VaultOptions,
}

impl<C> std::ops::Deref for Checked<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.config
    }
}

/// `B`'s settings from one table (as [`connect_with`] reads them), checked
/// by `check` into the backend's configuration, with the engine options:
/// for a backend's tests of its settings.
pub async fn checked<B: Backend, C>(
    table: &Table,
    check: impl FnOnce(B::Settings) -> Result<C, Error>,
) -> Result<Checked<C>, Error> {
    let settings: B::Settings = settings_from_table(B::SECTION, table).await?;
    let options = settings.as_ref().options(B::SECTION, B::DEFAULT_TIMEOUT)?;
    Ok(Checked {
        config: check(settings)?,
        options,
    })
}

impl VaultProvider {
    /// A provider over `backend`, a kit backend: named by its section, its
    /// secrets named by its [`Backend::naming`].
    pub fn of<B: Backend>(backend: Arc<B>, options: VaultOptions) -> Self {
        let naming = backend.naming();
        VaultProvider::new(B::SECTION, naming, backend, options)
    }
}
