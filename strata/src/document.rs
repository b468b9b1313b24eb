//! The resolved document: every key the TOML files know, resolved through
//! the whole chain (so an environment variable overrides a file), for
//! `export` and `exec`.

use crate::Strata;
use strata_core::naming::env_var_name;
use strata_core::{Error, Lookup, Path, Resolved, Table, Value};

/// The text that replaces a masked value.
pub const MASK: &str = "***";

/// One resolved key.
#[derive(Debug)]
pub struct Entry {
    /// The path, as the TOML files spell it.
    pub path: Path,
    /// What the chain gives for it.
    pub resolved: Resolved,
}

/// Resolves every leaf path of the profile's TOML files (secrets first,
/// then config) through the whole chain, with exact gets. Environment
/// variables that no file mentions are not included: their path cannot be
/// recovered from the upper-cased name.
pub async fn resolve_all(strata: &Strata) -> Result<Vec<Entry>, Error> {
    let mut paths: Vec<Path> = Vec::new();
    for doc in [
        strata.secrets_files().document_value(),
        strata.config_files().document_value(),
    ] {
        let mut found: Vec<Vec<String>> = Vec::new();
        doc.for_each_leaf(&mut |segments, _| {
            found.push(segments.iter().map(|s| (*s).to_owned()).collect());
        });
        for segments in found {
            if let Ok(p) = Path::from_segments(segments)
                && !paths.contains(&p)
            {
                paths.push(p);
            }
        }
    }
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let resolved = strata.resolver().get(&path, &Lookup::config()).await?;
        out.push(Entry { path, resolved });
    }
    Ok(out)
}

/// The entries as one table; values from providers that may hold secrets
/// are replaced by [`MASK`] unless `reveal`.
pub fn to_table(entries: &[Entry], reveal: bool) -> Value {
    let mut root = strata_core::MemoryProvider::new("export", true);
    for e in entries {
        let v = if reveal || !e.resolved.from_secret_provider() {
            e.resolved.expose().clone()
        } else {
            Value::from(MASK)
        };
        root.insert(&e.path, v);
    }
    use strata_core::Provider;
    root.document()
        .cloned()
        .unwrap_or(Value::Table(Table::default()))
}

/// The entries as environment variables (SPEC §1 naming); tables are
/// flattened to their leaves, arrays are JSON. With `pipeline`, values under
/// `pipeline.` are also given under their unscoped names, overriding.
pub fn env_pairs(entries: &[Entry], pipeline: Option<&str>, reveal: bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |path: &Path, text: String| {
        let name = env_var_name(path);
        if let Some(slot) = out.iter_mut().find(|(n, _)| *n == name) {
            slot.1 = text;
        } else {
            out.push((name, text));
        }
    };
    let text_of = |e: &Entry| {
        if reveal || !e.resolved.from_secret_provider() {
            e.resolved.expose().to_text()
        } else {
            MASK.to_owned()
        }
    };
    for e in entries {
        push(&e.path, text_of(e));
    }
    if let Some(p) = pipeline {
        for e in entries
            .iter()
            .filter(|e| e.path.len() > 1 && e.path.segments()[0] == p)
        {
            if let Ok(unscoped) = Path::from_segments(e.path.segments()[1..].to_vec()) {
                push(&unscoped, text_of(e));
            }
        }
    }
    out
}

/// Quotes a value for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

trait DocumentValue {
    fn document_value(&self) -> Value;
}

impl DocumentValue for strata_toml::TomlProvider {
    fn document_value(&self) -> Value {
        use strata_core::Provider;
        self.document()
            .cloned()
            .unwrap_or(Value::Table(Table::default()))
    }
}
