//! Vaults for `strata-vaults`: built in process by the linked SDKs.

use strata::check::VaultStatus;
use strata::{Error, Options, Strata};

/// The vault clients need the runtime's I/O and timers.
pub(crate) const NEEDS_IO: bool = true;

/// Opens the project with every enabled vault in the chain.
pub(crate) async fn open(options: Options) -> Result<Strata, Error> {
    Strata::open(options).await
}

/// A dry run of every enabled vault.
pub(crate) async fn dry_runs(strata: &Strata) -> Result<Vec<VaultStatus>, Error> {
    strata::check::vault_dry_runs(strata).await
}
