//! export and exec: the resolved document, for people and for programs.

use super::Format;
use super::commands::{CmdResult, Ctx, usage};
use super::output::{Out, warnings};
use crate::document::{
    ChildEnvironment, Document, Scope, VariableUse, check_command_size, dotenv_quote,
    resolve_document, shell_quote, to_table, variables,
};
use std::process::ExitCode;
use strata_secrets::{Error, ErrorKind, Strata};

async fn document(
    ctx: &Ctx,
    with_bootstrap: bool,
    pipeline: Option<String>,
) -> Result<(Strata, Document), Error> {
    let strata = ctx.open().await?;
    let doc = resolve_document(
        &strata,
        &Scope {
            with_bootstrap,
            pipeline,
        },
    )
    .await?;
    warnings(&doc.warnings);
    Ok((strata, doc))
}

pub(crate) async fn export(
    ctx: &Ctx,
    out: &mut Out,
    format: Format,
    reveal: bool,
    with_bootstrap: bool,
    pipeline: Option<String>,
) -> CmdResult {
    let (_, doc) = document(ctx, with_bootstrap, pipeline).await?;
    match format {
        Format::Toml => {
            let table = to_table(&doc, reveal);
            out.raw(
                &toml::to_string(&table.to_toml()).map_err(|e| {
                    Error::new(ErrorKind::Other, format!("cannot render TOML: {e}"))
                })?,
            );
        }
        Format::Json => out.json(&to_table(&doc, reveal).to_json()),
        Format::Env => {
            let vars = variables(&doc, None, reveal, VariableUse::Shell)?;
            warnings(&vars.skipped);
            for (name, value) in vars.vars {
                out.line(format!("export {name}={}", shell_quote(&value)));
            }
        }
        Format::Dotenv => {
            let vars = variables(&doc, None, reveal, VariableUse::Dotenv)?;
            warnings(&vars.skipped);
            for (name, value) in vars.vars {
                out.line(format!("{name}={}", dotenv_quote(&value)));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn exec(
    ctx: &Ctx,
    _out: &mut Out,
    pipeline: Option<String>,
    with_bootstrap: bool,
    command: &[String],
) -> CmdResult {
    let Some((program, args)) = command.split_first() else {
        return Err(usage("exec needs a command after --"));
    };
    let (strata, doc) = document(ctx, with_bootstrap, pipeline.clone()).await?;
    let vars = variables(&doc, pipeline.as_deref(), true, VariableUse::Child)?;
    warnings(&vars.skipped);
    let filter = ChildEnvironment::new(&strata, with_bootstrap);
    let mut env: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::vars_os()
        .filter(|(name, _)| filter.keeps(name) && !vars.vars.contains_key(&*name.to_string_lossy()))
        .collect();
    env.extend(vars.vars.into_iter().map(|(k, v)| (k.into(), v.into())));
    check_command_size(
        command.iter().map(std::ffi::OsStr::new),
        env.iter().map(|(k, v)| (k.as_os_str(), v.as_os_str())),
    )?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).env_clear().envs(env);
    // as a shell does: 127 when the command is not found, 126 when it
    // cannot be run
    let failed = |e: std::io::Error| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        };
        super::output::error_line(&format!("error: cannot run `{program}`: {e}"));
        Ok(ExitCode::from(code))
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        failed(cmd.exec())
    }
    #[cfg(not(unix))]
    {
        match cmd.status() {
            Ok(status) => Ok(ExitCode::from(
                u8::try_from(status.code().unwrap_or(2).clamp(0, 255)).unwrap_or(2),
            )),
            Err(e) => failed(e),
        }
    }
}
