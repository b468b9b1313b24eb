//! What reports are made of: where a value came from, and the places
//! providers read. Plain data below every other module (errors, providers
//! and the typed resolver all use it), so nothing imports back.

use std::fmt;
use std::path::PathBuf;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The provider's name (`environment`, `secrets.toml`, ...).
    pub provider: String,
    /// The provider's own name for the key (env var, TOML key, secret name).
    pub name: String,
    /// The file, when the value came from one.
    pub file: Option<PathBuf>,
    /// The 1-based line in that file, when known.
    pub line: Option<u32>,
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.provider, self.name)?;
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, " ({}:{line})", file.display()),
            (Some(file), None) => write!(f, " ({})", file.display()),
            _ => Ok(()),
        }
    }
}

/// A file (or other place) a provider reads, and whether it was there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Human-readable location (a file path, a vault address).
    pub location: String,
    /// True when it existed and was read.
    pub present: bool,
}
