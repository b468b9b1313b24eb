//! The resolved document, for `export`, `exec` and `get` of a table: every
//! key the profile's TOML files and the enabled vaults' documents hold, each
//! answered exactly as `get` answers it (environment variables and
//! `/run/secrets` files override, a vault's document answers), so every
//! command hands on the same values.

use crate::Strata;
use indexmap::IndexMap;
use std::path::PathBuf;
use strata_secrets_core::naming::{env_var_name, toml_key};
use strata_secrets_core::{Error, ErrorKind, Lookup, Path, Provider, Resolved, Table, Value};

/// The text that replaces a masked value.
pub const MASK: &str = "***";

/// The settings table of the vault bootstrap, left out unless asked for.
pub const BOOTSTRAP_SECTION: &str = "providers";

/// One resolved key.
#[derive(Debug)]
pub struct Entry {
    /// The path, as the document spells it.
    pub path: Path,
    /// Looked up as a secret (a key of a secrets file or a vault document)
    /// or as configuration (a key of a `config.toml` only).
    pub secret: bool,
    /// Where the key is written: a file and its line, or a vault.
    pub origin: String,
    /// What the chain gives for it.
    pub resolved: Resolved,
}

/// The resolved document and the warnings its lookups met.
#[derive(Debug, Default)]
pub struct Document {
    /// Every key, in document order (secrets files, vault documents, then
    /// configuration files).
    pub entries: Vec<Entry>,
    /// Warnings of the lookups (a denied vault secret), each once.
    pub warnings: Vec<String>,
}

/// What goes in the document.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Also the `[providers]` bootstrap settings (vault credentials).
    pub with_bootstrap: bool,
    /// Also the pipeline's own vault document (`<pipeline>.dlt_secrets_toml`).
    pub pipeline: Option<String>,
}

/// Every leaf path of `doc`, with its segments.
fn leaves(doc: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    doc.for_each_leaf(&mut |segments, _| {
        out.push(segments.iter().map(|s| (*s).to_owned()).collect());
    });
    out
}

/// Resolves every key of the profile's files and enabled vaults' documents.
pub async fn resolve_document(strata: &Strata, scope: &Scope) -> Result<Document, Error> {
    // the keys, each once, in order: (path, secret, origin)
    let mut keys: IndexMap<Path, (bool, String)> = IndexMap::new();
    let mut add = |segments: Vec<String>, secret: bool, origin: String| -> Result<(), Error> {
        if !scope.with_bootstrap && segments.first().map(String::as_str) == Some(BOOTSTRAP_SECTION)
        {
            return Ok(());
        }
        let path = Path::from_segments(segments)?;
        let entry = keys.entry(path).or_insert((secret, origin));
        entry.0 |= secret;
        Ok(())
    };
    let files = [strata.secrets_files(), strata.config_files()];
    for (i, file) in files.iter().enumerate() {
        let Some(doc) = file.document() else {
            continue;
        };
        for segments in leaves(doc) {
            let path = Path::from_segments(segments.clone())?;
            let origin = match file.defined_at(&path) {
                Some((f, line)) => format!("{}:{line}", f.display()),
                None => file.name().to_owned(),
            };
            add(segments, i == 0, origin)?;
        }
        if i == 0 {
            // the vaults' documents come after the secrets files
            for vault in strata.vaults() {
                let paths = vault
                    .provider
                    .document_paths(scope.pipeline.as_deref())
                    .await?;
                let origin = vault.provider.backend().location();
                for path in paths {
                    add(path.segments().to_vec(), true, origin.clone())?;
                }
            }
        }
    }
    let mut doc = Document::default();
    for (path, (secret, origin)) in keys {
        let lookup = Lookup {
            secret,
            pipeline: None,
        };
        let resolved = strata.resolver().get(&path, &lookup).await?;
        for w in &resolved.trace().warnings {
            if !doc.warnings.contains(w) {
                doc.warnings.push(w.clone());
            }
        }
        doc.entries.push(Entry {
            path,
            secret,
            origin,
            resolved,
        });
    }
    Ok(doc)
}

/// The value of a table `resolved` at `path`, each of its leaves answered
/// as `get` answers that leaf's own path (an environment variable or a
/// `/run/secrets` file of one field overrides the table's), and the
/// warnings met.
pub async fn resolve_table(
    strata: &Strata,
    path: &Path,
    lookup: &Lookup,
    resolved: &Resolved,
) -> Result<(Value, Vec<String>), Error> {
    let mut value = resolved.expose().clone();
    let mut warnings = Vec::new();
    for segments in leaves(resolved.expose()) {
        let mut full = path.segments().to_vec();
        full.extend(segments.iter().cloned());
        let Ok(leaf) = Path::from_segments(full) else {
            continue;
        };
        let answer = strata.resolver().get(&leaf, lookup).await?;
        for w in &answer.trace().warnings {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
        set_at(&mut value, &segments, answer.expose().clone());
    }
    Ok((value, warnings))
}

fn set_at(doc: &mut Value, segments: &[String], leaf: Value) {
    let Some((key, sections)) = segments.split_last() else {
        return;
    };
    let mut node = doc;
    for s in sections {
        let Some(next) = node.as_table_mut().and_then(|t| t.get_mut(s)) else {
            return;
        };
        node = next;
    }
    if let Some(t) = node.as_table_mut() {
        t.insert(key.clone(), leaf);
    }
}

/// The entries as one table; values from providers that may hold secrets
/// are replaced by [`MASK`] unless `reveal`.
pub fn to_table(doc: &Document, reveal: bool) -> Value {
    let mut root = Value::Table(Table::default());
    for e in &doc.entries {
        let v = if reveal || !e.resolved.from_secret_provider() {
            e.resolved.expose().clone()
        } else {
            Value::from(MASK)
        };
        let segments: Vec<String> = e.path.segments().to_vec();
        insert_at(&mut root, &segments, v);
    }
    root
}

fn insert_at(doc: &mut Value, segments: &[String], leaf: Value) {
    let Some((key, sections)) = segments.split_last() else {
        return;
    };
    let mut node = doc;
    for s in sections {
        let Some(t) = node.as_table_mut() else {
            return;
        };
        node = t
            .entry(s.clone())
            .or_insert_with(|| Value::Table(Table::default()));
    }
    if let Some(t) = node.as_table_mut() {
        t.insert(key.clone(), leaf);
    }
}

/// Environment variables a value from a file may not set: they change how
/// the command itself runs (its programs, libraries, shell start-up).
const PROTECTED_VARIABLES: &[&str] = &[
    "PATH",
    "HOME",
    "SHELL",
    "IFS",
    "ENV",
    "BASH_ENV",
    "PS4",
    "PROMPT_COMMAND",
    "CDPATH",
    "TMPDIR",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "NODE_OPTIONS",
    "PERL5LIB",
    "PERL5OPT",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
];

/// Prefixes of variables a value from a file may not set (the dynamic
/// loader's).
const PROTECTED_PREFIXES: &[&str] = &["LD_", "DYLD_"];

/// Whether `name` is a portable environment variable name:
/// `[A-Z_][A-Z0-9_]*`.
pub fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'A'..=b'Z' | b'_'))
        && bytes.all(|b| matches!(b, b'A'..=b'Z' | b'0'..=b'9' | b'_'))
}

fn refused(e: &Entry, why: &str) -> Error {
    Error::new(
        ErrorKind::ConfigInvalid,
        format!("the key `{}` ({}) {why}", toml_key(&e.path), e.origin),
    )
    .with_path(&e.path)
}

/// The entries as environment variables (docs/naming.md naming); tables are
/// their JSON text. With `pipeline`, values under `pipeline.` are also given
/// under their unscoped names, overriding. Refused, naming the key and
/// where it is written (docs/security.md): a key whose variable name is not
/// `[A-Z_][A-Z0-9_]*`, a variable that would change how the command runs
/// (`PATH`, `LD_PRELOAD`, ...), and a value holding a NUL.
pub fn env_pairs(
    doc: &Document,
    pipeline: Option<&str>,
    reveal: bool,
) -> Result<IndexMap<String, String>, Error> {
    let mut out: IndexMap<String, String> = IndexMap::with_capacity(doc.entries.len());
    let mut put = |path: &Path, e: &Entry| -> Result<(), Error> {
        let name = env_var_name(path);
        if !is_env_name(&name) {
            return Err(refused(
                e,
                &format!(
                    "has no portable environment variable name (it would be `{}`; names are [A-Z_][A-Z0-9_]*): rename the key, or read it with `strata get`",
                    name.escape_debug()
                ),
            ));
        }
        if PROTECTED_VARIABLES.contains(&name.as_str())
            || PROTECTED_PREFIXES.iter().any(|p| name.starts_with(p))
        {
            return Err(refused(
                e,
                &format!("would set {name}, which changes how the command runs: rename the key"),
            ));
        }
        let text = if reveal || !e.resolved.from_secret_provider() {
            e.resolved.expose().to_text()
        } else {
            MASK.to_owned()
        };
        if text.contains('\0') {
            return Err(refused(
                e,
                "holds a NUL character, which no environment variable can carry",
            ));
        }
        out.insert(name, text);
        Ok(())
    };
    for e in &doc.entries {
        put(&e.path, e)?;
    }
    if let Some(p) = pipeline {
        for e in doc
            .entries
            .iter()
            .filter(|e| e.path.len() > 1 && e.path.segments()[0] == p)
        {
            if let Ok(unscoped) = Path::from_segments(e.path.segments()[1..].to_vec()) {
                put(&unscoped, e)?;
            }
        }
    }
    Ok(out)
}

/// Quotes a value for a POSIX shell: single quotes, with `'` written as
/// `'\''`. Everything else, newlines included, is literal inside.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The files and vaults the document was read from, for messages.
pub fn sources(strata: &Strata) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = strata
        .secrets_files()
        .files()
        .into_iter()
        .map(|f| f.to_path_buf())
        .collect();
    out.extend(
        strata
            .config_files()
            .files()
            .into_iter()
            .map(|f| f.to_path_buf()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        for ok in ["A", "_", "A_B2", "SOURCES__P__API_KEY"] {
            assert!(is_env_name(ok), "{ok}");
        }
        for bad in [
            "",
            "1A",
            "a",
            "A-B",
            "A=B",
            "X$(id)",
            "SCHLÜSSEL",
            "A B",
            "A\0",
        ] {
            assert!(!is_env_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn shell_quoting_survives_every_byte() {
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$(id)`x`\n\\"), "'$(id)`x`\n\\'");
    }
}
