//! `strata`: the command line (docs/cli.md). Vault backends are linked in
//! by the cargo features of `strata-secrets-cli` (all on by default).

fn main() -> std::process::ExitCode {
    strata_secrets_cli::main()
}
