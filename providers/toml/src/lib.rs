//! The TOML file provider of strata ([docs/profiles.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/profiles/index.html)).
//!
//! [`TomlProvider::load`] reads and parses the files of the active profile,
//! most specific first (`.dlt/P.secrets.toml`, its alias `.dlt/secrets.P.toml`,
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
use strata_secrets_core::naming::{NamingRule, toml_key_of};
use strata_secrets_core::workspace::{Candidate, FileRole};
use strata_secrets_core::workspace::{FileKind, Workspace};
use strata_secrets_core::{
    Answer, Detail, Error, ErrorKind, Found, Location, Path, Peek, Provenance, Provider, Query,
    Table, Value, ValueRef,
};
use zeroize::Zeroize;

/// One file that was read.
#[derive(Debug, Clone)]
struct LoadedFile {
    path: PathBuf,
    role: FileRole,
}

/// The files' documents, merged.
struct Doc {
    doc: Value,
    /// For each path (segments), the file index and line it came from; the
    /// most specific file wins.
    origins: convert::Origins,
}

impl Drop for Doc {
    fn drop(&mut self) {
        self.doc.zeroize();
    }
}

/// The merged documents of one kind of TOML file, parsed when the provider
/// is made (as dlt loads every file before the first lookup): a file that
/// does not parse is an error of [`TomlProvider::load`], so every command
/// reports it, whatever it looks up.
pub struct TomlProvider {
    kind: FileKind,
    name: String,
    files: Vec<LoadedFile>,
    locations: Vec<Location>,
    merged: Doc,
}

impl TomlProvider {
    /// Reads and parses the files of `kind` for the workspace's active
    /// profile.
    pub fn load(workspace: &Workspace, kind: FileKind) -> Result<Self, Error> {
        Self::from_candidates(kind, &workspace.candidates(kind))
    }

    /// Reads and parses the given candidate files (most specific first);
    /// missing files are recorded as probed. Only regular files are read
    /// (see [`strata_secrets_core::fs::read_text`]).
    pub fn from_candidates(kind: FileKind, candidates: &[Candidate]) -> Result<Self, Error> {
        let mut files = Vec::new();
        let mut texts = Vec::new();
        let mut locations = Vec::new();
        for candidate in candidates {
            let text = strata_secrets_core::fs::read_text(&candidate.path)?;
            locations.push(Location {
                location: candidate.path.display().to_string(),
                present: text.is_some(),
            });
            if let Some(text) = text {
                files.push(LoadedFile {
                    path: candidate.path.clone(),
                    role: candidate.role,
                });
                texts.push(text);
            }
        }
        Self::parsed(kind, files, locations, texts)
    }

    /// A provider over one TOML text that is not a file (tests, stdin).
    pub fn from_text(kind: FileKind, label: &str, text: &str) -> Result<Self, Error> {
        let files = vec![LoadedFile {
            path: PathBuf::from(label),
            role: FileRole::Base,
        }];
        Self::parsed(kind, files, Vec::new(), vec![text.to_owned()])
    }

    fn parsed(
        kind: FileKind,
        files: Vec<LoadedFile>,
        locations: Vec<Location>,
        mut texts: Vec<String>,
    ) -> Result<Self, Error> {
        let merged = parse_files(&files, &texts);
        for t in &mut texts {
            t.zeroize();
        }
        Ok(Self {
            kind,
            name: kind.file_name().to_owned(),
            files,
            locations,
            merged: merged?,
        })
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
    pub fn defined_at(&self, path: &Path) -> Option<(&FsPath, u32)> {
        self.origin_of(path.segments())
    }

    fn origin_of<S: AsRef<str>>(&self, segments: &[S]) -> Option<(&FsPath, u32)> {
        let (index, line) = self.merged.origins.get(&convert::origin_key(segments))?;
        Some((self.files.get(*index)?.path.as_path(), *line))
    }

    /// The answer for a path, from the merged documents; nothing is
    /// allocated unless the path is held.
    fn answer<S: AsRef<str>>(&self, segments: &[S]) -> Answer {
        let Some(value) = self.merged.doc.get_path(segments) else {
            return Answer::NotFound;
        };
        let (file, line) = match self.origin_of(segments) {
            Some((file, line)) => (Some(file.to_path_buf()), Some(line)),
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

/// Parses each file and merges them, most specific first.
fn parse_files(files: &[LoadedFile], texts: &[String]) -> Result<Doc, Error> {
    let mut origins = convert::Origins::default();
    let mut parsed: Vec<(FileRole, Value)> = Vec::with_capacity(files.len());
    for (index, (file, text)) in files.iter().zip(texts).enumerate() {
        let doc = convert::parse_document(text, &file.path, index, &mut origins)?;
        parsed.push((file.role, doc));
    }
    let find = |role| parsed.iter().position(|(r, _)| *r == role);
    if let (Some(c), Some(a)) = (find(FileRole::Profile), find(FileRole::ProfileAlias)) {
        check_alias_conflicts(
            (&parsed[c].1, &files[c].path),
            (&parsed[a].1, &files[a].path),
        )?;
    }
    let mut doc = Value::Table(Table::default());
    for (_, d) in parsed {
        doc.merge_under(d);
    }
    Ok(Doc { doc, origins })
}

/// The canonical profile file and its alias may both exist, but may not
/// disagree on any value.
fn check_alias_conflicts(
    (cdoc, cpath): (&Value, &PathBuf),
    (adoc, apath): (&Value, &PathBuf),
) -> Result<(), Error> {
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
                cpath.display(),
                apath.display()
            ),
        )
        .with_path(at)
        .with_file(cpath)),
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

    fn peek(&self, segments: &[&str], _secret: bool) -> Peek<'_> {
        match self.merged.doc.get_path(segments) {
            Some(value) => Peek::Found(ValueRef::Value(value)),
            None => Peek::NotFound,
        }
    }

    fn origin(&self, segments: &[&str]) -> Option<(PathBuf, Option<u32>)> {
        self.origin_of(segments)
            .map(|(file, line)| (file.to_path_buf(), Some(line)))
    }

    async fn lookup(&self, query: &Query<'_>, _: &mut Vec<Detail>) -> Result<Answer, Error> {
        Ok(self.answer(query.full_path()?.segments()))
    }

    fn locations(&self) -> Vec<Location> {
        self.locations.clone()
    }

    fn document(&self) -> Option<&Value> {
        Some(&self.merged.doc)
    }
}

#[cfg(test)]
mod tests;
