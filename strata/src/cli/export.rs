//! export: the resolved document, for people and for programs.

use super::Format;
use super::ctx::{CmdResult, Ctx};
use super::output::{Out, warnings};
use crate::document::{
    Document, Scope, VariableOptions, VariableUse, dotenv_quote, resolve_document, shell_quote,
    to_table, variables,
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
            let opts = VariableOptions {
                reveal,
                used: VariableUse::Shell,
                ..VariableOptions::default()
            };
            let vars = variables(&doc, &opts)?;
            warnings(&vars.skipped);
            for (name, value) in vars.pairs() {
                out.line(format!("export {name}={}", shell_quote(value)));
            }
        }
        Format::Dotenv => {
            let opts = VariableOptions {
                reveal,
                used: VariableUse::Dotenv,
                ..VariableOptions::default()
            };
            let vars = variables(&doc, &opts)?;
            warnings(&vars.skipped);
            for (name, value) in vars.pairs() {
                out.line(format!("{name}={}", dotenv_quote(value)));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
