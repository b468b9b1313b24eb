//! Enabling vault providers from the chain above them (docs/vaults.md, bootstrap):
//! `[providers] enable_<section> = true` and the `[providers.<section>]`
//! settings, from environment variables or the profile's TOML files. Every
//! backend comes from [`crate::backends`]; nothing here names one.

use crate::backends::{BACKENDS, KNOWN};
use std::sync::Arc;
use strata_secrets_core::vault::{Descriptor, VaultProvider};
use strata_secrets_core::{Environment, Error, ErrorKind, Lookup, Resolver};

/// An enabled vault: its backend and its provider.
#[derive(Debug, Clone)]
pub struct EnabledVault {
    /// Which backend.
    pub descriptor: &'static Descriptor,
    /// The provider in the chain.
    pub provider: Arc<VaultProvider>,
}

/// The backend compiled in under its short `name` or its `section`.
pub fn find(name: &str) -> Option<&'static Descriptor> {
    BACKENDS
        .iter()
        .copied()
        .find(|d| d.name == name || d.section == name)
}

/// The names users may give `--vault`, for messages, comma-separated.
pub fn known_names() -> String {
    KNOWN
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `[providers] enable_<section>` is set to true (an exact lookup,
/// as dlt reads its `providers` configuration).
pub async fn enabled(resolver: &Resolver, section: &str) -> Result<bool, Error> {
    let at = format!("providers.enable_{section}");
    match resolver.get_dotted(&at, &Lookup::config()).await {
        Ok(r) => r.expose().deserialize::<bool>().map_err(|e| {
            Error::new(
                ErrorKind::ConfigInvalid,
                format!("`{at}` from {} must be true or false: {e}", r.provenance()),
            )
            .with_path(at)
        }),
        Err(e) if e.is_missing() => Ok(false),
        Err(e) => Err(e),
    }
}

/// The error for a vault enabled in configuration but not compiled in.
pub fn not_compiled(feature: &str, section: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "`providers.enable_{section}` is true, but this strata was built without the `{feature}` cargo feature (rebuild with `--features {feature}`)"
        ),
    )
}

/// The backends switched on in the chain, in chain order; a switch of a
/// backend that is not compiled in is an error naming its cargo feature.
pub async fn enabled_backends(resolver: &Resolver) -> Result<Vec<&'static Descriptor>, Error> {
    let mut out = Vec::new();
    for (feature, section) in KNOWN {
        if !enabled(resolver, section).await? {
            continue;
        }
        out.push(find(section).ok_or_else(|| not_compiled(feature, section))?);
    }
    Ok(out)
}

/// Builds the provider of `descriptor` from the chain. Settings that are
/// incomplete are bad input (exit 2), not a missing value.
pub async fn build(
    descriptor: &'static Descriptor,
    resolver: &Resolver,
    env: &Environment,
) -> Result<VaultProvider, Error> {
    (descriptor.build)(resolver, env).await.map_err(|e| {
        if e.is_missing() {
            Error::new(ErrorKind::ConfigInvalid, e.to_string())
                .with_provider(descriptor.section.to_owned())
        } else {
            e
        }
    })
}

/// Enables every vault switched on in the chain: each is configured from
/// the chain as it is before any vault joins it (as dlt bootstraps its
/// vault providers from the initial ones), then all are appended in chain
/// order.
pub async fn enable_all(
    resolver: &mut Resolver,
    env: &Environment,
) -> Result<Vec<EnabledVault>, Error> {
    let mut out = Vec::new();
    for descriptor in enabled_backends(resolver).await? {
        let provider = Arc::new(build(descriptor, resolver, env).await?);
        out.push(EnabledVault {
            descriptor,
            provider,
        });
    }
    for v in &out {
        resolver.push(v.provider.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vault_not_compiled_in_names_its_cargo_feature() {
        for (feature, section) in KNOWN {
            let e = not_compiled(feature, section);
            assert_eq!(e.kind(), ErrorKind::Unsupported);
            assert!(
                e.to_string()
                    .contains(&format!("`{feature}` cargo feature")),
                "{e}"
            );
            assert!(e.to_string().contains(&format!("enable_{section}")), "{e}");
        }
    }

    #[test]
    fn backends_are_found_by_name_and_section() {
        for d in BACKENDS {
            assert!(std::ptr::eq(find(d.name).unwrap(), *d));
            assert!(std::ptr::eq(find(d.section).unwrap(), *d));
            assert_eq!(d.switch(), format!("enable_{}", d.section));
        }
        assert!(find("bogus").is_none());
    }
}
