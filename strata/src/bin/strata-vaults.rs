//! `strata-vaults`: the `strata` command with the vault SDKs linked in.
//! `strata` runs it, with the same arguments and environment, when the
//! configuration enables a vault; it can also be run directly. See
//! `docs/cli.md`.

#[path = "../cli/mod.rs"]
mod cli;
#[path = "../cli/linked.rs"]
mod vault_mode;

fn main() -> std::process::ExitCode {
    cli::main()
}
