//! The command line of `strata` (see `docs/cli.md`).

mod commands;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Configuration and secrets for data pipelines, read from dlt workspaces,
/// environment variables and TOML profiles.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, long_about = None)]
#[command(
    after_help = "Exit status: 0 on success, 1 when a value is missing (or `check` finds a problem), 2 on bad usage, bad input or any other error."
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
    /// Create .dlt/.workspace, config.toml, secrets.toml and a .gitignore for secrets
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
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Toml)]
        format: Format,
        /// Print secret values instead of masks
        #[arg(long)]
        reveal: bool,
    },
    /// Run CMD with the resolved values as environment variables
    Exec {
        /// Also give values under PIPELINE. by their unscoped names
        #[arg(long, value_name = "P")]
        pipeline: Option<String>,
        /// The command and its arguments, after --
        #[arg(required = true, last = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Check secrets files (git, permissions, placeholders, vault scope) and dry-run each enabled vault
    Check,
    /// Store the profile's merged secrets files as a new version of the vault's dlt_secrets_toml
    Push {
        /// The vault to push to; needed when several are enabled
        #[arg(long, value_name = "VAULT")]
        vault: Option<String>,
        /// Push to PIPELINE-dlt_secrets_toml, under a [PIPELINE] table
        #[arg(long, value_name = "P")]
        pipeline: Option<String>,
    },
    /// Show the workspace's directories and files, or clean its data
    Workspace {
        #[command(subcommand)]
        action: WorkspaceAction,
    },
}

#[derive(Debug, Subcommand)]
enum WorkspaceAction {
    /// Show directories, profile and the files read or probed
    Info,
    /// Delete the active profile's data directory (_local/PROFILE)
    Clean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Toml,
    Json,
    Env,
}

fn init_logging() {
    let level = match std::env::var("STRATA_LOG")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "trace" => tracing::Level::TRACE,
        "debug" => tracing::Level::DEBUG,
        "info" => tracing::Level::INFO,
        "error" => tracing::Level::ERROR,
        _ => tracing::Level::WARN,
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Parses the arguments and runs the command.
/// The command line, with the help texts that list the vault backends.
fn command() -> clap::Command {
    use clap::CommandFactory;
    let vaults = strata::vaults::known_names();
    Cli::command().mut_subcommand("push", |push| {
        push.mut_arg("vault", |arg| {
            arg.help(format!(
                "The vault to push to ({vaults}); needed when several are enabled"
            ))
        })
    })
}

pub(crate) fn main() -> ExitCode {
    use clap::FromArgMatches;
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(commands::run(cli))
}
