//! Lookup traces: every (provider, name) asked, and what came of it.

use crate::path::Path;

/// What one question to one provider gave.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The provider holds a value there.
    Found,
    /// It does not.
    NotFound,
    /// The provider was not asked, and why.
    Skipped(String),
    /// Answered from the provider's cache: found or not.
    Cached(bool),
    /// Access was denied: treated as not found, with this warning.
    Withheld(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Found => f.write_str("found"),
            Outcome::NotFound => f.write_str("not found"),
            Outcome::Skipped(why) => write!(f, "skipped: {why}"),
            Outcome::Cached(true) => f.write_str("found (cached)"),
            Outcome::Cached(false) => f.write_str("not found (cached)"),
            Outcome::Withheld(_) => f.write_str("access denied"),
        }
    }
}

/// One question to one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// The provider's name.
    pub provider: String,
    /// The path asked (with the pipeline prefix, if any).
    pub path: Path,
    /// The provider's own name for the path (env var, TOML key, secret name).
    pub name: String,
    /// What came of it.
    pub outcome: Outcome,
}

/// The questions of one lookup, in order, and the warnings they raised.
/// Never holds a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// Questions in the order they were asked.
    pub entries: Vec<TraceEntry>,
    /// Warnings (e.g. access denied to one vault secret).
    pub warnings: Vec<String>,
}

impl Trace {
    /// Adds an entry.
    pub fn push(&mut self, provider: &str, path: &Path, name: String, outcome: Outcome) {
        self.entries.push(TraceEntry {
            provider: provider.to_owned(),
            path: path.clone(),
            name,
            outcome,
        });
    }

    /// Adds a warning once.
    pub fn warn(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }
}
