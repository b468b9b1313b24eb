//! Link options of the `strata` binary on GNU/Linux, for start-up time (see
//! docs/performance.md):
//! - packed relative relocations (RELR): a PIE this size carries ~40,000
//!   relative relocations, and packing them shrinks what the dynamic loader
//!   reads at every start. Needs binutils >= 2.38 and glibc >= 2.36 (Debian
//!   12 and later); `STRATA_NO_RELR=1` builds without it.
//! - `STRATA_NO_PIE=1` (opt-in) links a position-dependent executable:
//!   about 0.5 ms less per start here, but the binary's own code then loads
//!   at a fixed address (no ASLR for it), so it is not the default.

fn main() {
    println!("cargo:rerun-if-env-changed=STRATA_NO_RELR");
    println!("cargo:rerun-if-env-changed=STRATA_NO_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        return;
    }
    if std::env::var_os("STRATA_NO_PIE").is_some() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    } else if std::env::var_os("STRATA_NO_RELR").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
