//! A backend wrapper that counts the calls reaching it.

use secrecy::SecretString;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use strata_secrets_core::Error;
use strata_secrets_core::vault::{Fetched, VaultBackend, Version};

/// Counts the calls that reach a backend.
pub struct Counting {
    inner: Arc<dyn VaultBackend>,
    fetches: Mutex<HashMap<String, usize>>,
    lists: AtomicUsize,
    stores: AtomicUsize,
}

impl Counting {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn VaultBackend>) -> Self {
        Self {
            inner,
            fetches: Mutex::new(HashMap::new()),
            lists: AtomicUsize::new(0),
            stores: AtomicUsize::new(0),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        match self.fetches.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Fetches of `name`.
    pub fn fetches_of(&self, name: &str) -> usize {
        self.map().get(name).copied().unwrap_or(0)
    }

    /// All fetches.
    pub fn fetches(&self) -> usize {
        self.map().values().sum()
    }

    /// The names fetched.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.map().keys().cloned().collect();
        v.sort();
        v
    }

    /// List calls.
    pub fn lists(&self) -> usize {
        self.lists.load(Ordering::SeqCst)
    }

    /// Store calls.
    pub fn stores(&self) -> usize {
        self.stores.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for Counting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counting")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl VaultBackend for Counting {
    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        *self.map().entry(name.to_owned()).or_default() += 1;
        self.inner.fetch(name).await
    }
    fn capabilities(&self) -> strata_secrets_core::vault::Capabilities {
        self.inner.capabilities()
    }
    async fn list(&self) -> Result<Vec<String>, Error> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        self.inner.list().await
    }
    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        self.stores.fetch_add(1, Ordering::SeqCst);
        self.inner.store(name, value).await
    }
    async fn store_after(
        &self,
        name: &str,
        value: &SecretString,
        base: Option<&str>,
    ) -> Result<String, Error> {
        self.stores.fetch_add(1, Ordering::SeqCst);
        self.inner.store_after(name, value, base).await
    }
    async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        self.inner.versions(name).await
    }
    async fn fetch_version(&self, name: &str, id: &str) -> Result<Fetched, Error> {
        self.inner.fetch_version(name, id).await
    }
    fn access_hint(&self) -> String {
        self.inner.access_hint()
    }
    fn location(&self) -> String {
        self.inner.location()
    }
}
