//! The command line of `strata` (see `docs/cli.md`).

mod commands;
mod ctx;
mod exec;
mod export;
mod files;
mod handoff;
mod output;
mod push;
mod supervise;

use clap::{Parser, Subcommand, ValueEnum};
use output::Out;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Configuration and secrets for data pipelines, read from dlt workspaces,
/// environment variables and TOML profiles.
#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "Configuration and secrets for data pipelines, compatible with dlt workspaces",
    long_about = None
)]
#[command(
    after_help = "Exit status: 0 on success, 1 when a value is missing (or `check` finds a problem), 2 on bad usage, bad input or any other error (a failed write of the output included); `exec` exits with the command's status (126: not executable, 127: not found)."
)]
struct Cli {
    /// Project directory [default: $DLT_PROJECT_DIR, else the current directory]
    #[arg(long, global = true, value_name = "DIR")]
    workspace: Option<PathBuf>,

    /// Profile to use (needs .dlt/.workspace) [default: $WORKSPACE__PROFILE, the pin, then dev]
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,

    /// Global settings directory [default: /var/dlt for root, else ~/.dlt or $XDG_DATA_HOME/dlt]
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "STRATA_GLOBAL_DIR",
        hide_env_values = true
    )]
    global_dir: Option<PathBuf>,

    /// Print machine-readable JSON
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create .dlt/.workspace, config.toml, secrets.toml and .gitignore lines for secrets
    Init {
        /// Workspace name [default: the directory's name]
        #[arg(long, value_name = "N")]
        name: Option<String>,
        /// Print the plan without writing anything
        #[arg(long)]
        dry_run: bool,
    },
    /// Show the current and pinned profile; `profile list`, `profile NAME pin`, `profile unpin`
    Profile {
        /// `list`, `NAME pin` or `unpin`; nothing shows the current profile
        #[arg(value_name = "ARGS", num_args = 0..=2)]
        args: Vec<String>,
    },
    /// Print one value (secret providers only, unless --config)
    Get {
        /// Dotted path, e.g. sources.pipedrive.api_key
        path: String,
        /// Try PIPELINE.PATH first, then PATH
        #[arg(long, value_name = "P")]
        pipeline: Option<String>,
        /// Ask every provider, config.toml included (like dlt.config.get)
        #[arg(long)]
        config: bool,
        /// Read the value from version N of the vault's dlt_secrets_toml (see `versions`)
        #[arg(long, value_name = "N")]
        vault_version: Option<String>,
        /// The vault --vault-version reads; needed when several are enabled
        #[arg(long, value_name = "VAULT", requires = "vault_version")]
        vault: Option<String>,
    },
    /// Show every (provider, name) a section walk tries for PATH; values masked
    Explain {
        /// Dotted path: sections then the key
        path: String,
        /// Scope the walk by a pipeline name (tried first)
        #[arg(long, value_name = "P")]
        pipeline: Option<String>,
        /// Walk as a configuration value (every provider answers)
        #[arg(long)]
        config: bool,
    },
    /// Show the name PATH has in every provider, or why a vault cannot hold it
    Names {
        /// Dotted path
        path: String,
    },
    /// Print the resolved document; secrets masked unless --reveal
    Export {
        /// Output format: toml, json, env (`export NAME='value'` lines for eval or source), dotenv (`NAME='value'` lines)
        #[arg(long, value_enum, default_value_t = Format::Toml)]
        format: Format,
        /// Print secret values instead of masks
        #[arg(long)]
        reveal: bool,
        /// Also the [providers] vault bootstrap settings (vault credentials)
        #[arg(long)]
        with_bootstrap: bool,
        /// Also the pipeline's own vault document (PIPELINE.dlt_secrets_toml)
        #[arg(long, value_name = "P")]
        pipeline: Option<String>,
    },
    /// Run CMD with the resolved values as environment variables
    Exec(exec::ExecArgs),
    /// Check secrets files (git, permissions, placeholders, vault scope) and dry-run each enabled vault
    Check,
    /// Store the profile's secrets files as a new version of the vault's dlt_secrets_toml, after showing what changes
    Push {
        /// The vault to push to; needed when several are enabled
        #[arg(long, value_name = "VAULT")]
        vault: Option<String>,
        /// Push to PIPELINE.dlt_secrets_toml, under a [PIPELINE] table
        #[arg(long, value_name = "P")]
        pipeline: Option<String>,
        /// Show what would change and store nothing
        #[arg(long)]
        dry_run: bool,
        /// Confirm a push that removes keys the current version holds
        #[arg(long)]
        yes: bool,
    },
    /// List the versions of the vault's dlt_secrets_toml: number, time, state and key tree (no values)
    Versions {
        /// The vault; needed when several are enabled
        #[arg(long, value_name = "VAULT")]
        vault: Option<String>,
        /// The pipeline's PIPELINE.dlt_secrets_toml instead
        #[arg(long, value_name = "P")]
        pipeline: Option<String>,
    },
    /// Show the workspace's directories and files, or clean its local data
    Workspace {
        #[command(subcommand)]
        action: WorkspaceAction,
    },
}

#[derive(Debug, Subcommand)]
enum WorkspaceAction {
    /// Show directories, profile and the files read or probed
    Info,
    /// Delete the active profile's local data directory (.dlt/data/PROFILE)
    Clean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Toml,
    Json,
    Env,
    Dotenv,
}

/// The log levels `STRATA_LOG` takes.
const LOG_LEVELS: &str = "error, warn, info, debug, trace";

/// Starts logging to stderr at the level `STRATA_LOG` names (default
/// `warn`). Only strata's own events are written, at every level: the
/// vault clients' logs can hold request headers (a session token at
/// `trace`), so they never reach the output.
fn init_logging() -> Result<(), String> {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = match std::env::var_os("STRATA_LOG") {
        None => tracing::Level::WARN,
        Some(v) => match v.to_string_lossy().to_ascii_lowercase().as_str() {
            "" | "warn" | "warning" => tracing::Level::WARN,
            "trace" => tracing::Level::TRACE,
            "debug" => tracing::Level::DEBUG,
            "info" => tracing::Level::INFO,
            "error" => tracing::Level::ERROR,
            _ => {
                return Err(format!(
                    "STRATA_LOG must be one of {LOG_LEVELS} (it is {:?})",
                    v.to_string_lossy()
                ));
            }
        },
    };
    let ours = tracing_subscriber::filter::filter_fn(move |meta| {
        meta.target().starts_with("strata") && *meta.level() <= level
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(std::io::stderr().is_terminal());
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::Layer::with_filter(layer, ours))
        .try_init();
    Ok(())
}

/// The command line, with the help texts that list the vault backends.
fn command() -> clap::Command {
    use clap::CommandFactory;
    let vaults = strata_secrets::vaults::known_names();
    let vault_help = |what: &str| format!("{what} ({vaults}); needed when several are enabled");
    Cli::command()
        .mut_subcommand("push", |c| {
            c.mut_arg("vault", |a| a.help(vault_help("The vault to push to")))
        })
        .mut_subcommand("versions", |c| {
            c.mut_arg("vault", |a| a.help(vault_help("The vault")))
        })
        .mut_subcommand("get", |c| {
            c.mut_arg("vault", |a| {
                a.help(vault_help("The vault --vault-version reads"))
            })
        })
}

/// The longest a command may run, vault retries included: `STRATA_DEADLINE`
/// seconds, default 300.
fn deadline() -> Result<Duration, String> {
    match std::env::var_os("STRATA_DEADLINE") {
        None => Ok(Duration::from_secs(300)),
        Some(v) => v
            .to_str()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                "STRATA_DEADLINE must be a number of seconds above 0 and at most 86400".to_owned()
            }),
    }
}

/// The runtime every command runs on. Building it can fail for want of
/// resources (few file descriptors: `ulimit -n 6`), and tokio's signal set-up
/// panics then rather than returning an error: that panic is caught, silently,
/// and reported as the error it is.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let built = std::panic::catch_unwind(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    });
    std::panic::set_hook(hook);
    match built {
        Ok(Ok(rt)) => Ok(rt),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "out of resources".to_owned())),
    }
}

/// Set once the command's own work is done and a supervised `exec` runs
/// the child: the deadline no longer applies.
static DISARMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The command deadline as a hard bound ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)): the command
/// itself stops at `deadline` when its work yields, and this timer ends the
/// process half a second later when it does not (a client blocked in a
/// read, a blocking thread), whatever it is doing. `exec` replaces the
/// process, and the timer with it, before running the command; a
/// supervised `exec` disarms it once the values are resolved.
fn watchdog(deadline: Duration) {
    let spawned = std::thread::Builder::new()
        .name("strata-deadline".to_owned())
        .spawn(move || {
            std::thread::sleep(deadline + Duration::from_millis(500));
            if DISARMED.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            output::error_line(&format!(
                "error: the command did not finish within {} s (STRATA_DEADLINE)",
                deadline.as_secs_f64()
            ));
            std::process::exit(2);
        });
    if let Err(e) = spawned {
        tracing::debug!(target: "strata", "no deadline timer ({e}): the command's own timeout still applies");
    }
}

/// Parses `args` and runs the command.
pub(crate) fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    let matches = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            // --help and --version are successes; the rest bad usage (2)
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    if let Err(e) = init_logging() {
        output::error_line(&format!("error: {e}"));
        return ExitCode::from(2);
    }
    let deadline = match deadline() {
        Ok(d) => d,
        Err(e) => {
            output::error_line(&format!("error: {e}"));
            return ExitCode::from(2);
        }
    };
    watchdog(deadline);
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            output::error_line(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(2);
        }
    };
    let json = cli.json;
    let mut out = Out::default();
    let result = runtime.block_on(async {
        let next = match tokio::time::timeout(deadline, commands::dispatch(cli, &mut out)).await {
            Ok(result) => result,
            Err(_) => Err(strata_secrets::Error::new(
                strata_secrets::ErrorKind::Unavailable,
                format!(
                    "the command did not finish within {} s (STRATA_DEADLINE)",
                    deadline.as_secs_f64()
                ),
            )),
        };
        match next {
            Ok(exec::Exec::Done(code)) => Ok(code),
            Ok(exec::Exec::Supervised(run)) => {
                // the values are resolved: the child runs as long as it runs
                DISARMED.store(true, std::sync::atomic::Ordering::SeqCst);
                run.run().await
            }
            Err(e) => Err(e),
        }
    });
    // tasks still running (a DNS lookup on a blocking thread, a hung
    // client) are left behind, not waited for
    runtime.shutdown_background();
    // what was written so far goes out first, then the error
    if let Err(code) = out.flush() {
        return code;
    }
    match result {
        Ok(code) => code,
        Err(e) => {
            output::report_error(&e, json);
            ctx::exit_code(&e)
        }
    }
}
