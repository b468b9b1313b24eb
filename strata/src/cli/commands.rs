//! The commands of the `strata` binary.

use super::{Cli, Command, Format, WorkspaceAction};
use serde_json::json;
use std::io::Write;
use std::path::{Path as FsPath, PathBuf};
use std::process::ExitCode;
use strata::Provider as _;
use strata::backends::BACKENDS;
use strata::check::run_local_checks;
use strata::document::{env_pairs, resolve_all, shell_quote, to_table};
use strata::naming::{env_var_name, run_secrets_file_name, toml_key};
use strata::{
    Environment, Error, ErrorKind, Lookup, Options, Outcome, Path, ProfileName, Strata, Trace,
    Value, Workspace, WorkspaceOptions,
};

/// Where Docker/Kubernetes secret files are read from (default /run/secrets).
const SECRETS_DIR_ENV: &str = "STRATA_SECRETS_DIR";

type CmdResult = Result<ExitCode, Error>;

fn usage(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::ConfigInvalid, message)
}

fn exit_code(e: &Error) -> ExitCode {
    if e.is_missing() {
        ExitCode::from(1)
    } else {
        ExitCode::from(2)
    }
}

pub(crate) async fn run(cli: Cli) -> ExitCode {
    let json_out = cli.json;
    match dispatch(cli).await {
        Ok(code) => code,
        Err(e) => {
            if json_out {
                let report = json!({
                    "error": {
                        "kind": e.kind().as_str(),
                        "message": e.to_string(),
                        "provider": e.provider(),
                        "path": e.path(),
                        "file": e.file().map(|f| f.display().to_string()),
                    }
                });
                eprintln!("{report}");
            } else {
                eprintln!("error: {}", e.to_string().trim_end());
            }
            exit_code(&e)
        }
    }
}

struct Ctx {
    workspace: Option<PathBuf>,
    profile: Option<String>,
    global_dir: Option<PathBuf>,
    json: bool,
    env: Environment,
}

impl Ctx {
    fn options(&self) -> Options {
        Options {
            run_dir: self.workspace.clone(),
            profile: self.profile.clone(),
            global_dir: self.global_dir.clone(),
            env: Some(self.env.clone()),
            secrets_dir: self.env.get_non_empty(SECRETS_DIR_ENV).map(PathBuf::from),
        }
    }

    /// Opens the project with its vaults.
    async fn open(&self) -> Result<Strata, Error> {
        Strata::open(self.options()).await
    }

    /// The workspace alone, without reading any TOML file.
    fn open_workspace(&self) -> Result<Workspace, Error> {
        Workspace::open(WorkspaceOptions {
            run_dir: self.workspace.clone(),
            profile: self.profile.clone(),
            global_dir: self.global_dir.clone(),
            env: self.env.clone(),
        })
    }

    fn secrets_dir(&self) -> PathBuf {
        PathBuf::from(
            self.env
                .get_non_empty(SECRETS_DIR_ENV)
                .unwrap_or(strata_env::DEFAULT_SECRETS_DIR),
        )
    }

    fn run_dir(&self) -> Result<PathBuf, Error> {
        match (
            &self.workspace,
            self.env.get_non_empty(strata::workspace::PROJECT_DIR_ENV),
        ) {
            (Some(d), _) => Ok(d.clone()),
            (None, Some(d)) => Ok(PathBuf::from(d)),
            (None, None) => std::env::current_dir().map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot read the current directory: {e}"),
                )
            }),
        }
    }
}

async fn dispatch(cli: Cli) -> CmdResult {
    let ctx = Ctx {
        workspace: cli.workspace,
        profile: cli.profile,
        global_dir: cli.global_dir,
        json: cli.json,
        env: Environment::from_process(),
    };
    match cli.command {
        Command::Init { name, dry_run } => init(&ctx, name, dry_run),
        Command::Profile { args } => profile(&ctx, &args),
        Command::Get {
            path,
            pipeline,
            config,
        } => get(&ctx, &path, pipeline, config).await,
        Command::Explain {
            path,
            pipeline,
            config,
        } => explain(&ctx, &path, pipeline, config).await,
        Command::Names { path } => names(&ctx, &path),
        Command::Export { format, reveal } => export(&ctx, format, reveal).await,
        Command::Exec { pipeline, command } => exec(&ctx, pipeline, &command).await,
        Command::Check => check(&ctx).await,
        Command::Push { vault, pipeline } => push(&ctx, vault, pipeline).await,
        Command::Workspace { action } => workspace(&ctx, action),
    }
}

fn print_json(value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    println!("{text}");
}

fn lookup(secret: bool, pipeline: Option<String>) -> Lookup {
    Lookup { secret, pipeline }
}

async fn get(ctx: &Ctx, path: &str, pipeline: Option<String>, config: bool) -> CmdResult {
    let strata = ctx.open().await?;
    let resolved = strata.get(path, &lookup(!config, pipeline)).await?;
    let value = resolved.expose();
    if ctx.json {
        println!("{}", value.to_json());
    } else {
        let mut out = std::io::stdout().lock();
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Table(_) => {
                toml::to_string(&value.to_toml()).unwrap_or_else(|_| value.to_text())
            }
            other => format!("{}\n", other.to_text()),
        };
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

fn outcome_text(o: &Outcome) -> String {
    o.to_string()
}

fn trace_json(trace: &Trace) -> serde_json::Value {
    json!(
        trace
            .entries
            .iter()
            .map(|e| json!({
                "provider": e.provider,
                "path": e.path.to_string(),
                "name": e.name,
                "outcome": outcome_text(&e.outcome),
            }))
            .collect::<Vec<_>>()
    )
}

fn print_trace(trace: &Trace) {
    let width = trace
        .entries
        .iter()
        .map(|e| e.provider.len())
        .max()
        .unwrap_or(0);
    let name_width = trace
        .entries
        .iter()
        .map(|e| e.name.chars().count())
        .max()
        .unwrap_or(0);
    for e in &trace.entries {
        println!(
            "  {:width$}  {:name_width$}  {}",
            e.provider,
            e.name,
            outcome_text(&e.outcome)
        );
    }
    for w in &trace.warnings {
        println!("  warning: {w}");
    }
}

async fn explain(ctx: &Ctx, path: &str, pipeline: Option<String>, config: bool) -> CmdResult {
    let strata = ctx.open().await?;
    let lookup = lookup(!config, pipeline);
    let kind = if config { "configuration" } else { "secret" };
    let profile = strata.workspace().profile().map(|p| p.to_string());
    match strata.walk(path, &lookup).await {
        Ok(resolved) => {
            let p = resolved.provenance();
            if ctx.json {
                print_json(&json!({
                    "path": path,
                    "lookup": kind,
                    "pipeline": lookup.pipeline,
                    "profile": profile,
                    "found": true,
                    "answered_at": resolved.path().to_string(),
                    "provider": p.provider,
                    "name": p.name,
                    "file": p.file.as_ref().map(|f| f.display().to_string()),
                    "line": p.line,
                    "kind": resolved.expose().kind(),
                    "trace": trace_json(resolved.trace()),
                    "warnings": resolved.trace().warnings,
                }));
            } else {
                println!(
                    "{kind} lookup of `{path}`, profile {}:",
                    profile.as_deref().unwrap_or("none (classic project)")
                );
                print_trace(resolved.trace());
                println!(
                    "answered by {p} at `{}`: a {} (value masked)",
                    resolved.path(),
                    resolved.expose().kind()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_missing() => {
            let Some(report) = e.missing_report() else {
                return Err(e);
            };
            if ctx.json {
                print_json(&json!({
                    "path": path,
                    "lookup": kind,
                    "pipeline": lookup.pipeline,
                    "profile": profile,
                    "found": false,
                    "trace": trace_json(&report.trace),
                    "warnings": report.trace.warnings,
                    "notes": report.notes,
                    "files": report.locations.iter().map(|l| json!({"location": l.location, "present": l.present})).collect::<Vec<_>>(),
                }));
            } else {
                print!("{report}");
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e),
    }
}

fn names(ctx: &Ctx, path: &str) -> CmdResult {
    let path = Path::parse(path)?;
    let secrets_file = ctx.secrets_dir().join(run_secrets_file_name(&path));
    // each vault's name under its default settings
    let vaults: Vec<(&str, &str, Result<String, strata::NameError>)> = BACKENDS
        .iter()
        .map(|d| (d.name, d.display_name(), d.naming.name(&path)))
        .collect();
    if ctx.json {
        let mut rows = serde_json::Map::new();
        rows.insert("toml".into(), json!(toml_key(&path)));
        rows.insert("env".into(), json!(env_var_name(&path)));
        rows.insert(
            "run_secrets".into(),
            json!(secrets_file.display().to_string()),
        );
        for (name, _, r) in &vaults {
            let v = match r {
                Ok(n) => json!({"name": n}),
                Err(e) => json!({"error": e.to_string()}),
            };
            rows.insert((*name).to_owned(), v);
        }
        print_json(&serde_json::Value::Object(rows));
        return Ok(ExitCode::SUCCESS);
    }
    let width = vaults
        .iter()
        .map(|(_, d, _)| d.len())
        .chain([15])
        .max()
        .unwrap_or(15);
    println!("{:<width$} {}", "TOML key", toml_key(&path));
    println!("{:<width$} {}", "environment", env_var_name(&path));
    println!("{:<width$} {}", "secret file", secrets_file.display());
    for (_, display, r) in &vaults {
        match r {
            Ok(name) => println!("{display:<width$} {name}"),
            Err(e) => println!("{display:<width$} cannot hold it: {e}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(ctx: &Ctx, format: Format, reveal: bool) -> CmdResult {
    let strata = ctx.open().await?;
    let entries = resolve_all(&strata).await?;
    let mut out = std::io::stdout().lock();
    let text = match format {
        Format::Toml => {
            let table = to_table(&entries, reveal);
            toml::to_string(&table.to_toml())
                .map_err(|e| Error::new(ErrorKind::Other, format!("cannot render TOML: {e}")))?
        }
        Format::Json => {
            let table = to_table(&entries, reveal);
            let mut s = serde_json::to_string_pretty(&table.to_json()).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Env => env_pairs(&entries, None, reveal)
            .iter()
            .map(|(k, v)| format!("{k}={}\n", shell_quote(v)))
            .collect(),
    };
    let _ = out.write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}

async fn exec(ctx: &Ctx, pipeline: Option<String>, command: &[String]) -> CmdResult {
    let strata = ctx.open().await?;
    let entries = resolve_all(&strata).await?;
    let pairs = env_pairs(&entries, pipeline.as_deref(), true);
    let Some((program, args)) = command.split_first() else {
        return Err(usage("exec needs a command after --"));
    };
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).envs(pairs);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(Error::new(
            ErrorKind::Io,
            format!("cannot run `{program}`: {err}"),
        ))
    }
    #[cfg(not(unix))]
    {
        let status = cmd
            .status()
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot run `{program}`: {e}")))?;
        Ok(ExitCode::from(
            status.code().unwrap_or(2).clamp(0, 255) as u8
        ))
    }
}

async fn check(ctx: &Ctx) -> CmdResult {
    let strata = Strata::open_local(ctx.options())?;
    let mut findings = run_local_checks(&strata).await;
    let vaults = strata::check::vault_dry_runs(&strata).await?;
    for v in vaults.iter().filter(|v| !v.ok) {
        findings.push(strata::check::Finding {
            check: "vault",
            file: None,
            message: format!("{}: {}", v.vault, v.message),
        });
    }
    if ctx.json {
        print_json(&json!({
            "profile": strata.workspace().profile().map(|p| p.to_string()),
            "vaults": vaults.iter().map(|v| json!({"vault": v.vault, "ok": v.ok, "message": v.message})).collect::<Vec<_>>(),
            "findings": findings.iter().map(|f| json!({
                "check": f.check,
                "file": f.file.as_ref().map(|p| p.display().to_string()),
                "message": f.message,
            })).collect::<Vec<_>>(),
        }));
    } else if findings.is_empty() {
        for v in &vaults {
            println!("ok [{}]: {}", v.vault, v.message);
        }
        println!("ok: no problems found in the secrets files");
    } else {
        for f in &findings {
            println!("warning [{}]: {}", f.check, f.message);
        }
        println!("{} problem(s) found", findings.len());
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn push(ctx: &Ctx, vault: Option<String>, pipeline: Option<String>) -> CmdResult {
    let strata = ctx.open().await?;
    strata.workspace().ensure_writable("push secrets")?;
    let enabled = strata.vaults();
    let target = match vault.as_deref() {
        Some(v) => {
            let Some(known) = strata::vaults::find(v) else {
                return Err(usage(format!(
                    "unknown vault `{v}`: the vaults are {}",
                    strata::vaults::known_names()
                )));
            };
            enabled
                .iter()
                .find(|e| std::ptr::eq(e.descriptor, known))
                .ok_or_else(|| {
                    usage(format!(
                        "the vault `{v}` is not enabled: set `[providers] {} = true` and its settings under [providers.{}]",
                        known.switch(),
                        known.section
                    ))
                })?
        }
        None => match enabled {
            [one] => one,
            [] => {
                return Err(usage(format!(
                    "no vault is enabled: set `[providers] enable_<vault> = true` and its settings (vaults: {})",
                    strata::vaults::known_names()
                )));
            }
            _ => {
                return Err(usage("several vaults are enabled: choose one with --vault"));
            }
        },
    };
    // the profile's TOML files only (not the environment), without the vault
    // bootstrap settings under [providers]
    let mut doc = strata
        .secrets_files()
        .document()
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default();
    doc.shift_remove("providers");
    let count = {
        let mut n = 0;
        Value::Table(doc.clone()).for_each_leaf(&mut |_, _| n += 1);
        n
    };
    let (path, doc) = match &pipeline {
        Some(p) => {
            let mut wrapped = strata::Table::default();
            wrapped.insert(p.clone(), Value::Table(doc));
            (
                Path::from_segments([p.as_str(), "dlt_secrets_toml"])?,
                wrapped,
            )
        }
        None => (Path::parse("dlt_secrets_toml")?, doc),
    };
    let text = toml::to_string(&Value::Table(doc).to_toml())
        .map_err(|e| Error::new(ErrorKind::Other, format!("cannot render TOML: {e}")))?;
    let secret = strata::secrecy::SecretString::from(text);
    let (name, version) = target.provider.store(&path, &secret).await?;
    let files: Vec<String> = strata
        .secrets_files()
        .files()
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    if ctx.json {
        print_json(
            &json!({"vault": target.descriptor.section, "secret": name, "version": version, "values": count, "files": files}),
        );
    } else {
        println!(
            "pushed {count} value(s) from {} to {} `{name}`: version {version}",
            if files.is_empty() {
                "no file".to_owned()
            } else {
                files.join(", ")
            },
            target.descriptor.section
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn workspace(ctx: &Ctx, action: WorkspaceAction) -> CmdResult {
    let ws = ctx.open_workspace()?;
    match action {
        WorkspaceAction::Info => workspace_info(ctx, &ws),
        WorkspaceAction::Clean => {
            ws.ensure_writable("clean the workspace")?;
            let Some(data) = ws.data_dir() else {
                return Err(usage(
                    "`workspace clean` needs a workspace (.dlt/.workspace); this is a classic project",
                ));
            };
            if data.is_dir() {
                std::fs::remove_dir_all(&data).map_err(|e| file_error("delete", &data, e))?;
                println!("deleted {}", data.display());
            } else {
                println!("nothing to clean: {} does not exist", data.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn workspace_info(ctx: &Ctx, ws: &Workspace) -> CmdResult {
    use strata::FileKind;
    let files: Vec<serde_json::Value> = [FileKind::Secrets, FileKind::Config]
        .iter()
        .flat_map(|k| ws.candidates(*k))
        .map(|c| json!({"file": c.path.display().to_string(), "present": c.path.is_file()}))
        .collect();
    let info = json!({
        "run_dir": ws.run_dir().display().to_string(),
        "mode": if ws.is_workspace() { "workspace" } else { "classic" },
        "settings_dir": ws.settings_dir().display().to_string(),
        "global_dir": ws.global_dir().display().to_string(),
        "profile": ws.profile().map(|p| p.to_string()),
        "profile_source": ws.profile_source().map(|s| s.to_string()),
        "files_profile": ws.files_profile().map(|p| p.to_string()),
        "pinned": ws.pinned_profile(),
        "read_only": ws.profile().is_some_and(ProfileName::is_read_only),
        "data_dir": ws.data_dir().map(|d| d.display().to_string()),
        "state_dir": ws.state_dir().map(|d| d.display().to_string()),
        "files": files,
    });
    if ctx.json {
        print_json(&info);
        return Ok(ExitCode::SUCCESS);
    }
    println!("run dir       {}", ws.run_dir().display());
    println!(
        "mode          {}",
        if ws.is_workspace() {
            "workspace"
        } else {
            "classic (no .dlt/.workspace)"
        }
    );
    println!("settings dir  {}", ws.settings_dir().display());
    println!("global dir    {}", ws.global_dir().display());
    if let Some(p) = ws.profile() {
        let source = ws
            .profile_source()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let ro = if p.is_read_only() { ", read-only" } else { "" };
        println!("profile       {p} (from {source}{ro})");
        if ws.files_profile() != Some(p)
            && let Some(fp) = ws.files_profile()
        {
            println!("files of      {fp} (`{p}` has no files of its own)");
        }
    }
    if let (Some(d), Some(s)) = (ws.data_dir(), ws.state_dir()) {
        println!("data dir      {}", d.display());
        println!("state dir     {}", s.display());
    }
    println!("files, most specific first:");
    for kind in [FileKind::Secrets, FileKind::Config] {
        for c in ws.candidates(kind) {
            let state = if c.path.is_file() {
                "read   "
            } else {
                "missing"
            };
            println!("  {state} {}", c.path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn profile(ctx: &Ctx, args: &[String]) -> CmdResult {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => profile_show(ctx),
        ["list"] => profile_list(ctx),
        ["unpin"] => {
            let settings = settings_dir_for_write(ctx)?;
            let pin = settings.join(strata::workspace::PIN_FILE);
            if pin.exists() {
                std::fs::remove_file(&pin).map_err(|e| file_error("remove", &pin, e))?;
                println!("unpinned: removed {}", pin.display());
            } else {
                println!("no profile is pinned");
            }
            Ok(ExitCode::SUCCESS)
        }
        [name, "pin"] => {
            let name = ProfileName::new(name)?;
            let settings = settings_dir_for_write(ctx)?;
            let pin = settings.join(strata::workspace::PIN_FILE);
            std::fs::write(&pin, format!("{name}\n")).map_err(|e| file_error("write", &pin, e))?;
            println!("pinned profile {name} in {}", pin.display());
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(usage("usage: strata profile [list | NAME pin | unpin]")),
    }
}

/// The settings directory of a workspace, for pin writes. Works even when
/// the current pin is invalid, so a bad pin can always be replaced.
fn settings_dir_for_write(ctx: &Ctx) -> Result<PathBuf, Error> {
    let run_dir = ctx.run_dir()?;
    let settings = run_dir.join(".dlt");
    if !settings.join(".workspace").exists() {
        return Err(usage(format!(
            "{} is a classic project without profiles: create .dlt/.workspace (or run `strata init`) to pin one",
            run_dir.display()
        )));
    }
    Ok(settings)
}

fn profile_show(ctx: &Ctx) -> CmdResult {
    let ws = ctx.open_workspace()?;
    let current = ws.profile().map(|p| p.to_string());
    if ctx.json {
        print_json(&json!({
            "current": current,
            "source": ws.profile_source().map(|s| s.to_string()),
            "pinned": ws.pinned_profile(),
            "workspace": ws.is_workspace(),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    match ws.profile() {
        Some(p) => println!(
            "current profile: {p} (from {})",
            ws.profile_source()
                .map(|s| s.to_string())
                .unwrap_or_default()
        ),
        None => {
            println!("no profiles: classic project (create .dlt/.workspace or run `strata init`)")
        }
    }
    if ws.is_workspace() {
        println!("pinned profile: {}", ws.pinned_profile().unwrap_or("none"));
    }
    Ok(ExitCode::SUCCESS)
}

fn profile_list(ctx: &Ctx) -> CmdResult {
    let ws = ctx.open_workspace()?;
    if !ws.is_workspace() {
        return Err(usage(
            "profiles need a workspace: create .dlt/.workspace (or run `strata init`)",
        ));
    }
    let rows: Vec<(String, &str, bool, bool, bool)> = ws
        .known_profiles()
        .iter()
        .map(|p| {
            let current = ws.profile() == Some(p);
            let pinned = ws.pinned_profile() == Some(p.as_str());
            let configured = current || pinned || ws.profile_has_files(p);
            (
                p.to_string(),
                p.description().unwrap_or("custom profile"),
                current,
                pinned,
                configured,
            )
        })
        .collect();
    if ctx.json {
        print_json(&json!(rows
            .iter()
            .map(|(n, d, c, p, cf)| json!({"name": n, "description": d, "current": c, "pinned": p, "configured": cf}))
            .collect::<Vec<_>>()));
        return Ok(ExitCode::SUCCESS);
    }
    println!("Available profiles:");
    for (name, desc, current, pinned, configured) in rows {
        let mark = if current { "*" } else { " " };
        let mut tags = Vec::new();
        if pinned {
            tags.push("pinned");
        }
        if configured {
            tags.push("configured");
        }
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", tags.join(", "))
        };
        println!("{mark} {name} - {desc}{tags}");
    }
    Ok(ExitCode::SUCCESS)
}

const GITIGNORE_LINES: &[&str] = &[
    ".dlt/secrets.toml",
    ".dlt/*.secrets.toml",
    ".dlt/secrets.*.toml",
    "_local/",
    ".dlt/.var/",
];

fn init(ctx: &Ctx, name: Option<String>, dry_run: bool) -> CmdResult {
    let run_dir = ctx.run_dir()?;
    let settings = run_dir.join(".dlt");
    let name = name.unwrap_or_else(|| {
        run_dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "workspace".into())
    });
    let config_text = format!(
        "# Workspace-wide configuration (all profiles). Profile files: .dlt/<profile>.config.toml\n[workspace]\nname = {}\n",
        toml::Value::String(name.clone())
    );
    let secrets_text =
        "# Workspace-wide secrets (ignored by git). Profile files: .dlt/<profile>.secrets.toml\n";
    let gitignore = run_dir.join(".gitignore");
    let existing = std::fs::read_to_string(&gitignore).unwrap_or_default();
    let missing: Vec<&str> = GITIGNORE_LINES
        .iter()
        .copied()
        .filter(|l| !existing.lines().any(|x| x.trim() == *l))
        .collect();
    let plan: Vec<(PathBuf, &str)> = vec![
        (settings.join(".workspace"), "create"),
        (settings.join("config.toml"), "create"),
        (settings.join("secrets.toml"), "create (mode 600)"),
    ];
    let mut lines: Vec<String> = Vec::new();
    for (path, what) in &plan {
        if path.exists() {
            lines.push(format!("keep   {} (exists)", path.display()));
        } else {
            lines.push(format!("{what:<6} {}", path.display()));
        }
    }
    if missing.is_empty() {
        lines.push(format!(
            "keep   {} (already ignores secrets)",
            gitignore.display()
        ));
    } else {
        lines.push(format!(
            "update {} (+{} lines: {})",
            gitignore.display(),
            missing.len(),
            missing.join(" ")
        ));
    }
    if dry_run {
        println!("strata init --dry-run: workspace `{name}`, nothing written");
        for l in &lines {
            println!("  {l}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let io = |p: &FsPath, e: std::io::Error| file_error("write", p, e);
    std::fs::create_dir_all(&settings).map_err(|e| io(&settings, e))?;
    let marker = settings.join(".workspace");
    if !marker.exists() {
        std::fs::write(&marker, "").map_err(|e| io(&marker, e))?;
    }
    let config = settings.join("config.toml");
    if !config.exists() {
        std::fs::write(&config, config_text).map_err(|e| io(&config, e))?;
    }
    let secrets = settings.join("secrets.toml");
    if !secrets.exists() {
        write_private(&secrets, secrets_text).map_err(|e| io(&secrets, e))?;
    }
    if !missing.is_empty() {
        let mut text = existing.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# secrets and local data (strata init)\n");
        for l in &missing {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(&gitignore, text).map_err(|e| io(&gitignore, e))?;
    }
    println!("initialized workspace `{name}` in {}", run_dir.display());
    for l in &lines {
        println!("  {l}");
    }
    Ok(ExitCode::SUCCESS)
}

fn write_private(path: &FsPath, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// A failed file operation, naming the file (never its content).
fn file_error(action: &str, path: &FsPath, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("cannot {action} {}: {e}", path.display()),
    )
}
