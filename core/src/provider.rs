//! The provider trait: "what is stored at this path?"

use crate::error::Error;
use crate::naming::NamingRule;
use crate::path::Path;
pub use crate::report::{Location, Provenance};
use crate::value::Value;
use async_trait::async_trait;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A value a provider holds, and where it came from.
#[derive(Debug, Clone)]
pub struct Found {
    /// The value (its `Debug` is redacted).
    pub value: Value,
    /// Where it came from.
    pub provenance: Provenance,
}

/// A provider's answer to one question.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Answer {
    /// The provider holds a value at the path.
    Found(Found),
    /// It does not: the resolver tries the next provider.
    NotFound,
    /// It may hold one but may not show it (e.g. access denied to one vault
    /// secret): treated as not found, with a warning for the trace.
    Withheld {
        /// What to tell the user (which permission to grant).
        warning: String,
    },
    /// The provider was not asked, and why (e.g. it answers secrets only).
    Skipped(String),
}

impl Answer {
    /// The found value, if any.
    pub fn found(self) -> Option<Found> {
        match self {
            Answer::Found(f) => Some(f),
            _ => None,
        }
    }
}

/// A value read in place, where a provider keeps it: a node of a parsed
/// document, or the text of an environment variable. `Debug` prints no
/// value.
#[derive(Clone, Copy)]
pub enum ValueRef<'a> {
    /// A node of a document.
    Value(&'a Value),
    /// Text (read as [`Value::String`]).
    Text(&'a str),
}

impl fmt::Debug for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ValueRef(***)")
    }
}

impl ValueRef<'_> {
    /// Reads the value as `T`, exactly as [`Value::deserialize`] reads the
    /// owned value; text is copied once, into a buffer zeroized after use.
    pub fn deserialize<T: serde::de::DeserializeOwned>(
        &self,
    ) -> Result<T, crate::value::ConvertError> {
        match self {
            ValueRef::Value(v) => v.deserialize(),
            ValueRef::Text(t) => {
                let mut v = Value::String((*t).to_owned());
                let out = v.deserialize();
                zeroize::Zeroize::zeroize(&mut v);
                out
            }
        }
    }

    /// An owned copy of the value.
    pub fn to_value(&self) -> Value {
        match self {
            ValueRef::Value(v) => (*v).clone(),
            ValueRef::Text(t) => Value::String((*t).to_owned()),
        }
    }

    /// The value as a secret string (scalars as their text), or `None` for
    /// a table or an array.
    pub fn secret_string(&self) -> Option<secrecy::SecretString> {
        match self {
            ValueRef::Text(t) => Some(secrecy::SecretString::from(*t)),
            ValueRef::Value(Value::Table(_) | Value::Array(_)) => None,
            ValueRef::Value(v) => Some(secrecy::SecretString::from(v.to_text())),
        }
    }
}

/// What [`Provider::peek`] saw.
#[derive(Debug, Clone, Copy)]
pub enum Peek<'a> {
    /// The value, in place.
    Found(ValueRef<'a>),
    /// The provider does not hold the path.
    NotFound,
    /// The provider cannot tell without waiting or reading more (a vault, a
    /// secret file): ask it through [`Provider::lookup`].
    Unknown,
}

/// One question to a provider: an unscoped path and the pipeline scoping it.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The path without the pipeline prefix.
    pub path: &'a Path,
    /// The pipeline name, in a pipeline-scoped pass.
    pub pipeline: Option<&'a str>,
    /// Whether the caller wants a secret.
    pub secret: bool,
}

impl Query<'_> {
    /// The path with the pipeline prefix, as a document would hold it.
    pub fn full_path(&self) -> Result<Path, Error> {
        match self.pipeline {
            Some(p) => Ok(self.path.prefixed(p)?),
            None => Ok(self.path.clone()),
        }
    }
}

/// What a provider did to answer one question, for the trace: each name it
/// read (a vault secret, say) and the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// The provider's own name that was read.
    pub name: String,
    /// What came of it.
    pub outcome: crate::trace::Outcome,
}

/// A source of configuration values.
///
/// Two read primitives, and core builds everything else on them (an exact
/// get, a quick answer with provenance, the resolver's walks and its index
/// of in-place reads):
/// - [`Provider::peek`]: the value read in place, at once, when the
///   provider holds it in memory, or "ask me through `lookup`";
/// - [`Provider::lookup`]: the full, asynchronous answer to one question,
///   with what it read along the way for the trace.
///
/// Behaviour every provider must have (the conformance suite checks each):
/// - `lookup` returns [`Answer::Found`] for a path it holds, with the exact
///   value stored, and [`Answer::NotFound`] for a path it does not hold;
///   "not found" is never an error.
/// - a table stored at a path is returned whole (as a table, or as text that
///   reads as one, see [`Value::to_table`]).
/// - `lookup` returns an [`Error`] only for a failure that must stop the
///   lookup (unreadable file, refused credentials, unreachable service).
/// - `native_name` gives the same name as [`Provider::naming`]'s rule, and
///   that name is what the provenance of a found value carries.
/// - paths that the provider cannot name give an error or not found, never
///   a panic.
/// - `peek`, when it answers, answers exactly as `lookup` does, and the
///   answer is final for the provider's life.
/// - `Debug` of the provider and of every value it returns prints no value.
/// - concurrent lookups are safe and agree.
///
/// A provider of values held in a map (a program's own settings store, say):
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use strata_secrets_core::naming::NamingRule;
/// use strata_secrets_core::{
///     Answer, Detail, Error, Found, Lookup, Path, Provenance, Provider, Query, Resolver, Value,
///     async_trait,
/// };
///
/// struct Settings(BTreeMap<String, String>);
///
/// impl std::fmt::Debug for Settings {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "Settings({} keys)", self.0.len()) // never a value
///     }
/// }
///
/// #[async_trait]
/// impl Provider for Settings {
///     fn name(&self) -> &str { "settings" }
///     fn may_hold_secrets(&self) -> bool { true }
///     fn naming(&self) -> NamingRule { NamingRule::Toml } // `sources.x.api_key`
///
///     async fn lookup(&self, q: &Query<'_>, _: &mut Vec<Detail>) -> Result<Answer, Error> {
///         let name = self.native_name(&q.full_path()?)?;
///         Ok(match self.0.get(&name) {
///             Some(v) => Answer::Found(Found {
///                 value: Value::from(v.as_str()),
///                 provenance: Provenance { provider: "settings".into(), name, file: None, line: None },
///             }),
///             None => Answer::NotFound,
///         })
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = Settings(BTreeMap::from([("sources.x.api_key".to_owned(), "k".to_owned())]));
/// let resolver = Resolver::new().with_provider(Arc::new(store));
/// let r = resolver.get(&Path::parse("sources.x.api_key")?, &Lookup::secret()).await?;
/// assert_eq!(r.provenance().to_string(), "settings `sources.x.api_key`");
/// # Ok::<(), Error>(()) }).unwrap();
/// ```
///
/// In a program, `Strata::register` adds it after the default chain. Its
/// tests run the shared suite (`strata-secrets-conformance`):
/// `Suite::new().provider(harness).run()`, where the harness makes a
/// provider holding what each case asks for (see that crate's docs).
#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// Short name shown in traces and errors (`environment`, `secrets.toml`).
    fn name(&self) -> &str;

    /// Whether secrets may be read from this provider.
    fn may_hold_secrets(&self) -> bool;

    /// Whether the provider understands sections. One that does not is asked
    /// for the bare key only, and never for a pipeline-scoped lookup.
    fn supports_sections(&self) -> bool {
        true
    }

    /// The naming rule this provider stores paths under.
    fn naming(&self) -> NamingRule;

    /// The provider's own name for `path`.
    fn native_name(&self, path: &Path) -> Result<String, Error> {
        self.naming().name(path).map_err(Error::from)
    }

    /// Read primitive 1: the value at `segments` (the whole path, pipeline
    /// prefix included) read in place, when the provider holds it in memory
    /// (no copy, no provenance). [`Peek::Unknown`] (the default) sends the
    /// caller to [`Provider::lookup`]. [`Peek::Found`] and
    /// [`Peek::NotFound`] are final: the resolver may keep them for the
    /// provider's life. Most questions of a walk are misses: a provider
    /// should not allocate when it does not hold the path.
    fn peek(&self, segments: &[&str], secret: bool) -> Peek<'_> {
        let _ = (segments, secret);
        Peek::Unknown
    }

    /// Where the value at `segments` was defined (a file, and the 1-based
    /// line when known), for the provenance of a value read in place.
    fn origin(&self, segments: &[&str]) -> Option<(PathBuf, Option<u32>)> {
        let _ = segments;
        None
    }

    /// Read primitive 2: the answer to a [`Query`], recording in `details`
    /// the names read when the provider reads more than one name per
    /// question (vaults do).
    async fn lookup(&self, query: &Query<'_>, details: &mut Vec<Detail>) -> Result<Answer, Error>;

    /// Whether [`Provider::prefetch`] fetches anything: the typed resolver
    /// then looks a configuration's fields up while it walks for the
    /// configuration's native value, so both reach the provider together.
    fn prefetches(&self) -> bool {
        false
    }

    /// A hint: lookups of `queries`, in order, may follow, so a provider
    /// that can fetch ahead (the vault engine's single values) may fetch
    /// them now, to answer the lookups from its cache. Called by a walk
    /// that reaches the provider; the default does nothing.
    async fn prefetch(&self, queries: &[Query<'_>]) {
        let _ = queries;
    }

    /// Every place the provider reads, present or not.
    fn locations(&self) -> Vec<Location> {
        Vec::new()
    }

    /// The whole document, for providers that hold one (TOML, in-memory).
    fn document(&self) -> Option<&Value> {
        None
    }
}

/// What core builds on the two read primitives, for every [`Provider`].
#[async_trait]
pub trait ProviderExt: Provider {
    /// What is stored at `path` (no pipeline scoping): the provider's
    /// [`Provider::lookup`].
    async fn get(&self, path: &Path, secret: bool) -> Result<Answer, Error> {
        let query = Query {
            path,
            pipeline: None,
            secret,
        };
        self.lookup(&query, &mut Vec::new()).await
    }

    /// The answer at once, from [`Provider::peek`], with its provenance
    /// (the provider's own name for the path, and where it was defined):
    /// `None` when the provider must be asked through its lookup.
    fn answer_now(&self, segments: &[&str], secret: bool) -> Option<Answer> {
        match self.peek(segments, secret) {
            Peek::NotFound => Some(Answer::NotFound),
            Peek::Unknown => None,
            Peek::Found(v) => {
                let path = Path::from_segments(segments.iter().copied()).ok()?;
                let name = self.native_name(&path).ok()?;
                let (file, line) = match self.origin(segments) {
                    Some((file, line)) => (Some(file), line),
                    None => (None, None),
                };
                Some(Answer::Found(Found {
                    value: v.to_value(),
                    provenance: Provenance {
                        provider: self.name().to_owned(),
                        name,
                        file,
                        line,
                    },
                }))
            }
        }
    }

    /// The value at a dotted path, as a plain (non-secret) lookup.
    async fn get_value(&self, path: &str) -> Result<Option<Value>, Error> {
        let path = Path::parse(path)?;
        Ok(self.get(&path, false).await?.found().map(|f| f.value))
    }

    /// The locations that were present.
    fn present_locations(&self) -> Vec<Location> {
        self.locations().into_iter().filter(|l| l.present).collect()
    }
}

impl<P: Provider + ?Sized> ProviderExt for P {}

#[async_trait]
impl<P: Provider + ?Sized> Provider for Arc<P> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn may_hold_secrets(&self) -> bool {
        (**self).may_hold_secrets()
    }
    fn supports_sections(&self) -> bool {
        (**self).supports_sections()
    }
    fn naming(&self) -> NamingRule {
        (**self).naming()
    }
    fn native_name(&self, path: &Path) -> Result<String, Error> {
        (**self).native_name(path)
    }
    fn peek(&self, segments: &[&str], secret: bool) -> Peek<'_> {
        (**self).peek(segments, secret)
    }
    fn origin(&self, segments: &[&str]) -> Option<(PathBuf, Option<u32>)> {
        (**self).origin(segments)
    }
    async fn lookup(&self, query: &Query<'_>, details: &mut Vec<Detail>) -> Result<Answer, Error> {
        (**self).lookup(query, details).await
    }
    fn prefetches(&self) -> bool {
        (**self).prefetches()
    }
    async fn prefetch(&self, queries: &[Query<'_>]) {
        (**self).prefetch(queries).await
    }
    fn locations(&self) -> Vec<Location> {
        (**self).locations()
    }
    fn document(&self) -> Option<&Value> {
        (**self).document()
    }
}
