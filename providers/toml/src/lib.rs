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
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
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
    role: FileRole,
}

/// A parsed document, or why it could not be.
type Parsed = Result<Doc, Failure>;

/// A parsed document: one file's, or the files' merged.
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

/// A parse error or alias conflict, kept to be reported by every lookup
/// that needs the documents ([`Error`] is not `Clone`).
struct Failure {
    kind: ErrorKind,
    message: String,
    path: Option<String>,
    file: Option<PathBuf>,
}

impl Failure {
    fn of(e: &Error) -> Self {
        Self {
            kind: e.kind(),
            message: e.message().to_owned(),
            path: e.path().map(str::to_owned),
            file: e.file().map(FsPath::to_path_buf),
        }
    }

    fn error(&self) -> Error {
        let mut e = Error::new(self.kind, self.message.clone());
        if let Some(p) = &self.path {
            e = e.with_path(p);
        }
        if let Some(f) = &self.file {
            e = e.with_file(f);
        }
        e
    }
}

/// After this many lookups answered file by file, the files are parsed and
/// merged: a long-lived program then pays for the parse once, not for a
/// scan of the texts at every lookup.
const FILE_BY_FILE_LOOKUPS: u32 = 16;

/// The merged documents of one kind of TOML file.
pub struct TomlProvider {
    kind: FileKind,
    name: String,
    files: Vec<LoadedFile>,
    locations: Vec<Location>,
    /// The files' texts while they may still be parsed (empty once parsed
    /// at open); wiped on drop.
    texts: Vec<String>,
    /// Each file's own document, parsed at the first lookup that needs it
    /// (on demand only).
    each: Vec<OnceLock<Parsed>>,
    /// The profile file and its alias agree (on demand only).
    aliases_agree: OnceLock<Result<(), Failure>>,
    merged: OnceLock<Parsed>,
    file_by_file_lookups: AtomicU32,
}

/// A node found for a path, and the document it was read from (whose
/// origins say where it was defined).
enum Node<'a> {
    Found { value: &'a Value, from: &'a Doc },
    NotFound,
}

impl TomlProvider {
    /// Reads and parses the files of `kind` for the workspace's active
    /// profile.
    pub fn load(workspace: &Workspace, kind: FileKind) -> Result<Self, Error> {
        Self::from_candidates(kind, &workspace.candidates(kind))
    }

    /// Reads the files of `kind` for the workspace's active profile, and
    /// parses each at the first lookup that needs it: a lookup reads the
    /// files in order and stops at the first that settles the answer, and a
    /// file whose text does not spell every name of a path (nor has an
    /// escape, `\`, which a quoted key may use) cannot hold it and is not
    /// parsed for it. Answers are those of [`TomlProvider::load`]; a file
    /// that does not parse, or a profile file that conflicts with its alias,
    /// is reported by the lookups that read it. After a few lookups, or
    /// when the whole document is asked for, every file is parsed.
    pub fn load_on_demand(workspace: &Workspace, kind: FileKind) -> Result<Self, Error> {
        Self::from_candidates_on_demand(kind, &workspace.candidates(kind))
    }

    /// Reads the given candidate files (most specific first) and parses
    /// each on demand, as [`TomlProvider::load_on_demand`] does.
    pub fn from_candidates_on_demand(
        kind: FileKind,
        candidates: &[Candidate],
    ) -> Result<Self, Error> {
        let mut provider = Self::read_candidates(kind, candidates)?;
        provider.each = provider.files.iter().map(|_| OnceLock::new()).collect();
        Ok(provider)
    }

    /// Reads and parses the given candidate files (most specific first);
    /// missing files are recorded as probed.
    pub fn from_candidates(kind: FileKind, candidates: &[Candidate]) -> Result<Self, Error> {
        let mut provider = Self::read_candidates(kind, candidates)?;
        provider.merged()?;
        provider.wipe_texts();
        Ok(provider)
    }

    /// Reads the given candidate files without parsing them.
    fn read_candidates(kind: FileKind, candidates: &[Candidate]) -> Result<Self, Error> {
        let mut provider = Self::empty(kind);
        for candidate in candidates {
            let Some(text) = read_file(&candidate.path)? else {
                provider.locations.push(Location {
                    location: candidate.path.display().to_string(),
                    present: false,
                });
                continue;
            };
            provider.files.push(LoadedFile {
                path: candidate.path.clone(),
                role: candidate.role,
            });
            provider.texts.push(text);
            provider.locations.push(Location {
                location: candidate.path.display().to_string(),
                present: true,
            });
        }
        Ok(provider)
    }

    /// A provider over one TOML text that is not a file (tests, stdin).
    pub fn from_text(kind: FileKind, label: &str, text: &str) -> Result<Self, Error> {
        let mut provider = Self::empty(kind);
        provider.files.push(LoadedFile {
            path: PathBuf::from(label),
            role: FileRole::Base,
        });
        provider.texts.push(text.to_owned());
        provider.merged()?;
        provider.wipe_texts();
        Ok(provider)
    }

    fn empty(kind: FileKind) -> Self {
        Self {
            kind,
            name: kind.file_name().to_owned(),
            files: Vec::new(),
            locations: Vec::new(),
            texts: Vec::new(),
            each: Vec::new(),
            aliases_agree: OnceLock::new(),
            merged: OnceLock::new(),
            file_by_file_lookups: AtomicU32::new(0),
        }
    }

    fn wipe_texts(&mut self) {
        for t in &mut self.texts {
            t.zeroize();
        }
        self.texts = Vec::new();
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
        let merged = self.merged().ok()?;
        let (index, line) = merged.origins.get(&convert::origin_key(path.segments()))?;
        Some((self.files.get(*index)?.path.as_path(), *line))
    }

    /// Parses every file (once) and checks them: the error of a file that
    /// does not parse, or of conflicting profile files.
    pub fn parse(&self) -> Result<(), Error> {
        self.merged().map(|_| ())
    }

    fn merged(&self) -> Result<&Doc, Error> {
        self.merged
            .get_or_init(|| parse_files(&self.files, &self.texts).map_err(|e| Failure::of(&e)))
            .as_ref()
            .map_err(Failure::error)
    }

    /// The node at `segments`: from the merged documents once they exist,
    /// else file by file.
    #[inline]
    fn node<S: AsRef<str>>(&self, segments: &[S]) -> Result<Node<'_>, Error> {
        // the common case once parsed: one lookup in the merged documents
        if let Some(Ok(merged)) = self.merged.get() {
            return Ok(match merged.doc.get_path(segments) {
                Some(value) => Node::Found {
                    value,
                    from: merged,
                },
                None => Node::NotFound,
            });
        }
        self.node_slow(segments)
    }

    #[inline(never)]
    fn node_slow<S: AsRef<str>>(&self, segments: &[S]) -> Result<Node<'_>, Error> {
        let merged = match self.merged.get() {
            Some(m) => Some(m),
            None if segments.is_empty()
                || self.file_by_file_lookups.fetch_add(1, Ordering::Relaxed)
                    >= FILE_BY_FILE_LOOKUPS =>
            {
                None
            }
            None => match self.node_file_by_file(segments)? {
                Some(node) => return Ok(node),
                None => None,
            },
        };
        let merged = match merged {
            Some(m) => m.as_ref().map_err(Failure::error)?,
            None => self.merged()?,
        };
        Ok(match merged.doc.get_path(segments) {
            Some(value) => Node::Found {
                value,
                from: merged,
            },
            None => Node::NotFound,
        })
    }

    /// The merged documents' node at `segments`, reading as few files as
    /// it can: the node at each prefix of the path is the one of the first
    /// file that has one there (later files merge only under a table).
    /// `None` when the answer is a table, which needs every file.
    fn node_file_by_file<S: AsRef<str>>(&self, segments: &[S]) -> Result<Option<Node<'_>>, Error> {
        // how many leading names of the path each file's text can hold
        let reach: Vec<usize> = self
            .texts
            .iter()
            .map(|text| spelled_prefix(text, segments))
            .collect();
        for depth in 1..=segments.len() {
            let mut first = None;
            for (index, &reach) in reach.iter().enumerate() {
                if reach < depth {
                    continue;
                }
                let doc = self.file_doc(index)?;
                if let Some(value) = doc.doc.get_path(&segments[..depth]) {
                    first = Some((doc, value));
                    break;
                }
            }
            let Some((doc, value)) = first else {
                return Ok(Some(Node::NotFound));
            };
            let is_table = value.as_table().is_some();
            if depth < segments.len() {
                if !is_table {
                    return Ok(Some(Node::NotFound));
                }
                continue;
            }
            if is_table {
                return Ok(None);
            }
            return Ok(Some(Node::Found { value, from: doc }));
        }
        Ok(None)
    }

    /// One file's own document, parsed once; a profile file and its alias
    /// are checked against each other when either is read.
    fn file_doc(&self, index: usize) -> Result<&Doc, Error> {
        let doc = self.parse_one(index)?;
        if matches!(
            self.files[index].role,
            FileRole::Profile | FileRole::ProfileAlias
        ) {
            self.aliases_agree
                .get_or_init(|| self.check_aliases().map_err(|e| Failure::of(&e)))
                .as_ref()
                .map_err(Failure::error)?;
        }
        Ok(doc)
    }

    fn parse_one(&self, index: usize) -> Result<&Doc, Error> {
        let (Some(cell), Some(file), Some(text)) = (
            self.each.get(index),
            self.files.get(index),
            self.texts.get(index),
        ) else {
            return self.merged();
        };
        cell.get_or_init(|| {
            let mut origins = convert::Origins::default();
            convert::parse_document(text, &file.path, index, &mut origins)
                .map(|doc| Doc { doc, origins })
                .map_err(|e| Failure::of(&e))
        })
        .as_ref()
        .map_err(Failure::error)
    }

    fn check_aliases(&self) -> Result<(), Error> {
        let find = |role| self.files.iter().position(|f| f.role == role);
        let (Some(c), Some(a)) = (find(FileRole::Profile), find(FileRole::ProfileAlias)) else {
            return Ok(());
        };
        let canonical = &self.parse_one(c)?.doc;
        let alias = &self.parse_one(a)?.doc;
        check_alias_conflicts(
            (canonical, &self.files[c].path),
            (alias, &self.files[a].path),
        )
    }
}

/// How many leading names of a path `text` spells (all of them when it has
/// an escape). A file can hold a key only if its text spells it, unless a
/// quoted key uses an escape.
fn spelled_prefix<S: AsRef<str>>(text: &str, segments: &[S]) -> usize {
    if memchr::memchr(b'\\', text.as_bytes()).is_some() {
        return segments.len();
    }
    segments
        .iter()
        .take_while(|s| memchr::memmem::find(text.as_bytes(), s.as_ref().as_bytes()).is_some())
        .count()
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

impl TomlProvider {
    /// The answer for a path, from the merged documents; nothing is
    /// allocated unless the path is held.
    fn answer<S: AsRef<str>>(&self, segments: &[S]) -> Result<Answer, Error> {
        let Node::Found { value, from } = self.node(segments)? else {
            return Ok(Answer::NotFound);
        };
        let (file, line) = match from.origins.get(&convert::origin_key(segments)) {
            Some(&(index, line)) => (self.files.get(index).map(|f| f.path.clone()), Some(line)),
            None => (None, None),
        };
        Ok(Answer::Found(Found {
            value: value.clone(),
            provenance: Provenance {
                provider: self.name.clone(),
                name: toml_key_of(segments),
                file,
                line,
            },
        }))
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
        self.wipe_texts();
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
        Some(self.answer(segments))
    }

    fn peek(&self, segments: &[&str], _secret: bool) -> Peek<'_> {
        match self.node(segments) {
            Ok(Node::Found { value, .. }) => Peek::Found(ValueRef::Value(value)),
            Ok(Node::NotFound) => Peek::NotFound,
            Err(_) => Peek::Unknown,
        }
    }

    async fn get(&self, path: &Path, _secret: bool) -> Result<Answer, Error> {
        self.answer(path.segments())
    }

    fn locations(&self) -> Vec<Location> {
        self.locations.clone()
    }

    /// The merged documents (parsed now if they were not yet); `None` when
    /// a file does not parse: [`TomlProvider::parse`] says why.
    fn document(&self) -> Option<&Value> {
        self.merged().ok().map(|m| &m.doc)
    }
}

#[cfg(test)]
mod tests;
