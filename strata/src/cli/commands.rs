//! The commands that read: get, explain, names, check, profile, workspace.

use super::ctx::{CmdResult, Ctx, usage};
use super::exec::Exec;
use super::output::{Out, print_value, warnings};
use super::{Cli, Command, WorkspaceAction};
use crate::check::run_local_checks;
use serde_json::json;

use std::path::PathBuf;
use std::process::ExitCode;
use strata_secrets::backends::BACKENDS;
use strata_secrets::naming::{env_var_name, run_secrets_file_name, toml_key};
use strata_secrets::workspace::{Dirs, FileKind, ProfileName, Workspace};
use strata_secrets::{Environment, Error, Lookup, Path, Strata, Trace, Value};

/// Runs the command; `exec` may leave a child to supervise.
pub(crate) async fn dispatch(cli: Cli, out: &mut Out) -> Result<Exec, Error> {
    if let Command::Exec(args) = cli.command {
        let ctx = Ctx {
            workspace: cli.workspace,
            profile: cli.profile,
            global_dir: cli.global_dir,
            json: cli.json,
            env: Environment::from_process(),
        };
        return super::exec::exec(&ctx, args).await;
    }
    run(cli, out).await.map(Exec::Done)
}

async fn run(cli: Cli, out: &mut Out) -> CmdResult {
    let ctx = Ctx {
        workspace: cli.workspace,
        profile: cli.profile,
        global_dir: cli.global_dir,
        json: cli.json,
        env: Environment::from_process(),
    };
    match cli.command {
        Command::Init { name, dry_run } => super::files::init(&ctx, out, name, dry_run),
        Command::Profile { args } => profile(&ctx, out, &args),
        Command::Get {
            path,
            pipeline,
            config,
            vault_version,
            vault,
        } => match vault_version {
            Some(version) => {
                super::push::get_version(&ctx, out, &path, pipeline, &version, vault).await
            }
            None => get(&ctx, out, &path, pipeline, config).await,
        },
        Command::Explain {
            path,
            pipeline,
            config,
        } => explain(&ctx, out, &path, pipeline, config).await,
        Command::Names { path } => names(&ctx, out, &path),
        Command::Export {
            format,
            reveal,
            with_bootstrap,
            pipeline,
        } => super::export::export(&ctx, out, format, reveal, with_bootstrap, pipeline).await,
        Command::Exec(_) => Err(usage("exec runs through dispatch")),
        Command::Check => check(&ctx, out).await,
        Command::Push {
            vault,
            pipeline,
            dry_run,
            yes,
        } => super::push::push(&ctx, out, vault, pipeline, dry_run, yes).await,
        Command::Versions { vault, pipeline } => {
            super::push::versions(&ctx, out, vault, pipeline).await
        }
        Command::Workspace { action } => match action {
            WorkspaceAction::Info => workspace_info(&ctx, out).await,
            WorkspaceAction::Clean => super::files::clean(&ctx, out).await,
        },
    }
}

fn lookup(secret: bool, pipeline: Option<String>) -> Lookup {
    Lookup { secret, pipeline }
}

async fn get(
    ctx: &Ctx,
    out: &mut Out,
    path: &str,
    pipeline: Option<String>,
    config: bool,
) -> CmdResult {
    let strata = ctx.open().await?;
    let lookup = lookup(!config, pipeline);
    let resolved = strata.get(path, &lookup).await?;
    warnings(&resolved.trace().warnings);
    if matches!(resolved.expose(), Value::Table(_)) {
        // each field as its own `get` answers it (an environment variable
        // or a secret file of one field overrides the table's)
        let base = Path::parse(path)?;
        let (value, more) =
            crate::document::resolve_table(&strata, &base, &lookup, &resolved).await?;
        warnings(&more);
        print_value(out, &value, ctx.json);
    } else {
        print_value(out, resolved.expose(), ctx.json);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_trace(out: &mut Out, trace: &Trace) {
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
        out.line(format!(
            "  {:width$}  {:name_width$}  {}",
            e.provider, e.name, e.outcome
        ));
    }
    for w in &trace.warnings {
        out.line(format!("  warning: {w}"));
    }
}

async fn explain(
    ctx: &Ctx,
    out: &mut Out,
    path: &str,
    pipeline: Option<String>,
    config: bool,
) -> CmdResult {
    let strata = ctx.open().await?;
    let lookup = lookup(!config, pipeline);
    let kind = if config { "configuration" } else { "secret" };
    let profile = strata.workspace().profile().map(|p| p.to_string());
    let heading = format!(
        "{kind} lookup of `{path}`, profile {}:",
        profile.as_deref().unwrap_or("none (classic project)")
    );
    match strata.walk(path, &lookup).await {
        Ok(resolved) => {
            warnings(&resolved.trace().warnings);
            let p = resolved.provenance();
            if ctx.json {
                out.json(&crate::document::explained_json(
                    path,
                    &lookup,
                    profile.as_deref(),
                    Ok(&resolved),
                ));
            } else {
                out.line(heading);
                print_trace(out, resolved.trace());
                out.line(format!(
                    "answered by {p} at `{}`: a {} (value masked)",
                    resolved.path(),
                    resolved.expose().kind()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_missing() => {
            let Some(report) = e.missing_report() else {
                return Err(e);
            };
            warnings(&report.trace.warnings);
            if ctx.json {
                out.json(&crate::document::explained_json(
                    path,
                    &lookup,
                    profile.as_deref(),
                    Err(report),
                ));
            } else {
                out.raw(&report.to_string());
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            // a failed walk still shows what it asked
            if let Some(trace) = e.trace() {
                if ctx.json {
                    out.json(&json!({
                        "path": path,
                        "lookup": kind,
                        "profile": profile,
                        "found": false,
                        "trace": crate::document::trace_json(trace),
                        "error": e.to_string(),
                    }));
                } else {
                    out.line(heading);
                    print_trace(out, trace);
                }
            }
            Err(e)
        }
    }
}

fn names(ctx: &Ctx, out: &mut Out, path: &str) -> CmdResult {
    let path = Path::parse(path)?;
    let secrets_file = ctx.secrets_dir()?.join(run_secrets_file_name(&path));
    // each vault's name under its default settings
    let vaults: Vec<(
        &str,
        &str,
        Result<String, strata_secrets::naming::NameError>,
    )> = BACKENDS
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
        out.json(&serde_json::Value::Object(rows));
        return Ok(ExitCode::SUCCESS);
    }
    let width = vaults
        .iter()
        .map(|(_, d, _)| d.len())
        .chain([15])
        .max()
        .unwrap_or(15);
    out.line(format!("{:<width$} {}", "TOML key", toml_key(&path)));
    out.line(format!("{:<width$} {}", "environment", env_var_name(&path)));
    out.line(format!(
        "{:<width$} {}",
        "secret file",
        secrets_file.display()
    ));
    for (_, display, r) in &vaults {
        match r {
            Ok(name) => out.line(format!("{display:<width$} {name}")),
            Err(e) => out.line(format!("{display:<width$} cannot hold it: {e}")),
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn check(ctx: &Ctx, out: &mut Out) -> CmdResult {
    let strata = Strata::open_local(ctx.options()?)?;
    let mut findings = run_local_checks(&strata).await;
    let vaults = crate::check::vault_dry_runs(&strata).await?;
    for v in vaults.iter().filter(|v| !v.ok) {
        findings.push(crate::check::Finding {
            check: "vault",
            file: None,
            message: format!("{}: {}", v.vault, v.message),
        });
    }
    if ctx.json {
        out.json(&json!({
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
            out.line(format!("ok [{}]: {}", v.vault, v.message));
        }
        out.line("ok: no problems found in the secrets files");
    } else {
        for f in &findings {
            out.line(format!("warning [{}]: {}", f.check, f.message));
        }
        out.line(format!("{} problem(s) found", findings.len()));
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn workspace_info(ctx: &Ctx, out: &mut Out) -> CmdResult {
    let strata = Strata::open_local(ctx.options()?)?;
    let ws = strata.workspace();
    let dirs = strata.dirs().await?;
    let legacy = ws.legacy_dirs();
    if ctx.json {
        out.json(&workspace_json(ws, dirs.as_ref(), &legacy));
    } else {
        print_workspace(out, ws, dirs.as_ref(), &legacy);
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a candidate file is there to read (a regular file, no link
/// followed).
fn is_present(p: &std::path::Path) -> bool {
    strata_secrets_core::fs::exists_no_follow(p) && p.is_file()
}

/// `strata workspace --json`.
fn workspace_json(ws: &Workspace, dirs: Option<&Dirs>, legacy: &[PathBuf]) -> serde_json::Value {
    let files: Vec<serde_json::Value> = [FileKind::Secrets, FileKind::Config]
        .iter()
        .flat_map(|k| ws.candidates(*k))
        .map(|c| json!({"file": c.path.display().to_string(), "present": is_present(&c.path)}))
        .collect();
    json!({
        "run_dir": ws.run_dir().display().to_string(),
        "mode": if ws.is_workspace() { "workspace" } else { "classic" },
        "settings_dir": ws.settings_dir().display().to_string(),
        "global_dir": ws.global_dir().display().to_string(),
        "profile": ws.profile().map(|p| p.to_string()),
        "profile_source": ws.profile_source().map(|s| s.to_string()),
        "files_profile": ws.files_profile().map(|p| p.to_string()),
        "pinned": ws.pinned_profile(),
        "read_only": ws.profile().is_some_and(ProfileName::is_read_only),
        "state_dir": dirs.map(|d| d.state.display().to_string()),
        "state_dir_from": dirs.map(|d| d.state_source.clone()),
        "data_dir": dirs.map(|d| d.data.display().to_string()),
        "data_dir_from": dirs.map(|d| d.data_source.clone()),
        "legacy_dirs": legacy.iter().map(|d| d.display().to_string()).collect::<Vec<_>>(),
        "files": files,
    })
}

/// `strata workspace` as text.
fn print_workspace(out: &mut Out, ws: &Workspace, dirs: Option<&Dirs>, legacy: &[PathBuf]) {
    out.line(format!("run dir       {}", ws.run_dir().display()));
    out.line(format!(
        "mode          {}",
        if ws.is_workspace() {
            "workspace"
        } else {
            "classic (no .dlt/.workspace)"
        }
    ));
    out.line(format!("settings dir  {}", ws.settings_dir().display()));
    out.line(format!("global dir    {}", ws.global_dir().display()));
    if let Some(p) = ws.profile() {
        let source = ws
            .profile_source()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let ro = if p.is_read_only() { ", read-only" } else { "" };
        out.line(format!("profile       {p} (from {source}{ro})"));
        if ws.files_profile() != Some(p)
            && let Some(fp) = ws.files_profile()
        {
            out.line(format!(
                "files of      {fp} (`{p}` has no files of its own)"
            ));
        }
    }
    if let Some(d) = dirs {
        out.line(format!(
            "state dir     {} ({})",
            d.state.display(),
            d.state_source
        ));
        out.line(format!(
            "data dir      {} ({})",
            d.data.display(),
            d.data_source
        ));
    }
    for d in legacy {
        out.line(format!(
            "older layout  {} (from an earlier dlt; not cleaned)",
            d.display()
        ));
    }
    out.line("files, most specific first:");
    for kind in [FileKind::Secrets, FileKind::Config] {
        for c in ws.candidates(kind) {
            let state = if is_present(&c.path) {
                "read   "
            } else {
                "missing"
            };
            out.line(format!("  {state} {}", c.path.display()));
        }
    }
}

fn profile(ctx: &Ctx, out: &mut Out, args: &[String]) -> CmdResult {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => profile_show(ctx, out),
        ["list"] => profile_list(ctx, out),
        ["unpin"] => super::files::unpin(ctx, out),
        [name, "pin"] => super::files::pin(ctx, out, name),
        _ => Err(usage("usage: strata profile [list | NAME pin | unpin]")),
    }
}

fn profile_show(ctx: &Ctx, out: &mut Out) -> CmdResult {
    let ws = ctx.open_workspace()?;
    let current = ws.profile().map(|p| p.to_string());
    if ctx.json {
        out.json(&json!({
            "current": current,
            "source": ws.profile_source().map(|s| s.to_string()),
            "pinned": ws.pinned_profile(),
            "workspace": ws.is_workspace(),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    match ws.profile() {
        Some(p) => out.line(format!(
            "current profile: {p} (from {})",
            ws.profile_source()
                .map(|s| s.to_string())
                .unwrap_or_default()
        )),
        None => {
            out.line("no profiles: classic project (create .dlt/.workspace or run `strata init`)")
        }
    }
    if ws.is_workspace() {
        out.line(format!(
            "pinned profile: {}",
            ws.pinned_profile().unwrap_or("none")
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn profile_list(ctx: &Ctx, out: &mut Out) -> CmdResult {
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
        out.json(&json!(rows
            .iter()
            .map(|(n, d, c, p, cf)| json!({"name": n, "description": d, "current": c, "pinned": p, "configured": cf}))
            .collect::<Vec<_>>()));
        return Ok(ExitCode::SUCCESS);
    }
    out.line("Available profiles:");
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
        out.line(format!("{mark} {name} - {desc}{tags}"));
    }
    Ok(ExitCode::SUCCESS)
}
