//! The `strata` command ([docs/cli.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/cli/index.html)), as a library: [`main`] runs it on
//! the process's arguments, [`run`] on given ones (the Python package's
//! `strata` console script runs it in process). The answers the Python
//! package gives as the command does are in [`answers`]: a table as `get`
//! answers it, the resolved document of `export`, the JSON of `explain`.
#![warn(missing_docs)]

mod check;
mod cli;
mod document;
mod redact;

pub use document::MAX_VARIABLE_LEN;

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs the command on the process's arguments.
pub fn main() -> ExitCode {
    cli::main(std::env::args_os())
}

/// Runs the command on `args` (the program name first, as in
/// `std::env::args_os`), in this process: it reads the process's
/// environment, writes to its stdout and stderr, and ends the process
/// itself only when the command deadline passes (`STRATA_DEADLINE`) or
/// `exec` replaces it with the child.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    cli::main(args)
}

/// What the command answers, for the Python package to answer the same:
/// `get` of a table, `export`'s document, `explain --json`'s record. Values
/// from providers that may hold secrets are masked unless asked for.
pub mod answers {
    use crate::document;
    use strata_secrets::{Error, Lookup, MissingValue, Path, Resolved, Strata, Trace, Value};

    /// The table `resolved` at `path`, each leaf answered as `strata get`
    /// answers that leaf's own path (an environment variable of one field
    /// overrides the table's).
    pub async fn table(
        strata: &Strata,
        path: &Path,
        lookup: &Lookup,
        resolved: &Resolved,
    ) -> Result<Value, Error> {
        Ok(document::resolve_table(strata, path, lookup, resolved)
            .await?
            .0)
    }

    /// `strata export`'s document as one table: every key of the profile's
    /// files and the vaults' documents; secrets masked unless `reveal`.
    pub async fn export(strata: &Strata, reveal: bool) -> Result<Value, Error> {
        let doc = document::resolve_document(strata, &document::Scope::default()).await?;
        Ok(document::to_table(&doc, reveal))
    }

    /// A trace as JSON: each question's provider, path, name and outcome
    /// (never a value).
    pub fn trace_json(trace: &Trace) -> serde_json::Value {
        document::trace_json(trace)
    }

    /// What `strata explain --json` prints for a section walk of `path` that
    /// found `answer` (or missed it, with its report), values masked.
    pub fn explained_json(
        path: &str,
        lookup: &Lookup,
        profile: Option<&str>,
        answer: Result<&Resolved, &MissingValue>,
    ) -> serde_json::Value {
        document::explained_json(path, lookup, profile, answer)
    }
}
