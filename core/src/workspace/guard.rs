//! The one gate between a workspace's files and what strata does to the
//! file system ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html), "Files never choose what strata deletes
//! or where it writes outside the workspace"). The workspace's files are
//! data a cloned repository may have written: a directory they name is
//! deleted only inside the run directory, never through a link, and never
//! the run directory, `.dlt` or a parent of either. A directory the user
//! set (environment, command line, global directory) may lie anywhere
//! else.

use super::{SETTINGS_DIR, Workspace};
use crate::error::{Error, ErrorKind};
use crate::provider::Provenance;
use std::path::{Component, Path as FsPath, PathBuf};

/// Who set a value, for the rules that trust the user and not the
/// workspace's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// strata's own default.
    Default,
    /// The user: the environment, the command line, the global directory's
    /// files, a file outside the workspace (`/run/secrets`).
    User,
    /// A secrets file of the workspace (`.dlt/*secrets*.toml`, not committed
    /// when the workspace follows `strata init`'s `.gitignore`).
    WorkspaceSecrets,
    /// A configuration file of the workspace (`.dlt/*config*.toml`), which a
    /// repository commits.
    WorkspaceConfig,
}

impl Origin {
    /// True for the workspace's own files.
    pub fn is_workspace_file(self) -> bool {
        matches!(self, Origin::WorkspaceSecrets | Origin::WorkspaceConfig)
    }
}

fn refuse(dir: &FsPath, setting: &str, why: String) -> Error {
    Error::new(
        ErrorKind::ConfigInvalid,
        format!(
            "refusing to delete {} (set by {setting}): {why}",
            dir.display()
        ),
    )
    .with_file(dir)
}

/// `.dlt` in `run_dir`, for a write: it must be a directory, not a
/// symbolic link (which could lead the write out of the workspace).
pub fn settings_dir_for_write(run_dir: &FsPath) -> Result<PathBuf, Error> {
    let settings = run_dir.join(SETTINGS_DIR);
    match std::fs::symlink_metadata(&settings) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::new(
            ErrorKind::Io,
            format!(
                "refusing to write in {}: it is a symbolic link, and strata writes only inside the workspace",
                settings.display()
            ),
        )
        .with_file(&settings)),
        Ok(m) if !m.is_dir() => Err(Error::new(
            ErrorKind::Io,
            format!(
                "refusing to write in {}: it is not a directory",
                settings.display()
            ),
        )
        .with_file(&settings)),
        Ok(_) => Ok(settings),
        Err(e) => Err(Error::new(
            ErrorKind::Io,
            format!("cannot open {}: {e}", settings.display()),
        )
        .with_file(&settings)),
    }
}

impl Workspace {
    /// Who wrote the value `provenance` describes: a file in the global
    /// directory or outside `.dlt` is the user's, a file in `.dlt` is the
    /// workspace's (a secrets file when `secret_provider`), a value from no
    /// file (the environment) is the user's.
    pub fn origin_of(&self, provenance: &Provenance, secret_provider: bool) -> Origin {
        let Some(file) = &provenance.file else {
            return Origin::User;
        };
        if file.starts_with(&self.global_dir) || !file.starts_with(&self.settings_dir) {
            return Origin::User;
        }
        if secret_provider {
            Origin::WorkspaceSecrets
        } else {
            Origin::WorkspaceConfig
        }
    }

    /// `.dlt` for a write ([`settings_dir_for_write`]).
    pub fn settings_dir_for_write(&self) -> Result<PathBuf, Error> {
        settings_dir_for_write(&self.run_dir)
    }

    /// Whether `dir`, set by `origin` as `setting` says (for messages), may
    /// be deleted: `Ok(false)` when nothing is there, `Ok(true)` when it
    /// may, an error saying why and what to do otherwise.
    /// - never a symbolic link or through one inside the run directory, never
    ///   with `..` climbing out of it, never the run directory, `.dlt` or a
    ///   parent of either;
    /// - set by a workspace file: only inside the run directory (a relative
    ///   path of plain names).
    pub fn check_delete(&self, dir: &FsPath, origin: Origin, setting: &str) -> Result<bool, Error> {
        // inside the run directory, no link along the way, whoever set it
        if let Ok(rel) = dir.strip_prefix(&self.run_dir) {
            let mut at = self.run_dir.clone();
            for part in rel.components() {
                match part {
                    Component::Normal(name) => at.push(name),
                    Component::CurDir => continue,
                    _ => {
                        return Err(refuse(
                            dir,
                            setting,
                            "it climbs out of the workspace with `..`: make it a path inside the project".to_owned(),
                        ));
                    }
                }
                if crate::fs::is_symlink(&at) {
                    return Err(refuse(
                        dir,
                        setting,
                        format!(
                            "{} is a symbolic link, and strata never deletes through one",
                            at.display()
                        ),
                    ));
                }
            }
        } else if origin.is_workspace_file() {
            return Err(refuse(
                dir,
                setting,
                format!(
                    "it lies outside the workspace, and a workspace file may not choose what strata deletes there: make it a path inside the project, or set {} in the environment",
                    super::LOCAL_DIR_ENV
                ),
            ));
        }
        if crate::fs::is_symlink(dir) {
            return Err(refuse(
                dir,
                setting,
                "it is a symbolic link, and strata never deletes through one".to_owned(),
            ));
        }
        if !crate::fs::exists_no_follow(dir) {
            return Ok(false);
        }
        let real = std::fs::canonicalize(dir).map_err(|e| refuse(dir, setting, e.to_string()))?;
        let run = std::fs::canonicalize(&self.run_dir).unwrap_or_else(|_| self.run_dir.clone());
        let settings = run.join(SETTINGS_DIR);
        if run.starts_with(&real) || settings.starts_with(&real) {
            return Err(refuse(
                dir,
                setting,
                "it is the project directory, its .dlt or a parent of either, which hold more than local data: point it at a directory of its own".to_owned(),
            ));
        }
        if origin.is_workspace_file() && !real.starts_with(&run) {
            return Err(refuse(
                dir,
                setting,
                "it leads outside the workspace: make it a path inside the project".to_owned(),
            ));
        }
        Ok(true)
    }
}
