//! The commands that write files: init, profile pin / unpin, workspace
//! clean. Every write goes through `strata_secrets::fs` (a temporary file renamed
//! into place, never through a symbolic link); every target is checked
//! before anything is written, so a refused command leaves nothing half
//! done; nothing strata did not write is rewritten (`init` appends to
//! `.gitignore`).

use super::ctx::{CmdResult, Ctx, usage};
use super::output::{Out, warnings};
use serde_json::json;
use std::path::{Path as FsPath, PathBuf};
use std::process::ExitCode;
use strata_secrets::workspace::ProfileName;
use strata_secrets::{Error, ErrorKind, Strata};

/// The lines `init` makes sure `.gitignore` holds: the secrets files and
/// the profiles' working directories (dlt 1.31's layout).
const GITIGNORE_LINES: &[&str] = &[
    ".dlt/secrets.toml",
    ".dlt/*.secrets.toml",
    ".dlt/secrets.*.toml",
    ".dlt/state/",
    ".dlt/data/",
];

/// A failed file operation, naming the file (never its content).
fn file_error(action: &str, path: &FsPath, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("cannot {action} {}: {e}", path.display()),
    )
    .with_file(path)
}

/// The run directory (`--workspace`, `DLT_PROJECT_DIR`, the current one),
/// which must exist.
fn run_dir(ctx: &Ctx) -> Result<PathBuf, Error> {
    let dir = match (
        &ctx.workspace,
        ctx.env
            .get_non_empty_checked(strata_secrets::workspace::PROJECT_DIR_ENV)?,
    ) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => PathBuf::from(d),
        (None, None) => {
            std::env::current_dir().map_err(|e| file_error("read", FsPath::new("."), &e))?
        }
    };
    if !dir.is_dir() {
        return Err(usage(format!(
            "the project directory {} does not exist or is not a directory",
            dir.display()
        )));
    }
    Ok(dir)
}

/// Refuses a target that is a symbolic link (dangling or not) or something
/// other than a regular file; `Ok(true)` when a regular file is there.
fn check_target(path: &FsPath) -> Result<bool, Error> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(file_error("inspect", path, &e)),
        Ok(m) if m.file_type().is_symlink() => Err(Error::new(
            ErrorKind::Io,
            format!(
                "refusing to write {}: it is a symbolic link, and strata writes only regular files inside the workspace",
                path.display()
            ),
        )
        .with_file(path)),
        Ok(m) if m.is_file() => Ok(true),
        Ok(_) => Err(Error::new(
            ErrorKind::Io,
            format!("refusing to write {}: it is not a regular file", path.display()),
        )
        .with_file(path)),
    }
}

/// One step of `init`.
struct Step {
    path: PathBuf,
    action: &'static str,
    /// What to write; `None` when the file is kept.
    text: Option<Vec<u8>>,
    mode: u32,
}

pub(crate) fn init(ctx: &Ctx, out: &mut Out, name: Option<String>, dry_run: bool) -> CmdResult {
    let run_dir = run_dir(ctx)?;
    let settings = run_dir.join(".dlt");
    let name = name.unwrap_or_else(|| {
        std::path::absolute(&run_dir)
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "workspace".into())
    });
    let make_settings = settings_to_create(&settings)?;
    let mut steps = settings_steps(&settings, &name, make_settings)?;
    let gitignore = run_dir.join(".gitignore");
    let (step, missing) = gitignore_step(&gitignore)?;
    steps.push(step);
    if !dry_run {
        write_steps(&settings, make_settings, &steps)?;
    }
    if ctx.json {
        out.json(&json!({
            "workspace": name,
            "run_dir": run_dir.display().to_string(),
            "dry_run": dry_run,
            "steps": steps.iter().map(|s| json!({
                "path": s.path.display().to_string(),
                "action": s.action,
            })).collect::<Vec<_>>(),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    if dry_run {
        out.line(format!(
            "strata init --dry-run: workspace `{name}`, nothing written"
        ));
    } else {
        out.line(format!(
            "initialized workspace `{name}` in {}",
            run_dir.display()
        ));
    }
    for s in &steps {
        let why = match (s.action, s.path == gitignore) {
            ("keep", true) => "already ignores the secrets files".to_owned(),
            ("keep", false) => "exists".to_owned(),
            (_, true) => format!("+{} lines: {}", missing.len(), missing.join(" ")),
            ("create", false) if s.mode == 0o600 => "mode 600".to_owned(),
            _ => String::new(),
        };
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" ({why})")
        };
        out.line(format!("  {:<6} {}{why}", s.action, s.path.display()));
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `init` creates the settings directory: it is absent; an existing
/// one must be a directory of the workspace, never a link.
fn settings_to_create(settings: &FsPath) -> Result<bool, Error> {
    match std::fs::symlink_metadata(settings) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(file_error("inspect", settings, &e)),
        Ok(m) if m.file_type().is_symlink() || !m.is_dir() => Err(Error::new(
            ErrorKind::Io,
            format!(
                "refusing to initialize: {} is {}, and strata writes only inside the workspace",
                settings.display(),
                if m.file_type().is_symlink() {
                    "a symbolic link"
                } else {
                    "not a directory"
                }
            ),
        )
        .with_file(settings)),
        Ok(_) => Ok(false),
    }
}

/// `init`'s steps for the settings files: each created, or kept when it
/// exists (checked before anything is written).
fn settings_steps(settings: &FsPath, name: &str, make_settings: bool) -> Result<Vec<Step>, Error> {
    let config_text = format!(
        "# Workspace-wide configuration (all profiles). Profile files: .dlt/<profile>.config.toml\n[workspace.settings]\nname = {}\n",
        toml::Value::String(name.to_owned())
    );
    let secrets_text =
        "# Workspace-wide secrets (ignored by git). Profile files: .dlt/<profile>.secrets.toml\n";
    let mut steps = Vec::new();
    for (file, text, mode) in [
        (".workspace", String::new(), 0o644),
        ("config.toml", config_text, 0o644),
        ("secrets.toml", secrets_text.to_owned(), 0o600),
    ] {
        let path = settings.join(file);
        let exists = !make_settings && check_target(&path)?;
        let (action, text) = if exists {
            ("keep", None)
        } else {
            ("create", Some(text.into_bytes()))
        };
        steps.push(Step {
            path,
            action,
            text,
            mode,
        });
    }
    Ok(steps)
}

/// `init`'s step for `.gitignore`: the missing lines appended, the rest
/// kept byte for byte; and the lines it adds.
fn gitignore_step(gitignore: &FsPath) -> Result<(Step, Vec<&'static str>), Error> {
    let existing = if check_target(gitignore)? {
        strata_secrets_core::fs::read_regular(gitignore)?.unwrap_or_default()
    } else {
        Vec::new()
    };
    let existing_text = String::from_utf8_lossy(&existing);
    let missing: Vec<&'static str> = GITIGNORE_LINES
        .iter()
        .copied()
        .filter(|l| !existing_text.lines().any(|x| x.trim() == *l))
        .collect();
    if missing.is_empty() {
        let keep = Step {
            path: gitignore.to_path_buf(),
            action: "keep",
            text: None,
            mode: 0o644,
        };
        return Ok((keep, missing));
    }
    let mut text = existing.clone();
    if !text.is_empty() && !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    text.extend_from_slice(b"# secrets and local data (strata init)\n");
    for l in &missing {
        text.extend_from_slice(l.as_bytes());
        text.push(b'\n');
    }
    let step = Step {
        path: gitignore.to_path_buf(),
        action: if existing.is_empty() {
            "create"
        } else {
            "append"
        },
        text: Some(text),
        mode: 0o644,
    };
    Ok((step, missing))
}

/// Carries out `init`'s steps: a new file is created (never over one that
/// appeared since), an appended one replaced atomically.
fn write_steps(settings: &FsPath, make_settings: bool, steps: &[Step]) -> Result<(), Error> {
    if make_settings {
        std::fs::create_dir(settings).map_err(|e| file_error("create", settings, &e))?;
    }
    for step in steps {
        let Some(text) = &step.text else {
            continue;
        };
        if step.action == "create" {
            strata_secrets_core::fs::create_atomic(&step.path, text, step.mode)?;
        } else {
            strata_secrets_core::fs::write_atomic(&step.path, text, step.mode)?;
        }
    }
    Ok(())
}

/// The settings directory of a workspace, for pin writes. Works even when
/// the current pin is invalid, so a bad pin can always be replaced.
fn settings_dir_for_write(ctx: &Ctx) -> Result<PathBuf, Error> {
    let run_dir = run_dir(ctx)?;
    let settings = strata_secrets::workspace::settings_dir_for_write(&run_dir)?;
    if !settings.join(".workspace").exists() {
        return Err(usage(format!(
            "{} is a classic project without profiles: create .dlt/.workspace (or run `strata init`) to pin one",
            run_dir.display()
        )));
    }
    Ok(settings)
}

pub(crate) fn pin(ctx: &Ctx, out: &mut Out, name: &str) -> CmdResult {
    let name = ProfileName::new(name)?;
    let settings = settings_dir_for_write(ctx)?;
    let pin = settings.join(strata_secrets::workspace::PIN_FILE);
    strata_secrets_core::fs::write_atomic(&pin, format!("{name}\n").as_bytes(), 0o644)?;
    // a profile without files of its own is most likely a typo
    let mut warning = None;
    if let Ok(ws) = ctx.open_workspace()
        && !ws.profile_has_files(&name)
        && !(name.as_str() == "access" && ws.profile_has_files(&ProfileName::new("prod")?))
    {
        warning = Some(format!(
            "profile `{name}` has no files of its own (.dlt/{name}.secrets.toml, .dlt/{name}.config.toml): only the shared files apply"
        ));
    }
    if ctx.json {
        out.json(&json!({"pinned": name.as_str(), "file": pin.display().to_string(), "warning": warning}));
    } else {
        warnings(&warning.into_iter().collect::<Vec<_>>());
        out.line(format!("pinned profile {name} in {}", pin.display()));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn unpin(ctx: &Ctx, out: &mut Out) -> CmdResult {
    let settings = settings_dir_for_write(ctx)?;
    let pin = settings.join(strata_secrets::workspace::PIN_FILE);
    let removed = if strata_secrets_core::fs::exists_no_follow(&pin) {
        // a link is removed itself, never what it points to
        std::fs::remove_file(&pin).map_err(|e| file_error("remove", &pin, &e))?;
        true
    } else {
        false
    };
    if ctx.json {
        out.json(&json!({"unpinned": removed, "file": pin.display().to_string()}));
    } else if removed {
        out.line(format!("unpinned: removed {}", pin.display()));
    } else {
        out.line("no profile is pinned");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn clean(ctx: &Ctx, out: &mut Out) -> CmdResult {
    let strata = Strata::open_local(ctx.options()?)?;
    let ws = strata.workspace();
    ws.ensure_writable("clean the workspace")?;
    let Some(dirs) = strata.dirs().await? else {
        return Err(usage(
            "`workspace clean` needs a workspace (.dlt/.workspace); this is a classic project",
        ));
    };
    let data = dirs.data;
    let deleted = ws.check_delete(&data, dirs.data_origin, &dirs.data_set_at)?;
    if deleted {
        std::fs::remove_dir_all(&data).map_err(|e| file_error("delete", &data, &e))?;
    }
    if ctx.json {
        out.json(&json!({"deleted": deleted, "dir": data.display().to_string()}));
    } else if deleted {
        out.line(format!("deleted {}", data.display()));
    } else {
        out.line(format!(
            "nothing to clean: {} does not exist",
            data.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
