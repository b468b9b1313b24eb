//! Workspaces, profiles and the TOML file list of SPEC §5.

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
    /// Checks `name`: not empty, not `.` or `..`, no `/` or `\`, no control
    /// characters, no leading `.` and at most 64 characters.
    pub fn new(name: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::ConfigInvalid,
                format!("invalid profile name {name:?}: {why}"),
            )
        };
        if name.is_empty() {
            return Err(bad("it is empty"));
        }
        if name == "." || name == ".." || name.starts_with('.') {
            return Err(bad("it may not start with a dot"));
        }
        if name.contains(['/', '\\']) {
            return Err(bad("it may not contain a path separator"));
        }
        if name.chars().any(char::is_control) {
            return Err(Error::new(
                ErrorKind::ConfigInvalid,
                "invalid profile name: it holds a control character",
            ));
        }
        if name.chars().any(char::is_whitespace) {
            return Err(bad("it may not contain whitespace"));
        }
        if name.chars().count() > 64 {
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

/// What role a candidate file plays in the list of SPEC §5.
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

fn read_pin(settings_dir: &FsPath) -> Result<Option<String>, Error> {
    let pin_path = settings_dir.join(PIN_FILE);
    if !pin_path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&pin_path).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read the profile pin {}: {e}", pin_path.display()),
        )
        .with_file(&pin_path)
    })?;
    let first = text.lines().next().unwrap_or("").trim();
    Ok((!first.is_empty()).then(|| first.to_owned()))
}

impl Workspace {
    /// Opens the project at the run directory, detects the mode and picks
    /// the active profile: the argument, `WORKSPACE__PROFILE`, the pin, `dev`.
    /// In classic mode (no `.dlt/.workspace`) an explicit profile is an
    /// error; the variable and the pin are ignored, as in dlt.
    pub fn open(opts: WorkspaceOptions) -> Result<Self, Error> {
        let run_dir = match (&opts.run_dir, opts.env.get_non_empty(PROJECT_DIR_ENV)) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => PathBuf::from(dir),
            (None, None) => std::env::current_dir().map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot read the current directory: {e}"),
                )
            })?,
        };
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
        } else if let Some(p) = opts.env.get_non_empty(PROFILE_ENV) {
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

    /// The files read for `kind`, most specific first (SPEC §5).
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
    /// exists; in classic mode `.dlt/<kind>.toml`. Refused under `access`.
    pub fn write_target(&self, kind: FileKind) -> Result<PathBuf, Error> {
        self.ensure_writable("write a value")?;
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

    /// `_local/P` in the run directory (workspace mode only).
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.profile()
            .map(|p| self.run_dir.join("_local").join(p.as_str()))
    }

    /// `.dlt/.var/P` (workspace mode only).
    pub fn state_dir(&self) -> Option<PathBuf> {
        self.profile()
            .map(|p| self.settings_dir.join(".var").join(p.as_str()))
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
            "", "..", ".", "../x", "a/b", "a\\b", "a\nb", ".hidden", "a b",
        ] {
            assert!(ProfileName::new(bad).is_err(), "{bad:?}");
        }
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
        assert_eq!(w.data_dir().unwrap(), d.path().join("_local/prod"));
        assert_eq!(w.state_dir().unwrap(), d.path().join(".dlt/.var/prod"));
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
