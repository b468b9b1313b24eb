//! Policies around a vault backend, as layers ([docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html), "Policies";
//! OpenDAL's `RetryLayer`/`TimeoutLayer`, object_store's `LimitStore`):
//! each is a [`Policy`] that [`Layered`] applies around every call of the
//! backend it wraps, so a layered backend is again a [`VaultBackend`], and
//! layers compose. Each is tested alone, on a paused clock.
//!
//! - [`Timeout`]: a call that does not answer in time fails (passing);
//! - [`Retry`]: passing failures are tried again, with exponential backoff
//!   and jitter, until the deadline; stores are never repeated;
//! - [`Budget`]: at most `max_requests` calls a minute; more is an error
//!   naming the vault and the budget, never a silent wait.
//!
//! [`stack`] puts them together in the engine's order: the budget counts
//! every try, the timeout bounds each, the retry spans them. The fetch
//! cache (with `max_age`) is a layer over the engine's fetch step:
//! [`FetchCache`].

mod budget;
mod cache;
mod retry;
mod timeout;

pub use budget::Budget;
pub use cache::FetchCache;
pub use retry::Retry;
pub use timeout::Timeout;

use super::{Capabilities, Fetched, VaultBackend, VaultOptions, Version};
use crate::error::Error;
use async_trait::async_trait;
use futures::future::BoxFuture;
use secrecy::SecretString;
use std::fmt;
use std::sync::Arc;

/// One call of a backend, which a policy may make again.
pub type Call<'a, T> = dyn FnMut() -> BoxFuture<'a, Result<T, Error>> + Send + 'a;

/// What a call is, for a policy and its messages.
#[derive(Debug, Clone, Copy)]
pub struct CallInfo<'a> {
    /// What the call does, for messages: "read `name`".
    pub what: &'a str,
    /// Whether making it twice does no harm (a read); a store is not.
    pub idempotent: bool,
    /// The vault's name (its settings section).
    pub vault: &'a str,
}

/// A policy applied around each call of a backend.
pub trait Policy: Send + Sync + fmt::Debug {
    /// Runs `call` (once, again, or not at all) under the policy.
    fn around<'a, T: Send + 'a>(
        &'a self,
        info: CallInfo<'a>,
        call: &'a mut Call<'a, T>,
    ) -> BoxFuture<'a, Result<T, Error>>;
}

/// A backend with a policy around every call.
#[derive(Debug)]
pub struct Layered<P, B: ?Sized> {
    policy: P,
    inner: Arc<B>,
    /// The vault's name (its settings section), for the policy's messages.
    vault: Arc<str>,
}

impl<P: Policy, B: VaultBackend + ?Sized> Layered<P, B> {
    /// `inner`, the backend of vault `vault`, with `policy` around each of
    /// its calls.
    pub fn new(policy: P, inner: Arc<B>, vault: &str) -> Self {
        Self {
            policy,
            inner,
            vault: Arc::from(vault),
        }
    }

    /// The backend inside.
    pub fn inner(&self) -> &Arc<B> {
        &self.inner
    }
}

#[async_trait]
impl<P: Policy, B: VaultBackend + ?Sized> VaultBackend for Layered<P, B> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        let what = format!("read `{name}`");
        let inner = &self.inner;
        let mut call = || inner.fetch(name);
        let info = CallInfo {
            what: &what,
            idempotent: true,
            vault: &self.vault,
        };
        self.policy.around(info, &mut call).await
    }

    async fn list(&self) -> Result<Vec<String>, Error> {
        let inner = &self.inner;
        let mut call = || inner.list();
        let info = CallInfo {
            what: "list the secrets",
            idempotent: true,
            vault: &self.vault,
        };
        self.policy.around(info, &mut call).await
    }

    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        let what = format!("write `{name}`");
        let inner = &self.inner;
        let mut call = || inner.store(name, value);
        let info = CallInfo {
            what: &what,
            idempotent: false,
            vault: &self.vault,
        };
        self.policy.around(info, &mut call).await
    }

    async fn store_after(
        &self,
        name: &str,
        value: &SecretString,
        base: Option<&str>,
    ) -> Result<String, Error> {
        let what = format!("write `{name}`");
        let inner = &self.inner;
        let mut call = || inner.store_after(name, value, base);
        let info = CallInfo {
            what: &what,
            idempotent: false,
            vault: &self.vault,
        };
        self.policy.around(info, &mut call).await
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        let what = format!("list the versions of `{name}`");
        let inner = &self.inner;
        let mut call = || inner.versions(name);
        let info = CallInfo {
            what: &what,
            idempotent: true,
            vault: &self.vault,
        };
        self.policy.around(info, &mut call).await
    }

    async fn fetch_version(&self, name: &str, id: &str) -> Result<Fetched, Error> {
        let what = format!("read version {id} of `{name}`");
        let inner = &self.inner;
        let mut call = || inner.fetch_version(name, id);
        let info = CallInfo {
            what: &what,
            idempotent: true,
            vault: &self.vault,
        };
        self.policy.around(info, &mut call).await
    }

    fn access_hint(&self) -> String {
        self.inner.access_hint()
    }

    fn location(&self) -> String {
        self.inner.location()
    }
}

/// `backend` with the engine's policies, in the engine's order: a retry
/// (within `deadline`) around a timeout (per try) around the request
/// budget (`max_requests`, every try counted).
pub fn stack(
    vault: &str,
    backend: Arc<dyn VaultBackend>,
    options: &VaultOptions,
) -> Arc<dyn VaultBackend> {
    let budgeted: Arc<dyn VaultBackend> = match options.max_requests {
        Some(n) => Arc::new(Layered::new(Budget::per_minute(n), backend, vault)),
        None => backend,
    };
    let timed: Arc<dyn VaultBackend> =
        Arc::new(Layered::new(Timeout::new(options.timeout), budgeted, vault));
    Arc::new(Layered::new(Retry::new(options.deadline), timed, vault))
}
