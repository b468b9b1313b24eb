//! The one error type of strata: a kind, context and a retryable flag.
//!
//! "Not found" is not an error here: a provider answers [`Answer::NotFound`]
//! and the resolver tries the next one. Every [`Error`] a provider returns
//! stops the lookup; the resolver adds the provider's name. A value missing
//! from every provider is the separate [`ErrorKind::Missing`], carrying a
//! [`MissingValue`] report.
//!
//! Messages are written so that they never hold a value: constructors take
//! paths, names, files and kinds, not content.
//!
//! [`Answer::NotFound`]: crate::provider::Answer::NotFound

use crate::report::{Location, Provenance};
use crate::trace::Trace;
use std::fmt::{self, Write as _};
use std::path::{Path as FsPath, PathBuf};

/// What went wrong, for programs to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No provider holds the value ([`Error::missing`] has the report).
    Missing,
    /// A path is not valid (empty segment, control character).
    InvalidPath,
    /// A path has no name in a provider (vault naming rules).
    InvalidName,
    /// A file or text does not parse (TOML syntax).
    Parse,
    /// A value cannot be read as the asked type.
    Conversion,
    /// A secret was found in a provider that may not hold secrets.
    ValueNotSecret,
    /// The caller may not read or write this.
    PermissionDenied,
    /// Credentials were refused.
    Unauthenticated,
    /// A service did not answer, or answered with a server error.
    Unavailable,
    /// A service asked us to slow down.
    RateLimited,
    /// Configuration is wrong: a bad profile name, conflicting files, ...
    ConfigInvalid,
    /// A write was refused because the profile is read-only.
    ReadOnly,
    /// Reading or writing a local file failed.
    Io,
    /// The operation is not supported here (a feature not compiled in, ...).
    Unsupported,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// A short lower-case name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Missing => "missing",
            ErrorKind::InvalidPath => "invalid path",
            ErrorKind::InvalidName => "invalid name",
            ErrorKind::Parse => "parse error",
            ErrorKind::Conversion => "conversion error",
            ErrorKind::ValueNotSecret => "value not secret",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::ConfigInvalid => "invalid configuration",
            ErrorKind::ReadOnly => "read-only",
            ErrorKind::Io => "i/o error",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Other => "error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error strata returns: a kind to match on ([`Error::kind`]), a
/// message that names the path, file and provider involved and what to do,
/// and never a value. A missing value carries its report
/// ([`Error::missing_report`]: every provider and name asked), a typed
/// configuration that could not be resolved its own
/// ([`Error::config_report`]).
///
/// `Display` and `Debug` both print the readable report, so a `main` that
/// returns `Result<(), strata::Error>` prints it as is; `{:#?}` shows the
/// fields.
///
/// ```
/// use strata_secrets_core::{Error, ErrorKind};
/// let e = Error::new(ErrorKind::ConfigInvalid, "`providers.x.timeout` must be a number of seconds");
/// assert_eq!(format!("{e:?}"), "Error(ConfigInvalid): `providers.x.timeout` must be a number of seconds");
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    provider: Option<String>,
    path: Option<String>,
    file: Option<PathBuf>,
    temporary: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    missing: Option<MissingValue>,
    report: Option<Box<ConfigReport>>,
    trace: Option<Trace>,
}

impl Error {
    /// A new error of `kind`. `message` must not hold any value.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                provider: None,
                path: None,
                file: None,
                temporary: matches!(kind, ErrorKind::Unavailable | ErrorKind::RateLimited),
                source: None,
                missing: None,
                report: None,
                trace: None,
            }),
        }
    }

    /// The missing-value error with its report.
    pub fn missing(report: MissingValue) -> Self {
        let mut e = Self::new(ErrorKind::Missing, String::new());
        e.inner.path = Some(report.path.clone());
        e.inner.missing = Some(report);
        e
    }

    /// The error of a typed configuration that could not be resolved, with
    /// its report (every missing field, every error).
    pub fn unresolved(report: ConfigReport) -> Self {
        let mut e = Self::new(report.kind(), String::new());
        e.inner.path = Some(report.configuration.clone());
        e.inner.report = Some(Box::new(report));
        e
    }

    /// The report of a typed configuration that could not be resolved.
    pub fn config_report(&self) -> Option<&ConfigReport> {
        self.inner.report.as_deref()
    }

    /// Sets the provider's name (kept if one is already set).
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        if self.inner.provider.is_none() {
            self.inner.provider = Some(provider.into());
        }
        self
    }

    /// Sets the configuration path the error is about (kept if already set).
    pub fn with_path(mut self, path: impl fmt::Display) -> Self {
        if self.inner.path.is_none() {
            self.inner.path = Some(path.to_string());
        }
        self
    }

    /// Sets the file the error is about.
    pub fn with_file(mut self, file: impl AsRef<FsPath>) -> Self {
        self.inner.file = Some(file.as_ref().to_path_buf());
        self
    }

    /// Attaches the underlying error. It must not hold any value either.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }

    /// Appends `note` to the message (it must not hold any value either).
    pub fn with_note(mut self, note: impl fmt::Display) -> Self {
        self.inner.message = format!("{} {note}", self.inner.message);
        self
    }

    /// Marks the error as temporary (worth retrying) or permanent.
    pub fn set_temporary(mut self, temporary: bool) -> Self {
        self.inner.temporary = temporary;
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message, without context.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The provider that failed, when known.
    pub fn provider(&self) -> Option<&str> {
        self.inner.provider.as_deref()
    }

    /// The configuration path, when known.
    pub fn path(&self) -> Option<&str> {
        self.inner.path.as_deref()
    }

    /// The file, when known.
    pub fn file(&self) -> Option<&FsPath> {
        self.inner.file.as_deref()
    }

    /// True when retrying may succeed.
    pub fn is_temporary(&self) -> bool {
        self.inner.temporary
    }

    /// The report of a missing value.
    pub fn missing_report(&self) -> Option<&MissingValue> {
        self.inner.missing.as_ref()
    }

    /// The report of a missing value, to add notes to.
    pub fn missing_report_mut(&mut self) -> Option<&mut MissingValue> {
        self.inner.missing.as_mut()
    }

    /// Attaches the trace of the lookup that failed (a secret found where
    /// secrets may not be kept), for `explain`.
    pub fn with_trace(mut self, trace: Trace) -> Self {
        self.inner.trace = Some(trace);
        self
    }

    /// The trace of the lookup that failed: the missing value's, or one
    /// attached with [`Error::with_trace`].
    pub fn trace(&self) -> Option<&Trace> {
        self.inner
            .missing
            .as_ref()
            .map(|m| &m.trace)
            .or(self.inner.trace.as_ref())
    }

    /// True for [`ErrorKind::Missing`].
    pub fn is_missing(&self) -> bool {
        self.inner.kind == ErrorKind::Missing
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(report) = &self.inner.missing {
            return report.fmt(f);
        }
        if let Some(report) = &self.inner.report {
            return report.fmt(f);
        }
        if let Some(provider) = &self.inner.provider {
            write!(f, "{provider}: ")?;
        }
        f.write_str(&self.inner.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            return write!(f, "Error({:?}): {self}", self.inner.kind);
        }
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("provider", &self.inner.provider)
            .field("path", &self.inner.path)
            .field("file", &self.inner.file)
            .field("temporary", &self.inner.temporary)
            .field("missing", &self.inner.missing)
            .field("report", &self.inner.report)
            .finish_non_exhaustive()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<crate::path::PathError> for Error {
    fn from(e: crate::path::PathError) -> Self {
        Error::new(ErrorKind::InvalidPath, e.to_string()).with_source(e)
    }
}

impl From<crate::naming::NameError> for Error {
    fn from(e: crate::naming::NameError) -> Self {
        Error::new(ErrorKind::InvalidName, e.to_string()).with_source(e)
    }
}

/// Everything known about a value that no provider holds: what was asked,
/// where, and what to do about it. Never holds a value.
#[derive(Debug, Clone)]
pub struct MissingValue {
    /// The path asked for (for a walk: the most specific path).
    pub path: String,
    /// Whether the lookup was for a secret.
    pub secret: bool,
    /// The pipeline name the lookup was scoped by.
    pub pipeline: Option<String>,
    /// The active profile (`None` in classic mode).
    pub profile: Option<String>,
    /// Every (provider, name) asked, in order.
    pub trace: Trace,
    /// The files read, and probed but missing.
    pub locations: Vec<Location>,
    /// Hints, e.g. that config.toml holds the value of a secret.
    pub notes: Vec<String>,
}

impl fmt::Display for MissingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.secret { "secret" } else { "value" };
        write!(f, "missing {what}: `{}` was not found", self.path)?;
        if let Some(p) = &self.pipeline {
            write!(f, " (pipeline `{p}`)")?;
        }
        writeln!(f)?;
        match &self.profile {
            Some(p) => writeln!(f, "  profile: {p}")?,
            None => writeln!(f, "  profile: none (classic project, no .dlt/.workspace)")?,
        }
        writeln!(f, "  looked up, in order:")?;
        let width = self
            .trace
            .entries
            .iter()
            .map(|e| e.provider.len())
            .max()
            .unwrap_or(0);
        let name_width = self
            .trace
            .entries
            .iter()
            .map(|e| e.name.chars().count())
            .max()
            .unwrap_or(0);
        for entry in &self.trace.entries {
            let outcome = &entry.outcome;
            writeln!(
                f,
                "    {:width$}  {:name_width$}  {outcome}",
                entry.provider, entry.name
            )?;
        }
        if self.trace.entries.is_empty() {
            writeln!(f, "    (no provider could be asked)")?;
        }
        if !self.locations.is_empty() {
            writeln!(f, "  files:")?;
            for loc in &self.locations {
                let state = if loc.present { "read   " } else { "missing" };
                writeln!(f, "    {state} {}", loc.location)?;
            }
        }
        for w in &self.trace.warnings {
            writeln!(f, "  warning: {w}")?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}

/// A field that no provider holds.
#[derive(Debug, Clone)]
pub struct MissingField {
    /// Its path (sections and key).
    pub path: String,
    /// Whether it is a secret.
    pub secret: bool,
    /// Every (provider, name) tried.
    pub trace: Trace,
    pub(crate) order: Vec<u32>,
}

/// A field that resolved, and where from.
#[derive(Debug, Clone)]
pub struct ResolvedField {
    /// Its path.
    pub path: String,
    /// Where the value came from.
    pub provenance: Provenance,
    pub(crate) order: Vec<u32>,
}

/// Why a typed configuration could not be resolved: every missing field
/// with the (provider, name) pairs tried, every error whole, what did
/// resolve and the files read. Its `Display` is the report the CLI prints;
/// it never holds a value. [`Error::config_report`] gives it back.
#[derive(Debug)]
pub struct ConfigReport {
    /// The configuration's sections (`destination.postgres`).
    pub configuration: String,
    /// The active profile (`None` in a classic project).
    pub profile: Option<String>,
    /// Required fields no provider holds, in declaration order.
    pub missing: Vec<MissingField>,
    /// Fields whose value was found but is wrong (a conversion, a secret in
    /// config.toml), each error as it was raised.
    pub errors: Vec<Error>,
    /// Fields that resolved, and where from.
    pub resolved: Vec<ResolvedField>,
    /// The files read, and probed but missing.
    pub locations: Vec<Location>,
    /// Hints: a key beside a missing field that looks like a typo of it.
    pub notes: Vec<String>,
}

impl ConfigReport {
    /// The kind of error the report is: the first error's, else missing.
    pub fn kind(&self) -> ErrorKind {
        self.errors.first().map_or(ErrorKind::Missing, Error::kind)
    }
}

impl std::fmt::Display for ConfigReport {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = String::new();
        let f = &mut text;
        writeln!(
            f,
            "configuration `{}` could not be resolved: {} missing field(s), {} error(s)",
            self.configuration,
            self.missing.len(),
            self.errors.len()
        )?;
        match &self.profile {
            Some(p) => writeln!(f, "  profile: {p}")?,
            None => writeln!(f, "  profile: none (classic project)")?,
        }
        for m in &self.missing {
            let kind = if m.secret { "secret" } else { "value" };
            writeln!(f, "  missing {kind} `{}`, looked up:", m.path)?;
            for e in &m.trace.entries {
                writeln!(f, "      {}  {}  {}", e.provider, e.name, e.outcome)?;
            }
            for w in &m.trace.warnings {
                writeln!(f, "      warning: {w}")?;
            }
        }
        for e in &self.errors {
            writeln!(f, "  error: {e}")?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        if !self.resolved.is_empty() {
            writeln!(f, "  resolved:")?;
            for r in &self.resolved {
                writeln!(f, "    `{}` from {}", r.path, r.provenance)?;
            }
        }
        if !self.locations.is_empty() {
            writeln!(f, "  files:")?;
            for l in &self.locations {
                let state = if l.present { "read   " } else { "missing" };
                writeln!(f, "    {state} {}", l.location)?;
            }
        }
        out.write_str(text.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_prefixes_the_provider_once() {
        let e = Error::new(ErrorKind::Parse, "cannot parse x")
            .with_provider("secrets.toml")
            .with_provider("other");
        assert_eq!(e.to_string(), "secrets.toml: cannot parse x");
        assert_eq!(e.provider(), Some("secrets.toml"));
        assert!(!e.is_temporary());
        assert!(Error::new(ErrorKind::Unavailable, "down").is_temporary());
    }

    /// What `main() -> Result<(), Error>` prints: the report a person reads,
    /// not the fields (`{:#?}` still has them).
    #[test]
    fn debug_is_the_readable_report() {
        let mut trace = Trace::default();
        let path = crate::path::Path::parse("destination.pg.credentials.password").unwrap();
        for provider in ["environment", "secrets.toml", "memory_vault"] {
            trace.push(
                provider,
                &path,
                "NAME".into(),
                crate::trace::Outcome::NotFound,
            );
        }
        let e = Error::missing(MissingValue {
            path: path.to_string(),
            secret: true,
            pipeline: None,
            profile: Some("dev".into()),
            trace,
            locations: Vec::new(),
            notes: Vec::new(),
        });
        let debug = format!("{e:?}");
        assert!(
            debug.starts_with("Error(Missing): missing secret"),
            "{debug}"
        );
        assert!(debug.contains("looked up, in order"), "{debug}");
        assert!(!debug.contains("TraceEntry"), "{debug}");
        assert!(format!("{e:#?}").contains("TraceEntry"));
    }
}
