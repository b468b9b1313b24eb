//! The in-memory vault backend: the reference the vault cases of the
//! conformance suite are written against. It counts its calls.

use super::{BuildFuture, Capabilities, Descriptor, Fetched, VaultBackend, VaultProvider, Version};
use crate::error::{Error, ErrorKind};
use crate::naming::VaultNaming;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
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
pub static MEMORY_DESCRIPTOR: Descriptor = Descriptor {
    name: "memory",
    section: "memory_vault",
    naming: MEMORY_NAMING,
    capabilities: Capabilities {
        list: true,
        store: true,
        versions: true,
        empty_values: true,
        binary_values: true,
    },
    settings: &[],
    ambient_variables: &[],
    endpoint_keys: &[],
    credential_keys: &[],
    build: build_empty,
};

fn build_empty<'a>(
    _: &'a crate::resolver::Resolver,
    _: &'a crate::environment::Environment,
) -> BuildFuture<'a> {
    Box::pin(async {
        Ok(VaultProvider::new(
            std::sync::Arc::new(MemoryVault::new()),
            super::VaultOptions::default(),
        ))
    })
}

#[derive(Default)]
struct State {
    secrets: BTreeMap<String, Vec<Vec<u8>>>,
    forbidden: HashSet<String>,
    forbid_list: bool,
    fault: Option<ErrorKind>,
    fail_next: Vec<ErrorKind>,
    fetches: HashMap<String, usize>,
    latency: Duration,
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
    naming: VaultNaming,
    state: Mutex<State>,
    lists: AtomicUsize,
    list_enabled: bool,
}

impl MemoryVault {
    /// An empty vault named by [`MEMORY_NAMING`].
    pub fn new() -> Self {
        Self::with_naming(MEMORY_NAMING)
    }

    /// An empty vault with another naming rule.
    pub fn with_naming(naming: VaultNaming) -> Self {
        Self {
            naming,
            state: Mutex::new(State::default()),
            lists: AtomicUsize::new(0),
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

    /// Makes every fetch of `name` fail with access denied.
    pub fn forbid(&self, name: &str) {
        self.state().forbidden.insert(name.to_owned());
    }

    /// Makes listing fail with access denied.
    pub fn forbid_list(&self) {
        self.state().forbid_list = true;
    }

    /// Makes every call fail with an error of `kind` (`None` to heal).
    pub fn set_fault(&self, kind: Option<ErrorKind>) {
        self.state().fault = kind;
    }

    /// Makes the next `n` calls fail with a passing error of `kind` (then
    /// they succeed again).
    pub fn fail_next(&self, n: usize, kind: ErrorKind) {
        self.state().fail_next.extend(std::iter::repeat_n(kind, n));
    }

    /// Makes every fetch and list take `latency` (a tokio timer, so tests
    /// on a paused clock measure round trips exactly).
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    async fn delay(&self) {
        let latency = self.state().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }

    /// Every name fetched, with its count, sorted by name.
    pub fn fetched_names(&self) -> Vec<(String, usize)> {
        let mut names: Vec<_> = self
            .state()
            .fetches
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        names.sort();
        names
    }

    /// How many times `name` was fetched.
    pub fn fetch_count(&self, name: &str) -> usize {
        self.state().fetches.get(name).copied().unwrap_or(0)
    }

    /// How many fetches were made in all.
    pub fn total_fetches(&self) -> usize {
        self.state().fetches.values().sum()
    }

    /// How many times the vault was listed.
    pub fn list_count(&self) -> usize {
        self.lists.load(Ordering::SeqCst)
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
            .field("naming", &self.naming)
            .field("secrets", &self.state().secrets.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl VaultBackend for MemoryVault {
    fn name(&self) -> &str {
        "memory_vault"
    }

    fn naming(&self) -> &VaultNaming {
        &self.naming
    }

    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        // counted when sent: a request abandoned on its way still counts
        *self.state().fetches.entry(name.to_owned()).or_default() += 1;
        self.delay().await;
        let mut state = self.state();
        if let Some(kind) = state.fault {
            return Err(Error::new(kind, format!("injected {kind} fault")));
        }
        if !state.fail_next.is_empty() {
            let kind = state.fail_next.remove(0);
            return Err(
                Error::new(kind, format!("injected passing {kind} fault")).set_temporary(true)
            );
        }
        if state.forbidden.contains(name) {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!("access to `{name}` is denied"),
            ));
        }
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

    fn can_list(&self) -> bool {
        self.list_enabled
    }

    async fn list(&self) -> Result<Vec<String>, Error> {
        if !self.list_enabled {
            return Err(Error::new(ErrorKind::Unsupported, "listing is disabled"));
        }
        self.delay().await;
        self.lists.fetch_add(1, Ordering::SeqCst);
        let state = self.state();
        if let Some(kind) = state.fault {
            return Err(Error::new(kind, format!("injected {kind} fault")));
        }
        if state.forbid_list {
            return Err(Error::new(ErrorKind::PermissionDenied, "listing is denied"));
        }
        Ok(state.secrets.keys().cloned().collect())
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
