//! The vault backends this build of strata links, in chain order ([docs/vaults.md](crate::guide::vaults):
//! dlt appends its vault providers in this order). This is the one place
//! outside a backend's crate that names it: adding a backend is its crate, a
//! cargo feature, and one line in the list below.

use strata_secrets_core::vault::Descriptor;

/// One line per backend: its cargo feature, its settings section and its
/// crate (re-exported under the feature's name, for its own types: a
/// destination's service account, a backend's settings). From these come
/// [`BACKENDS`] and [`KNOWN`].
macro_rules! backends {
    ($($feature:literal $alias:ident => $section:literal, $krate:ident;)*) => {
        /// Every backend compiled in, in chain order.
        pub static BACKENDS: &[&Descriptor] = &[
            $(#[cfg(feature = $feature)] &$krate::DESCRIPTOR,)*
        ];

        /// Every backend this crate knows, compiled in or not, in chain
        /// order: its cargo feature and its settings section, so that a
        /// build without a backend can say which feature a configuration
        /// that enables it needs.
        pub const KNOWN: &[(&str, &str)] = &[$(($feature, $section),)*];

        $(#[cfg(feature = $feature)] pub use $krate as $alias;)*
    };
}

backends! {
    "google" google => "google_secrets", strata_secrets_google;
    "aws" aws => "aws_secrets", strata_secrets_aws;
    "azure" azure => "azure_key_vault", strata_secrets_azure;
    "hashicorp" hashicorp => "hashicorp_vault", strata_secrets_hashicorp;
    "command" command => "command", strata_secrets_command;
}

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
