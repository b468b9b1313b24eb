//! The vault backends this build of strata links, in chain order (docs/vaults.md:
//! dlt appends its vault providers in this order). This is the one place
//! outside a backend's crate that names it: adding a backend is its crate, a
//! cargo feature, and one line in each list below.

use strata_secrets_core::vault::Descriptor;

/// Every backend compiled in, in chain order.
pub static BACKENDS: &[&Descriptor] = &[
    #[cfg(feature = "google")]
    &strata_secrets_google::DESCRIPTOR,
    #[cfg(feature = "aws")]
    &strata_secrets_aws::DESCRIPTOR,
    #[cfg(feature = "azure")]
    &strata_secrets_azure::DESCRIPTOR,
    #[cfg(feature = "hashicorp")]
    &strata_secrets_hashicorp::DESCRIPTOR,
];

/// Every backend this crate knows, compiled in or not, in chain order: its
/// cargo feature and its settings section. Lets a build without a backend
/// say which feature a configuration that enables it needs (the test below
/// keeps this list in step with the descriptors).
pub const KNOWN: &[(&str, &str)] = &[
    ("google", "google_secrets"),
    ("aws", "aws_secrets"),
    ("azure", "azure_key_vault"),
    ("hashicorp", "hashicorp_vault"),
];

/// The backends' crates, for their own types (a destination's service
/// account, a backend's settings).
#[cfg(feature = "aws")]
pub use strata_secrets_aws as aws;
#[cfg(feature = "azure")]
pub use strata_secrets_azure as azure;
#[cfg(feature = "google")]
pub use strata_secrets_google as google;
#[cfg(feature = "hashicorp")]
pub use strata_secrets_hashicorp as hashicorp;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_list_matches_the_descriptors() {
        for d in BACKENDS {
            assert!(
                KNOWN.contains(&(d.name, d.section)),
                "{} ({}) is missing from KNOWN",
                d.name,
                d.section
            );
        }
        // in the same order
        let order: Vec<&str> = KNOWN
            .iter()
            .filter(|(name, _)| BACKENDS.iter().any(|d| d.name == *name))
            .map(|(name, _)| *name)
            .collect();
        let compiled: Vec<&str> = BACKENDS.iter().map(|d| d.name).collect();
        assert_eq!(order, compiled);
    }
}
