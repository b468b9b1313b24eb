//! The `strata` command (docs/cli.md), as a library: [`main`] runs it on
//! the process's arguments, [`run`] on given ones (the Python package's
//! `strata` console script runs it in process). The resolved document that
//! `export`, `exec` and `get` of a table share ([`document`]) and the local
//! checks of `check` ([`check`]) live here too.
#![warn(missing_docs)]

pub mod check;
mod cli;
pub mod document;
pub mod redact;

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
