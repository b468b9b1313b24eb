//! `strata exec --files`: values that do not fit a variable (tables,
//! multi-line secrets, long values) handed to the child as files, mode 600,
//! each named by a `<VAR>_FILE` variable; a credentials table that is a
//! vault vendor's key file (a backend's [`KeyFile`]) also with the variable
//! its client libraries read ([docs/runtime.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/runtime/index.html)).
//!
//! The files are strata's own: created new (never over a file strata did
//! not write, never through a link), replaced by rename when a watched
//! value changes, removed when the child is done.

use crate::document::{MAX_VARIABLE_LEN, Variable, Variables};
use indexmap::IndexMap;
use serde_json::{Map, Value as Json};
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path as FsPath, PathBuf};
use strata_secrets::backends::BACKENDS;
use strata_secrets::naming::toml_key;
use strata_secrets::vault::KeyFile;
use strata_secrets::{Error, ErrorKind, Path, Value};
use zeroize::Zeroize;

/// The section name dlt gives a credentials table.
const CREDENTIALS: &str = "credentials";

/// One file to hand on: its name in the directory and its content.
pub(crate) struct FileValue {
    /// The file name (the variable's name, `.json` for a table).
    pub name: String,
    /// What goes in it.
    pub content: String,
    /// The variable a vendor's libraries read its path from, when it is
    /// that vendor's key file (a backend's [`KeyFile`]).
    pub key_variable: Option<&'static str>,
}

impl Drop for FileValue {
    fn drop(&mut self) {
        self.content.zeroize();
    }
}

/// What the child gets: variables as they are, and files by variable.
#[derive(Default)]
pub(crate) struct Split {
    /// Name and text of each variable the child gets as it is.
    pub vars: Vec<(String, String)>,
    /// `<VAR>_FILE` and the file it names.
    pub files: Vec<(String, FileValue)>,
}

/// The credentials table a variable's key belongs to: its path up to and
/// including the first `credentials` section below the top.
fn credentials_table(path: &Path) -> Option<Path> {
    let segments = path.segments();
    let at = segments
        .iter()
        .enumerate()
        .skip(1)
        .find(|(i, s)| s.as_str() == CREDENTIALS && *i + 1 < segments.len())?
        .0;
    Path::from_segments(segments[..=at].to_vec()).ok()
}

/// The key file of a backend compiled in that `table` is, if any: it
/// holds each of the key file's fields as text.
fn key_file_of(table: &Map<String, Json>) -> Option<KeyFile> {
    BACKENDS.iter().filter_map(|d| d.key_file).find(|k| {
        k.fields
            .iter()
            .all(|f| table.get(*f).is_some_and(Json::is_string))
    })
}

fn insert_leaf(table: &mut Map<String, Json>, segments: &[String], value: Json) {
    match segments {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let child = table
                .entry(first.clone())
                .or_insert_with(|| Json::Object(Map::new()));
            if !child.is_object() {
                *child = Json::Object(Map::new());
            }
            if let Json::Object(child) = child {
                insert_leaf(child, rest, value);
            }
        }
    }
}

/// Splits `vars` between variables and files: each credentials table with
/// a secret in it becomes one JSON file; a secret holding a line break, a
/// table value, and any value too long for a variable become a file of
/// their own. Names that would collide are an error naming both keys.
pub(crate) fn split(vars: &Variables<'_>) -> Result<Split, Error> {
    let mut out = Split::default();
    // credentials tables with a secret: table path -> its leaves
    let mut tables: IndexMap<Path, Vec<&Variable<'_>>> = IndexMap::new();
    for v in vars.vars.values() {
        if let Some(table) = credentials_table(&v.path) {
            tables.entry(table).or_default().push(v);
        }
    }
    tables.retain(|_, leaves| leaves.iter().any(|v| v.entry.secret));
    let mut in_table: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (table, leaves) in &tables {
        for (name, v) in &vars.vars {
            if leaves.iter().any(|l| std::ptr::eq(*l, v)) {
                in_table.insert(name.as_str());
            }
        }
        let var = strata_secrets::naming::env_var_name(table);
        let file = table_file(table, leaves, &var);
        out.files.push((file_variable(vars, &var, table)?, file));
    }
    for (name, v) in &vars.vars {
        if in_table.contains(name.as_str()) {
            continue;
        }
        let too_long = name.len() + v.text.len() + 2 > MAX_VARIABLE_LEN;
        let multi_line = v.entry.secret && v.text.contains('\n');
        let table = matches!(v.entry.expose(), Value::Table(_));
        if too_long || multi_line || table {
            let file = FileValue {
                name: if table {
                    format!("{name}.json")
                } else {
                    name.clone()
                },
                content: v.text.clone(),
                key_variable: None,
            };
            out.files.push((file_variable(vars, name, &v.path)?, file));
        } else {
            out.vars.push((name.clone(), v.text.clone()));
        }
    }
    Ok(out)
}

/// The credentials table at `table` as one JSON file named for `var` (a
/// Google service account's key completed with what its files hold).
fn table_file(table: &Path, leaves: &[&Variable<'_>], var: &str) -> FileValue {
    let mut json = Map::new();
    for v in leaves {
        insert_leaf(
            &mut json,
            &v.path.segments()[table.len()..],
            v.entry.expose().to_json(),
        );
    }
    let key_file = key_file_of(&json);
    for (k, v) in key_file.map(|k| k.defaults).unwrap_or_default() {
        json.entry(*k)
            .or_insert_with(|| Json::String((*v).to_owned()));
    }
    FileValue {
        name: format!("{var}.json"),
        content: Json::Object(json).to_string(),
        key_variable: key_file.map(|k| k.variable),
    }
}

/// `<var>_FILE`, the variable that names the file of `path`; an error when
/// a key of the document makes that variable already.
fn file_variable(vars: &Variables<'_>, var: &str, path: &Path) -> Result<String, Error> {
    let name = format!("{var}_FILE");
    if let Some(v) = vars.vars.get(&name) {
        return Err(Error::new(
            ErrorKind::ConfigInvalid,
            format!(
                "`--files` would set {name} for `{}`, but the key `{}` ({}) makes that variable: rename it",
                toml_key(path),
                toml_key(&v.path),
                v.entry.origin
            ),
        )
        .with_path(&v.path));
    }
    Ok(name)
}

/// The directory of the files and the files strata wrote in it; dropping
/// it removes them (and the directory, when strata made it).
pub(crate) struct FileSet {
    dir: PathBuf,
    /// The directory is strata's own (made for this run).
    own_dir: Option<tempfile::TempDir>,
    made_dir: bool,
    written: Vec<PathBuf>,
}

impl std::fmt::Debug for FileSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSet")
            .field("dir", &self.dir)
            .field("files", &self.written.len())
            .finish()
    }
}

fn io_error(what: &str, path: &FsPath, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Other,
        format!("cannot {what} {}: {e}", path.display()),
    )
}

/// The directory for files when `--files` names none: a private one under
/// the user's runtime directory (`XDG_RUNTIME_DIR`), or the temporary
/// directory.
fn runtime_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute() && d.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

impl FileSet {
    /// Where the files go: `dir` (made, mode 700, when it does not exist;
    /// never through a link), or a new private directory.
    pub(crate) fn open(dir: Option<&FsPath>) -> Result<FileSet, Error> {
        let Some(dir) = dir.filter(|d| !d.as_os_str().is_empty()) else {
            let parent = runtime_dir();
            let mut builder = tempfile::Builder::new();
            builder.prefix("strata-exec-");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(fs::Permissions::from_mode(0o700));
            }
            let own = builder
                .tempdir_in(&parent)
                .map_err(|e| io_error("make a private directory in", &parent, &e))?;
            return Ok(FileSet {
                dir: own.path().to_path_buf(),
                own_dir: Some(own),
                made_dir: false,
                written: Vec::new(),
            });
        };
        let dir = std::path::absolute(dir).map_err(|e| io_error("find", dir, &e))?;
        let made_dir = match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(Error::new(
                    ErrorKind::ConfigInvalid,
                    format!(
                        "`--files {}` is a link: name the directory itself",
                        dir.display()
                    ),
                ));
            }
            Ok(meta) if meta.is_dir() => false,
            Ok(_) => {
                return Err(Error::new(
                    ErrorKind::ConfigInvalid,
                    format!("`--files {}` is not a directory", dir.display()),
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut builder = fs::DirBuilder::new();
                #[cfg(unix)]
                {
                    use std::os::unix::fs::DirBuilderExt;
                    builder.mode(0o700);
                }
                builder
                    .create(&dir)
                    .map_err(|e| io_error("make the directory", &dir, &e))?;
                true
            }
            Err(e) => return Err(io_error("read", &dir, &e)),
        };
        Ok(FileSet {
            dir,
            own_dir: None,
            made_dir,
            written: Vec::new(),
        })
    }

    /// Writes the files of `split` (again, when values changed), and says
    /// the variables that point at them.
    pub(crate) fn write(&mut self, split: &Split) -> Result<Vec<(String, String)>, Error> {
        let mut vars = Vec::new();
        // each key file's variable -> the files that are such a key
        let mut keys: IndexMap<&'static str, Vec<PathBuf>> = IndexMap::new();
        for (var, file) in &split.files {
            let path = self.dir.join(&file.name);
            self.put(&path, file.content.as_bytes())?;
            vars.push((var.to_string(), path.display().to_string()));
            if let Some(k) = file.key_variable {
                keys.entry(k).or_default().push(path);
            }
        }
        for (variable, paths) in keys {
            match paths.as_slice() {
                [one] => vars.push((variable.to_owned(), one.display().to_string())),
                several => tracing::warn!(
                    target: "strata",
                    "{} key files for {variable}: it is not set (each has its _FILE variable)",
                    several.len()
                ),
            }
        }
        Ok(vars)
    }

    /// Writes `content` at `path`: a new file, mode 600, or (when strata
    /// wrote it before) a replacement by rename.
    fn put(&mut self, path: &FsPath, content: &[u8]) -> Result<(), Error> {
        if self.written.iter().any(|p| p == path) {
            let mut tmp = tempfile::Builder::new()
                .prefix(".strata-")
                .tempfile_in(&self.dir)
                .map_err(|e| io_error("write a file in", &self.dir, &e))?;
            tmp.write_all(content)
                .and_then(|()| tmp.as_file().sync_all())
                .map_err(|e| io_error("write", tmp.path(), &e))?;
            tmp.persist(path)
                .map_err(|e| io_error("replace", path, &e.error))?;
            return Ok(());
        }
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file: File = options.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::new(
                    ErrorKind::ConfigInvalid,
                    format!(
                        "{} already exists and strata did not write it: remove it, or choose another `--files` directory",
                        path.display()
                    ),
                )
            } else {
                io_error("write", path, &e)
            }
        })?;
        self.written.push(path.to_path_buf());
        file.write_all(content)
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error("write", path, &e))
    }
}

impl Drop for FileSet {
    fn drop(&mut self) {
        for path in &self.written {
            if let Err(e) = fs::remove_file(path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(target: "strata", "cannot remove {}: {e}", path.display());
            }
        }
        if self.made_dir {
            // only when empty: what others put there stays
            let _ = fs::remove_dir(&self.dir);
        }
        if let Some(own) = self.own_dir.take()
            && let Err(e) = own.close()
        {
            tracing::warn!(target: "strata", "cannot remove {}: {e}", self.dir.display());
        }
    }
}
