//! An injected snapshot of environment variables.
//!
//! Code reads the environment through an [`Environment`] handed to it, never
//! through `std::env::var`, so tests build their own and never race on the
//! process-wide environment.

use crate::error::{Error, ErrorKind};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

/// A snapshot of environment variables (names and values as UTF-8). A
/// variable whose value is not UTF-8 is remembered by name: reading it is
/// an error that names it, never a silent fall-through to another value.
#[derive(Clone, Default)]
pub struct Environment {
    vars: Arc<HashMap<String, String, crate::value::FastHash>>,
    not_utf8: Arc<HashSet<String>>,
}

impl Environment {
    /// The current process's variables. A name that is not UTF-8 cannot be
    /// asked for and is left out; a value that is not UTF-8 is kept as
    /// [`Environment::get_checked`]'s error.
    pub fn from_process() -> Self {
        Self::from_os_pairs(std::env::vars_os())
    }

    /// A snapshot holding exactly these variables, as the operating system
    /// gives them (names and values that may not be UTF-8): a name that is
    /// not UTF-8 is left out, a value that is not UTF-8 is remembered as
    /// [`Environment::get_checked`]'s error.
    pub fn from_os_pairs<I>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    {
        let mut vars = HashMap::default();
        let mut not_utf8 = HashSet::new();
        for (k, v) in pairs {
            let Ok(k) = k.into_string() else {
                continue;
            };
            match v.into_string() {
                Ok(v) => {
                    vars.insert(k, v);
                }
                Err(_) => {
                    not_utf8.insert(k);
                }
            }
        }
        Self {
            vars: Arc::new(vars),
            not_utf8: Arc::new(not_utf8),
        }
    }

    /// Whether `name` is set to a value that is not UTF-8.
    pub fn is_not_utf8(&self, name: &str) -> bool {
        !self.not_utf8.is_empty() && self.not_utf8.contains(name)
    }

    /// The value of `name`; a value that is not UTF-8 is an error naming
    /// the variable.
    pub fn get_checked(&self, name: &str) -> Result<Option<&str>, Error> {
        if self.is_not_utf8(name) {
            return Err(Error::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "the environment variable {name} is set to a value that is not UTF-8 text; strata reads UTF-8 only (unset it or fix its value)"
                ),
            )
            .with_path(name));
        }
        Ok(self.get(name))
    }

    /// [`Environment::get_checked`], empty as unset.
    pub fn get_non_empty_checked(&self, name: &str) -> Result<Option<&str>, Error> {
        Ok(self.get_checked(name)?.filter(|v| !v.is_empty()))
    }

    /// A snapshot holding exactly these variables.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: Arc::new(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
            not_utf8: Arc::default(),
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value of `name` unless it is unset or empty.
    pub fn get_non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// All variables, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

/// Prints the number of variables only: values may be secrets.
impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("vars", &self.vars.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn snapshot_and_redacted_debug() {
        let env = Environment::from_pairs([("A", "hunter2"), ("B", "")]);
        assert_eq!(env.get("A"), Some("hunter2"));
        assert_eq!(env.get_non_empty("B"), None);
        assert_eq!(env.get("B"), Some(""));
        assert!(!format!("{env:?}").contains("hunter2"));
        use std::os::unix::ffi::OsStringExt;
        let env = Environment::from_os_pairs([
            ("A".into(), std::ffi::OsString::from_vec(vec![0x78, 0xff])),
            ("B".into(), "".into()),
        ]);
        assert_eq!(env.get("A"), None);
        let e = env.get_checked("A").unwrap_err();
        assert!(
            e.to_string()
                .contains("A is set to a value that is not UTF-8"),
            "{e}"
        );
        assert_eq!(env.get_checked("B").unwrap(), Some(""));
    }
}
