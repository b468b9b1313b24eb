//! A flat index of the values exact gets read in place.
//!
//! A program that reads many values (a pipeline reading its settings in a
//! loop) pays, for each [`Resolver::peek_dotted`], the split of the dotted
//! path, the environment variable's name and one hash lookup per segment in
//! each document. Once it has read about as many values as the documents
//! hold leaves, the resolver builds this index instead: every leaf path of
//! every provider's document, mapped to what `peek_dotted` answers for it
//! (config and secret lookups apart). A read is then one hash lookup of the
//! dotted text.
//!
//! The index holds exactly what `peek_dotted` answers, computed by it: a
//! path whose peek is not certain (a vault would be asked, a secret file
//! may answer) is not indexed, and its reads take the full way. Peek
//! answers are final for a provider's life ([`crate::Provider::peek`]), and
//! a resolver whose chain changes starts a new index. Values are zeroized
//! when the index is dropped, and its `Debug` prints counts only.

use crate::path::valid_segment;
use crate::resolver::{Lookup, Resolver};
use crate::value::{FastHash, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use zeroize::Zeroize;

/// Reads before the index is considered at all: a program that reads a
/// handful of values never pays for it.
const FIRST_CHECK: u32 = 64;

/// Leaves deeper than this are not indexed (their reads take the full way).
const MAX_DEPTH: usize = 16;

/// The index, built once reads have caught up with the leaves.
#[derive(Default)]
pub(crate) struct PeekIndex {
    reads: AtomicU32,
    /// Reads after which to build: the number of leaves (at least
    /// [`FIRST_CHECK`]), counted at the first check.
    build_after: OnceLock<u32>,
    built: OnceLock<Flat>,
}

/// What an exact get reads in place, for one dotted path.
#[derive(Default)]
struct Slot {
    config: Option<Value>,
    secret: Option<Value>,
}

#[derive(Default)]
struct Flat {
    map: HashMap<Box<str>, Slot, FastHash>,
}

impl Drop for Flat {
    fn drop(&mut self) {
        for slot in self.map.values_mut() {
            if let Some(v) = &mut slot.config {
                v.zeroize();
            }
            if let Some(v) = &mut slot.secret {
                v.zeroize();
            }
        }
    }
}

impl fmt::Debug for PeekIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeekIndex")
            .field("paths", &self.built.get().map(|b| b.map.len()))
            .finish_non_exhaustive()
    }
}

impl PeekIndex {
    /// The indexed answer for `dotted`: `None` when the index is not built
    /// yet or does not hold the path (the caller then peeks the chain).
    pub(crate) fn get<'r>(
        &'r self,
        resolver: &Resolver,
        dotted: &str,
        secret: bool,
    ) -> Option<&'r Value> {
        let flat = match self.built.get() {
            Some(flat) => flat,
            None => self.maybe_build(resolver)?,
        };
        let slot = flat.map.get(dotted)?;
        if secret {
            slot.secret.as_ref()
        } else {
            slot.config.as_ref()
        }
    }

    /// Counts one read; builds the index when reads reach the threshold.
    #[cold]
    fn maybe_build(&self, resolver: &Resolver) -> Option<&Flat> {
        let reads = self.reads.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        if reads < FIRST_CHECK {
            return None;
        }
        let build_after = *self.build_after.get_or_init(|| {
            let mut leaves = 0usize;
            for_each_leaf(resolver, |_| leaves += 1);
            u32::try_from(leaves).unwrap_or(u32::MAX).max(FIRST_CHECK)
        });
        if reads < build_after {
            return None;
        }
        Some(self.built.get_or_init(|| build(resolver)))
    }

    /// Whether the index was built (for tests).
    #[cfg(test)]
    pub(crate) fn is_built(&self) -> bool {
        self.built.get().is_some()
    }
}

fn build(resolver: &Resolver) -> Flat {
    let mut flat = Flat::default();
    let config = Lookup::config();
    let secret = Lookup::secret();
    for_each_leaf(resolver, |dotted| {
        if flat.map.contains_key(dotted) {
            return;
        }
        let slot = Slot {
            config: resolver.peek_exact(dotted, &config).map(|v| v.to_value()),
            secret: resolver.peek_exact(dotted, &secret).map(|v| v.to_value()),
        };
        if slot.config.is_some() || slot.secret.is_some() {
            flat.map.insert(dotted.into(), slot);
        }
    });
    tracing::debug!(paths = flat.map.len(), "indexed the values read in place");
    flat
}

/// Calls `f` with the dotted path of every leaf (a value that is not a
/// table) of every provider's document whose segments a dotted path can
/// spell.
fn for_each_leaf(resolver: &Resolver, mut f: impl FnMut(&str)) {
    let mut buf = String::new();
    for provider in resolver.providers() {
        if !provider.supports_sections() {
            continue;
        }
        if let Some(Value::Table(t)) = provider.document() {
            walk(t, &mut buf, 0, &mut f);
        }
    }
}

fn walk(table: &crate::Table, buf: &mut String, depth: usize, f: &mut impl FnMut(&str)) {
    if depth >= MAX_DEPTH {
        return;
    }
    let len = buf.len();
    for (key, value) in table {
        if key.contains('.') || !valid_segment(key) {
            continue;
        }
        if depth > 0 {
            buf.push('.');
        }
        buf.push_str(key);
        match value {
            Value::Table(t) => walk(t, buf, depth + 1, f),
            _ => f(buf),
        }
        buf.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryProvider;
    use crate::path::Path;
    use std::sync::Arc;

    fn chain() -> Resolver {
        let mut secrets = MemoryProvider::new("secrets.toml", true);
        let mut config = MemoryProvider::new("config.toml", false);
        for i in 0..100 {
            secrets.insert(
                &Path::parse(&format!("sources.s{i}.token")).unwrap(),
                Value::String(format!("token-{i}")),
            );
            config.insert(
                &Path::parse(&format!("sources.s{i}.region")).unwrap(),
                Value::Integer(i),
            );
        }
        // in both: the secrets file wins for both kinds of lookup
        config.insert(
            &Path::parse("sources.s0.token").unwrap(),
            Value::String("from-config".into()),
        );
        // a key a dotted path cannot spell
        config.insert(
            &Path::from_segments(["sources", "a.b"]).unwrap(),
            Value::Boolean(true),
        );
        Resolver::new()
            .with_provider(Arc::new(secrets))
            .with_provider(Arc::new(config))
    }

    fn read_all(r: &Resolver, n: usize) {
        for i in 0..n {
            let p = format!("sources.s{}.region", i % 100);
            assert!(r.peek_dotted(&p, &Lookup::config()).is_some());
        }
    }

    #[test]
    fn built_once_reads_catch_up_with_the_leaves() {
        let r = chain();
        read_all(&r, 150);
        // 201 leaves that a dotted path spells: not yet
        assert!(!r.index.is_built());
        read_all(&r, 60);
        assert!(r.index.is_built());
    }

    #[test]
    fn indexed_answers_are_the_chains_answers() {
        let r = chain();
        read_all(&r, 300);
        assert!(r.index.is_built());
        let mut paths: Vec<String> = (0..100)
            .flat_map(|i| {
                [
                    format!("sources.s{i}.token"),
                    format!("sources.s{i}.region"),
                ]
            })
            .collect();
        paths.extend(["sources.a.b", "sources", "sources.s1", "nope.x", "a..b"].map(String::from));
        for p in &paths {
            for lookup in [Lookup::config(), Lookup::secret()] {
                let indexed = r.peek_dotted(p, &lookup).map(|v| v.to_value());
                let chain = r.peek_exact(p, &lookup).map(|v| v.to_value());
                assert_eq!(indexed, chain, "{p} {lookup:?}");
            }
        }
        // the secrets file wins; a secret lookup never reads config.toml
        let token = r.peek_dotted("sources.s0.token", &Lookup::config());
        assert_eq!(
            token.map(|v| v.to_value()),
            Some(Value::String("token-0".into()))
        );
        assert!(
            r.peek_dotted("sources.s3.region", &Lookup::secret())
                .is_none()
        );
        // the index holds the leaves only, and a pipeline lookup passes it by
        let flat = r.index.built.get().unwrap();
        assert_eq!(flat.map.len(), 200);
        assert!(!flat.map.contains_key("sources.s1"));
    }

    #[test]
    fn a_new_provider_starts_a_new_index() {
        let mut r = chain();
        read_all(&r, 300);
        assert!(r.index.is_built());
        let clone = r.clone();
        assert!(clone.index.is_built());
        r.push(Arc::new(MemoryProvider::new("late", true)));
        assert!(!r.index.is_built());
        // the clone keeps its chain and its index
        assert!(clone.index.is_built());
    }

    #[test]
    fn debug_prints_no_value() {
        let r = chain();
        read_all(&r, 300);
        let shown = format!("{:?}", r.index);
        assert!(shown.contains("200"), "{shown}");
        assert!(!shown.contains("token-"), "{shown}");
    }
}
