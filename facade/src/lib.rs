#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod backends;
pub mod credentials;
/// The guides (the repository's `docs/`), in the API docs only.
#[cfg(all(doc, not(doctest)))]
pub mod guide;
pub mod vaults;
mod watch;

pub use watch::Change;

use std::path::PathBuf;
use std::sync::Arc;

/// What `#[derive(Configuration)]` expands to refers to this path; not an
/// API of its own (the items are re-exported below, one path each).
#[doc(hidden)]
pub use strata_secrets_core::typed as __typed;
use strata_secrets_core::typed;
pub use strata_secrets_core::typed::{
    ConfigReport, MissingField, NativeError, NativeValue, Resolution, ResolvedField,
};

/// # Deriving a configuration
///
/// `#[derive(Configuration)]` turns a struct with named fields into a
/// configuration that [`Strata::resolve`] fills, each field by a section
/// walk for its name under the sections given (as dlt resolves a
/// configuration spec). An `Option<T>` field is optional; any other field is
/// required, and every missing one is listed in one error.
///
/// Field attributes, `#[config(...)]`:
/// - `rename = "key"`: look the field up as `key` instead of its name;
/// - `default = EXPR`: the value when no provider holds the field;
/// - `secret`: a secret lookup, answered only by providers that may hold
///   secrets (implied by `SecretString` and `SecretBox<T>` fields);
/// - `nested`: the field is a configuration of its own, resolved under a
///   section named for the field; its native form (a connection string) is
///   tried first when it has one;
/// - `flatten`: the field is a configuration whose fields are looked up in
///   this configuration's own section (options several configurations share).
///
/// Struct attributes, `#[config(...)]`:
/// - `credentials`: a credentials configuration, whose native form is a
///   secret (never taken from `config.toml`), as dlt treats credentials;
/// - `native`: the configuration also reads from one value (a connection
///   string, a JSON key) through its [`NativeValue`] implementation;
///   [`credentials::ConnectionStringCredentials`] is one.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use strata_secrets::credentials::ConnectionStringCredentials;
/// use strata_secrets::secrecy::{ExposeSecret, SecretString};
/// use strata_secrets::{Configuration, Environment, Options, Strata};
///
/// #[derive(Configuration)]
/// struct Retries {
///     #[config(default = 3)]
///     max_attempts: u32,
/// }
///
/// #[derive(Configuration)]
/// struct Postgres {
///     // destination.postgres.credentials: a connection string, or its fields
///     #[config(nested)]
///     credentials: ConnectionStringCredentials,
///     #[config(rename = "dataset_name")]
///     dataset: String,
///     #[config(default = 4)]
///     workers: u32,
///     // destination.postgres.max_attempts
///     #[config(flatten)]
///     retries: Retries,
///     // optional, and looked up only where secrets may be
///     api_token: Option<SecretString>,
/// }
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir(dir.path().join(".dlt")).unwrap();
/// std::fs::write(
///     dir.path().join(".dlt/config.toml"),
///     "[destination.postgres]\ndataset_name = \"raw\"\nmax_attempts = 5\n",
/// )
/// .unwrap();
/// let url = "postgresql://loader:s3cret@db.internal:5432/dwh?sslmode=require";
/// let strata = Strata::open_local(Options {
///     run_dir: Some(dir.path().into()),
///     global_dir: Some(dir.path().join("global")),
///     env: Some(Environment::from_pairs([("DESTINATION__POSTGRES__CREDENTIALS", url)])),
///     ..Options::default()
/// })
/// .unwrap();
/// let pg: Postgres = strata.resolve(&["destination", "postgres"], None).await.unwrap();
/// assert_eq!(pg.credentials.host, "db.internal");
/// assert_eq!(pg.credentials.password.as_ref().map(|p| p.expose_secret()), Some("s3cret"));
/// assert_eq!(pg.credentials.query.unwrap()["sslmode"], "require");
/// assert_eq!((pg.dataset.as_str(), pg.workers, pg.retries.max_attempts), ("raw", 4, 5));
/// assert!(pg.api_token.is_none());
/// # });
/// ```
///
/// A field whose type is itself a configuration needs `nested` or
/// `flatten`; without either it is read as one value, and the compiler says
/// which attribute to add:
///
/// ```compile_fail,E0277
/// #[derive(strata_secrets::Configuration)]
/// struct Credentials {
///     host: String,
/// }
///
/// #[derive(strata_secrets::Configuration)]
/// struct Destination {
///     credentials: Credentials, // needs #[config(nested)]
/// }
/// ```
///
/// Implement the trait by hand only for what the derive cannot express;
/// its plumbing (`resolve_under` and the types it takes) is not a stable API.
#[doc(inline)]
pub use strata_secrets_core::typed::Configuration;
pub use strata_secrets_core::vault;
pub use strata_secrets_core::workspace;
use strata_secrets_core::workspace::{FileKind, Workspace, WorkspaceOptions};
pub use strata_secrets_core::{
    Answer, ConvertError, Datetime, Detail, Environment, Error, ErrorKind, Found, Location, Lookup,
    MemoryProvider, MissingValue, Outcome, Path, PathError, Peek, Provenance, Provider,
    ProviderExt, Query, Resolved, Resolver, Table, Trace, TraceEntry, Value, ValueRef, async_trait,
    naming, secrecy, walk_paths,
};
pub use strata_secrets_env::EnvProvider;
pub use strata_secrets_toml::{TomlProvider, set_value};

/// How to open a project. Every field is optional: `Options::default()`
/// opens `DLT_PROJECT_DIR` (or the current directory) with the process
/// environment, as dlt would.
///
/// ```
/// use strata_secrets::{Environment, Options};
///
/// // a fixed directory and profile, and an environment of its own (tests,
/// // or a program that must not read its parent's variables)
/// let options = Options {
///     run_dir: Some("/srv/pipelines/orders".into()),
///     profile: Some("prod".into()),
///     env: Some(Environment::from_pairs([("RUNTIME__LOG_LEVEL", "INFO")])),
///     ..Options::default()
/// };
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The run directory; default: `DLT_PROJECT_DIR`, else the current directory.
    pub run_dir: Option<PathBuf>,
    /// The profile (`--profile`).
    pub profile: Option<String>,
    /// The global directory; default: as dlt computes it (`/var/dlt` for
    /// root, `~/.dlt`, or `$XDG_DATA_HOME/dlt`).
    pub global_dir: Option<PathBuf>,
    /// The environment snapshot; default: the process environment.
    pub env: Option<Environment>,
    /// Where Docker/Kubernetes secret files are; default `/run/secrets`.
    pub secrets_dir: Option<PathBuf>,
}

/// A project opened with its default chain of providers: environment
/// variables, the profile's `secrets.toml` files, its `config.toml` files,
/// then providers the program registers (and, with [`Strata::open`], the
/// vaults the project enables).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use strata_secrets::secrecy::ExposeSecret;
/// use strata_secrets::{Environment, Lookup, Options, Strata};
///
/// let dir = tempfile::tempdir().unwrap();
/// let dlt = dir.path().join(".dlt");
/// std::fs::create_dir(&dlt).unwrap();
/// std::fs::write(dlt.join(".workspace"), "").unwrap(); // a workspace: profiles apply
/// std::fs::write(dlt.join("config.toml"), "[runtime]\nlog_level = \"WARNING\"\n").unwrap();
/// std::fs::write(dlt.join("prod.secrets.toml"), "[sources.orders]\napi_key = \"k-prod\"\n").unwrap();
///
/// let strata = Strata::open_local(Options {
///     run_dir: Some(dir.path().into()),
///     global_dir: Some(dir.path().join("global")),
///     profile: Some("prod".into()),
///     env: Some(Environment::from_pairs([("RUNTIME__LOG_LEVEL", "INFO")])),
///     ..Options::default()
/// })
/// .unwrap();
/// // the environment comes first
/// let level: String = strata.config("runtime.log_level").await.unwrap();
/// assert_eq!(level, "INFO");
/// // the profile's secrets file answers a secret lookup
/// let key = strata.secret("sources.orders.api_key").await.unwrap();
/// assert_eq!(key.expose_secret(), "k-prod");
/// // a section walk says where its answer came from, never the value
/// let found = strata.walk("sources.orders.api_key", &Lookup::secret()).await.unwrap();
/// assert!(found.provenance().to_string().contains("prod.secrets.toml"));
/// # });
/// ```
///
/// The examples run on tokio (the `rt` feature, `rt-multi-thread` and
/// `macros` for `#[tokio::main]`); the library itself needs only tokio's
/// `time`.
#[derive(Debug, Clone)]
pub struct Strata {
    workspace: Workspace,
    resolver: Resolver,
    secrets: Arc<TomlProvider>,
    config: Arc<TomlProvider>,
    vaults: Vec<vaults::EnabledVault>,
}

impl Strata {
    /// Opens the project and builds the default chain, vaults included:
    /// every vault switched on by `[providers] enable_<section> = true` (in
    /// the environment or the profile's TOML files) is configured from
    /// `[providers.<section>]` and appended in the order of
    /// [`backends::BACKENDS`].
    pub async fn open(options: Options) -> Result<Self, Error> {
        let mut strata = Self::open_local(options)?;
        let env = strata.workspace.env().clone();
        vaults::check_settings_keys(&env, &[&strata.secrets, &strata.config])?;
        strata.vaults = vaults::enable_all(&mut strata.resolver, &strata.workspace).await?;
        Ok(strata)
    }

    /// Opens the project with the local chain only (environment and TOML
    /// files), without enabling any vault.
    pub fn open_local(options: Options) -> Result<Self, Error> {
        let env = options
            .env
            .clone()
            .unwrap_or_else(Environment::from_process);
        let workspace = Workspace::open(WorkspaceOptions {
            run_dir: options.run_dir.clone(),
            profile: options.profile.clone(),
            global_dir: options.global_dir.clone(),
            env: env.clone(),
        })?;
        let mut env_provider = EnvProvider::new(env);
        if let Some(dir) = &options.secrets_dir {
            env_provider = env_provider.with_secrets_dir(dir);
        }
        let secrets = Arc::new(TomlProvider::load(&workspace, FileKind::Secrets)?);
        let config = Arc::new(TomlProvider::load(&workspace, FileKind::Config)?);
        let mut resolver = Resolver::new()
            .with_provider(Arc::new(env_provider))
            .with_provider(secrets.clone())
            .with_provider(config.clone());
        resolver.set_profile(workspace.profile().map(|p| p.to_string()));
        Ok(Self {
            workspace,
            resolver,
            secrets,
            config,
            vaults: Vec::new(),
        })
    }

    /// The vaults enabled in the chain.
    pub fn vaults(&self) -> &[vaults::EnabledVault] {
        &self.vaults
    }

    /// A chain of the enabled vaults alone, in chain order (for a program
    /// that keeps its own environment and file providers, as a dlt
    /// pipeline does, and asks strata only for what the vaults hold).
    pub fn vault_resolver(&self) -> Resolver {
        let mut resolver = Resolver::new();
        resolver.set_profile(self.resolver.profile().map(str::to_owned));
        for v in &self.vaults {
            if let Some(leases) = &v.leases {
                resolver.push(leases.clone());
            }
            resolver.push(v.provider.clone());
        }
        resolver
    }

    /// Revokes every leased credential this `Strata` holds ([docs/runtime.md](crate::guide::runtime))
    /// and stops renewing them; a later lookup leases anew. Dropping the
    /// last clone of a `Strata` inside a runtime revokes them too, in a
    /// task spawned there: call this to wait for it.
    pub async fn close(&self) {
        for v in &self.vaults {
            if let Some(leases) = &v.leases {
                leases.release().await;
            }
        }
    }

    /// Whether a vault's settings map paths to leased credentials.
    pub fn has_leases(&self) -> bool {
        self.vaults.iter().any(|v| v.leases.is_some())
    }

    /// Adds a provider after the default chain ([docs/lookups.md](crate::guide::lookups), step 5).
    /// Everything an implementation needs is re-exported here:
    ///
    /// ```
    /// use strata_secrets::naming::NamingRule;
    /// use strata_secrets::{Answer, Detail, Error, Provider, Query, async_trait};
    ///
    /// #[derive(Debug)]
    /// struct Nothing;
    ///
    /// #[async_trait]
    /// impl Provider for Nothing {
    ///     fn name(&self) -> &str { "nothing" }
    ///     fn may_hold_secrets(&self) -> bool { false }
    ///     fn naming(&self) -> NamingRule { NamingRule::Toml }
    ///     async fn lookup(&self, _: &Query<'_>, _: &mut Vec<Detail>) -> Result<Answer, Error> {
    ///         Ok(Answer::NotFound)
    ///     }
    /// }
    ///
    /// let mut strata = strata_secrets::Strata::open_local(strata_secrets::Options {
    ///     run_dir: Some(std::env::temp_dir()),
    ///     env: Some(strata_secrets::Environment::default()),
    ///     ..Default::default()
    /// })?;
    /// strata.register(std::sync::Arc::new(Nothing));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// A fuller example (values, provenance) is on [`Provider`].
    pub fn register(&mut self, provider: Arc<dyn Provider>) {
        self.resolver.push(provider);
    }

    /// The opened workspace.
    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// The chain.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// The merged `secrets.toml` files.
    pub fn secrets_files(&self) -> &TomlProvider {
        &self.secrets
    }

    /// The merged `config.toml` files.
    pub fn config_files(&self) -> &TomlProvider {
        &self.config
    }

    /// Exact get of a dotted path (like `dlt.secrets.get` with
    /// [`Lookup::secret`], `dlt.config.get` with [`Lookup::config`]).
    pub async fn get(&self, path: &str, lookup: &Lookup) -> Result<Resolved, Error> {
        self.resolver
            .get_dotted(path, lookup)
            .await
            .map_err(|e| self.explained(e))
    }

    /// A missing value's report, with what the workspace explains: in a
    /// classic project, the profile files it does not read.
    fn explained(&self, mut e: Error) -> Error {
        let ignored = self.workspace.ignored_profile_files();
        if let (Some(report), false) = (e.missing_report_mut(), ignored.is_empty()) {
            let files: Vec<String> = ignored.iter().map(|f| f.display().to_string()).collect();
            report.notes.push(format!(
                "this is a classic project (no .dlt/.workspace), which reads no profile files: {} {} ignored; create .dlt/.workspace (or run `strata init`) to use profiles",
                files.join(", "),
                if files.len() == 1 { "is" } else { "are" }
            ));
        }
        e
    }

    /// The active profile's working directories (workspace mode only), with
    /// the `[workspace.settings]` that move them resolved from the chain,
    /// each with who set it (a workspace file may not move what `workspace
    /// clean` deletes out of the workspace).
    pub async fn dirs(&self) -> Result<Option<workspace::Dirs>, Error> {
        let name = self.dir_setting("name").await?.map(|s| s.value);
        let working_dir = self.dir_setting("working_dir").await?;
        let local_dir = self.dir_setting("local_dir").await?;
        self.workspace.dirs(&workspace::DirSettings {
            name,
            working_dir,
            local_dir,
        })
    }

    /// `[workspace.settings] <key>` as text, and who set it.
    async fn dir_setting(&self, key: &str) -> Result<Option<workspace::DirSetting>, Error> {
        let sections = ["workspace".to_owned()];
        let lookup = Lookup::config();
        let resolved = match self
            .resolver
            .walk_in(&sections, Some("settings"), key, &lookup)
            .await
        {
            Ok(r) => r,
            Err(e) if e.is_missing() => return Ok(None),
            Err(e) => return Err(e),
        };
        let value: String = resolved.deserialize()?;
        Ok(Some(workspace::DirSetting {
            value,
            origin: self.origin_of(&resolved),
            at: resolved.provenance().to_string(),
        }))
    }

    /// Who set a resolved value: the user (environment, global directory,
    /// files outside the workspace) or one of the workspace's files.
    pub fn origin_of(&self, resolved: &Resolved) -> workspace::Origin {
        self.workspace
            .origin_of(resolved.provenance(), resolved.from_secret_provider())
    }

    /// A secret as a `SecretString` (exact get over secret providers, like
    /// `dlt.secrets.get`). Read in place from the environment and the files
    /// when they answer; the full lookup (vaults, errors) otherwise.
    pub async fn secret(&self, path: &str) -> Result<secrecy::SecretString, Error> {
        let lookup = Lookup::secret();
        if let Some(s) = self
            .resolver
            .peek_dotted(path, &lookup)
            .and_then(|v| v.secret_string())
        {
            return Ok(s);
        }
        self.get(path, &lookup).await?.secret_string()
    }

    /// A configuration value read as `T` (exact get over all providers,
    /// like `dlt.config.get`). Read in place when the environment and the
    /// files answer; the full lookup (vaults, errors) otherwise.
    pub async fn config<T: serde_deserialize::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, Error> {
        let lookup = Lookup::config();
        if let Some(Ok(v)) = self
            .resolver
            .peek_dotted(path, &lookup)
            .map(|v| v.deserialize::<T>())
        {
            return Ok(v);
        }
        self.get(path, &lookup).await?.deserialize()
    }

    /// The value of a section walk for the key at the end of `path`, read as
    /// `T` (what dlt resolves for one field of a configuration). Read in
    /// place when the environment and the files answer; the full walk
    /// (vaults, errors, a secret found in `config.toml`) otherwise.
    pub async fn walk_value<T: serde_deserialize::DeserializeOwned>(
        &self,
        path: &str,
        lookup: &Lookup,
    ) -> Result<T, Error> {
        if let Some(Ok(v)) = self
            .resolver
            .peek_walk_dotted(path, lookup)
            .map(|v| v.deserialize::<T>())
        {
            return Ok(v);
        }
        self.walk(path, lookup).await?.deserialize()
    }

    /// Resolves a typed configuration under `sections`, scoped by
    /// `pipeline` (see [`Configuration`]). A failure is one error whose
    /// [`Error::config_report`] lists every missing field with what was
    /// tried, and what did resolve.
    pub async fn resolve<T: Configuration>(
        &self,
        sections: &[&str],
        pipeline: Option<&str>,
    ) -> Result<T, Error> {
        typed::resolve::<T>(&self.resolver, sections, pipeline).await
    }

    /// As [`Strata::resolve`], with where each field came from (the
    /// [`Resolution`] prints as a list: file and line, variable, vault) and
    /// notes, such as a single value set for a configuration that has no
    /// native form.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use strata_secrets::{Configuration, Environment, Options, Strata};
    ///
    /// #[derive(Configuration, Debug)]
    /// struct Loader {
    ///     workers: u32,
    ///     dataset: String,
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir(dir.path().join(".dlt")).unwrap();
    /// std::fs::write(dir.path().join(".dlt/config.toml"), "[load]\nworkers = 4\n").unwrap();
    /// let strata = Strata::open_local(Options {
    ///     run_dir: Some(dir.path().into()),
    ///     global_dir: Some(dir.path().join("global")),
    ///     env: Some(Environment::from_pairs([("LOAD__DATASET", "raw")])),
    ///     ..Options::default()
    /// })
    /// .unwrap();
    /// let (loader, how) = strata.resolve_explained::<Loader>(&["load"], None).await.unwrap();
    /// assert_eq!((loader.workers, loader.dataset.as_str()), (4, "raw"));
    /// let text = how.to_string();
    /// assert!(text.contains("`load.workers` from") && text.contains("config.toml:2"), "{text}");
    /// assert!(text.contains("LOAD__DATASET"), "{text}");
    /// # });
    /// ```
    pub async fn resolve_explained<T: Configuration>(
        &self,
        sections: &[&str],
        pipeline: Option<&str>,
    ) -> Result<(T, Resolution), Error> {
        typed::resolve_explained::<T>(&self.resolver, sections, pipeline).await
    }

    /// Section walk for the key at the end of `path` ([docs/lookups.md](crate::guide::lookups)).
    pub async fn walk(&self, path: &str, lookup: &Lookup) -> Result<Resolved, Error> {
        self.resolver
            .walk_dotted(path, lookup)
            .await
            .map_err(|e| self.explained(e))
    }
}

/// Re-export used in public signatures.
pub mod serde_deserialize {
    pub use serde::de::DeserializeOwned;
}
