//! `strata`: the command without the vault SDKs, so that it starts fast.
//! A command whose configuration enables a vault is handed over to
//! `strata-vaults` (installed next to it), which links them. See
//! `docs/cli.md`.

#[path = "cli/mod.rs"]
mod cli;
#[path = "cli/hand_off.rs"]
mod vault_mode;

fn main() -> std::process::ExitCode {
    cli::main()
}
