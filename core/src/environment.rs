//! An injected snapshot of environment variables.
//!
//! Code reads the environment through an [`Environment`] handed to it, never
//! through `std::env::var`, so tests build their own and never race on the
//! process-wide environment.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A snapshot of environment variables (names and values as UTF-8).
#[derive(Clone, Default)]
pub struct Environment {
    vars: Arc<HashMap<String, String, crate::value::FastHash>>,
}

impl Environment {
    /// The current process's variables; those that are not UTF-8 are left out.
    pub fn from_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self {
            vars: Arc::new(vars),
        }
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
    fn snapshot_and_redacted_debug() {
        let env = Environment::from_pairs([("A", "hunter2"), ("B", "")]);
        assert_eq!(env.get("A"), Some("hunter2"));
        assert_eq!(env.get_non_empty("B"), None);
        assert_eq!(env.get("B"), Some(""));
        assert!(!format!("{env:?}").contains("hunter2"));
    }
}
