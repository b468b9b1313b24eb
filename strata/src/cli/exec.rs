//! `strata exec`: run a command with the resolved values ([docs/cli.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/cli/index.html),
//! [docs/runtime.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/runtime/index.html)). Without `--redact`, `--files` or `--watch` strata
//! replaces itself with the command; with any of them it stays the parent
//! (`supervise`).

use super::ctx::{Ctx, usage};
use super::handoff::{FileSet, split};
use super::output::{error_line, warnings};
use super::supervise::{Rebuild, Run, supervise};
use crate::document::{
    ChildEnvironment, Document, Scope, VariableOptions, VariableUse, check_command_size,
    resolve_document, variables,
};
use crate::redact::Redactor;
use futures::stream::{BoxStream, StreamExt};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use strata_secrets::{Error, ErrorKind, Lookup, Path, Strata, Value};

/// The options of `exec`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExecArgs {
    /// Also give values under PIPELINE. by their unscoped names
    #[arg(long, value_name = "P")]
    pub(crate) pipeline: Option<String>,
    /// Give CMD only the values under these sections (dotted paths: `--only sources.pipedrive destination`)
    #[arg(long, value_name = "SECTION", num_args = 1..)]
    pub(crate) only: Vec<String>,
    /// Mask every secret (4 characters or more, and its JSON, URL and base64 forms) in CMD's stdout and stderr with ***
    #[arg(long)]
    pub(crate) redact: bool,
    /// Hand tables, multi-line secrets and values too long for a variable to CMD as files (mode 600), each named by a VAR_FILE variable; a table that is a vault vendor's key file (a service account) also sets the variable its client libraries read. In DIR (`--files=DIR`), or a private directory under $XDG_RUNTIME_DIR; removed when CMD exits
    #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true)]
    pub(crate) files: Option<Option<PathBuf>>,
    /// Restart CMD when a value it was given changes (a rotated secret: set the vault's max_age)
    #[arg(long)]
    pub(crate) watch: bool,
    /// With --watch: send CMD this signal instead of restarting it (HUP, USR1, USR2, INT, TERM, QUIT)
    #[arg(long, value_name = "SIGNAL", requires = "watch")]
    pub(crate) on_change_signal: Option<String>,
    /// With --watch: seconds between two looks at the values (a tenth more or less, at random)
    #[arg(long, value_name = "SECONDS", requires = "watch", default_value_t = 60)]
    pub(crate) watch_interval: u64,
    /// Also hand the [providers] vault bootstrap settings (vault credentials) to CMD
    #[arg(long)]
    pub(crate) with_bootstrap: bool,
    /// The command and its arguments, after --
    #[arg(required = true, last = true, value_name = "CMD")]
    pub(crate) command: Vec<String>,
}

/// The signals `--on-change-signal` takes.
fn signal_named(name: &str) -> Result<i32, Error> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    Ok(match bare {
        "HUP" => SIGHUP,
        "USR1" => SIGUSR1,
        "USR2" => SIGUSR2,
        "INT" => SIGINT,
        "TERM" => SIGTERM,
        "QUIT" => SIGQUIT,
        _ => {
            return Err(usage(format!(
                "`--on-change-signal {name}` is not a signal strata sends: use HUP, USR1, USR2, INT, TERM or QUIT"
            )));
        }
    })
}

/// How long revoking the leases may take once the command is done.
const CLOSE_WITHIN: Duration = Duration::from_secs(10);

/// The command after the values are resolved: run in place, or supervised.
pub(crate) enum Exec {
    /// strata replaced itself (or could not): this is the exit code.
    Done(ExitCode),
    /// strata stays the parent.
    Supervised(Box<Supervised>),
}

/// Everything the supervised run needs, resolved under the command
/// deadline; running it is not.
pub(crate) struct Supervised {
    run: Run,
    env: Vec<(OsString, OsString)>,
    delivery: Delivery,
}

impl Supervised {
    /// Runs the command to its end, then removes the files.
    pub(crate) async fn run(mut self) -> Result<ExitCode, Error> {
        let code = supervise(self.run, self.env, &mut self.delivery).await;
        // after the child is gone: its leases revoked, its files removed
        if tokio::time::timeout(CLOSE_WITHIN, self.delivery.strata.close())
            .await
            .is_err()
        {
            error_line(&format!(
                "warning: the leased credentials were not all revoked within {} s: they end with their TTL",
                CLOSE_WITHIN.as_secs()
            ));
        }
        drop(self.delivery);
        code
    }
}

/// What the child is given, and how to give it again.
struct Delivery {
    strata: Strata,
    scope: Scope,
    pipeline: Option<String>,
    only: Vec<Path>,
    files: Option<FileSet>,
    base_env: Vec<(OsString, OsString)>,
    watch: Option<BoxStream<'static, Result<strata_secrets::Change, Error>>>,
    on_change_signal: Option<i32>,
    masks: Option<Arc<crate::redact::Masks>>,
    /// Every secret given so far (a rotated one stays masked).
    secrets: Vec<String>,
}

/// What one look at the document gives the child.
struct Given {
    env: Vec<(OsString, OsString)>,
    /// Secret values, for the output filter.
    secrets: Vec<String>,
    /// The paths of the values given, for `--watch`: (path, looked up as
    /// a secret).
    watched: Vec<(String, bool)>,
}

/// The secret string values of a document, for the output filter.
fn secrets_of(doc: &Document) -> Vec<String> {
    doc.entries
        .iter()
        .filter(|e| e.secret)
        .filter_map(|e| match e.expose() {
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

impl Delivery {
    /// Resolves the document and makes the child's environment (files
    /// written).
    async fn give(&mut self) -> Result<Given, Error> {
        let doc = resolve_document(&self.strata, &self.scope).await?;
        warnings(&doc.warnings);
        let opts = VariableOptions {
            pipeline: self.pipeline.as_deref(),
            reveal: true,
            used: if self.files.is_some() {
                VariableUse::ChildWithFiles
            } else {
                VariableUse::Child
            },
            only: &self.only,
        };
        let vars = variables(&doc, &opts)?;
        warnings(&vars.skipped);
        check_only(&self.only, &doc, &vars)?;
        let watched = vars
            .vars
            .values()
            .map(|v| (v.entry.path.to_string(), v.entry.secret))
            .collect();
        let mut given: Vec<(String, String)> = Vec::new();
        match &mut self.files {
            Some(files) => {
                let split = split(&vars)?;
                given.extend(files.write(&split)?);
                given.extend(split.vars.iter().cloned());
            }
            None => given.extend(vars.pairs().map(|(k, v)| (k.to_owned(), v.to_owned()))),
        }
        let mut env: Vec<(OsString, OsString)> = self
            .base_env
            .iter()
            .filter(|(name, _)| !given.iter().any(|(g, _)| name.as_os_str() == g.as_str()))
            .cloned()
            .collect();
        env.extend(given.into_iter().map(|(k, v)| (k.into(), v.into())));
        Ok(Given {
            env,
            secrets: secrets_of(&doc),
            watched,
        })
    }
}

#[async_trait::async_trait]
impl Rebuild for Delivery {
    async fn changed(&mut self) -> Option<()> {
        let stream = self.watch.as_mut()?;
        loop {
            match stream.next().await? {
                Ok(change) => {
                    tracing::info!(target: "strata", "{} changed", change.path);
                    return Some(());
                }
                Err(e) => error_line(&format!(
                    "warning: cannot look at the values again ({e}); the command keeps running"
                )),
            }
        }
    }

    async fn environment(&mut self) -> Result<Vec<(OsString, OsString)>, Error> {
        let given = self.give().await?;
        for s in given.secrets {
            if !self.secrets.contains(&s) {
                self.secrets.push(s);
            }
        }
        if let Some(masks) = &self.masks {
            masks.replace(
                Redactor::new(self.secrets.iter().map(String::as_str))
                    .map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?,
            );
        }
        Ok(given.env)
    }

    fn on_change_signal(&self) -> Option<i32> {
        self.on_change_signal
    }
}

/// An `--only` section that gives the child nothing is a mistake: say
/// which sections there are.
fn check_only(
    only: &[Path],
    doc: &Document,
    vars: &crate::document::Variables<'_>,
) -> Result<(), Error> {
    for section in only {
        if vars
            .vars
            .values()
            .any(|v| v.path.segments().starts_with(section.segments()))
        {
            continue;
        }
        let mut tops: Vec<&str> = doc
            .entries
            .iter()
            .filter_map(|e| e.path.segments().first().map(String::as_str))
            .collect();
        tops.sort_unstable();
        tops.dedup();
        return Err(usage(format!(
            "`--only {section}` gives the command no value: no key is under it (the document's sections: {})",
            if tops.is_empty() {
                "none".to_owned()
            } else {
                tops.join(", ")
            }
        )));
    }
    Ok(())
}

/// Resolves the values and runs the command: in place, or supervised.
pub(crate) async fn exec(ctx: &Ctx, args: ExecArgs) -> Result<Exec, Error> {
    let Some((program, rest)) = args.command.split_first() else {
        return Err(usage("exec needs a command after --"));
    };
    let (only, on_change_signal) = checked_args(&args)?;
    let strata = ctx.open().await?;
    let filter = ChildEnvironment::new(&strata, args.with_bootstrap);
    let base_env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(name, _)| filter.keeps(name))
        .collect();
    let files = args
        .files
        .as_ref()
        .map(|d| FileSet::open(d.as_deref()))
        .transpose()?;
    // leased credentials are revoked when the command is done: strata
    // stays to do it
    let supervised = args.redact || files.is_some() || args.watch || strata.has_leases();
    let mut delivery = Delivery {
        strata: strata.clone(),
        scope: Scope {
            with_bootstrap: args.with_bootstrap,
            pipeline: args.pipeline.clone(),
        },
        pipeline: args.pipeline.clone(),
        only,
        files,
        base_env,
        watch: None,
        on_change_signal,
        masks: None,
        secrets: Vec::new(),
    };
    let given = delivery.give().await?;
    check_command_size(
        args.command.iter().map(std::ffi::OsStr::new),
        given
            .env
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str())),
    )?;
    if !supervised {
        return Ok(Exec::Done(exec_in_place(program, rest, given.env)));
    }
    if args.watch {
        warn_unwatched_vaults(&strata);
        delivery.watch = Some(watch_stream(
            &strata,
            &given.watched,
            Duration::from_secs(args.watch_interval),
        ));
    }
    delivery.secrets = given.secrets;
    let redactor = if args.redact {
        let r = Redactor::new(delivery.secrets.iter().map(String::as_str))
            .map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?;
        let masks = Arc::new(crate::redact::Masks::new(r));
        delivery.masks = Some(Arc::clone(&masks));
        Some(masks)
    } else {
        None
    };
    Ok(Exec::Supervised(Box::new(Supervised {
        run: Run {
            program: program.clone(),
            args: rest.to_vec(),
            redactor,
        },
        env: given.env,
        delivery,
    })))
}

/// The `--only` sections and the `--on-change-signal`, checked before
/// anything is read.
fn checked_args(args: &ExecArgs) -> Result<(Vec<Path>, Option<i32>), Error> {
    let only = args
        .only
        .iter()
        .map(|s| {
            Path::parse(s).map_err(|e| usage(format!("`--only {s}` is not a section path: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let on_change_signal = args
        .on_change_signal
        .as_deref()
        .map(signal_named)
        .transpose()?;
    if args.watch && args.watch_interval == 0 {
        return Err(usage("`--watch-interval` is at least 1 second"));
    }
    Ok((only, on_change_signal))
}

/// `--watch` sees a vault's changes only through its `max_age`: says so
/// for each vault without one.
fn warn_unwatched_vaults(strata: &Strata) {
    for v in strata.vaults() {
        if v.provider.options().max_age.is_none() {
            error_line(&format!(
                "warning: `--watch` sees changes in {} only when it has a max_age: set `{}.max_age` (seconds) in [providers]",
                v.provider.given_backend().location(),
                v.descriptor.section
            ));
        }
    }
}

/// One stream of the changes of every value given, secret lookups and
/// configuration lookups alike.
fn watch_stream(
    strata: &Strata,
    watched: &[(String, bool)],
    every: Duration,
) -> BoxStream<'static, Result<strata_secrets::Change, Error>> {
    let of = |secret: bool| -> Vec<&str> {
        watched
            .iter()
            .filter(|(_, s)| *s == secret)
            .map(|(p, _)| p.as_str())
            .collect()
    };
    let lookup = |secret| Lookup {
        secret,
        pipeline: None,
    };
    futures::stream::select(
        strata.watch(&of(true), &lookup(true), every),
        strata.watch(&of(false), &lookup(false), every),
    )
    .boxed()
}

/// Replaces strata with the command (as a shell does: 127 when it is not
/// found, 126 when it cannot be run).
fn exec_in_place(program: &str, args: &[String], env: Vec<(OsString, OsString)>) -> ExitCode {
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).env_clear().envs(env);
    let failed = |e: std::io::Error| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        };
        error_line(&format!("error: cannot run `{program}`: {e}"));
        ExitCode::from(code)
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        failed(cmd.exec())
    }
    #[cfg(not(unix))]
    {
        match cmd.status() {
            Ok(status) => {
                ExitCode::from(u8::try_from(status.code().unwrap_or(2).clamp(0, 255)).unwrap_or(2))
            }
            Err(e) => failed(e),
        }
    }
}
