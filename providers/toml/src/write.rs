//! Format-preserving writes of one value.

use std::path::{Path as FsPath, PathBuf};
use strata_secrets_core::workspace::{FileKind, Workspace};
use strata_secrets_core::{Error, ErrorKind, Path, Value};
use toml_edit::{DocumentMut, Item, TableLike};

/// Writes `value` at `path` into the most specific file of `kind` for the
/// workspace's profile (see [`Workspace::write_target`]); comments and
/// formatting of the rest of the file are kept. Refused under a read-only
/// profile. Returns the file written.
pub fn set_value(
    workspace: &Workspace,
    kind: FileKind,
    path: &Path,
    value: &Value,
) -> Result<PathBuf, Error> {
    let target = workspace.write_target(kind)?;
    set_value_in_file(&target, path, value, kind.may_hold_secrets())?;
    Ok(target)
}

/// Writes `value` at `path` into `file`, creating it (mode 0600 when
/// `private`) and any tables on the way.
pub fn set_value_in_file(
    file: &FsPath,
    path: &Path,
    value: &Value,
    private: bool,
) -> Result<(), Error> {
    strata_secrets_core::fs::ensure_not_symlink(file)?;
    let text = strata_secrets_core::fs::read_text(file)?.unwrap_or_default();
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        // reuse the reader's message (file, line, column, never the text)
        let mut origins = Default::default();
        crate::convert::parse_document(&text, file, 0, &mut origins)
            .err()
            .unwrap_or_else(|| {
                Error::new(
                    ErrorKind::Parse,
                    format!("cannot parse {}: {}", file.display(), e.message()),
                )
            })
    })?;
    let mut node: &mut dyn TableLike = doc.as_table_mut();
    for (depth, segment) in path.sections().iter().enumerate() {
        if node.get(segment).is_none() {
            let mut t = toml_edit::Table::default();
            t.set_implicit(true);
            node.insert(segment, Item::Table(t));
        }
        node = node
            .get_mut(segment)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| {
                let at = path.truncated(depth + 1);
                Error::new(
                    ErrorKind::ConfigInvalid,
                    format!(
                        "cannot write `{path}` in {}: `{at}` holds a value, not a table",
                        file.display()
                    ),
                )
                .with_path(path)
                .with_file(file)
            })?;
    }
    node.insert(path.key(), to_item(value));
    write_atomically(file, doc.to_string().as_bytes(), private)
}

fn to_value(value: &Value) -> toml_edit::Value {
    match value {
        Value::String(s) => toml_edit::Value::from(s.as_str()),
        Value::Integer(i) => toml_edit::Value::from(*i),
        Value::Float(f) => toml_edit::Value::from(*f),
        Value::Boolean(b) => toml_edit::Value::from(*b),
        Value::Datetime(d) => d
            .to_string()
            .parse::<toml_edit::Datetime>()
            .map(toml_edit::Value::from)
            .unwrap_or_else(|_| toml_edit::Value::from(d.to_string())),
        Value::Array(a) => toml_edit::Value::Array(a.iter().map(to_value).collect()),
        Value::Table(t) => {
            let mut inline = toml_edit::InlineTable::default();
            for (k, v) in t {
                inline.insert(k, to_value(v));
            }
            toml_edit::Value::InlineTable(inline)
        }
    }
}

fn to_item(value: &Value) -> Item {
    match value {
        Value::Table(t) => {
            let mut table = toml_edit::Table::default();
            for (k, v) in t {
                table.insert(k, to_item(v));
            }
            Item::Table(table)
        }
        other => Item::Value(to_value(other)),
    }
}

fn write_atomically(file: &FsPath, bytes: &[u8], private: bool) -> Result<(), Error> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(FsPath::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("cannot write {}: {e}", file.display()),
        )
        .with_file(file)
    })?;
    strata_secrets_core::fs::write_atomic(file, bytes, if private { 0o600 } else { 0o644 })
}
