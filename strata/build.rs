//! Link the `strata` binary with packed relative relocations (RELR) on
//! GNU/Linux: a PIE this size carries ~40,000 relative relocations, and
//! packing them cuts the dynamic loader's start-up work for every `strata
//! get` (see docs/performance.md). Needs binutils >= 2.38 and glibc >= 2.36
//! (Debian 12 and later); set STRATA_NO_RELR=1 to build without it.

fn main() {
    println!("cargo:rerun-if-env-changed=STRATA_NO_RELR");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" && std::env::var_os("STRATA_NO_RELR").is_none() {
        println!("cargo:rustc-link-arg-bin=strata=-Wl,-z,pack-relative-relocs");
    }
}
