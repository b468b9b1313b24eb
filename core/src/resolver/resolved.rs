//! A resolved value with its provenance and, written out on demand, the
//! trace of its lookup.

use super::candidates::Asked;
use super::record::Record;
use crate::error::{Error, ErrorKind};
use crate::path::Path;
use crate::provider::{Found, Provenance};
use crate::trace::Trace;
use crate::value::Value;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::OnceLock;

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
    /// The answer `found` gave to the question `answered` of `record`.
    pub(crate) fn new(
        found: Found,
        from_secret_provider: bool,
        answered: Asked,
        record: Record,
    ) -> Self {
        Self {
            value: SecretBox::new(Box::new(found.value)),
            provenance: found.provenance,
            from_secret_provider,
            record,
            answered,
            path: OnceLock::new(),
            trace: OnceLock::new(),
        }
    }
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
        self.path.get_or_init(|| self.record.path(self.answered))
    }

    /// The warnings the lookup met (a denied vault secret), without
    /// writing out its trace.
    pub fn warnings(&self) -> impl Iterator<Item = &str> {
        self.record.warnings()
    }

    /// The value alone, still a secret; the provenance and the trace are
    /// dropped (for callers that hold many answers at once).
    pub fn into_value(self) -> SecretBox<Value> {
        self.value
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
