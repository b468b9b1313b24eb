//! `strata`: the command line ([docs/cli.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/cli/index.html)). Vault backends are linked in
//! by the cargo features of `strata-secrets-cli` (all on by default).

fn main() -> std::process::ExitCode {
    strata_secrets_cli::main()
}
