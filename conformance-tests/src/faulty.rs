//! Faults for tests, as a layer around any backend (object_store's
//! `throttle.rs`): denied names and listings, a fault every call fails
//! with, a number of passing failures, latency. Kept out of the backends
//! (the in-memory vault holds secrets, nothing else).

use secrecy::SecretString;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_secrets_core::vault::{
    Capabilities, Fetched, MEMORY_DESCRIPTOR, MemoryVault, VaultBackend, VaultOptions,
    VaultProvider, Version,
};
use strata_secrets_core::{Error, ErrorKind};

#[derive(Default)]
struct Faults {
    forbidden: HashSet<String>,
    forbid_list: bool,
    fault: Option<ErrorKind>,
    fail_next: Vec<ErrorKind>,
    latency: Duration,
}

/// A backend that misbehaves when told.
pub struct Faulty {
    inner: Arc<dyn VaultBackend>,
    faults: Mutex<Faults>,
}

impl Faulty {
    /// Wraps `inner`, behaving as it does until told otherwise.
    pub fn new(inner: Arc<dyn VaultBackend>) -> Self {
        Self {
            inner,
            faults: Mutex::new(Faults::default()),
        }
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every fetch of `name` fails with access denied.
    pub fn forbid(&self, name: &str) {
        self.faults().forbidden.insert(name.to_owned());
    }

    /// Listing fails with access denied.
    pub fn forbid_list(&self) {
        self.faults().forbid_list = true;
    }

    /// Every call fails with an error of `kind` (`None` heals).
    pub fn set_fault(&self, kind: Option<ErrorKind>) {
        self.faults().fault = kind;
    }

    /// The next `n` calls fail with a passing error of `kind`.
    pub fn fail_next(&self, n: usize, kind: ErrorKind) {
        self.faults().fail_next.extend(std::iter::repeat_n(kind, n));
    }

    /// Every fetch and listing takes `latency` (a tokio timer: tests on a
    /// paused clock count round trips exactly).
    pub fn set_latency(&self, latency: Duration) {
        self.faults().latency = latency;
    }

    /// The injected failure of the next call, after its latency.
    async fn before(&self, name: Option<&str>, listing: bool) -> Result<(), Error> {
        let latency = self.faults().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut f = self.faults();
        if let Some(kind) = f.fault {
            return Err(Error::new(kind, format!("injected {kind} fault")));
        }
        if !f.fail_next.is_empty() {
            let kind = f.fail_next.remove(0);
            return Err(
                Error::new(kind, format!("injected passing {kind} fault")).set_temporary(true)
            );
        }
        if let Some(n) = name
            && f.forbidden.contains(n)
        {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!("access to `{n}` is denied"),
            ));
        }
        if listing && f.forbid_list {
            return Err(Error::new(ErrorKind::PermissionDenied, "listing is denied"));
        }
        Ok(())
    }
}

impl fmt::Debug for Faulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faulty")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl VaultBackend for Faulty {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        self.before(Some(name), false).await?;
        self.inner.fetch(name).await
    }
    async fn list(&self) -> Result<Vec<String>, Error> {
        self.before(None, true).await?;
        self.inner.list().await
    }
    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        self.inner.store(name, value).await
    }
    async fn store_after(
        &self,
        name: &str,
        value: &SecretString,
        base: Option<&str>,
    ) -> Result<String, Error> {
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

/// The in-memory vault for tests: [`MemoryVault`] with [`Faulty`]'s faults
/// and [`crate::Counting`]'s counts (each request counted when sent).
pub struct TestVault {
    memory: Arc<MemoryVault>,
    faulty: Arc<Faulty>,
    counting: crate::Counting,
}

impl TestVault {
    /// An empty vault.
    pub fn new() -> Self {
        Self::over(MemoryVault::new())
    }

    /// Over a memory vault made another way (`without_list`, a naming).
    pub fn over(memory: MemoryVault) -> Self {
        let memory = Arc::new(memory);
        let faulty = Arc::new(Faulty::new(memory.clone()));
        let counting = crate::Counting::new(faulty.clone());
        Self {
            memory,
            faulty,
            counting,
        }
    }

    /// A provider over this vault, named and with secrets named as the
    /// memory vault's, with `options`.
    pub fn provider(self: &Arc<Self>, options: VaultOptions) -> VaultProvider {
        VaultProvider::new(
            MEMORY_DESCRIPTOR.section,
            MEMORY_DESCRIPTOR.naming.clone(),
            self.clone(),
            options,
        )
    }

    /// The vault's secrets.
    pub fn memory(&self) -> &MemoryVault {
        &self.memory
    }

    /// Its faults.
    pub fn faults(&self) -> &Faulty {
        &self.faulty
    }

    /// Its counts.
    pub fn counts(&self) -> &crate::Counting {
        &self.counting
    }

    /// Stores text as a new version of `name`.
    pub fn insert(&self, name: &str, text: &str) {
        self.memory.insert(name, text);
    }

    /// Every fetch and listing takes `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.faulty.set_latency(latency);
    }

    /// Every name fetched, with its count, sorted by name.
    pub fn fetched_names(&self) -> Vec<(String, usize)> {
        self.counting
            .names()
            .into_iter()
            .map(|n| {
                let c = self.counting.fetches_of(&n);
                (n, c)
            })
            .collect()
    }

    /// How many times `name` was fetched.
    pub fn fetch_count(&self, name: &str) -> usize {
        self.counting.fetches_of(name)
    }

    /// All fetches.
    pub fn total_fetches(&self) -> usize {
        self.counting.fetches()
    }

    /// How many times the vault was listed.
    pub fn list_count(&self) -> usize {
        self.counting.lists()
    }
}

impl Default for TestVault {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TestVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestVault").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl VaultBackend for TestVault {
    fn capabilities(&self) -> Capabilities {
        self.counting.capabilities()
    }
    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        self.counting.fetch(name).await
    }
    async fn list(&self) -> Result<Vec<String>, Error> {
        self.counting.list().await
    }
    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        self.counting.store(name, value).await
    }
    async fn store_after(
        &self,
        name: &str,
        value: &SecretString,
        base: Option<&str>,
    ) -> Result<String, Error> {
        self.counting.store_after(name, value, base).await
    }
    async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        self.counting.versions(name).await
    }
    async fn fetch_version(&self, name: &str, id: &str) -> Result<Fetched, Error> {
        self.counting.fetch_version(name, id).await
    }
    fn access_hint(&self) -> String {
        self.counting.access_hint()
    }
    fn location(&self) -> String {
        self.counting.location()
    }
}
