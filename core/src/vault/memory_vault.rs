//! The in-memory vault backend: the reference the vault cases of the
//! conformance suite are written against. It holds secrets and nothing
//! else; faults and counts for tests are layers in the conformance crate.

use super::kit::Backend;
use super::{Capabilities, CommonSettings, Descriptor, Fetched, VaultBackend, Version};
use crate::error::{Error, ErrorKind};
use crate::naming::VaultNaming;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use zeroize::Zeroize;

/// The memory vault's default rule: normalized segments joined with `-`,
/// names of up to 255 characters, values of up to 64 KiB.
pub const MEMORY_NAMING: VaultNaming = VaultNaming {
    vault: "the memory vault",
    prefix: Cow::Borrowed(""),
    separator: "-",
    replace: &[],
    extra_chars: "-_",
    max_name_len: 255,
    max_value_len: 64 * 1024,
    case_insensitive: false,
};

/// The memory vault as a backend descriptor, for tests and examples:
/// `[providers] enable_memory_vault = true` makes an empty one.
pub static MEMORY_DESCRIPTOR: Descriptor = Descriptor::of::<MemoryVault>();

#[async_trait]
impl Backend for MemoryVault {
    const NAME: &'static str = "memory";
    const SECTION: &'static str = "memory_vault";
    const NAMING: VaultNaming = MEMORY_NAMING;
    type Settings = CommonSettings;

    async fn connect(
        _settings: CommonSettings,
        _options: &super::VaultOptions,
        _env: &crate::environment::Environment,
    ) -> Result<Self, Error> {
        Ok(MemoryVault::new())
    }
}

#[derive(Default)]
struct State {
    secrets: BTreeMap<String, Vec<Vec<u8>>>,
}

impl Drop for State {
    fn drop(&mut self) {
        for versions in self.secrets.values_mut() {
            for v in versions.iter_mut() {
                v.zeroize();
            }
        }
    }
}

/// Secrets held in memory, named by a vault's rule.
pub struct MemoryVault {
    state: Mutex<State>,
    list_enabled: bool,
}

impl MemoryVault {
    /// An empty vault (its secrets are named by [`MEMORY_NAMING`]).
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            list_enabled: true,
        }
    }

    /// Makes `list` unsupported.
    pub fn without_list(mut self) -> Self {
        self.list_enabled = false;
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Stores text as a new version of `name`.
    pub fn insert(&self, name: &str, text: &str) {
        self.insert_bytes(name, text.as_bytes());
    }

    /// Stores raw bytes (which may not be UTF-8) as a new version.
    pub fn insert_bytes(&self, name: &str, bytes: &[u8]) {
        self.state()
            .secrets
            .entry(name.to_owned())
            .or_default()
            .push(bytes.to_vec());
    }
}

impl Default for MemoryVault {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryVault")
            .field("secrets", &self.state().secrets.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl VaultBackend for MemoryVault {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: self.list_enabled,
            store: true,
            versions: true,
            empty_values: true,
            binary_values: true,
        }
    }

    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        let state = self.state();
        let Some(bytes) = state.secrets.get(name).and_then(|v| v.last()) else {
            return Ok(Fetched::NotFound);
        };
        match String::from_utf8(bytes.clone()) {
            Ok(text) => Ok(Fetched::Found(SecretString::from(text))),
            Err(e) => {
                let mut b = e.into_bytes();
                b.zeroize();
                Err(Error::new(
                    ErrorKind::Parse,
                    format!("the secret `{name}` is not UTF-8 text"),
                ))
            }
        }
    }

    async fn list(&self) -> Result<Vec<String>, Error> {
        if !self.list_enabled {
            return Err(Error::new(ErrorKind::Unsupported, "listing is disabled"));
        }
        Ok(self.state().secrets.keys().cloned().collect())
    }

    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        self.insert(name, value.expose_secret());
        Ok(self
            .state()
            .secrets
            .get(name)
            .map(|v| v.len())
            .unwrap_or(0)
            .to_string())
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        let state = self.state();
        let n = state.secrets.get(name).map(Vec::len).unwrap_or(0);
        Ok((1..=n)
            .map(|i| Version {
                id: i.to_string(),
                created: None,
                state: if i == n { "latest" } else { "enabled" }.to_owned(),
            })
            .collect())
    }

    async fn fetch_version(&self, name: &str, id: &str) -> Result<Fetched, Error> {
        let state = self.state();
        let bytes = id
            .parse::<usize>()
            .ok()
            .and_then(|i| state.secrets.get(name)?.get(i.checked_sub(1)?));
        Ok(match bytes.map(|b| String::from_utf8(b.clone())) {
            Some(Ok(text)) => Fetched::Found(SecretString::from(text)),
            Some(Err(_)) => {
                return Err(Error::new(
                    ErrorKind::Parse,
                    format!("the secret `{name}` is not UTF-8 text"),
                ));
            }
            None => Fetched::NotFound,
        })
    }

    fn access_hint(&self) -> String {
        "read access to the memory vault".into()
    }

    fn location(&self) -> String {
        "memory".into()
    }
}
