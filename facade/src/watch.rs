//! Watching values for changes ([docs/runtime.md](crate::guide::runtime)): a rotated secret, a new
//! lease, an edited file reach a long-running pipeline as a stream.

use crate::Strata;
use futures::stream::{BoxStream, StreamExt};
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;
use strata_secrets_core::secrecy::{ExposeSecret, SecretBox};
use strata_secrets_core::{Error, Lookup, Provenance, Value};

/// A value that changed: where it is, where it now comes from, and the new
/// value, held as a secret.
pub struct Change {
    /// The path watched.
    pub path: String,
    /// Where the new value comes from; `None` when nothing holds it now.
    pub provenance: Option<Provenance>,
    value: Option<SecretBox<Value>>,
}

impl Change {
    /// The new value (`None`: the path is no longer held). Every read of it
    /// goes through here.
    pub fn expose(&self) -> Option<&Value> {
        self.value.as_ref().map(|v| v.expose_secret())
    }
}

impl std::fmt::Debug for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Change")
            .field("path", &self.path)
            .field("provenance", &self.provenance)
            .field("value", &"***")
            .finish()
    }
}

/// What one poll saw of one path.
struct Seen {
    value: Option<SecretBox<Value>>,
    provenance: Option<Provenance>,
}

impl Seen {
    fn same_as(&self, other: &Seen) -> bool {
        self.provenance == other.provenance
            && match (&self.value, &other.value) {
                (Some(a), Some(b)) => a.expose_secret() == b.expose_secret(),
                (None, None) => true,
                _ => false,
            }
    }
}

/// `every`, give or take a tenth, so a fleet started together does not
/// poll together.
fn jittered(every: Duration, n: u64) -> Duration {
    let r = RandomState::new().hash_one(n) % 2001;
    every.mul_f64(0.9 + (r as f64) / 10_000.0)
}

impl Strata {
    /// A stream of the changes of `paths` (exact gets with `lookup`): the
    /// values are read once at the start, then every `every` (a tenth more
    /// or less, at random); each value or provenance that differs from the
    /// last poll's is a [`Change`]. Reads go through the chain as any
    /// lookup does, so a vault is asked again only when its `max_age` has
    /// passed, within its `max_requests`; a poll that fails yields the
    /// error, and polling goes on.
    pub fn watch(
        &self,
        paths: &[&str],
        lookup: &Lookup,
        every: Duration,
    ) -> BoxStream<'static, Result<Change, Error>> {
        let strata = self.clone();
        let paths: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
        let lookup = lookup.clone();
        let state: (Strata, Vec<String>, Lookup, Option<Vec<Seen>>, u64) =
            (strata, paths, lookup, None, 0);
        futures::stream::unfold(state, move |(strata, paths, lookup, last, n)| async move {
            if last.is_some() {
                tokio::time::sleep(jittered(every, n)).await;
            }
            let mut now = Vec::with_capacity(paths.len());
            let mut out: Vec<Result<Change, Error>> = Vec::new();
            for path in &paths {
                let seen = match strata.get(path, &lookup).await {
                    Ok(r) => Seen {
                        provenance: Some(r.provenance().clone()),
                        value: Some(r.into_value()),
                    },
                    Err(e) if e.is_missing() => Seen {
                        value: None,
                        provenance: None,
                    },
                    Err(e) => {
                        out.push(Err(e));
                        // keep what was seen before: no change is claimed
                        match last.as_ref().and_then(|l| l.get(now.len())) {
                            Some(prev) => Seen {
                                value: prev
                                    .value
                                    .as_ref()
                                    .map(|v| SecretBox::new(Box::new(v.expose_secret().clone()))),
                                provenance: prev.provenance.clone(),
                            },
                            None => Seen {
                                value: None,
                                provenance: None,
                            },
                        }
                    }
                };
                if let Some(prev) = last.as_ref().and_then(|l| l.get(now.len()))
                    && !seen.same_as(prev)
                {
                    out.push(Ok(Change {
                        path: path.clone(),
                        provenance: seen.provenance.clone(),
                        value: seen
                            .value
                            .as_ref()
                            .map(|v| SecretBox::new(Box::new(v.expose_secret().clone()))),
                    }));
                }
                now.push(seen);
            }
            Some((
                futures::stream::iter(out),
                (strata, paths, lookup, Some(now), n + 1),
            ))
        })
        .flatten()
        .boxed()
    }
}
