//! The resolver: exact gets and section walks over a chain of providers
//! ([docs/lookups.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/lookups/index.html)).
//!
//! - `candidates`: the paths one lookup asks;
//! - `run`: one lookup asking the chain, and the missing-value report;
//! - `record`: what was asked, written out as a trace on demand;
//! - `resolved`: the answer;
//! - `peek`: the same lookups read in place, when providers can tell at once;
//! - `index`: a cache of in-place exact reads for programs that read many.

mod candidates;
mod index;
mod peek;
mod record;
mod resolved;
mod run;

pub use candidates::{walk_paths, walk_paths_in};
pub use resolved::Resolved;

use crate::error::Error;
use crate::path::{Path, STACK_SEGMENTS, split_dotted, split_dotted_on_stack, valid_segment};
use crate::provider::{Location, Provider, ValueRef};
use candidates::Candidates;
use index::PeekIndex;
use peek::Seen;
use run::{Mode, Run};
use std::sync::Arc;

/// How to look a value up: a secret lookup or a configuration lookup, and
/// the pipeline that scopes it.
///
/// A secret lookup skips providers that may not hold secrets (`config.toml`),
/// as `dlt.secrets` does; a pipeline-scoped one tries the names under the
/// pipeline's name first.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use strata_secrets_core::{Lookup, MemoryProvider, Path, Resolver, Value};
///
/// let mut config = MemoryProvider::new("config.toml", false);
/// config.insert(&Path::parse("sources.api_key").unwrap(), Value::from("from config"));
/// config.insert(&Path::parse("nightly.sources.page_size").unwrap(), Value::Integer(50));
/// config.insert(&Path::parse("sources.page_size").unwrap(), Value::Integer(10));
/// let resolver = Resolver::new().with_provider(Arc::new(config));
///
/// // a configuration lookup takes any provider's answer
/// let key = resolver.get_dotted("sources.api_key", &Lookup::config()).await.unwrap();
/// assert_eq!(key.expose(), &Value::from("from config"));
/// // a secret lookup does not read a provider that may not hold secrets
/// assert!(resolver.get_dotted("sources.api_key", &Lookup::secret()).await.is_err());
/// // a pipeline's own value wins over the shared one
/// let nightly = Lookup::config().pipeline("nightly");
/// let page = resolver.get_dotted("sources.page_size", &nightly).await.unwrap();
/// assert_eq!(page.expose(), &Value::Integer(50));
/// # });
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    /// A secret lookup: only providers that may hold secrets answer.
    pub secret: bool,
    /// The pipeline name that scopes the lookup (tried first, then unscoped).
    pub pipeline: Option<String>,
}

impl Lookup {
    /// A secret lookup (like `dlt.secrets`).
    pub fn secret() -> Self {
        Self {
            secret: true,
            pipeline: None,
        }
    }

    /// A configuration lookup over every provider (like `dlt.config`).
    pub fn config() -> Self {
        Self::default()
    }

    /// Scopes the lookup by a pipeline name.
    pub fn pipeline(mut self, name: impl Into<String>) -> Self {
        self.pipeline = Some(name.into());
        self
    }
}

/// A chain of providers, asked in order; the first answer wins.
#[derive(Debug, Clone)]
pub struct Resolver {
    providers: Arc<[Arc<dyn Provider>]>,
    profile: Option<String>,
    /// What exact gets read in place, once reads catch up with the leaves
    /// (shared by clones, which share the chain).
    index: Arc<PeekIndex>,
}

impl Default for Resolver {
    fn default() -> Self {
        Self {
            providers: Arc::from(Vec::new()),
            profile: None,
            index: Arc::default(),
        }
    }
}

/// The segments of a dotted path, or the parse error with its wording.
fn split(dotted: &str) -> Result<Vec<&str>, Error> {
    match split_dotted(dotted) {
        Some(segments) => Ok(segments),
        None => Err(Path::parse(dotted)
            .err()
            .map(Error::from)
            .unwrap_or_else(|| Error::new(crate::error::ErrorKind::InvalidPath, "invalid path"))),
    }
}

impl Resolver {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a provider at the end of the chain.
    pub fn push(&mut self, provider: Arc<dyn Provider>) {
        let mut providers = self.providers.to_vec();
        providers.push(provider);
        self.providers = Arc::from(providers);
        self.index = Arc::default();
    }

    /// Adds a provider at the end of the chain (builder form).
    pub fn with_provider(mut self, provider: Arc<dyn Provider>) -> Self {
        self.push(provider);
        self
    }

    /// Sets the active profile named in reports.
    pub fn set_profile(&mut self, profile: Option<String>) {
        self.profile = profile;
    }

    /// The active profile named in reports.
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    /// The providers, in chain order.
    pub fn providers(&self) -> &[Arc<dyn Provider>] {
        &self.providers
    }

    /// Every location of every provider, in chain order.
    pub fn locations(&self) -> Vec<Location> {
        self.providers.iter().flat_map(|p| p.locations()).collect()
    }

    fn check_pipeline(lookup: &Lookup) -> Result<(), Error> {
        if let Some(p) = &lookup.pipeline {
            Path::from_segments([p.as_str()])?;
        }
        Ok(())
    }

    /// Exact get: every provider is asked for exactly `path` (first scoped by
    /// the pipeline, if any, then unscoped). A secret lookup skips providers
    /// that may not hold secrets.
    pub async fn get(&self, path: &Path, lookup: &Lookup) -> Result<Resolved, Error> {
        let segments: Vec<&str> = path.segments().iter().map(String::as_str).collect();
        self.get_segments(segments, lookup).await
    }

    /// Exact get of a dotted path (`sources.pipedrive.api_key`): the same
    /// checks, the same answer as [`Resolver::get`].
    pub async fn get_dotted(&self, dotted: &str, lookup: &Lookup) -> Result<Resolved, Error> {
        self.get_segments(split(dotted)?, lookup).await
    }

    async fn get_segments(&self, segments: Vec<&str>, lookup: &Lookup) -> Result<Resolved, Error> {
        Self::check_pipeline(lookup)?;
        Run::new(self, Candidates::exact(segments), lookup, Mode::Exact)
            .resolve()
            .await
    }

    /// Section walk for a field: for each provider in chain order, every
    /// path of [`walk_paths`]; the pipeline-scoped pass runs over all
    /// providers before the unscoped one. A secret found in a provider that
    /// may not hold secrets is an [`crate::ErrorKind::ValueNotSecret`] error.
    pub async fn walk(
        &self,
        sections: &[String],
        key: &str,
        lookup: &Lookup,
    ) -> Result<Resolved, Error> {
        self.walk_in(sections, None, key, lookup).await
    }

    /// Section walk for a field of an embedded configuration (see
    /// [`walk_paths_in`]).
    pub async fn walk_in(
        &self,
        sections: &[String],
        config_section: Option<&str>,
        key: &str,
        lookup: &Lookup,
    ) -> Result<Resolved, Error> {
        self.walk_in_with(sections, config_section, key, lookup, false)
            .await
    }

    /// Section walk for the key at the end of a dotted path
    /// (`sources.pipedrive.api_key`).
    pub async fn walk_dotted(&self, dotted: &str, lookup: &Lookup) -> Result<Resolved, Error> {
        let segments = split(dotted)?;
        let (sections, key) = segments.split_at(segments.len() - 1);
        self.walk_segments(sections, None, key[0], lookup, false)
            .await
    }

    /// [`Resolver::walk_in`]; with `prefetch`, a provider that fetches ahead
    /// fetches every path of the walk at once when the walk reaches it (the
    /// walk for a configuration's native value, which is usually missing).
    pub(crate) async fn walk_in_with(
        &self,
        sections: &[String],
        config_section: Option<&str>,
        key: &str,
        lookup: &Lookup,
        prefetch: bool,
    ) -> Result<Resolved, Error> {
        let sections: Vec<&str> = sections.iter().map(String::as_str).collect();
        self.walk_segments(&sections, config_section, key, lookup, prefetch)
            .await
    }

    async fn walk_segments(
        &self,
        sections: &[&str],
        config_section: Option<&str>,
        key: &str,
        lookup: &Lookup,
        prefetch: bool,
    ) -> Result<Resolved, Error> {
        // the checks of building the most specific path
        let mut segments: Vec<&str> = lookup.pipeline.iter().map(String::as_str).collect();
        segments.extend_from_slice(sections);
        segments.extend(config_section);
        segments.push(key);
        Path::from_segments(segments)?;
        let candidates = Candidates::walk(sections, config_section, key);
        let mode = Mode::Walk {
            config_section: config_section.is_some(),
            prefetch,
        };
        Run::new(self, candidates, lookup, mode).resolve().await
    }

    /// Whether some provider fetches ahead ([`Provider::prefetches`]).
    pub(crate) fn prefetches(&self) -> bool {
        self.providers.iter().any(|p| p.prefetches())
    }

    /// Whether a walk would go past the providers that answer in place
    /// without finding anything: it reaches a provider that must be asked
    /// through its full lookup (a vault).
    pub(crate) fn walk_reaches_full_lookup(
        &self,
        sections: &[String],
        config_section: Option<&str>,
        key: &str,
        lookup: &Lookup,
    ) -> bool {
        let sections: Vec<&str> = sections.iter().map(String::as_str).collect();
        let candidates = Candidates::walk(&sections, config_section, key);
        matches!(
            self.peek_candidates(&candidates, lookup, false),
            Seen::Unknown
        )
    }

    /// The value an exact get of `dotted` would resolve, read in place when
    /// every provider asked before the answer can tell at once (environment,
    /// TOML files, in-memory documents): no copy, no provenance, no trace.
    /// `None` when some provider must be asked through its full lookup (a
    /// vault), when nothing holds the path, or when the path is not valid:
    /// then [`Resolver::get_dotted`] gives the answer, or the error.
    ///
    /// Once a program has read about as many values as its documents hold
    /// leaves, reads without a pipeline go through a cache of those answers.
    pub fn peek_dotted(&self, dotted: &str, lookup: &Lookup) -> Option<ValueRef<'_>> {
        if lookup.pipeline.is_none()
            && let Some(v) = self.index.get(self, dotted, lookup.secret)
        {
            return Some(ValueRef::Value(v));
        }
        self.peek_exact(dotted, lookup)
    }

    /// [`Resolver::peek_dotted`], asking the chain.
    pub(crate) fn peek_exact(&self, dotted: &str, lookup: &Lookup) -> Option<ValueRef<'_>> {
        let mut stack = [""; STACK_SEGMENTS];
        let segments = split_dotted_on_stack(dotted, &mut stack)?;
        let candidates = Candidates::exact(segments.to_vec());
        match self.peek_candidates(&candidates, lookup, true) {
            Seen::Found(v) => Some(v),
            Seen::NotSecret | Seen::NotFound | Seen::Unknown => None,
        }
    }

    /// The value a section walk for the key at the end of `dotted` would
    /// resolve, read in place (see [`Resolver::peek_dotted`]). `None` also
    /// when the value sits where the lookup may not take it (a secret in
    /// `config.toml`): [`Resolver::walk_dotted`] gives that error.
    pub fn peek_walk_dotted(&self, dotted: &str, lookup: &Lookup) -> Option<ValueRef<'_>> {
        let mut stack = [""; STACK_SEGMENTS];
        let segments = split_dotted_on_stack(dotted, &mut stack)?;
        let (sections, key) = segments.split_at(segments.len().checked_sub(1)?);
        if !sections.iter().chain(key).all(|s| valid_segment(s)) {
            return None;
        }
        let candidates = Candidates::walk(sections, None, key[0]);
        match self.peek_candidates(&candidates, lookup, false) {
            Seen::Found(v) => Some(v),
            Seen::NotSecret | Seen::NotFound | Seen::Unknown => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::error::ErrorKind;
    use crate::value::Value;

    fn names(paths: &[Path]) -> Vec<String> {
        paths.iter().map(ToString::to_string).collect()
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn walk_goes_from_most_specific_to_bare_key() {
        assert_eq!(
            names(&walk_paths(&s(&["destination", "postgres"]), "credentials")),
            [
                "destination.postgres.credentials",
                "destination.credentials",
                "credentials"
            ]
        );
        assert_eq!(names(&walk_paths(&[], "k")), ["k"]);
    }

    #[test]
    fn embedded_configurations_keep_their_section() {
        assert_eq!(
            names(&walk_paths_in(
                &s(&["destination", "postgres"]),
                Some("credentials"),
                "password"
            )),
            [
                "destination.postgres.credentials.password",
                "destination.credentials.password",
                "credentials.password"
            ]
        );
    }

    #[test]
    fn compact_sources_layout_is_inserted_third() {
        assert_eq!(
            names(&walk_paths(&s(&["sources", "mod", "src"]), "k")),
            [
                "sources.mod.src.k",
                "sources.mod.k",
                "sources.src.k",
                "sources.k",
                "k"
            ]
        );
        // same module and source name: no compact path
        assert_eq!(
            names(&walk_paths(&s(&["sources", "x", "x"]), "k")),
            ["sources.x.x.k", "sources.x.k", "sources.k", "k"]
        );
        // only for `sources`
        assert_eq!(
            names(&walk_paths(&s(&["destination", "a", "b"]), "k")).len(),
            4
        );
        // embedded sections follow the source name, as in dlt
        assert_eq!(
            names(&walk_paths(
                &s(&["sources", "mod", "src", "credentials"]),
                "password"
            ))[..3],
            [
                "sources.mod.src.credentials.password",
                "sources.mod.src.password",
                "sources.src.credentials.password"
            ]
        );
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn the_trace_is_written_out_in_the_order_questions_were_asked() {
        use crate::memory_provider::MemoryProvider;
        let p = |t: &str| Path::parse(t).unwrap();
        let resolver = Resolver::new()
            .with_provider(Arc::new(MemoryProvider::new("first", true)))
            .with_provider(Arc::new(
                MemoryProvider::new("flat", true).without_sections(),
            ))
            .with_provider(Arc::new(MemoryProvider::new("last", true).with(
                &p("destination.credentials.password"),
                Value::from("canary"),
            )));
        let lookup = Lookup::secret().pipeline("pipe");
        let r = block(resolver.walk_in(
            &s(&["destination", "postgres"]),
            Some("credentials"),
            "password",
            &lookup,
        ))
        .unwrap();
        assert_eq!(r.path().to_string(), "destination.credentials.password");
        let got: Vec<String> = r
            .trace()
            .entries
            .iter()
            .map(|e| format!("{} {} {}", e.provider, e.name, e.outcome))
            .collect();
        let mut want = Vec::new();
        // the pipeline pass over every provider with sections first
        for provider in ["first", "last"] {
            for path in [
                "pipe.destination.postgres.credentials.password",
                "pipe.destination.credentials.password",
                "pipe.credentials.password",
            ] {
                want.push(format!("{provider} {path} not found"));
            }
        }
        for path in [
            "destination.postgres.credentials.password",
            "destination.credentials.password",
            "credentials.password",
        ] {
            want.push(format!("first {path} not found"));
        }
        // a provider without sections is asked the bare key, unscoped only
        want.push("flat password not found".into());
        want.push("last destination.postgres.credentials.password not found".into());
        want.push("last destination.credentials.password found".into());
        assert_eq!(got, want);
        assert!(!format!("{r:?} {:?}", r.trace()).contains("canary"));

        // a missing value carries the same trace, written out at once
        let err = block(resolver.get(&p("nowhere.at_all"), &Lookup::config())).unwrap_err();
        let report = err.missing_report().unwrap();
        let got: Vec<String> = report
            .trace
            .entries
            .iter()
            .map(|e| format!("{} {}", e.provider, e.name))
            .collect();
        assert_eq!(
            got,
            ["first nowhere.at_all", "flat at_all", "last nowhere.at_all"]
        );
    }

    #[test]
    fn dotted_paths_are_checked_as_paths_are() {
        let resolver = Resolver::new();
        for bad in ["", ".a", "a.", "a..b", "a.b\nc", "a.\u{85}"] {
            let dotted = block(resolver.get_dotted(bad, &Lookup::config())).unwrap_err();
            let parsed = Path::parse(bad).unwrap_err();
            assert_eq!(
                dotted.to_string(),
                Error::from(parsed).to_string(),
                "{bad:?}"
            );
        }
        assert!(split_dotted("a.b.c").is_some_and(|v| v == ["a", "b", "c"]));
        let mut stack = [""; STACK_SEGMENTS];
        for bad in ["", ".a", "a.", "a..b", "a.b\nc", "a.\u{85}"] {
            assert!(split_dotted_on_stack(bad, &mut stack).is_none(), "{bad:?}");
        }
        assert_eq!(
            split_dotted_on_stack("a.b", &mut stack).unwrap(),
            ["a", "b"]
        );
        let long = vec!["s"; STACK_SEGMENTS + 1].join(".");
        assert!(split_dotted_on_stack(&long, &mut stack).is_none());
        // over the limits
        let deep = vec!["s"; crate::path::MAX_SEGMENTS + 1].join(".");
        assert!(split_dotted(&deep).is_none());
        let e = block(resolver.get_dotted(&deep, &Lookup::config())).unwrap_err();
        assert!(e.to_string().contains("too long"), "{e}");
        // the one-pass split agrees with Path::parse, ASCII or not
        let full = vec!["s"; STACK_SEGMENTS].join(".");
        for text in [
            "a",
            "a.b.c",
            "sources.pipedrive.api_key",
            "ü.b",
            "a.ü\u{85}",
            "a\u{7f}.b",
            "a.\u{1f}",
            "日本.語",
            "a. b",
            ".",
            full.as_str(),
        ] {
            let mut stack = [""; STACK_SEGMENTS];
            let split = split_dotted_on_stack(text, &mut stack).map(|s| s.to_vec());
            let parsed = Path::parse(text).ok();
            assert_eq!(
                split,
                parsed.as_ref().map(|p| p
                    .segments()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn values_read_in_place_are_the_full_lookups_values() {
        use crate::memory_provider::MemoryProvider;
        let p = |t: &str| Path::parse(t).unwrap();
        let v = |t: &str| Value::from(t);
        let resolver = Resolver::new()
            .with_provider(Arc::new(
                MemoryProvider::new("flat", true)
                    .without_sections()
                    .with(&p("flat_only"), v("flat")),
            ))
            .with_provider(Arc::new(
                MemoryProvider::new("files", true)
                    .with(&p("pipe.a.b"), v("scoped"))
                    .with(&p("a.b"), v("plain"))
                    .with(&p("a.up"), v("one section up")),
            ))
            .with_provider(Arc::new(
                MemoryProvider::new("config", false).with(&p("a.c"), v("config only")),
            ));
        let text = |r: Option<ValueRef<'_>>| match r {
            Some(ValueRef::Value(Value::String(s))) => Some(s.clone()),
            _ => None,
        };
        let lookups = [
            Lookup::config(),
            Lookup::secret(),
            Lookup::config().pipeline("pipe"),
            Lookup::secret().pipeline("pipe"),
            Lookup::config().pipeline(""),
        ];
        for lookup in &lookups {
            for dotted in [
                "a.b",
                "a.c",
                "a.x.up",
                "flat_only",
                "x.flat_only",
                "nowhere",
            ] {
                let full = block(resolver.get_dotted(dotted, lookup))
                    .ok()
                    .and_then(|r| r.expose().as_str().map(str::to_owned));
                assert_eq!(
                    text(resolver.peek_dotted(dotted, lookup)),
                    full,
                    "get {dotted} {lookup:?}"
                );
                let full = block(resolver.walk_dotted(dotted, lookup))
                    .ok()
                    .and_then(|r| r.expose().as_str().map(str::to_owned));
                assert_eq!(
                    text(resolver.peek_walk_dotted(dotted, lookup)),
                    full,
                    "walk {dotted} {lookup:?}"
                );
            }
        }
        // the pipeline pass comes first; a secret walk that meets config
        // only leaves the error to the full walk
        assert_eq!(
            text(resolver.peek_dotted("a.b", &Lookup::config().pipeline("pipe"))).as_deref(),
            Some("scoped")
        );
        assert!(
            resolver
                .peek_walk_dotted("a.c", &Lookup::secret())
                .is_none()
        );
        assert_eq!(
            block(resolver.walk_dotted("a.c", &Lookup::secret()))
                .unwrap_err()
                .kind(),
            ErrorKind::ValueNotSecret
        );
    }
}
