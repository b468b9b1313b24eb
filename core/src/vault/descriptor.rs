//! What a vault backend crate declares about itself, in one value: the
//! facade keeps a list of these and every command iterates it, so adding a
//! backend is one crate and one line.

use super::VaultProvider;
use crate::environment::Environment;
use crate::error::Error;
use crate::naming::VaultNaming;
use crate::resolver::Resolver;
use crate::typed::FieldSpec;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// The future [`Descriptor::build`] returns.
pub type BuildFuture<'a> = Pin<Box<dyn Future<Output = Result<VaultProvider, Error>> + Send + 'a>>;

/// A vault backend, as data.
pub struct Descriptor {
    /// The short name users type (`strata push --vault NAME`), also the
    /// facade's cargo feature that compiles the backend in.
    pub name: &'static str,
    /// The settings table, `[providers.<section>]`; the switch is always
    /// `[providers] enable_<section>` ([docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html)).
    pub section: &'static str,
    /// The naming rule with its default settings (what `strata names`
    /// shows).
    pub naming: VaultNaming,
    /// The keys of `[providers.<section>]`: the fields of the backend's
    /// settings configuration (`#[derive(Configuration)]`).
    pub settings: &'static [FieldSpec],
    /// The vendor's environment variables that carry the user's own
    /// (ambient) credentials, which the backend may use when its settings
    /// give none: `strata exec` never hands them to its child unless asked
    /// (`--with-bootstrap`), as it never hands on the `[providers]`
    /// settings.
    pub ambient_variables: &'static [&'static str],
    /// The settings keys that choose where requests go (`url`,
    /// `credentials.endpoint_url`, ...), dotted below the section. With
    /// ambient credentials, such a key set in a workspace's `config.toml` is
    /// refused ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html), "Credentials go only where the user sent
    /// them").
    pub endpoint_keys: &'static [&'static str],
    /// The settings keys that hold explicit credentials (`token`,
    /// `credentials.client_secret`, ...); when none is set, the
    /// backend uses the user's ambient ones (a variable, a file, the
    /// platform's).
    pub credential_keys: &'static [&'static str],
    /// The settings keys that name a program to run (the `command`
    /// backend's `fetch` and `list`): a workspace's `config.toml` may not
    /// set them ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html), "Files never choose how a program
    /// runs").
    pub program_keys: &'static [&'static str],
    /// The key file the vendor's client libraries read, when a credentials
    /// table can be one (`strata exec --files` writes it and sets its
    /// variable).
    pub key_file: Option<KeyFile>,
    /// Builds the provider, its settings resolved from the chain above it
    /// (environment variables and the profile's files). A backend that
    /// also reads its vendor's own variables (an address, a token) reads them
    /// from the environment snapshot given, never from the process.
    pub build: for<'a> fn(&'a Resolver, &'a Environment) -> BuildFuture<'a>,
}

/// A vendor's key file, as data: a credentials table that holds every one
/// of `fields` as text is one; `defaults` complete what the table leaves
/// out, and `variable` points the vendor's libraries at the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFile {
    /// The variable the vendor's client libraries read the file's path from.
    pub variable: &'static str,
    /// The keys that make a table such a key (all of them, as text).
    pub fields: &'static [&'static str],
    /// Keys a key file holds that the table may leave out, with their value.
    pub defaults: &'static [(&'static str, &'static str)],
}

impl Descriptor {
    /// `enable_<section>`, the key under `[providers]` that turns it on.
    pub fn switch(&self) -> String {
        format!("enable_{}", self.section)
    }

    /// The vault's display name.
    pub fn display_name(&self) -> &'static str {
        self.naming.vault
    }
}

impl fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Descriptor")
            .field("name", &self.name)
            .field("section", &self.section)
            .finish_non_exhaustive()
    }
}
