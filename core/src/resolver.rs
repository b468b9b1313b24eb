//! The resolver: exact gets and section walks over a chain of providers
//! (SPEC §2 and §3).

use crate::error::{Error, ErrorKind, MissingValue};
use crate::flat::PeekIndex;
use crate::path::{Path, valid_segment};
use crate::provider::{Answer, Found, Location, Peek, Provenance, Provider, Query, ValueRef};
use crate::trace::{Outcome, Trace, TraceEntry};
use crate::value::Value;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// How to look a value up.
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

/// A resolved value with its provenance and the trace of its lookup.
/// The value is held as a secret: `Debug` prints a redaction, it is zeroized
/// on drop and read only through [`Resolved::expose`].
pub struct Resolved {
    value: SecretBox<Value>,
    provenance: Provenance,
    from_secret_provider: bool,
    record: Record,
    answered: Asked,
    path: OnceLock<Path>,
    trace: OnceLock<Trace>,
}

impl Resolved {
    /// The value. Every read of a resolved value goes through here.
    pub fn expose(&self) -> &Value {
        self.value.expose_secret()
    }

    /// Where the value came from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// True when the answering provider may hold secrets: reports mask such
    /// values.
    pub fn from_secret_provider(&self) -> bool {
        self.from_secret_provider
    }

    /// The path that answered (with the pipeline prefix, if any).
    pub fn path(&self) -> &Path {
        self.path
            .get_or_init(|| self.record.full_path(self.answered))
    }

    /// The questions asked until the value was found.
    pub fn trace(&self) -> &Trace {
        self.trace.get_or_init(|| self.record.trace())
    }

    /// Reads the value as `T`, converting text on request. The error names
    /// the path, the provider and the type, never the value.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.expose().deserialize::<T>().map_err(|e| {
            Error::new(
                ErrorKind::Conversion,
                format!(
                    "`{}` from {} cannot be read as {}: {e}",
                    self.path(),
                    self.provenance,
                    std::any::type_name::<T>()
                ),
            )
            .with_path(self.path())
            .with_provider(self.provenance.provider.clone())
        })
    }

    /// The value as a secret string (scalars as their text; a table or array
    /// is an error).
    pub fn secret_string(&self) -> Result<SecretString, Error> {
        match self.expose() {
            Value::Table(_) | Value::Array(_) => Err(Error::new(
                ErrorKind::Conversion,
                format!(
                    "`{}` from {} is a {}, not a string",
                    self.path(),
                    self.provenance,
                    self.expose().kind()
                ),
            )),
            v => Ok(SecretString::from(v.to_text())),
        }
    }
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolved")
            .field("value", &self.value)
            .field("provenance", &self.provenance)
            .field("path", self.path())
            .finish_non_exhaustive()
    }
}

/// The ordered paths of a section walk for `sections` and `key` (SPEC §3):
/// most specific first, down to the bare key, with the compact `sources`
/// layout inserted third.
pub fn walk_paths(sections: &[String], key: &str) -> Vec<Path> {
    walk_paths_in(sections, None, key)
}

/// The walk for a field of an embedded configuration: `config_section`
/// (the embedded configuration's key, e.g. `credentials`) stays in every
/// path while the sections before it are popped, as dlt does:
/// `destination.postgres.credentials.password`,
/// `destination.credentials.password`, `credentials.password`.
pub fn walk_paths_in(sections: &[String], config_section: Option<&str>, key: &str) -> Vec<Path> {
    let sections: Vec<&str> = sections.iter().map(String::as_str).collect();
    let candidates = Candidates::walk(&sections, config_section, key);
    (0..candidates.len())
        .map(|i| Path::from_valid(candidates.get(i).iter().map(|s| (*s).to_owned()).collect()))
        .collect()
}

/// The paths one lookup asks, as borrowed segments in one list: the exact
/// path of a get, or every path of a walk in order. No allocation per path.
struct Candidates<'a> {
    segments: Vec<&'a str>,
    ends: Vec<usize>,
}

impl<'a> Candidates<'a> {
    fn exact(segments: Vec<&'a str>) -> Self {
        let ends = vec![segments.len()];
        Self { segments, ends }
    }

    /// SPEC §3: most specific first, down to the bare key, with the
    /// compact `sources` layout inserted third.
    fn walk(sections: &[&'a str], config_section: Option<&'a str>, key: &'a str) -> Self {
        let tail = usize::from(config_section.is_some()) + 1;
        let n = sections.len();
        let mut out = Self {
            segments: Vec::with_capacity((n + 1) * (n + 2) / 2 + (n + 2) * tail + n),
            ends: Vec::with_capacity(n + 2),
        };
        let compact = n >= 3 && sections[0] == "sources" && sections[1] != sections[2];
        for (i, cut) in (0..=n).rev().enumerate() {
            if compact && i == 2 {
                // `sources.<source>...`: never equal to a plain walk path,
                // since sections[1] != sections[2]
                out.segments.push(sections[0]);
                out.segments.extend_from_slice(&sections[2..]);
                out.close(config_section, key);
            }
            out.segments.extend_from_slice(&sections[..cut]);
            out.close(config_section, key);
        }
        out
    }

    fn close(&mut self, config_section: Option<&'a str>, key: &'a str) {
        self.segments.extend(config_section);
        self.segments.push(key);
        self.ends.push(self.segments.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> &[&'a str] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.segments[start..self.ends[i]]
    }
}

/// Which path one question asked: a candidate (or the bare key), scoped by
/// the pipeline or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Asked {
    /// Index of the candidate; [`BARE`] for the bare key.
    candidate: u16,
    scoped: bool,
}

const BARE: u16 = u16::MAX;

/// One question, recorded without allocating when the provider answered
/// at once; turned into a [`TraceEntry`] only when someone reads the trace.
#[derive(Debug)]
enum RawEntry {
    Quick {
        provider: u16,
        asked: Asked,
        outcome: Quick,
    },
    Full(TraceEntry),
    Warning(String),
}

#[derive(Debug, Clone, Copy)]
enum Quick {
    Found,
    NotFound,
    CannotHoldSecrets,
}

/// What a lookup asked, kept so its trace and paths can be written out later.
#[derive(Debug)]
struct Record {
    providers: Arc<[Arc<dyn Provider>]>,
    /// The most specific path's segments, joined by U+001F.
    input: String,
    walk: bool,
    config_section: bool,
    pipeline: Option<String>,
    raw: Vec<RawEntry>,
}

impl Record {
    fn segments(&self) -> Vec<&str> {
        self.input.split('\u{1f}').collect()
    }

    fn with_candidates<T>(&self, f: impl FnOnce(&Candidates<'_>) -> T) -> T {
        let segments = self.segments();
        if !self.walk {
            return f(&Candidates::exact(segments));
        }
        let (front, key) = segments.split_at(segments.len() - 1);
        let (sections, config_section) = if self.config_section {
            let (s, c) = front.split_at(front.len() - 1);
            (s, Some(c[0]))
        } else {
            (front, None)
        };
        f(&Candidates::walk(sections, config_section, key[0]))
    }

    fn path_in(&self, candidates: &Candidates<'_>, asked: Asked) -> Path {
        let segs: &[&str] = if asked.candidate == BARE {
            std::slice::from_ref(&candidates.segments[candidates.ends[0] - 1])
        } else {
            candidates.get(usize::from(asked.candidate))
        };
        let mut out: Vec<String> = Vec::with_capacity(segs.len() + 1);
        if asked.scoped
            && let Some(p) = &self.pipeline
        {
            out.push(p.clone());
        }
        out.extend(segs.iter().map(|s| (*s).to_owned()));
        Path::from_valid(out)
    }

    fn full_path(&self, asked: Asked) -> Path {
        self.with_candidates(|c| self.path_in(c, asked))
    }

    fn trace(&self) -> Trace {
        self.with_candidates(|candidates| {
            let mut trace = Trace::default();
            for entry in &self.raw {
                match entry {
                    RawEntry::Quick {
                        provider,
                        asked,
                        outcome,
                    } => {
                        let Some(p) = self.providers.get(usize::from(*provider)) else {
                            continue;
                        };
                        let path = self.path_in(candidates, *asked);
                        let name = p.native_name(&path).unwrap_or_default();
                        let outcome = match outcome {
                            Quick::Found => Outcome::Found,
                            Quick::NotFound => Outcome::NotFound,
                            Quick::CannotHoldSecrets => {
                                Outcome::Skipped("may not hold secrets".into())
                            }
                        };
                        trace.push(p.name(), &path, name, outcome);
                    }
                    RawEntry::Full(e) => trace.entries.push(e.clone()),
                    RawEntry::Warning(w) => trace.warn(w.clone()),
                }
            }
            trace
        })
    }
}

/// A chain of providers, asked in order; the first answer wins.
#[derive(Debug, Clone)]
pub struct Resolver {
    providers: Arc<[Arc<dyn Provider>]>,
    profile: Option<String>,
    /// What exact gets read in place, once reads catch up with the leaves
    /// (shared by clones, which share the chain).
    pub(crate) index: Arc<PeekIndex>,
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

/// Splits a dotted path into its segments in one pass, or `None` when it
/// does not parse as a [`Path`] (an empty segment, a control character).
fn split_dotted(dotted: &str) -> Option<Vec<&str>> {
    let mut out = Vec::with_capacity(8);
    out.extend(dotted.split('.'));
    out.iter().all(|s| valid_segment(s)).then_some(out)
}

/// Segments of a dotted path split without allocating; longer paths are
/// left to the full lookups.
const STACK_SEGMENTS: usize = 16;

/// [`split_dotted`] into `stack`: `None` when the path is not valid or has
/// more than [`STACK_SEGMENTS`] segments.
fn split_dotted_on_stack<'a, 's>(
    dotted: &'a str,
    stack: &'s mut [&'a str; STACK_SEGMENTS],
) -> Option<&'s [&'a str]> {
    // one pass over the bytes: split on `.` and check `valid_segment`'s
    // rules on the way (by `char` only for a segment beyond ASCII)
    let mut n = 0;
    let mut start = 0;
    let mut ascii = true;
    for (i, &b) in dotted.as_bytes().iter().enumerate() {
        if b == b'.' {
            *stack.get_mut(n)? = checked_segment(dotted, start, i, ascii)?;
            n += 1;
            start = i + 1;
            ascii = true;
        } else if b < 0x20 || b == 0x7f {
            return None;
        } else if b >= 0x80 {
            ascii = false;
        }
    }
    *stack.get_mut(n)? = checked_segment(dotted, start, dotted.len(), ascii)?;
    Some(&stack[..=n])
}

/// `dotted[start..end]` when it is a valid segment, given that it holds no
/// ASCII control character and whether it is all ASCII.
fn checked_segment(dotted: &str, start: usize, end: usize, ascii: bool) -> Option<&str> {
    let segment = dotted.get(start..end)?;
    if segment.is_empty() || (!ascii && !valid_segment(segment)) {
        return None;
    }
    Some(segment)
}

/// What [`Resolver::peek_walk`] saw.
enum WalkPeek<'a> {
    /// The value the walk resolves.
    Found(ValueRef<'a>),
    /// A value where the lookup may not take it (a secret in `config.toml`).
    NotSecret,
    /// No provider holds any path.
    NotFound,
    /// A provider must be asked through its full lookup (or the lookup is
    /// not valid).
    Unknown,
}

/// The pipeline prefix of each pass: the scoped pass first, when the
/// lookup has a pipeline, then the unscoped one.
fn pass_pipelines(lookup: &Lookup) -> impl Iterator<Item = Option<&str>> {
    lookup
        .pipeline
        .as_deref()
        .map(Some)
        .into_iter()
        .chain(std::iter::once(None))
}

/// `segments`, prefixed by `pipeline` (built in `buf`) when there is one.
fn scoped<'s, 'a>(
    buf: &'s mut Vec<&'a str>,
    pipeline: Option<&'a str>,
    segments: &'s [&'a str],
) -> &'s [&'a str] {
    match pipeline {
        None => segments,
        Some(p) => {
            buf.clear();
            buf.push(p);
            buf.extend_from_slice(segments);
            buf
        }
    }
}

/// Whether the lookup's pipeline name is a valid path segment (the full
/// lookups refuse it otherwise).
fn valid_pipeline(lookup: &Lookup) -> bool {
    lookup.pipeline.as_deref().is_none_or(valid_segment)
}

/// What asking one provider gave.
enum Step {
    Found(Found, Asked),
    Continue,
}

/// One lookup in progress.
struct Run<'a> {
    resolver: &'a Resolver,
    candidates: Candidates<'a>,
    lookup: &'a Lookup,
    walk: bool,
    config_section: bool,
    /// Let a provider that fetches ahead fetch every path of the walk at
    /// once (see [`Provider::prefetch`]).
    prefetch: bool,
    raw: Vec<RawEntry>,
    /// Reused for each question: the pipeline prefix and the candidate.
    scratch: Vec<&'a str>,
}

impl<'a> Run<'a> {
    fn new(
        resolver: &'a Resolver,
        candidates: Candidates<'a>,
        lookup: &'a Lookup,
        walk: bool,
        config_section: bool,
    ) -> Self {
        let passes = if lookup.pipeline.is_some() { 2 } else { 1 };
        let questions = resolver.providers.len() * candidates.len() * passes;
        Self {
            resolver,
            candidates,
            lookup,
            walk,
            config_section,
            prefetch: false,
            raw: Vec::with_capacity(questions),
            scratch: Vec::new(),
        }
    }

    fn passes(&self) -> impl Iterator<Item = bool> + use<> {
        let scoped = self.lookup.pipeline.is_some();
        [scoped, false].into_iter().take(if scoped { 2 } else { 1 })
    }

    fn segments(&self, asked: Asked) -> &[&'a str] {
        if asked.candidate == BARE {
            std::slice::from_ref(&self.candidates.segments[self.candidates.ends[0] - 1])
        } else {
            self.candidates.get(usize::from(asked.candidate))
        }
    }

    fn owned_path(&self, asked: Asked) -> Path {
        let segs = self.segments(asked);
        let mut out: Vec<String> = Vec::with_capacity(segs.len() + 1);
        if asked.scoped
            && let Some(p) = &self.lookup.pipeline
        {
            out.push(p.clone());
        }
        out.extend(segs.iter().map(|s| (*s).to_owned()));
        Path::from_valid(out)
    }

    /// Asks one provider one question: at once when it can, else through
    /// its async lookup.
    async fn ask(
        &mut self,
        index: usize,
        provider: &dyn Provider,
        asked: Asked,
    ) -> Result<Option<Found>, Error> {
        let provider_index = u16::try_from(index).unwrap_or(u16::MAX);
        let quick = match (asked.scoped, &self.lookup.pipeline) {
            (true, Some(p)) => {
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.clear();
                scratch.push(p.as_str());
                scratch.extend_from_slice(self.segments(asked));
                let quick = provider.get_now(&scratch, self.lookup.secret);
                self.scratch = scratch;
                quick
            }
            _ => provider.get_now(self.segments(asked), self.lookup.secret),
        };
        match quick {
            Some(Ok(Answer::NotFound)) => {
                self.raw.push(RawEntry::Quick {
                    provider: provider_index,
                    asked,
                    outcome: Quick::NotFound,
                });
                Ok(None)
            }
            Some(Ok(Answer::Found(found))) => {
                self.raw.push(RawEntry::Quick {
                    provider: provider_index,
                    asked,
                    outcome: Quick::Found,
                });
                Ok(Some(found))
            }
            Some(Err(e)) => {
                let full = self.owned_path(asked);
                Err(e.with_provider(provider.name()).with_path(&full))
            }
            // anything else (withheld, skipped) or no quick answer: the
            // full question, with every detail in the trace
            Some(Ok(_)) | None => self.ask_async(provider, asked).await,
        }
    }

    async fn ask_async(
        &mut self,
        provider: &dyn Provider,
        asked: Asked,
    ) -> Result<Option<Found>, Error> {
        let full = self.owned_path(asked);
        let unscoped = if asked.scoped {
            Path::from_valid(full.segments()[1..].to_vec())
        } else {
            full.clone()
        };
        let pipeline = if asked.scoped {
            self.lookup.pipeline.as_deref()
        } else {
            None
        };
        let name = match provider.native_name(&full) {
            Ok(name) => name,
            Err(e) => {
                self.full(
                    provider,
                    &full,
                    String::new(),
                    Outcome::Skipped(e.to_string()),
                );
                return Ok(None);
            }
        };
        let query = Query {
            path: &unscoped,
            pipeline,
            secret: self.lookup.secret,
        };
        let mut details = Vec::new();
        let answer = provider
            .lookup(&query, &mut details)
            .await
            .map_err(|e| e.with_provider(provider.name()).with_path(&full))?;
        for d in details {
            if let Outcome::Withheld(w) = &d.outcome {
                self.raw.push(RawEntry::Warning(w.clone()));
            }
            self.full(provider, &full, d.name, d.outcome);
        }
        Ok(match answer {
            Answer::Found(found) => {
                self.full(provider, &full, name, Outcome::Found);
                Some(found)
            }
            Answer::NotFound => {
                self.full(provider, &full, name, Outcome::NotFound);
                None
            }
            Answer::Withheld { warning } => {
                self.full(provider, &full, name, Outcome::Withheld(warning.clone()));
                self.raw.push(RawEntry::Warning(warning));
                None
            }
            Answer::Skipped(why) => {
                self.full(provider, &full, name, Outcome::Skipped(why));
                None
            }
        })
    }

    fn full(&mut self, provider: &dyn Provider, path: &Path, name: String, outcome: Outcome) {
        self.raw.push(RawEntry::Full(TraceEntry {
            provider: provider.name().to_owned(),
            path: path.clone(),
            name,
            outcome,
        }));
    }

    fn record(self) -> Record {
        let first = self.candidates.get(0);
        let mut input = String::with_capacity(first.iter().map(|s| s.len() + 1).sum());
        for (i, s) in first.iter().enumerate() {
            if i > 0 {
                input.push('\u{1f}');
            }
            input.push_str(s);
        }
        Record {
            providers: self.resolver.providers.clone(),
            input,
            walk: self.walk,
            config_section: self.config_section,
            pipeline: self.lookup.pipeline.clone(),
            raw: self.raw,
        }
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

    /// Exact get: every provider is asked for exactly `path` (first scoped by
    /// the pipeline, if any, then unscoped). A secret lookup skips providers
    /// that may not hold secrets.
    pub async fn get(&self, path: &Path, lookup: &Lookup) -> Result<Resolved, Error> {
        let segments: Vec<&str> = path.segments().iter().map(String::as_str).collect();
        self.get_segments(segments, lookup).await
    }

    /// Exact get of a dotted path (`sources.pipedrive.api_key`), without
    /// building a [`Path`] first: the same checks, the same answer as
    /// [`Resolver::get`].
    pub async fn get_dotted(&self, dotted: &str, lookup: &Lookup) -> Result<Resolved, Error> {
        let Some(segments) = split_dotted(dotted) else {
            // the parse error, with its exact wording
            Path::parse(dotted)?;
            return Err(Error::new(ErrorKind::InvalidName, "invalid path"));
        };
        self.get_segments(segments, lookup).await
    }

    async fn get_segments(&self, segments: Vec<&str>, lookup: &Lookup) -> Result<Resolved, Error> {
        if let Some(p) = &lookup.pipeline {
            Path::from_segments([p.as_str()])?;
        }
        let mut run = Run::new(self, Candidates::exact(segments), lookup, false, false);
        let providers = self.providers.clone();
        for scoped in run.passes() {
            for (index, provider) in providers.iter().enumerate() {
                if lookup.secret && !provider.may_hold_secrets() {
                    if !scoped {
                        run.raw.push(RawEntry::Quick {
                            provider: u16::try_from(index).unwrap_or(u16::MAX),
                            asked: Asked {
                                candidate: 0,
                                scoped: false,
                            },
                            outcome: Quick::CannotHoldSecrets,
                        });
                    }
                    continue;
                }
                let asked = if provider.supports_sections() {
                    Asked {
                        candidate: 0,
                        scoped,
                    }
                } else if scoped {
                    continue;
                } else {
                    Asked {
                        candidate: BARE,
                        scoped: false,
                    }
                };
                if let Some(found) = run.ask(index, provider.as_ref(), asked).await? {
                    return Ok(Self::resolved(
                        found,
                        provider.may_hold_secrets(),
                        asked,
                        run.record(),
                    ));
                }
            }
        }
        let record = run.record();
        Err(self.missing(record, lookup).await)
    }

    /// The value an exact get of `dotted` would resolve, read in place when
    /// every provider asked before the answer can tell at once (environment,
    /// TOML files, in-memory documents): no copy, no provenance, no trace.
    /// `None` when some provider must be asked through its full lookup (a
    /// vault), when nothing holds the path, or when the path is not valid:
    /// then [`Resolver::get_dotted`] gives the answer, or the error.
    ///
    /// Once a program has read about as many values as its documents hold
    /// leaves, reads without a pipeline go through a flat index of those
    /// answers (see `flat.rs`): one hash lookup of `dotted`.
    pub fn peek_dotted(&self, dotted: &str, lookup: &Lookup) -> Option<ValueRef<'_>> {
        if lookup.pipeline.is_none()
            && let Some(v) = self.index.get(self, dotted, lookup.secret)
        {
            return Some(ValueRef::Value(v));
        }
        self.peek_chain(dotted, lookup)
    }

    /// How many paths the index of in-place reads holds, once it is built
    /// (see [`Resolver::peek_dotted`]).
    pub fn indexed_paths(&self) -> Option<usize> {
        self.index.len()
    }

    /// [`Resolver::peek_dotted`], asking the chain.
    pub(crate) fn peek_chain(&self, dotted: &str, lookup: &Lookup) -> Option<ValueRef<'_>> {
        if !valid_pipeline(lookup) {
            return None;
        }
        let mut stack = [""; STACK_SEGMENTS];
        let segments = split_dotted_on_stack(dotted, &mut stack)?;
        let key = segments.last().copied()?;
        let mut scoped_buf: Vec<&str> = Vec::new();
        for pipeline in pass_pipelines(lookup) {
            for provider in self.providers.iter() {
                if lookup.secret && !provider.may_hold_secrets() {
                    continue;
                }
                let asked: &[&str] = match (provider.supports_sections(), pipeline) {
                    (true, p) => scoped(&mut scoped_buf, p, segments),
                    (false, None) => std::slice::from_ref(&key),
                    (false, Some(_)) => continue,
                };
                match provider.peek(asked, lookup.secret) {
                    Peek::Found(v) => return Some(v),
                    Peek::NotFound => {}
                    Peek::Unknown => return None,
                }
            }
        }
        None
    }

    /// The value a section walk for the key at the end of `dotted` would
    /// resolve, read in place (see [`Resolver::peek_dotted`]). `None` also
    /// when the value sits where the lookup may not take it (a secret in
    /// `config.toml`): [`Resolver::walk_dotted`] gives that error.
    pub fn peek_walk_dotted(&self, dotted: &str, lookup: &Lookup) -> Option<ValueRef<'_>> {
        let mut stack = [""; STACK_SEGMENTS];
        let segments = split_dotted_on_stack(dotted, &mut stack)?;
        let (sections, key) = segments.split_at(segments.len().checked_sub(1)?);
        match self.peek_walk(sections, None, key[0], lookup) {
            WalkPeek::Found(v) => Some(v),
            WalkPeek::NotSecret | WalkPeek::NotFound | WalkPeek::Unknown => None,
        }
    }

    /// What a section walk sees in place, provider by provider, path by
    /// path, up to the first answer or the first provider that cannot tell.
    fn peek_walk(
        &self,
        sections: &[&str],
        config_section: Option<&str>,
        key: &str,
        lookup: &Lookup,
    ) -> WalkPeek<'_> {
        if !valid_pipeline(lookup) {
            return WalkPeek::Unknown;
        }
        let candidates = Candidates::walk(sections, config_section, key);
        let mut scoped_buf: Vec<&str> = Vec::new();
        for pipeline in pass_pipelines(lookup) {
            for provider in self.providers.iter() {
                let cant_hold = lookup.secret && !provider.may_hold_secrets();
                let (first, count) = match (provider.supports_sections(), pipeline) {
                    (true, _) => (0, candidates.len()),
                    (false, None) => (usize::from(BARE), 1),
                    (false, Some(_)) => continue,
                };
                for i in first..first + count {
                    let candidate: &[&str] = if i == usize::from(BARE) {
                        std::slice::from_ref(&key)
                    } else {
                        candidates.get(i)
                    };
                    let asked = scoped(&mut scoped_buf, pipeline, candidate);
                    match provider.peek(asked, lookup.secret) {
                        Peek::Found(_) if cant_hold => return WalkPeek::NotSecret,
                        Peek::Found(v) => return WalkPeek::Found(v),
                        Peek::NotFound => {}
                        Peek::Unknown => return WalkPeek::Unknown,
                    }
                }
            }
        }
        WalkPeek::NotFound
    }

    /// Section walk for a field: for each provider in chain order, every
    /// path of [`walk_paths`]; the pipeline-scoped pass runs over all
    /// providers before the unscoped one. A secret found in a provider that
    /// may not hold secrets is an [`ErrorKind::ValueNotSecret`] error.
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
        valid_pipeline(lookup)
            && matches!(
                self.peek_walk(&sections, config_section, key, lookup),
                WalkPeek::Unknown
            )
    }

    /// Section walk for the key at the end of a dotted path
    /// (`sources.pipedrive.api_key`), without building a [`Path`].
    pub async fn walk_dotted(&self, dotted: &str, lookup: &Lookup) -> Result<Resolved, Error> {
        let Some(segments) = split_dotted(dotted) else {
            Path::parse(dotted)?;
            return Err(Error::new(ErrorKind::InvalidName, "invalid path"));
        };
        let (sections, key) = segments.split_at(segments.len() - 1);
        self.walk_segments(sections, None, key[0], lookup, false)
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
        // the same checks as building the most specific path
        if !sections.iter().all(|s| valid_segment(s))
            || !config_section.is_none_or(valid_segment)
            || !valid_segment(key)
            || !valid_pipeline(lookup)
        {
            let mut segments: Vec<&str> = lookup.pipeline.iter().map(String::as_str).collect();
            segments.extend_from_slice(sections);
            segments.extend(config_section);
            segments.push(key);
            Path::from_segments(segments)?;
        }
        let candidates = Candidates::walk(sections, config_section, key);
        let mut run = Run::new(self, candidates, lookup, true, config_section.is_some());
        run.prefetch = prefetch;
        let providers = self.providers.clone();
        for scoped in run.passes() {
            for (index, provider) in providers.iter().enumerate() {
                if !provider.supports_sections() && scoped {
                    continue;
                }
                match Self::walk_provider(&mut run, index, provider.as_ref(), scoped).await? {
                    Step::Found(found, asked) => {
                        return Ok(Self::resolved(
                            found,
                            provider.may_hold_secrets(),
                            asked,
                            run.record(),
                        ));
                    }
                    Step::Continue => {}
                }
            }
        }
        let record = run.record();
        Err(self.missing(record, lookup).await)
    }

    async fn walk_provider(
        run: &mut Run<'_>,
        index: usize,
        provider: &dyn Provider,
        scoped: bool,
    ) -> Result<Step, Error> {
        let cant_hold = run.lookup.secret && !provider.may_hold_secrets();
        let (first, count) = if provider.supports_sections() {
            (0, run.candidates.len())
        } else {
            (usize::from(BARE), 1)
        };
        if run.prefetch && !cant_hold && provider.prefetches() {
            // every path of this pass at once; the questions below are then
            // answered from the provider's cache
            let paths: Vec<Path> = (first..first + count)
                .map(|i| {
                    run.owned_path(Asked {
                        candidate: u16::try_from(i).unwrap_or(BARE - 1),
                        scoped: false,
                    })
                })
                .collect();
            let pipeline = if scoped {
                run.lookup.pipeline.as_deref()
            } else {
                None
            };
            let queries: Vec<Query<'_>> = paths
                .iter()
                .map(|path| Query {
                    path,
                    pipeline,
                    secret: run.lookup.secret,
                })
                .collect();
            provider.prefetch(&queries).await;
        }
        for i in first..first + count {
            let asked = Asked {
                candidate: u16::try_from(i).unwrap_or(BARE - 1),
                scoped: scoped && i != usize::from(BARE),
            };
            if let Some(found) = run.ask(index, provider, asked).await? {
                if cant_hold {
                    let path = run.owned_path(asked);
                    let file = found
                        .provenance
                        .file
                        .as_ref()
                        .map(|f| format!(" in {}", f.display()))
                        .unwrap_or_default();
                    let mut err = Error::new(
                        ErrorKind::ValueNotSecret,
                        format!(
                            "`{path}` is a secret but its value was found{file}, which may not hold secrets; move it to secrets.toml or to an environment variable"
                        ),
                    )
                    .with_provider(provider.name())
                    .with_path(&path);
                    if let Some(f) = &found.provenance.file {
                        err = err.with_file(f);
                    }
                    return Err(err);
                }
                return Ok(Step::Found(found, asked));
            }
        }
        Ok(Step::Continue)
    }

    fn resolved(
        found: Found,
        from_secret_provider: bool,
        answered: Asked,
        record: Record,
    ) -> Resolved {
        Resolved {
            value: SecretBox::new(Box::new(found.value)),
            provenance: found.provenance,
            from_secret_provider,
            record,
            answered,
            path: OnceLock::new(),
            trace: OnceLock::new(),
        }
    }

    async fn missing(&self, record: Record, lookup: &Lookup) -> Error {
        let path = record.with_candidates(|c| {
            Path::from_valid(c.get(0).iter().map(|s| (*s).to_owned()).collect())
        });
        let trace = record.trace();
        let mut notes = Vec::new();
        if lookup.secret {
            for provider in self.providers.iter().filter(|p| !p.may_hold_secrets()) {
                if let Ok(Answer::Found(found)) = provider.get(&path, false).await {
                    let place = found
                        .provenance
                        .file
                        .as_ref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_else(|| provider.name().to_owned());
                    notes.push(format!(
                        "{place} holds a value at `{path}`, but {} may not hold secrets: move it to secrets.toml",
                        provider.name()
                    ));
                }
            }
        }
        Error::missing(MissingValue {
            path: path.to_string(),
            secret: lookup.secret,
            pipeline: lookup.pipeline.clone(),
            profile: self.profile.clone(),
            trace,
            locations: self.locations(),
            notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        use crate::memory::MemoryProvider;
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
        use crate::memory::MemoryProvider;
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
