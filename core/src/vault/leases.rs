//! Leased (dynamic) credentials ([docs/runtime.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/runtime/index.html)): a path mapped to a role
//! of a vault that makes credentials on demand (`database/creds/loader`)
//! answers with fresh ones, held for the life of the provider.
//!
//! The backend says how to read, renew and revoke a lease
//! ([`LeaseSource`]); [`LeaseProvider`] does the rest, the same for every
//! backend: one lease per role, read at its first lookup (one request
//! however many ask); renewed when two thirds of its TTL are gone; read
//! again when a renewal is refused or grants less than a third of the
//! lease's first TTL (the role's `max_ttl` is near); revoked by
//! [`LeaseProvider::release`] or, when the provider is dropped inside a
//! runtime, by a task spawned there.

use crate::error::{Error, ErrorKind};
use crate::naming::NamingRule;
use crate::path::Path;
use crate::provider::{Answer, Detail, Found, Provenance, Provider, Query};
use crate::trace::Outcome;
use crate::value::Value;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretBox};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// One lease: what the vault made and for how long.
pub struct Lease {
    /// The vault's id of the lease (renewals and revocation name it).
    pub id: String,
    /// How long it lasts from now.
    pub ttl: Duration,
    /// Whether it can be renewed.
    pub renewable: bool,
    /// The credentials: a table (`username`, `password`, ...).
    pub data: SecretBox<Value>,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("id", &self.id)
            .field("ttl", &self.ttl)
            .field("renewable", &self.renewable)
            .field("data", &"***")
            .finish()
    }
}

/// A vault that leases credentials: read a role's, renew, revoke.
#[async_trait]
pub trait LeaseSource: Send + Sync + fmt::Debug {
    /// New credentials of `role` (a path such as `database/creds/loader`).
    async fn lease(&self, role: &str) -> Result<Lease, Error>;

    /// Renews lease `id` by `increment`; the TTL the vault granted.
    async fn renew(&self, id: &str, increment: Duration) -> Result<Duration, Error>;

    /// Revokes lease `id`: the credentials stop working.
    async fn revoke(&self, id: &str) -> Result<(), Error>;

    /// Where the vault is, for messages and provenance.
    fn location(&self) -> String;
}

/// The shortest wait before a renewal or another try.
const MIN_WAIT: Duration = Duration::from_millis(500);

/// The longest wait before another try at reading a lease that failed.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// One held lease.
struct Held {
    id: String,
    data: Arc<SecretBox<Value>>,
    /// The TTL of the lease when it was read.
    first_ttl: Duration,
    /// The TTL it has now (from the last read or renewal).
    ttl: Duration,
    renewable: bool,
}

struct Inner {
    source: Arc<dyn LeaseSource>,
    /// The provider's name in traces (`hashicorp_vault leases`).
    name: String,
    /// Mapped path and role, in the order given.
    map: Vec<(Path, String)>,
    /// Held leases by role; the async lock makes one read per role.
    held: tokio::sync::Mutex<BTreeMap<String, Held>>,
    /// The renewal tasks, stopped with the provider.
    renewals: std::sync::Mutex<Vec<tokio::task::AbortHandle>>,
}

/// The provider of leased credentials, placed in the chain just before its
/// vault's document provider.
#[derive(Clone)]
pub struct LeaseProvider {
    inner: Arc<Inner>,
}

impl fmt::Debug for LeaseProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaseProvider")
            .field("name", &self.inner.name)
            .field("roles", &self.inner.map.len())
            .finish_non_exhaustive()
    }
}

impl LeaseProvider {
    /// Leases of `source`, named `name` in traces, for the paths of `map`
    /// (path → role).
    pub fn new(source: Arc<dyn LeaseSource>, name: String, map: Vec<(Path, String)>) -> Self {
        LeaseProvider {
            inner: Arc::new(Inner {
                source,
                name,
                map,
                held: tokio::sync::Mutex::new(BTreeMap::new()),
                renewals: std::sync::Mutex::new(Vec::new()),
            }),
        }
    }

    /// The mapped paths and their roles.
    pub fn mappings(&self) -> &[(Path, String)] {
        &self.inner.map
    }

    /// The credentials of `role`: the held lease's, else a new lease's.
    async fn credentials(&self, role: &str) -> Result<Arc<SecretBox<Value>>, Error> {
        let mut held = self.inner.held.lock().await;
        if let Some(h) = held.get(role) {
            return Ok(Arc::clone(&h.data));
        }
        let lease = self.inner.source.lease(role).await?;
        let data = Arc::new(lease.data);
        held.insert(
            role.to_owned(),
            Held {
                id: lease.id,
                data: Arc::clone(&data),
                first_ttl: lease.ttl,
                ttl: lease.ttl,
                renewable: lease.renewable,
            },
        );
        drop(held);
        let task = tokio::spawn(keep(Arc::downgrade(&self.inner), role.to_owned()));
        if let Ok(mut tasks) = self.inner.renewals.lock() {
            tasks.push(task.abort_handle());
        }
        Ok(data)
    }

    /// Every leaf path the leases answer (each role's lease is read): for
    /// `export` and `exec`.
    pub async fn paths(&self) -> Result<Vec<Path>, Error> {
        let mut out = Vec::new();
        for (path, role) in &self.inner.map {
            let data = self.credentials(role).await?;
            data.expose_secret().for_each_leaf(&mut |segments, _| {
                let mut full: Vec<String> = path.segments().to_vec();
                full.extend(segments.iter().map(|s| (*s).to_owned()));
                if let Ok(p) = Path::from_segments(full) {
                    out.push(p);
                }
            });
        }
        Ok(out)
    }

    /// Stops renewing and revokes every held lease: the credentials stop
    /// working. Errors are logged; the leases are forgotten either way.
    pub async fn release(&self) {
        stop_renewals(&self.inner);
        let held = std::mem::take(&mut *self.inner.held.lock().await);
        for (role, h) in held {
            match self.inner.source.revoke(&h.id).await {
                Ok(()) => tracing::debug!(target: "strata", "revoked the lease of {role}"),
                Err(e) => tracing::warn!(
                    target: "strata",
                    "cannot revoke the lease of {role} on {}: {e}; it ends with its TTL",
                    self.inner.source.location()
                ),
            }
        }
    }
}

fn stop_renewals(inner: &Inner) {
    if let Ok(mut tasks) = inner.renewals.lock() {
        for t in tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        stop_renewals(self);
        let held = std::mem::take(self.held.get_mut());
        if held.is_empty() {
            return;
        }
        let ids: Vec<String> = held.into_values().map(|h| h.id).collect();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let source = Arc::clone(&self.source);
                handle.spawn(async move {
                    for id in ids {
                        if let Err(e) = source.revoke(&id).await {
                            tracing::warn!(target: "strata", "cannot revoke a lease on {}: {e}; it ends with its TTL", source.location());
                        }
                    }
                });
            }
            Err(_) => tracing::warn!(
                target: "strata",
                "{} leases dropped outside a runtime: they end with their TTL (call release() to revoke them)",
                ids.len()
            ),
        }
    }
}

/// Keeps the lease of `role` alive while the provider lives: renews it at
/// two thirds of its TTL, reads a new one when renewal is refused or comes
/// short.
async fn keep(inner: Weak<Inner>, role: String) {
    let mut wait = match inner.upgrade() {
        Some(i) => match i.held.lock().await.get(&role) {
            Some(h) => h.ttl * 2 / 3,
            None => return,
        },
        None => return,
    };
    loop {
        tokio::time::sleep(wait.max(MIN_WAIT)).await;
        let Some(inner) = inner.upgrade() else { return };
        let Some((id, first_ttl, renewable)) = inner
            .held
            .lock()
            .await
            .get(&role)
            .map(|h| (h.id.clone(), h.first_ttl, h.renewable))
        else {
            return;
        };
        if renewable {
            match inner.source.renew(&id, first_ttl).await {
                Ok(ttl) if ttl >= first_ttl / 3 => {
                    if let Some(h) = inner.held.lock().await.get_mut(&role) {
                        h.ttl = ttl;
                    }
                    tracing::debug!(target: "strata", "renewed the lease of {role} for {ttl:?}");
                    wait = ttl * 2 / 3;
                    continue;
                }
                Ok(ttl) => tracing::info!(
                    target: "strata",
                    "the lease of {role} was renewed for {ttl:?} only (its max_ttl is near): reading a new one"
                ),
                Err(e) => tracing::info!(
                    target: "strata",
                    "renewing the lease of {role} was refused ({e}): reading a new one"
                ),
            }
        }
        match inner.source.lease(&role).await {
            Ok(lease) => {
                let old = {
                    let mut held = inner.held.lock().await;
                    let old = held.get(&role).map(|h| h.id.clone());
                    wait = lease.ttl * 2 / 3;
                    held.insert(
                        role.clone(),
                        Held {
                            id: lease.id,
                            data: Arc::new(lease.data),
                            first_ttl: lease.ttl,
                            ttl: lease.ttl,
                            renewable: lease.renewable,
                        },
                    );
                    old
                };
                if let Some(old) = old
                    && let Err(e) = inner.source.revoke(&old).await
                {
                    tracing::debug!(target: "strata", "the replaced lease of {role} was not revoked: {e}");
                }
            }
            Err(e) => {
                tracing::warn!(
                    target: "strata",
                    "cannot read a new lease of {role} on {}: {e}; trying again",
                    inner.source.location()
                );
                wait = (first_ttl / 10).clamp(MIN_WAIT, MAX_RETRY_WAIT);
            }
        }
    }
}

#[async_trait]
impl Provider for LeaseProvider {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn may_hold_secrets(&self) -> bool {
        true
    }

    fn naming(&self) -> NamingRule {
        NamingRule::Toml
    }

    async fn lookup(&self, query: &Query<'_>, details: &mut Vec<Detail>) -> Result<Answer, Error> {
        let full = query.full_path()?;
        for (path, role) in &self.inner.map {
            let Some(rest) = full.segments().strip_prefix(path.segments()) else {
                continue;
            };
            let data = self.credentials(role).await.map_err(|e| {
                Error::new(
                    e.kind(),
                    format!(
                        "cannot lease `{role}` for `{path}` on {}: {e}",
                        self.inner.source.location()
                    ),
                )
                .with_provider(self.inner.name.clone())
            })?;
            let value = data.expose_secret().get_path(rest).cloned();
            details.push(Detail {
                name: role.clone(),
                outcome: if value.is_some() {
                    Outcome::Found
                } else {
                    Outcome::NotFound
                },
            });
            return Ok(match value {
                Some(value) => Answer::Found(Found {
                    value,
                    provenance: Provenance {
                        provider: self.inner.name.clone(),
                        name: role.clone(),
                        file: None,
                        line: None,
                    },
                }),
                None => Answer::NotFound,
            });
        }
        Ok(Answer::NotFound)
    }
}

/// A mapping `path = "role"` checked: the path parses, the role is a
/// relative API path of letters, digits and `_-./`.
pub fn parse_mapping(section: &str, path: &str, role: &str) -> Result<(Path, String), Error> {
    let invalid = |why: String| {
        Error::new(
            ErrorKind::ConfigInvalid,
            format!("`providers.{section}.leases`: {why}"),
        )
        .with_provider(section.to_owned())
    };
    let parsed = Path::parse(path).map_err(|e| invalid(format!("`{path}` is not a path: {e}")))?;
    let trimmed = role.trim_matches('/');
    let ok = !trimmed.is_empty()
        && trimmed.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        });
    if !ok {
        return Err(invalid(format!(
            "the role of `{path}` must be a path such as `database/creds/loader` (letters, digits and _-. separated by /)"
        )));
    }
    Ok((parsed, trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A lease source in memory: each lease `n` holds `user-n`; renewals
    /// grant `renew_ttl`, or fail when `refuse` is set.
    #[derive(Debug, Default)]
    struct Source {
        leased: AtomicU32,
        renewed: AtomicU32,
        revoked: Mutex<Vec<String>>,
        refuse: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl LeaseSource for Source {
        async fn lease(&self, role: &str) -> Result<Lease, Error> {
            let n = self.leased.fetch_add(1, Ordering::SeqCst) + 1;
            let mut t = crate::value::Table::default();
            t.insert("username".into(), Value::String(format!("user-{n}")));
            t.insert("password".into(), Value::String(format!("pw-{n}")));
            Ok(Lease {
                id: format!("{role}/{n}"),
                ttl: Duration::from_secs(60),
                renewable: true,
                data: SecretBox::new(Box::new(Value::Table(t))),
            })
        }
        async fn renew(&self, id: &str, increment: Duration) -> Result<Duration, Error> {
            self.renewed.fetch_add(1, Ordering::SeqCst);
            if self.refuse.load(Ordering::SeqCst) {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    format!("lease {id} not found"),
                ));
            }
            Ok(increment)
        }
        async fn revoke(&self, id: &str) -> Result<(), Error> {
            self.revoked.lock().unwrap().push(id.to_owned());
            Ok(())
        }
        fn location(&self) -> String {
            "memory".into()
        }
    }

    fn provider(source: &Arc<Source>) -> LeaseProvider {
        let map = vec![
            parse_mapping("v", "destination.pg.credentials", "database/creds/loader").unwrap(),
        ];
        LeaseProvider::new(source.clone(), "v leases".into(), map)
    }

    async fn user(p: &LeaseProvider) -> String {
        let path = Path::parse("destination.pg.credentials.username").unwrap();
        let q = Query {
            path: &path,
            pipeline: None,
            secret: true,
        };
        match p.lookup(&q, &mut Vec::new()).await.unwrap() {
            Answer::Found(f) => f.value.to_text(),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_lease_renewed_at_two_thirds_of_its_ttl() {
        let source = Arc::new(Source::default());
        let p = provider(&source);
        let (a, b) = tokio::join!(user(&p), user(&p));
        assert_eq!((a.as_str(), b.as_str()), ("user-1", "user-1"));
        assert_eq!(
            source.leased.load(Ordering::SeqCst),
            1,
            "one read for two lookups"
        );
        tokio::time::sleep(Duration::from_secs(39)).await;
        assert_eq!(source.renewed.load(Ordering::SeqCst), 0);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            source.renewed.load(Ordering::SeqCst),
            1,
            "renewed at 40 s of 60"
        );
        tokio::time::sleep(Duration::from_secs(40)).await;
        assert_eq!(source.renewed.load(Ordering::SeqCst), 2);
        assert_eq!(user(&p).await, "user-1", "the same credentials");
        // a path beside the mapping is not answered
        let other = Path::parse("destination.pg.host").unwrap();
        let q = Query {
            path: &other,
            pipeline: None,
            secret: true,
        };
        assert!(matches!(
            p.lookup(&q, &mut Vec::new()).await.unwrap(),
            Answer::NotFound
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_renewal_reads_a_new_lease_and_revokes_the_old() {
        let source = Arc::new(Source::default());
        let p = provider(&source);
        assert_eq!(user(&p).await, "user-1");
        source.refuse.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(41)).await;
        assert_eq!(user(&p).await, "user-2");
        assert_eq!(*source.revoked.lock().unwrap(), ["database/creds/loader/1"]);
    }

    #[tokio::test(start_paused = true)]
    async fn release_and_drop_revoke_the_leases() {
        let source = Arc::new(Source::default());
        let p = provider(&source);
        user(&p).await;
        p.release().await;
        assert_eq!(*source.revoked.lock().unwrap(), ["database/creds/loader/1"]);
        // no renewal after the release
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(source.renewed.load(Ordering::SeqCst), 0);
        // a new lookup leases again; dropping the provider revokes it
        assert_eq!(user(&p).await, "user-2");
        drop(p);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(source.revoked.lock().unwrap().len(), 2);
    }

    #[test]
    fn mappings_are_checked() {
        assert!(parse_mapping("v", "a.b", "database/creds/x").is_ok());
        for bad in ["", "/", "a//b", "../x", "a b", "x/../y"] {
            assert!(parse_mapping("v", "a.b", bad).is_err(), "{bad:?}");
        }
        assert!(parse_mapping("v", "a..b", "database/creds/x").is_err());
    }
}
