//! The TOML file provider of strata (SPEC §5).
//!
//! [`TomlProvider::load`] reads the files of the active profile, most
//! specific first (`.dlt/P.secrets.toml`, its alias `.dlt/secrets.P.toml`,
//! `.dlt/secrets.toml`, then the global directory's), and merges them key by
//! key: a value in an earlier file wins, tables merge. Reading both the
//! canonical file and its alias with a conflicting value is an error naming
//! both files. A file that does not parse is an error naming the file, line
//! and column, never quoting the file's text.
//!
//! [`set_value`] writes one value to the single most specific file of its
//! kind, keeping comments and formatting, and is refused under a read-only
//! profile.
#![warn(missing_docs)]

mod convert;
mod write;

pub use write::{set_value, set_value_in_file};

use async_trait::async_trait;
use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use strata_core::naming::{NamingRule, toml_key_of};
use strata_core::workspace::{Candidate, FileRole};
use strata_core::{
    Answer, Error, ErrorKind, FileKind, Found, Location, Path, Peek, Provenance, Provider, Table,
    Value, ValueRef, Workspace,
};
use zeroize::Zeroize;

/// One file that was read.
#[derive(Debug, Clone)]
struct LoadedFile {
    path: PathBuf,
}

/// The merged documents of one kind of TOML file.
pub struct TomlProvider {
    kind: FileKind,
    name: String,
    doc: Value,
    /// For each path (segments), the file index and line it came from; the
    /// most specific file wins.
    origins: convert::Origins,
    files: Vec<LoadedFile>,
    locations: Vec<Location>,
}

impl TomlProvider {
    /// Reads the files of `kind` for the workspace's active profile.
    pub fn load(workspace: &Workspace, kind: FileKind) -> Result<Self, Error> {
        Self::from_candidates(kind, &workspace.candidates(kind))
    }

    /// Reads the given candidate files (most specific first); missing files
    /// are recorded as probed.
    pub fn from_candidates(kind: FileKind, candidates: &[Candidate]) -> Result<Self, Error> {
        let mut provider = Self::empty(kind);
        let mut parsed: Vec<(usize, FileRole, Value)> = Vec::new();
        for candidate in candidates {
            let Some(text) = read_file(&candidate.path)? else {
                provider.locations.push(Location {
                    location: candidate.path.display().to_string(),
                    present: false,
                });
                continue;
            };
            let index = provider.files.len();
            let result =
                convert::parse_document(&text, &candidate.path, index, &mut provider.origins);
            let mut text = text;
            text.zeroize();
            let doc = result?;
            provider.files.push(LoadedFile {
                path: candidate.path.clone(),
            });
            provider.locations.push(Location {
                location: candidate.path.display().to_string(),
                present: true,
            });
            parsed.push((index, candidate.role, doc));
        }
        check_alias_conflicts(&parsed, &provider.files)?;
        for (_, _, doc) in parsed {
            provider.doc.merge_under(doc);
        }
        Ok(provider)
    }

    /// A provider over one TOML text that is not a file (tests, stdin).
    pub fn from_text(kind: FileKind, label: &str, text: &str) -> Result<Self, Error> {
        let mut provider = Self::empty(kind);
        provider.doc = convert::parse_document(text, FsPath::new(label), 0, &mut provider.origins)?;
        provider.files.push(LoadedFile {
            path: PathBuf::from(label),
        });
        Ok(provider)
    }

    fn empty(kind: FileKind) -> Self {
        Self {
            kind,
            name: kind.file_name().to_owned(),
            doc: Value::Table(Table::default()),
            origins: convert::Origins::default(),
            files: Vec::new(),
            locations: Vec::new(),
        }
    }

    /// The kind of file this provider reads.
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// The files that were read, most specific first.
    pub fn files(&self) -> Vec<&FsPath> {
        self.files.iter().map(|f| f.path.as_path()).collect()
    }

    /// The file and line a path's value came from.
    pub fn origin(&self, path: &Path) -> Option<(&FsPath, u32)> {
        let (index, line) = self.origins.get(&convert::origin_key(path.segments()))?;
        Some((self.files.get(*index)?.path.as_path(), *line))
    }
}

fn read_file(path: &FsPath) -> Result<Option<String>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(Some(text)),
            Err(e) => {
                let mut bytes = e.into_bytes();
                bytes.zeroize();
                Err(Error::new(
                    ErrorKind::Parse,
                    format!(
                        "cannot parse {}: the file is not UTF-8 text",
                        path.display()
                    ),
                )
                .with_file(path))
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if path.is_dir() => Err(Error::new(
            ErrorKind::Io,
            format!("cannot read {}: it is a directory ({e})", path.display()),
        )
        .with_file(path)),
        Err(e) => Err(Error::new(
            ErrorKind::Io,
            format!("cannot read {}: {e}", path.display()),
        )
        .with_file(path)),
    }
}

/// The canonical profile file and its alias may both exist, but may not
/// disagree on any value.
fn check_alias_conflicts(
    parsed: &[(usize, FileRole, Value)],
    files: &[LoadedFile],
) -> Result<(), Error> {
    let canonical = parsed.iter().find(|(_, r, _)| *r == FileRole::Profile);
    let alias = parsed.iter().find(|(_, r, _)| *r == FileRole::ProfileAlias);
    let (Some((ci, _, cdoc)), Some((ai, _, adoc))) = (canonical, alias) else {
        return Ok(());
    };
    let mut conflict: Option<String> = None;
    adoc.for_each_leaf(&mut |segments, value| {
        if conflict.is_some() {
            return;
        }
        // walk the canonical document along the same path
        let mut node = cdoc;
        for (depth, seg) in segments.iter().enumerate() {
            match node.as_table() {
                Some(t) => match t.get(*seg) {
                    Some(next) => node = next,
                    None => return,
                },
                None => {
                    conflict = Some(segments[..depth].join("."));
                    return;
                }
            }
        }
        if node != value {
            conflict = Some(segments.join("."));
        }
    });
    match conflict {
        None => Ok(()),
        Some(at) => Err(Error::new(
            ErrorKind::ConfigInvalid,
            format!(
                "{} and {} both set `{at}` to different values; keep it in one of them",
                files[*ci].path.display(),
                files[*ai].path.display()
            ),
        )
        .with_path(at)
        .with_file(&files[*ci].path)),
    }
}

impl TomlProvider {
    /// The answer for a path, from the merged documents; nothing is
    /// allocated unless the path is held.
    fn answer<S: AsRef<str>>(&self, segments: &[S]) -> Answer {
        let Some(value) = self.doc.get_path(segments) else {
            return Answer::NotFound;
        };
        let (file, line) = match self.origins.get(&convert::origin_key(segments)) {
            Some((index, line)) => (self.files.get(*index).map(|f| f.path.clone()), Some(*line)),
            None => (None, None),
        };
        Answer::Found(Found {
            value: value.clone(),
            provenance: Provenance {
                provider: self.name.clone(),
                name: toml_key_of(segments),
                file,
                line,
            },
        })
    }
}

impl fmt::Debug for TomlProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TomlProvider")
            .field("name", &self.name)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Drop for TomlProvider {
    fn drop(&mut self) {
        self.doc.zeroize();
    }
}

#[async_trait]
impl Provider for TomlProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn may_hold_secrets(&self) -> bool {
        self.kind.may_hold_secrets()
    }

    fn naming(&self) -> NamingRule {
        NamingRule::Toml
    }

    fn get_now(&self, segments: &[&str], _secret: bool) -> Option<Result<Answer, Error>> {
        Some(Ok(self.answer(segments)))
    }

    fn peek(&self, segments: &[&str], _secret: bool) -> Peek<'_> {
        match self.doc.get_path(segments) {
            Some(v) => Peek::Found(ValueRef::Value(v)),
            None => Peek::NotFound,
        }
    }

    async fn get(&self, path: &Path, _secret: bool) -> Result<Answer, Error> {
        Ok(self.answer(path.segments()))
    }

    fn locations(&self) -> Vec<Location> {
        self.locations.clone()
    }

    fn document(&self) -> Option<&Value> {
        Some(&self.doc)
    }
}

#[cfg(test)]
mod tests;
