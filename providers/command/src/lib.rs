//! A backend for strata's vault engine that asks a command for each
//! secret: a password manager's CLI (`pass show`, `op read`, `bw get`,
//! `secret-tool lookup`, `security find-generic-password -w`) or a script
//! ([docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html), "A command").
//!
//! ```toml
//! [providers]
//! enable_command = true
//!
//! [providers.command]          # in a secrets file, the global directory, or PROVIDERS__COMMAND__*
//! fetch = ["pass", "show", "{name}"]
//! prefix = "dlt/"
//! not_found_stderr = "is not in the password store"
//! ```
//!
//! The protocol: `{name}` in each argument becomes the secret's name (the
//! arguments go to the program as they are: no shell ever reads them);
//! standard output is the value (one final line break dropped, unless
//! `trim_newline = false`); exit status 0 means found, `not_found_status`
//! or a standard error holding `not_found_stderr` means not found, and
//! anything else is an error that shows the command's standard error (as
//! text, never the value). A command that takes longer than `timeout` is
//! killed with its process group. The `list` command, when set, prints one
//! name per line.
//!
//! Trust ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)): the command line is a program to run, so it
//! may come only from the user (the environment, the global directory, a
//! secrets file); a workspace's `config.toml`, which a repository commits,
//! may not set it.
#![warn(missing_docs)]

use async_trait::async_trait;
use secrecy::SecretString;
use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use strata_secrets_core::naming::{VaultNaming, shown};
use strata_secrets_core::typed::Configuration;
use strata_secrets_core::vault::kit::Backend;
use strata_secrets_core::vault::{
    Capabilities, CommonSettings, Descriptor, Fetched, VaultBackend, VaultOptions,
};
use strata_secrets_core::{Environment, Error, ErrorKind};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The settings table, `[providers.command]`.
const SECTION: &str = "command";

/// Names: normalized segments joined with the separator (`/` unless
/// `separator` says otherwise) after the prefix; letters, digits and
/// `/_-.:`; at most 256 characters; values up to 1 MiB.
const NAMING: VaultNaming = VaultNaming {
    vault: "the command",
    prefix: Cow::Borrowed(""),
    separator: "/",
    replace: &[],
    extra_chars: "/_-.:",
    max_name_len: 256,
    max_value_len: MAX_VALUE,
    case_insensitive: false,
};

/// The most a command may print as a value.
const MAX_VALUE: usize = 1024 * 1024;
/// The most of a command's standard error kept, and shown in an error.
const MAX_STDERR: usize = 64 * 1024;
/// How much of the standard error an error message shows.
const SHOWN_STDERR: usize = 600;

/// The descriptor the facade registers: `[providers] enable_command =
/// true`, settings in `[providers.command]` ([`CommandSettings`]).
pub static DESCRIPTOR: Descriptor = Descriptor::of::<CommandBackend>();

/// `[providers.command]`.
#[derive(Configuration, Debug)]
#[config(crate = "strata_secrets_core")]
pub struct CommandSettings {
    /// The options every vault has.
    #[config(flatten)]
    pub common: CommonSettings,
    /// The program and its arguments that print one secret; `{name}` in an
    /// argument becomes the secret's name.
    pub fetch: Vec<String>,
    /// The program and its arguments that print every name, one a line.
    pub list: Option<Vec<String>>,
    /// The exit status that means "no such secret".
    pub not_found_status: Option<i64>,
    /// Text in the standard error that means "no such secret".
    pub not_found_stderr: Option<String>,
    /// Put before every name (`dlt/`).
    #[config(default = String::new())]
    pub prefix: String,
    /// Between a name's segments: `/`, `-`, `_`, `.`, `:`, `__` or `--`.
    #[config(default = "/".to_owned())]
    pub separator: String,
    /// Drop one line break at the end of the output.
    #[config(default = true)]
    pub trim_newline: bool,
    /// How many commands may run at once (a password manager's agent, such
    /// as GnuPG's, can fail when hundreds of clients ask together).
    #[config(default = DEFAULT_PARALLEL)]
    pub parallel: i64,
}

/// Commands run at once unless `parallel` says otherwise.
const DEFAULT_PARALLEL: i64 = 8;
/// The most `parallel` may be.
const MAX_PARALLEL: i64 = 256;

impl AsRef<CommonSettings> for CommandSettings {
    fn as_ref(&self) -> &CommonSettings {
        &self.common
    }
}

/// The backend: the commands, and how to read their answers.
pub struct CommandBackend {
    fetch: Vec<String>,
    list: Option<Vec<String>>,
    not_found_status: Option<i32>,
    not_found_stderr: Option<String>,
    trim_newline: bool,
    naming: VaultNaming,
    timeout: Duration,
    env: Vec<(OsString, OsString)>,
    /// One permit per command running.
    running: tokio::sync::Semaphore,
}

impl fmt::Debug for CommandBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandBackend")
            .field("fetch", &self.fetch)
            .field("list", &self.list)
            .finish_non_exhaustive()
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::ConfigInvalid, message).with_provider(SECTION)
}

/// A command line from the settings: a program and its arguments.
fn command_line(key: &str, argv: Vec<String>) -> Result<Vec<String>, Error> {
    match argv.first() {
        Some(program) if !program.trim().is_empty() => Ok(argv),
        _ => Err(invalid(format!(
            "`providers.{SECTION}.{key}` must name a program and its arguments, as a list: [\"pass\", \"show\", \"{{name}}\"]"
        ))),
    }
}

#[async_trait]
impl Backend for CommandBackend {
    const NAME: &'static str = "command";
    const SECTION: &'static str = SECTION;
    const NAMING: VaultNaming = NAMING;
    const PROGRAM_KEYS: &'static [&'static str] = &["fetch", "list"];
    type Settings = CommandSettings;

    async fn connect(
        s: CommandSettings,
        options: &VaultOptions,
        env: &Environment,
    ) -> Result<Self, Error> {
        let fetch = command_line("fetch", s.fetch)?;
        if !fetch.iter().any(|a| a.contains("{name}")) {
            return Err(invalid(format!(
                "`providers.{SECTION}.fetch` must hold `{{name}}` in an argument: where the secret's name goes"
            )));
        }
        let list = s.list.map(|l| command_line("list", l)).transpose()?;
        let separator: &'static str = match s.separator.as_str() {
            "/" => "/",
            "-" => "-",
            "_" => "_",
            "." => ".",
            ":" => ":",
            "__" => "__",
            "--" => "--",
            _ => {
                return Err(invalid(format!(
                    "`providers.{SECTION}.separator` must be one of / - _ . : __ --"
                )));
            }
        };
        let naming = VaultNaming {
            separator,
            ..NAMING.with_prefix(s.prefix.clone())
        };
        if let Some(c) = s
            .prefix
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "/_-.:".contains(*c)))
        {
            return Err(invalid(format!(
                "`providers.{SECTION}.prefix` may hold only letters, digits and /_-.: (not {})",
                c.escape_debug()
            )));
        }
        let not_found_status = s
            .not_found_status
            .map(|n| {
                i32::try_from(n)
                    .ok()
                    .filter(|n| (1..=255).contains(n))
                    .ok_or_else(|| {
                        invalid(format!(
                            "`providers.{SECTION}.not_found_status` must be an exit status from 1 to 255"
                        ))
                    })
            })
            .transpose()?;
        let parallel = usize::try_from(s.parallel)
            .ok()
            .filter(|n| (1..=MAX_PARALLEL as usize).contains(n))
            .ok_or_else(|| {
                invalid(format!(
                    "`providers.{SECTION}.parallel` must be from 1 to {MAX_PARALLEL}: how many commands may run at once"
                ))
            })?;
        Ok(CommandBackend {
            running: tokio::sync::Semaphore::new(parallel),
            fetch,
            list,
            not_found_status,
            not_found_stderr: s.not_found_stderr.filter(|t| !t.is_empty()),
            trim_newline: s.trim_newline,
            naming,
            timeout: options.timeout,
            env: env
                .iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v)))
                .collect(),
        })
    }

    /// With the separator, case and length the settings give.
    fn naming(&self) -> VaultNaming {
        self.naming.clone()
    }
}

/// What a command did.
struct Ran {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Reads at most `cap` bytes; `Err(())` when there is more.
async fn read_capped(from: Option<impl AsyncRead + Unpin>, cap: usize) -> Result<Vec<u8>, ()> {
    let mut out = Vec::new();
    let Some(from) = from else { return Ok(out) };
    let mut limited = from.take(cap as u64 + 1);
    if limited.read_to_end(&mut out).await.is_err() {
        return Ok(out);
    }
    if out.len() > cap {
        secrecy::zeroize::Zeroize::zeroize(&mut out);
        return Err(());
    }
    Ok(out)
}

/// Stops the command and every process it started (its process group).
fn kill_group(pid: Option<u32>) {
    let Some(pid) = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
}

impl CommandBackend {
    /// The command line shown in messages (the program and its arguments,
    /// names filled in: no value is ever in it).
    fn shown(argv: &[String]) -> String {
        shown(&argv.join(" ")).into_owned()
    }

    /// The standard error, as text for a message.
    fn stderr_text(stderr: &[u8]) -> String {
        let text = String::from_utf8_lossy(stderr);
        let text = text.trim();
        if text.is_empty() {
            return "nothing on its standard error".to_owned();
        }
        let mut cut: String = text.chars().take(SHOWN_STDERR).collect();
        if cut.len() < text.len() {
            cut.push_str(" ...");
        }
        format!("its standard error: {}", shown(&cut))
    }

    fn failed(&self, message: String) -> Error {
        Error::new(ErrorKind::Unavailable, message)
            .set_temporary(false)
            .with_provider(SECTION)
    }

    /// Runs `argv` within the timeout, its process group killed when the
    /// time is up.
    async fn run(&self, argv: &[String], key: &str) -> Result<Ran, Error> {
        let Some((program, args)) = argv.split_first() else {
            return Err(invalid(format!("`providers.{SECTION}.{key}` is empty")));
        };
        // never closed, so acquiring fails only if it were; then run anyway
        let _permit = self.running.acquire().await.ok();
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env_clear()
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| {
            invalid(format!(
                "cannot run `{}` (providers.{SECTION}.{key}): {e}; install it, or fix the setting",
                shown(program)
            ))
        })?;
        let pid = child.id();
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let work = async {
            let (out, err) = tokio::join!(
                read_capped(stdout, MAX_VALUE),
                read_capped(stderr, MAX_STDERR)
            );
            let status = child.wait().await;
            (out, err, status)
        };
        let finished = tokio::time::timeout(self.timeout, work).await;
        let (out, err, status) = match finished {
            Ok(done) => done,
            Err(_) => {
                kill_group(pid);
                let _ = child.wait().await;
                return Err(self.failed(format!(
                    "`{}` did not finish within {} s (providers.{SECTION}.timeout): it was stopped, with every process it started",
                    Self::shown(argv),
                    self.timeout.as_secs_f64()
                )));
            }
        };
        // what it started and left behind goes with it
        kill_group(pid);
        let status = status
            .map_err(|e| self.failed(format!("cannot wait for `{}`: {e}", Self::shown(argv))))?;
        let Ok(stdout) = out else {
            return Err(self.failed(format!(
                "`{}` printed more than {} bytes: no secret is that long",
                Self::shown(argv),
                MAX_VALUE
            )));
        };
        Ok(Ran {
            status,
            stdout,
            stderr: err.unwrap_or_default(),
        })
    }

    fn argv_for(&self, name: &str) -> Vec<String> {
        self.fetch
            .iter()
            .map(|a| a.replace("{name}", name))
            .collect()
    }

    fn not_found(&self, ran: &Ran) -> bool {
        self.not_found_status.is_some() && ran.status.code() == self.not_found_status
            || self
                .not_found_stderr
                .as_deref()
                .is_some_and(|pattern| String::from_utf8_lossy(&ran.stderr).contains(pattern))
    }

    /// The failure of a command, with its status and standard error.
    fn status_error(&self, argv: &[String], ran: &Ran) -> Error {
        use std::os::unix::process::ExitStatusExt;
        let how = match (ran.status.code(), ran.status.signal()) {
            (Some(code), _) => format!("exited with status {code}"),
            (None, Some(sig)) => format!("was ended by signal {sig}"),
            _ => "failed".to_owned(),
        };
        self.failed(format!(
            "`{}` {how}; {}",
            Self::shown(argv),
            Self::stderr_text(&ran.stderr)
        ))
    }
}

#[async_trait]
impl VaultBackend for CommandBackend {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: self.list.is_some(),
            store: false,
            versions: false,
            empty_values: true,
            binary_values: true,
        }
    }

    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        let argv = self.argv_for(name);
        let mut ran = self.run(&argv, "fetch").await?;
        if !ran.status.success() {
            secrecy::zeroize::Zeroize::zeroize(&mut ran.stdout);
            if self.not_found(&ran) {
                return Ok(Fetched::NotFound);
            }
            return Err(self.status_error(&argv, &ran));
        }
        let mut out = std::mem::take(&mut ran.stdout);
        if self.trim_newline {
            if out.ends_with(b"\r\n") {
                out.truncate(out.len() - 2);
            } else if out.ends_with(b"\n") {
                out.truncate(out.len() - 1);
            }
        }
        match String::from_utf8(out) {
            Ok(text) => Ok(Fetched::Found(SecretString::from(text))),
            Err(e) => {
                let mut bytes = e.into_bytes();
                secrecy::zeroize::Zeroize::zeroize(&mut bytes);
                Err(Error::new(
                    ErrorKind::Conversion,
                    format!(
                        "`{}` printed a value that is not UTF-8 text",
                        Self::shown(&argv)
                    ),
                )
                .with_provider(SECTION))
            }
        }
    }

    async fn list(&self) -> Result<Vec<String>, Error> {
        let Some(argv) = &self.list else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("{SECTION} cannot list secrets: set `providers.{SECTION}.list`"),
            ));
        };
        let ran = self.run(argv, "list").await?;
        if !ran.status.success() {
            return Err(self.status_error(argv, &ran));
        }
        Ok(String::from_utf8_lossy(&ran.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }

    fn access_hint(&self) -> String {
        "access to the secret in the password manager".to_owned()
    }

    fn location(&self) -> String {
        format!("`{}`", Self::shown(&self.fetch))
    }
}
