//! Vaults for `strata`: this binary links no vault SDK. When the
//! configuration switches a vault on, the whole command is handed over to
//! `strata-vaults` next to this executable: the process is replaced by it
//! (same arguments, environment and standard streams), so nothing has been
//! printed yet and its exit status is the command's.

use std::ffi::OsString;
use std::path::PathBuf;
use strata::check::VaultStatus;
use strata::vaults::{VAULT_KINDS, VaultKind, enabled};
use strata::{Error, ErrorKind, Options, Resolver, Strata};

/// Nothing here does network I/O or waits on a timer: the runtime needs
/// neither driver (no epoll instance, no signal pipe).
pub(crate) const NEEDS_IO: bool = false;

/// The helper's file name.
const HELPER: &str = "strata-vaults";

/// Opens the project's local chain, or hands the command over when a vault
/// is enabled.
pub(crate) async fn open(options: Options) -> Result<Strata, Error> {
    let strata = Strata::open_local(options)?;
    hand_off_if_enabled(strata.resolver()).await?;
    Ok(strata)
}

/// No vault is enabled here (or the command is handed over).
pub(crate) async fn dry_runs(strata: &Strata) -> Result<Vec<VaultStatus>, Error> {
    hand_off_if_enabled(strata.resolver()).await?;
    Ok(Vec::new())
}

async fn hand_off_if_enabled(resolver: &Resolver) -> Result<(), Error> {
    for kind in VAULT_KINDS {
        if enabled(resolver, &kind).await? {
            return Err(hand_off(&kind));
        }
    }
    Ok(())
}

/// Runs the helper in this process's place; returns only when it cannot.
fn hand_off(kind: &VaultKind) -> Error {
    let helper = match helper_path() {
        Ok(p) => p,
        Err(e) => return not_found(kind, &PathBuf::from(HELPER), &e),
    };
    if std::env::current_exe().is_ok_and(|me| me == helper) {
        // this vault-free build installed under the helper's name: handing
        // over would start itself again, forever
        return not_found(
            kind,
            &helper,
            &std::io::Error::other("it is this same vault-free build"),
        );
    }
    tracing::debug!(helper = %helper.display(), vault = kind.section, "a vault is enabled: handing over");
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut cmd = std::process::Command::new(&helper);
    cmd.args(&args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = cmd.exec();
        not_found(kind, &helper, &e)
    }
    #[cfg(not(unix))]
    {
        match cmd.status() {
            Ok(status) => std::process::exit(status.code().unwrap_or(2)),
            Err(e) => not_found(kind, &helper, &e),
        }
    }
}

fn helper_path() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe.with_file_name(format!("{HELPER}{}", std::env::consts::EXE_SUFFIX)))
}

fn not_found(kind: &VaultKind, helper: &std::path::Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "`providers.{}` is true, and vaults are served by `{HELPER}`, which cannot be run from {} ({e}): install it next to `strata` (`cargo install strata` installs both; `cargo build -p strata` builds both)",
            kind.switch,
            helper.display()
        ),
    )
}
