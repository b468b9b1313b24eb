//! `strata`: the command line. Vault backends are linked in by the cargo
//! features of the `strata-secrets` crate (all on by default). See `docs/cli.md`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
