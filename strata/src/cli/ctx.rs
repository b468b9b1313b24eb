//! What every command shares: the global options, the environment, and
//! how a command ends.

use std::path::PathBuf;
use std::process::ExitCode;
use strata_secrets::workspace::{Workspace, WorkspaceOptions};
use strata_secrets::{Environment, Error, ErrorKind, Options, Strata};

/// Where Docker/Kubernetes secret files are read from (default /run/secrets).
const SECRETS_DIR_ENV: &str = "STRATA_SECRETS_DIR";

pub(crate) type CmdResult = Result<ExitCode, Error>;

pub(crate) fn usage(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::ConfigInvalid, message)
}

pub(crate) fn exit_code(e: &Error) -> ExitCode {
    if e.is_missing() {
        ExitCode::from(1)
    } else {
        ExitCode::from(2)
    }
}

/// What every command shares: the global options and the environment.
pub(crate) struct Ctx {
    pub(crate) workspace: Option<PathBuf>,
    pub(crate) profile: Option<String>,
    pub(crate) global_dir: Option<PathBuf>,
    pub(crate) json: bool,
    pub(crate) env: Environment,
}

impl Ctx {
    pub(crate) fn options(&self) -> Result<Options, Error> {
        Ok(Options {
            run_dir: self.workspace.clone(),
            profile: self.profile.clone(),
            global_dir: self.global_dir.clone(),
            env: Some(self.env.clone()),
            secrets_dir: self.secrets_dir_setting()?,
        })
    }

    fn secrets_dir_setting(&self) -> Result<Option<PathBuf>, Error> {
        Ok(self
            .env
            .get_non_empty_checked(SECRETS_DIR_ENV)?
            .map(PathBuf::from))
    }

    /// Opens the project with its vaults.
    pub(crate) async fn open(&self) -> Result<Strata, Error> {
        Strata::open(self.options()?).await
    }

    /// The workspace alone, without reading any TOML file.
    pub(crate) fn open_workspace(&self) -> Result<Workspace, Error> {
        Workspace::open(WorkspaceOptions {
            run_dir: self.workspace.clone(),
            profile: self.profile.clone(),
            global_dir: self.global_dir.clone(),
            env: self.env.clone(),
        })
    }

    pub(crate) fn secrets_dir(&self) -> Result<PathBuf, Error> {
        Ok(self
            .secrets_dir_setting()?
            .unwrap_or_else(|| PathBuf::from(strata_secrets_env::DEFAULT_SECRETS_DIR)))
    }
}
