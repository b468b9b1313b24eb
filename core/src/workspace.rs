//! Workspaces, profiles and the TOML file list of [docs/profiles.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/profiles/index.html).

mod guard;

pub use guard::{Origin, settings_dir_for_write};

use crate::environment::Environment;
use crate::error::{Error, ErrorKind};
use std::fmt;
use std::path::{Path as FsPath, PathBuf};

/// The settings directory inside a run directory.
pub const SETTINGS_DIR: &str = ".dlt";
/// The marker file that turns a project into a workspace.
pub const WORKSPACE_MARKER: &str = ".workspace";
/// The pin file holding the pinned profile name.
pub const PIN_FILE: &str = "profile-name";
/// The environment variable that selects the profile.
pub const PROFILE_ENV: &str = "WORKSPACE__PROFILE";
/// The environment variable that names the run directory.
pub const PROJECT_DIR_ENV: &str = "DLT_PROJECT_DIR";
/// The default profile.
pub const DEFAULT_PROFILE: &str = "dev";
/// The environment variable that moves the pipelines' working (state)
/// directory.
pub const DATA_DIR_ENV: &str = "DLT_DATA_DIR";
/// The environment variable that moves the local data directory.
pub const LOCAL_DIR_ENV: &str = "DLT_LOCAL_DIR";
const STATE_FOLDER: &str = "state";
const DATA_FOLDER: &str = "data";

/// One `[workspace.settings]` value and who set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirSetting {
    /// The value.
    pub value: String,
    /// Who set it.
    pub origin: Origin,
    /// Where it was set, for messages (`.dlt/config.toml:3`).
    pub at: String,
}

impl DirSetting {
    /// A value the user set (for tests and programs).
    pub fn user(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            origin: Origin::User,
            at: "the program".to_owned(),
        }
    }
}

/// The `[workspace.settings]` values the working directories depend on,
/// resolved by the caller from the chain.
#[derive(Debug, Clone, Default)]
pub struct DirSettings {
    /// `name`.
    pub name: Option<String>,
    /// `working_dir`: the pipelines' state, relative to the run directory.
    pub working_dir: Option<DirSetting>,
    /// `local_dir`: local data, relative to the run directory.
    pub local_dir: Option<DirSetting>,
}

/// A profile's working directories, and where each came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    /// The pipelines' working directory (their state).
    pub state: PathBuf,
    /// `default`, the environment variable, or the setting's key.
    pub state_source: String,
    /// Local data (what `workspace clean` deletes).
    pub data: PathBuf,
    /// `default`, the environment variable, or the setting's key.
    pub data_source: String,
    /// Who chose the local data directory.
    pub data_origin: Origin,
    /// [`Dirs::data_source`] with where it was set, for messages.
    pub data_set_at: String,
}

/// The built-in profiles and what they are for.
pub const BUILT_IN_PROFILES: [(&str, &str); 4] = [
    ("dev", "dev profile, workspace default (local)"),
    ("prod", "production profile, for batch jobs (synced)"),
    ("tests", "profile for automated tests (local)"),
    (
        "access",
        "read-only production profile, for interactive use (synced)",
    ),
];

/// A validated profile name: usable as a file-name component.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileName(String);

impl ProfileName {
    /// Checks `name`: 1 to 64 ASCII letters, digits, `_` and `-` (so a
    /// profile name is a file-name component that reads as what it is: no
    /// look-alike characters, no invisible ones, no path).
    pub fn new(name: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "invalid profile name {:?}: {why}; a profile name is 1 to 64 ASCII letters, digits, `_` and `-`",
                    name.escape_debug().to_string()
                ),
            )
        };
        if name.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(bad(&format!(
                "it holds {:?}",
                c.escape_unicode().to_string()
            )));
        }
        if name.len() > 64 {
            return Err(bad("it is longer than 64 characters"));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for `dev`, `prod`, `tests` and `access`.
    pub fn is_built_in(&self) -> bool {
        BUILT_IN_PROFILES.iter().any(|(n, _)| *n == self.0)
    }

    /// True for profiles that refuse every write (`access`).
    pub fn is_read_only(&self) -> bool {
        self.0 == "access"
    }

    /// The description of a built-in profile.
    pub fn description(&self) -> Option<&'static str> {
        BUILT_IN_PROFILES
            .iter()
            .find(|(n, _)| *n == self.0)
            .map(|(_, d)| *d)
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProfileName({})", self.0)
    }
}

/// Where the active profile came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSource {
    /// `--profile` or an API argument.
    Argument,
    /// The `WORKSPACE__PROFILE` environment variable.
    Environment,
    /// The pin file `.dlt/profile-name`.
    Pin,
    /// Nothing was set: `dev`.
    Default,
}

impl fmt::Display for ProfileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileSource::Argument => "--profile",
            ProfileSource::Environment => PROFILE_ENV,
            ProfileSource::Pin => ".dlt/profile-name",
            ProfileSource::Default => "default",
        })
    }
}

/// The two kinds of TOML file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `secrets.toml`: may hold secrets.
    Secrets,
    /// `config.toml`: may not.
    Config,
}

impl FileKind {
    /// `secrets` or `config`.
    pub fn stem(self) -> &'static str {
        match self {
            FileKind::Secrets => "secrets",
            FileKind::Config => "config",
        }
    }

    /// `secrets.toml` or `config.toml`.
    pub fn file_name(self) -> &'static str {
        match self {
            FileKind::Secrets => "secrets.toml",
            FileKind::Config => "config.toml",
        }
    }

    /// Whether files of this kind may hold secrets.
    pub fn may_hold_secrets(self) -> bool {
        self == FileKind::Secrets
    }
}

/// What role a candidate file plays in the list of [docs/profiles.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/profiles/index.html).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// `.dlt/P.secrets.toml`: the canonical profile file.
    Profile,
    /// `.dlt/secrets.P.toml`: the alias from the Runtime docs.
    ProfileAlias,
    /// `.dlt/secrets.toml`.
    Base,
    /// The global directory's `P.secrets.toml`.
    GlobalProfile,
    /// The global directory's `secrets.toml`.
    GlobalBase,
}

/// One file of the list, most specific first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Where the file is (it may not exist).
    pub path: PathBuf,
    /// Its role.
    pub role: FileRole,
}

/// How to open a workspace.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceOptions {
    /// The run directory; default: `DLT_PROJECT_DIR`, else the current directory.
    pub run_dir: Option<PathBuf>,
    /// An explicit profile (`--profile`).
    pub profile: Option<String>,
    /// The global directory; default: as dlt computes it.
    pub global_dir: Option<PathBuf>,
    /// The environment; default: empty (callers pass a snapshot).
    pub env: Environment,
}

/// An opened project: its directories, mode and active profile.
#[derive(Debug, Clone)]
pub struct Workspace {
    run_dir: PathBuf,
    settings_dir: PathBuf,
    global_dir: PathBuf,
    workspace_mode: bool,
    profile: Option<(ProfileName, ProfileSource)>,
    pinned: Option<String>,
    files_profile: Option<ProfileName>,
    env: Environment,
}

/// The global directory as dlt computes it: `/var/dlt` for root, else
/// `$XDG_DATA_HOME/dlt` when that is set and `~/.dlt` does not exist, else
/// `~/.dlt` (or `/tmp/dlt` without a home).
pub fn default_global_dir(env: &Environment) -> PathBuf {
    if is_root() {
        return PathBuf::from("/var/dlt");
    }
    let Some(home) = env.get_non_empty("HOME") else {
        return std::env::temp_dir().join("dlt");
    };
    let home_dlt = PathBuf::from(home).join(SETTINGS_DIR);
    if let Some(xdg) = env.get_non_empty("XDG_DATA_HOME")
        && !home_dlt.is_dir()
    {
        return PathBuf::from(xdg).join("dlt");
    }
    home_dlt
}

#[cfg(unix)]
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_root() -> bool {
    false
}

/// A name usable as one path component: not empty, not `.` or `..`, no
/// separator and no control character (a workspace's name from a file
/// must not lead a directory elsewhere).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
}

/// The pinned profile: the one line of `.dlt/profile-name` (a UTF-8 BOM
/// and surrounding whitespace ignored). Only a regular file is read; any
/// other file there, or text that is not UTF-8, is an error naming it. The
/// name itself is checked by [`ProfileName::new`] where it is used.
fn read_pin(settings_dir: &FsPath) -> Result<Option<String>, Error> {
    let pin_path = settings_dir.join(PIN_FILE);
    let Some(text) = crate::fs::read_text(&pin_path)? else {
        return Ok(None);
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let first = text.lines().next().unwrap_or("").trim();
    Ok((!first.is_empty()).then(|| first.to_owned()))
}

/// The project directory: `--workspace`, `DLT_PROJECT_DIR`, or the current
/// directory; it must be a directory that opens (the error says where it
/// came from).
fn run_dir_of(opts: &WorkspaceOptions) -> Result<PathBuf, Error> {
    let (run_dir, from) = match (
        &opts.run_dir,
        opts.env.get_non_empty_checked(PROJECT_DIR_ENV)?,
    ) {
        (Some(dir), _) => (dir.clone(), "--workspace"),
        (None, Some(dir)) => (PathBuf::from(dir), PROJECT_DIR_ENV),
        (None, None) => (
            std::env::current_dir().map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot read the current directory: {e}"),
                )
            })?,
            "the current directory",
        ),
    };
    let why = match std::fs::metadata(&run_dir) {
        Ok(m) if m.is_dir() => return Ok(run_dir),
        Ok(_) => "is not a directory".to_owned(),
        Err(e) => format!("cannot be opened: {e}"),
    };
    Err(Error::new(
        ErrorKind::ConfigInvalid,
        format!(
            "the project directory {} (from {from}) {why}",
            run_dir.display()
        ),
    ))
}

impl Workspace {
    /// Opens the project at the run directory, detects the mode and picks
    /// the active profile: the argument, `WORKSPACE__PROFILE`, the pin, `dev`.
    /// In classic mode (no `.dlt/.workspace`) an explicit profile is an
    /// error; the variable and the pin are ignored, as in dlt.
    pub fn open(opts: WorkspaceOptions) -> Result<Self, Error> {
        let run_dir = run_dir_of(&opts)?;
        let settings_dir = run_dir.join(SETTINGS_DIR);
        let workspace_mode = settings_dir.join(WORKSPACE_MARKER).exists();
        let global_dir = opts
            .global_dir
            .clone()
            .unwrap_or_else(|| default_global_dir(&opts.env));
        let mut ws = Workspace {
            run_dir,
            settings_dir,
            global_dir,
            workspace_mode,
            profile: None,
            pinned: None,
            files_profile: None,
            env: opts.env.clone(),
        };
        if !workspace_mode {
            if let Some(p) = &opts.profile {
                return Err(Error::new(
                    ErrorKind::ConfigInvalid,
                    format!(
                        "profile `{p}` was asked for, but {} is a classic project without profiles: create {}/{} (or run `strata init`) to enable them",
                        ws.run_dir.display(),
                        SETTINGS_DIR,
                        WORKSPACE_MARKER
                    ),
                ));
            }
            return Ok(ws);
        }
        ws.pinned = read_pin(&ws.settings_dir)?;
        let (name, source) = if let Some(p) = opts.profile.as_deref() {
            (p.to_owned(), ProfileSource::Argument)
        } else if let Some(p) = opts.env.get_non_empty_checked(PROFILE_ENV)? {
            (p.to_owned(), ProfileSource::Environment)
        } else if let Some(p) = &ws.pinned {
            (p.clone(), ProfileSource::Pin)
        } else {
            (DEFAULT_PROFILE.to_owned(), ProfileSource::Default)
        };
        let profile = ProfileName::new(&name)
            .map_err(|e| Error::new(e.kind(), format!("{} (from {source})", e.message())))?;
        ws.files_profile = Some(ws.files_profile_for(&profile));
        ws.profile = Some((profile, source));
        Ok(ws)
    }

    /// `access` without profile files of its own reads `prod`'s.
    fn files_profile_for(&self, profile: &ProfileName) -> ProfileName {
        if profile.as_str() == "access"
            && !self.profile_has_files(profile)
            && let Ok(prod) = ProfileName::new("prod")
        {
            return prod;
        }
        profile.clone()
    }

    /// True when any profile-specific TOML file of `profile` exists.
    pub fn profile_has_files(&self, profile: &ProfileName) -> bool {
        [FileKind::Secrets, FileKind::Config].iter().any(|kind| {
            self.profile_candidates(profile, *kind).iter().any(|c| {
                c.role != FileRole::Base && c.role != FileRole::GlobalBase && c.path.is_file()
            })
        })
    }

    fn profile_candidates(&self, profile: &ProfileName, kind: FileKind) -> Vec<Candidate> {
        let p = profile.as_str();
        let stem = kind.stem();
        vec![
            Candidate {
                path: self.settings_dir.join(format!("{p}.{stem}.toml")),
                role: FileRole::Profile,
            },
            Candidate {
                path: self.settings_dir.join(format!("{stem}.{p}.toml")),
                role: FileRole::ProfileAlias,
            },
            Candidate {
                path: self.settings_dir.join(kind.file_name()),
                role: FileRole::Base,
            },
            Candidate {
                path: self.global_dir.join(format!("{p}.{stem}.toml")),
                role: FileRole::GlobalProfile,
            },
            Candidate {
                path: self.global_dir.join(kind.file_name()),
                role: FileRole::GlobalBase,
            },
        ]
    }

    /// The files read for `kind`, most specific first ([docs/profiles.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/profiles/index.html)).
    pub fn candidates(&self, kind: FileKind) -> Vec<Candidate> {
        match &self.files_profile {
            Some(p) => self.profile_candidates(p, kind),
            None => vec![
                Candidate {
                    path: self.settings_dir.join(kind.file_name()),
                    role: FileRole::Base,
                },
                Candidate {
                    path: self.global_dir.join(kind.file_name()),
                    role: FileRole::GlobalBase,
                },
            ],
        }
    }

    /// The file a write of `kind` goes to: the most specific one. For a
    /// profile that is `.dlt/P.<kind>.toml`, or the alias when only the alias
    /// exists; in classic mode `.dlt/<kind>.toml`. Refused under `access`,
    /// and when `.dlt` is a symbolic link.
    pub fn write_target(&self, kind: FileKind) -> Result<PathBuf, Error> {
        self.ensure_writable("write a value")?;
        self.settings_dir_for_write()?;
        let candidates = self.candidates(kind);
        if self.workspace_mode {
            let canonical = &candidates[0].path;
            let alias = &candidates[1].path;
            if !canonical.exists() && alias.exists() {
                return Ok(alias.clone());
            }
            return Ok(canonical.clone());
        }
        Ok(candidates[0].path.clone())
    }

    /// Errors when the active profile is read-only (`access`).
    pub fn ensure_writable(&self, what: &str) -> Result<(), Error> {
        match self.profile() {
            Some(p) if p.is_read_only() => Err(Error::new(
                ErrorKind::ReadOnly,
                format!("cannot {what}: profile `{p}` is read-only"),
            )),
            _ => Ok(()),
        }
    }

    /// True when `.dlt/.workspace` exists (profiles are on).
    pub fn is_workspace(&self) -> bool {
        self.workspace_mode
    }

    /// The active profile (`None` in classic mode).
    pub fn profile(&self) -> Option<&ProfileName> {
        self.profile.as_ref().map(|(p, _)| p)
    }

    /// Where the active profile came from.
    pub fn profile_source(&self) -> Option<ProfileSource> {
        self.profile.as_ref().map(|(_, s)| *s)
    }

    /// The profile whose files are read (`prod` for `access` without files).
    pub fn files_profile(&self) -> Option<&ProfileName> {
        self.files_profile.as_ref()
    }

    /// The pinned profile, as written in `.dlt/profile-name`.
    pub fn pinned_profile(&self) -> Option<&str> {
        self.pinned.as_deref()
    }

    /// The run directory.
    pub fn run_dir(&self) -> &FsPath {
        &self.run_dir
    }

    /// `.dlt` in the run directory.
    pub fn settings_dir(&self) -> &FsPath {
        &self.settings_dir
    }

    /// The global directory.
    pub fn global_dir(&self) -> &FsPath {
        &self.global_dir
    }

    /// The environment snapshot the workspace was opened with.
    pub fn env(&self) -> &Environment {
        &self.env
    }

    /// The workspace's name: the `[workspace.settings] name` setting, else
    /// the run directory's name (as dlt names it).
    pub fn name(&self, settings: &DirSettings) -> String {
        if let Some(n) = settings.name.as_deref().filter(|n| is_plain_name(n)) {
            return n.to_owned();
        }
        let abs = std::path::absolute(&self.run_dir).unwrap_or_else(|_| self.run_dir.clone());
        abs.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "_dlt".to_owned())
    }

    /// The active profile's working directories, as dlt 1.31 computes them
    /// (workspace mode only): the pipelines' state in `.dlt/state/P` and
    /// local data in `.dlt/data/P`; `DLT_DATA_DIR` / `DLT_LOCAL_DIR`, then
    /// the `[workspace.settings] working_dir` / `local_dir` settings
    /// (relative to the run directory) override them; when `.dlt` is not
    /// writable, `<tmp>/dlt/state|data/<name>/P`.
    pub fn dirs(&self, settings: &DirSettings) -> Result<Option<Dirs>, Error> {
        let Some(profile) = self.profile() else {
            return Ok(None);
        };
        let name = self.name(settings);
        // judged by trying, as dlt does (mode bits say nothing for root, and
        // nothing of a read-only mount)
        let writable =
            self.settings_dir.is_dir() && tempfile::tempfile_in(&self.settings_dir).is_ok();
        let default = |folder: &str| {
            let base = if writable {
                self.settings_dir.join(folder)
            } else {
                std::env::temp_dir().join("dlt").join(folder).join(&name)
            };
            base.join(profile.as_str())
        };
        let pick = |env: &str,
                    setting: &Option<DirSetting>,
                    folder: &str|
         -> Result<(PathBuf, String, Origin, String), Error> {
            if let Some(dir) = self.env.get_non_empty_checked(env)? {
                return Ok((
                    PathBuf::from(dir),
                    env.to_owned(),
                    Origin::User,
                    format!("the variable {env}"),
                ));
            }
            if let Some(s) = setting.as_ref().filter(|s| !s.value.is_empty()) {
                let key = if folder == STATE_FOLDER {
                    "working_dir"
                } else {
                    "local_dir"
                };
                return Ok((
                    self.run_dir.join(&s.value),
                    format!("workspace.settings.{key}"),
                    s.origin,
                    format!("`workspace.settings.{key}` from {}", s.at),
                ));
            }
            Ok((
                default(folder),
                "default".to_owned(),
                Origin::Default,
                "the default".to_owned(),
            ))
        };
        let (state, state_source, _, _) = pick(DATA_DIR_ENV, &settings.working_dir, STATE_FOLDER)?;
        let (data, data_source, data_origin, data_set_at) =
            pick(LOCAL_DIR_ENV, &settings.local_dir, DATA_FOLDER)?;
        Ok(Some(Dirs {
            state,
            state_source,
            data,
            data_source,
            data_origin,
            data_set_at,
        }))
    }

    /// The older layout's directories of the active profile that exist
    /// (`_local/P` data and `.dlt/.var/P` state, as the seed pages show).
    pub fn legacy_dirs(&self) -> Vec<PathBuf> {
        let Some(p) = self.profile() else {
            return Vec::new();
        };
        [
            self.run_dir.join("_local").join(p.as_str()),
            self.settings_dir.join(".var").join(p.as_str()),
        ]
        .into_iter()
        .filter(|d| d.is_dir())
        .collect()
    }

    /// In classic mode, the profile files in `.dlt` that are not read
    /// (`dev.secrets.toml`, `secrets.prod.toml`, ...): without
    /// `.dlt/.workspace` there are no profiles.
    pub fn ignored_profile_files(&self) -> Vec<PathBuf> {
        if self.workspace_mode {
            return Vec::new();
        }
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.settings_dir) else {
            return out;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let profile_file = ["secrets", "config"].iter().any(|stem| {
                let base = format!("{stem}.toml");
                name != base
                    && name.ends_with(".toml")
                    && (name.ends_with(&format!(".{stem}.toml"))
                        || name.starts_with(&format!("{stem}.")))
            });
            if profile_file {
                out.push(entry.path());
            }
        }
        out.sort();
        out
    }

    /// The pin file's path.
    pub fn pin_file(&self) -> PathBuf {
        self.settings_dir.join(PIN_FILE)
    }

    /// Profiles to list: the built-ins, then custom profiles that are pinned,
    /// active or have files in the settings directory.
    pub fn known_profiles(&self) -> Vec<ProfileName> {
        let mut out: Vec<ProfileName> = BUILT_IN_PROFILES
            .iter()
            .filter_map(|(n, _)| ProfileName::new(n).ok())
            .collect();
        let mut extra: Vec<String> = Vec::new();
        if let Some(p) = &self.pinned {
            extra.push(p.clone());
        }
        if let Some(p) = self.profile() {
            extra.push(p.as_str().to_owned());
        }
        if let Ok(entries) = std::fs::read_dir(&self.settings_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                for stem in ["secrets", "config"] {
                    if let Some(p) = name.strip_suffix(&format!(".{stem}.toml")) {
                        extra.push(p.to_owned());
                    }
                    if let Some(p) = name
                        .strip_prefix(&format!("{stem}."))
                        .and_then(|r| r.strip_suffix(".toml"))
                    {
                        extra.push(p.to_owned());
                    }
                }
            }
        }
        extra.sort();
        for name in extra {
            if let Ok(p) = ProfileName::new(&name)
                && !out.contains(&p)
            {
                out.push(p);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(dir: &FsPath, profile: Option<&str>, env: &[(&str, &str)]) -> Result<Workspace, Error> {
        Workspace::open(WorkspaceOptions {
            run_dir: Some(dir.to_path_buf()),
            profile: profile.map(str::to_owned),
            global_dir: Some(dir.join("global")),
            env: Environment::from_pairs(env.iter().copied()),
        })
    }

    fn workspace_dir() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".dlt")).unwrap();
        std::fs::write(d.path().join(".dlt/.workspace"), "").unwrap();
        d
    }

    #[test]
    fn profile_precedence_flag_env_pin_default() {
        let d = workspace_dir();
        let w = ws(d.path(), None, &[]).unwrap();
        assert_eq!(w.profile().unwrap().as_str(), "dev");
        assert_eq!(w.profile_source(), Some(ProfileSource::Default));
        std::fs::write(d.path().join(".dlt/profile-name"), "  prod  \nignored\n").unwrap();
        let w = ws(d.path(), None, &[]).unwrap();
        assert_eq!(w.profile().unwrap().as_str(), "prod");
        assert_eq!(w.pinned_profile(), Some("prod"));
        let w = ws(d.path(), None, &[(PROFILE_ENV, "tests")]).unwrap();
        assert_eq!(w.profile().unwrap().as_str(), "tests");
        let w = ws(d.path(), Some("custom"), &[(PROFILE_ENV, "tests")]).unwrap();
        assert_eq!(w.profile().unwrap().as_str(), "custom");
        assert_eq!(w.profile_source(), Some(ProfileSource::Argument));
        // an empty variable counts as unset, as in dlt
        let w = ws(d.path(), None, &[(PROFILE_ENV, "")]).unwrap();
        assert_eq!(w.profile().unwrap().as_str(), "prod");
    }

    #[test]
    fn classic_mode_ignores_env_and_pin_and_refuses_the_flag() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".dlt")).unwrap();
        std::fs::write(d.path().join(".dlt/profile-name"), "prod").unwrap();
        let w = ws(d.path(), None, &[(PROFILE_ENV, "prod")]).unwrap();
        assert!(!w.is_workspace());
        assert!(w.profile().is_none());
        let c = w.candidates(FileKind::Secrets);
        assert_eq!(c.len(), 2);
        assert!(c[0].path.ends_with(".dlt/secrets.toml"));
        let err = ws(d.path(), Some("prod"), &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConfigInvalid);
        assert!(err.to_string().contains("strata init"), "{err}");
    }

    #[test]
    fn bad_profile_names_are_rejected() {
        for bad in [
            "",
            "..",
            ".",
            "../x",
            "a/b",
            "a\\b",
            "a\nb",
            ".hidden",
            "a b",
            "prod\u{200b}",
            "\u{feff}prod",
            "prоd",
            "prod.",
            "dev:x",
            "ü",
        ] {
            assert!(ProfileName::new(bad).is_err(), "{bad:?}");
        }
        for good in ["dev", "prod-eu", "tests_2", "A", &"x".repeat(64)] {
            assert!(ProfileName::new(good).is_ok(), "{good:?}");
        }
        assert!(ProfileName::new(&"x".repeat(65)).is_err());
        let d = workspace_dir();
        assert!(ws(d.path(), Some("../etc"), &[]).is_err());
        assert!(ws(d.path(), None, &[(PROFILE_ENV, "a/b")]).is_err());
        std::fs::write(d.path().join(".dlt/profile-name"), "..").unwrap();
        let err = ws(d.path(), None, &[]).unwrap_err();
        assert!(err.to_string().contains(".dlt/profile-name"), "{err}");
    }

    #[test]
    fn file_list_most_specific_first() {
        let d = workspace_dir();
        let w = ws(d.path(), Some("prod"), &[]).unwrap();
        let names: Vec<String> = w
            .candidates(FileKind::Secrets)
            .iter()
            .map(|c| c.path.strip_prefix(d.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                ".dlt/prod.secrets.toml",
                ".dlt/secrets.prod.toml",
                ".dlt/secrets.toml",
                "global/prod.secrets.toml",
                "global/secrets.toml"
            ]
        );
        assert!(
            w.candidates(FileKind::Config)[0]
                .path
                .ends_with("prod.config.toml")
        );
        // dlt 1.31's layout: state and local data under .dlt, per profile
        let dirs = w.dirs(&DirSettings::default()).unwrap().unwrap();
        assert_eq!(dirs.state, d.path().join(".dlt/state/prod"));
        assert_eq!(dirs.data, d.path().join(".dlt/data/prod"));
        assert_eq!(dirs.data_source, "default");
        // the settings move them, relative to the run directory
        let settings = DirSettings {
            name: None,
            working_dir: Some(DirSetting::user("work")),
            local_dir: Some(DirSetting::user("local")),
        };
        let dirs = w.dirs(&settings).unwrap().unwrap();
        assert_eq!(dirs.state, d.path().join("work"));
        assert_eq!(dirs.data, d.path().join("local"));
        assert_eq!(dirs.data_source, "workspace.settings.local_dir");
        // the environment wins
        let w = ws(
            d.path(),
            Some("prod"),
            &[("DLT_LOCAL_DIR", "/elsewhere/data")],
        )
        .unwrap();
        let dirs = w.dirs(&settings).unwrap().unwrap();
        assert_eq!(dirs.data, PathBuf::from("/elsewhere/data"));
        assert_eq!(dirs.data_source, "DLT_LOCAL_DIR");
        assert!(w.legacy_dirs().is_empty());
        std::fs::create_dir_all(d.path().join("_local/prod")).unwrap();
        assert_eq!(w.legacy_dirs(), [d.path().join("_local/prod")]);
    }

    #[test]
    fn a_run_dir_that_does_not_exist_is_an_error() {
        let d = workspace_dir();
        let e = ws(&d.path().join("nope"), None, &[]).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
        assert!(e.to_string().contains("cannot be opened"), "{e}");
        use std::os::unix::ffi::OsStringExt;
        let env = Environment::from_os_pairs([(
            PROFILE_ENV.into(),
            std::ffi::OsString::from_vec(vec![0x78, 0xff]),
        )]);
        let e = Workspace::open(WorkspaceOptions {
            run_dir: Some(d.path().to_path_buf()),
            profile: None,
            global_dir: Some(d.path().join("global")),
            env,
        })
        .unwrap_err();
        assert!(e.to_string().contains(PROFILE_ENV), "{e}");
    }

    #[test]
    fn access_falls_back_to_prod_files_and_is_read_only() {
        let d = workspace_dir();
        let w = ws(d.path(), Some("access"), &[]).unwrap();
        assert_eq!(w.files_profile().unwrap().as_str(), "prod");
        assert!(
            w.candidates(FileKind::Secrets)[0]
                .path
                .ends_with("prod.secrets.toml")
        );
        assert_eq!(
            w.write_target(FileKind::Secrets).unwrap_err().kind(),
            ErrorKind::ReadOnly
        );
        std::fs::write(d.path().join(".dlt/access.config.toml"), "").unwrap();
        let w = ws(d.path(), Some("access"), &[]).unwrap();
        assert_eq!(w.files_profile().unwrap().as_str(), "access");
    }

    #[test]
    fn write_target_prefers_canonical_then_alias() {
        let d = workspace_dir();
        let w = ws(d.path(), Some("prod"), &[]).unwrap();
        assert!(
            w.write_target(FileKind::Secrets)
                .unwrap()
                .ends_with("prod.secrets.toml")
        );
        std::fs::write(d.path().join(".dlt/secrets.prod.toml"), "").unwrap();
        assert!(
            w.write_target(FileKind::Secrets)
                .unwrap()
                .ends_with("secrets.prod.toml")
        );
    }

    #[test]
    fn global_dir_rules() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let env =
            Environment::from_pairs([("HOME", home.to_str().unwrap()), ("XDG_DATA_HOME", "/xdg")]);
        let g = default_global_dir(&env);
        if is_root() {
            assert_eq!(g, PathBuf::from("/var/dlt"));
        } else {
            assert_eq!(g, PathBuf::from("/xdg/dlt"));
            std::fs::create_dir_all(home.join(".dlt")).unwrap();
            assert_eq!(default_global_dir(&env), home.join(".dlt"));
        }
    }

    #[test]
    fn known_profiles_include_custom_ones_with_files() {
        let d = workspace_dir();
        std::fs::write(d.path().join(".dlt/staging.secrets.toml"), "").unwrap();
        std::fs::write(d.path().join(".dlt/config.qa.toml"), "").unwrap();
        let w = ws(d.path(), None, &[]).unwrap();
        let names: Vec<String> = w.known_profiles().iter().map(|p| p.to_string()).collect();
        assert_eq!(names, ["dev", "prod", "tests", "access", "qa", "staging"]);
    }
}
