//! Enabling vault providers from the chain above them ([docs/vaults.md](crate::guide::vaults), bootstrap):
//! `[providers] enable_<section> = true` and the `[providers.<section>]`
//! settings, from environment variables or the profile's TOML files. Every
//! backend comes from [`crate::backends`]; nothing here names one.

use crate::backends::{BACKENDS, KNOWN};
use std::sync::Arc;
use strata_secrets_core::vault::{Descriptor, LeaseProvider, VaultProvider};
use strata_secrets_core::workspace::{Origin, Workspace};
use strata_secrets_core::{
    Environment, Error, ErrorKind, Lookup, Path, Resolved, Resolver, Value, naming, typed,
};
use strata_secrets_toml::TomlProvider;

/// The settings table of the vault bootstrap (`[providers]`).
pub const BOOTSTRAP_SECTION: &str = "providers";

/// The prefix of the bootstrap's variables (`PROVIDERS__ENABLE_...`,
/// `PROVIDERS__<VAULT>__...`).
pub const BOOTSTRAP_PREFIX: &str = "PROVIDERS__";

/// An enabled vault: its backend and its provider.
#[derive(Debug, Clone)]
pub struct EnabledVault {
    /// Which backend.
    pub descriptor: &'static Descriptor,
    /// The provider in the chain.
    pub provider: Arc<VaultProvider>,
    /// Its leased credentials, in the chain just before it, when its
    /// settings map paths to roles.
    pub leases: Option<Arc<LeaseProvider>>,
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
            "`providers.enable_{section}` is true, but this strata was built without the `{feature}` cargo feature: a program that uses the library needs it in its Cargo.toml (`strata-secrets = {{ version = \"0.1\", features = [\"{feature}\"] }}`); the `strata` command has every vault (`cargo install --path strata`, or `--no-default-features --features strata-secrets/{feature}`)"
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

/// The setting `key` of `section` (`url`, or `credentials.endpoint_url`
/// for a key of a nested table), looked up with the walk the backend's
/// typed settings use, when something holds it.
async fn setting(resolver: &Resolver, section: &str, key: &str) -> Result<Option<Resolved>, Error> {
    let (sections, config_section, field) = match key.split_once('.') {
        Some((nested, field)) => (
            vec![BOOTSTRAP_SECTION.to_owned(), section.to_owned()],
            nested,
            field,
        ),
        None => (vec![BOOTSTRAP_SECTION.to_owned()], section, key),
    };
    match resolver
        .walk_in(&sections, Some(config_section), field, &Lookup::config())
        .await
    {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.is_missing() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The one rule for where the user's own credentials may go
/// ([docs/security.md](crate::guide::security), "Credentials go only where the user sent them"): when
/// none of the backend's credential settings is set, it uses ambient ones
/// (`VAULT_TOKEN`, `~/.vault-token`, the AWS chain, application-default
/// credentials, ...), and then an endpoint setting read from a workspace's
/// `config.toml` (which a repository commits) is an error saying where to
/// set it instead. Endpoints from the environment, the command line, the
/// global directory or a secrets file, and explicit credentials from a
/// secrets file, are the user's choice.
pub async fn check_endpoints(
    descriptor: &Descriptor,
    resolver: &Resolver,
    workspace: &Workspace,
) -> Result<(), Error> {
    for key in descriptor.credential_keys {
        if setting(resolver, descriptor.section, key).await?.is_some() {
            return Ok(());
        }
    }
    for key in descriptor.endpoint_keys {
        let Some(found) = setting(resolver, descriptor.section, key).await? else {
            continue;
        };
        if workspace.origin_of(found.provenance(), found.from_secret_provider())
            != Origin::WorkspaceConfig
        {
            continue;
        }
        let ambient = if descriptor.ambient_variables.is_empty() {
            "the platform's".to_owned()
        } else {
            format!(
                "{}, the vendor's files or the platform's",
                descriptor.ambient_variables.join(", ")
            )
        };
        let var = format!(
            "PROVIDERS__{}__{}",
            descriptor.section.to_ascii_uppercase(),
            key.to_ascii_uppercase().replace('.', "__")
        );
        return Err(Error::new(
            ErrorKind::ConfigInvalid,
            format!(
                "`providers.{}.{key}` comes from {}, a file of the workspace that a repository may have written, and {} would send your own credentials ({ambient}) there: set it in the environment ({var}), in a secrets file or in the global directory instead, or give the vault's credentials in a secrets file",
                descriptor.section,
                found.provenance(),
                descriptor.display_name()
            ),
        )
        .with_provider(descriptor.section));
    }
    Ok(())
}

/// The one rule for a setting that names a program to run ([docs/security.md](crate::guide::security),
/// "Files never choose how a program runs"): it comes from the user (the
/// environment, the global directory, a secrets file), never from a
/// workspace's `config.toml`, which a repository commits.
pub async fn check_programs(
    descriptor: &Descriptor,
    resolver: &Resolver,
    workspace: &Workspace,
) -> Result<(), Error> {
    for key in descriptor.program_keys {
        let Some(found) = setting(resolver, descriptor.section, key).await? else {
            continue;
        };
        if workspace.origin_of(found.provenance(), found.from_secret_provider())
            != Origin::WorkspaceConfig
        {
            continue;
        }
        let var = format!(
            "PROVIDERS__{}__{}",
            descriptor.section.to_ascii_uppercase(),
            key.to_ascii_uppercase().replace('.', "__")
        );
        return Err(Error::new(
            ErrorKind::ConfigInvalid,
            format!(
                "`providers.{}.{key}` comes from {}, a file of the workspace that a repository may have written, and it names a program strata would run: set it in the environment ({var}), in a secrets file (.dlt/secrets.toml) or in the global directory's config.toml instead",
                descriptor.section,
                found.provenance(),
            ),
        )
        .with_provider(descriptor.section));
    }
    Ok(())
}

/// Builds the provider of `descriptor` from the chain. Settings that are
/// incomplete are bad input (exit 2), not a missing value.
pub async fn build(
    descriptor: &'static Descriptor,
    resolver: &Resolver,
    workspace: &Workspace,
) -> Result<VaultProvider, Error> {
    check_endpoints(descriptor, resolver, workspace).await?;
    check_programs(descriptor, resolver, workspace).await?;
    (descriptor.build)(resolver, workspace.env())
        .await
        .map_err(|e| {
            if e.is_missing() {
                Error::new(ErrorKind::ConfigInvalid, e.to_string())
                    .with_provider(descriptor.section.to_owned())
            } else {
                e
            }
        })
}

/// Every key the user wrote for a vault is one strata reads, else an error
/// naming it ([docs/vaults.md](crate::guide::vaults)): a `PROVIDERS__ENABLE_<X>` variable or
/// `[providers] enable_<x>` key must name a known vault, and each
/// `PROVIDERS__<SECTION>__<KEY>` variable and `[providers.<section>]` key of
/// a compiled-in backend must be one of its settings. A typo, or an option
/// this build lacks, is never silently ignored.
pub fn check_settings_keys(env: &Environment, files: &[&TomlProvider]) -> Result<(), Error> {
    check_variables(env)?;
    for file in files {
        check_file(file)?;
    }
    Ok(())
}

/// The `PROVIDERS__...` variables: each switch names a known vault, each
/// setting is one of a compiled-in backend's.
fn check_variables(env: &Environment) -> Result<(), Error> {
    let mut names: Vec<&str> = env.iter().map(|(k, _)| k).collect();
    names.sort_unstable();
    for name in names {
        let Some(rest) = name.strip_prefix(BOOTSTRAP_PREFIX) else {
            continue;
        };
        let lower = rest.to_ascii_lowercase();
        if let Some(section) = lower.strip_prefix("enable_") {
            if !KNOWN.iter().any(|(_, s)| *s == section) {
                return Err(unknown_switch(name, &format!("the variable {name}")));
            }
            continue;
        }
        for d in BACKENDS {
            if let Some(key) = lower
                .strip_prefix(d.section)
                .and_then(|k| k.strip_prefix("__"))
            {
                let key = key.replace("__", ".");
                if !known_key(d, &key) {
                    return Err(unknown_key(d, &key, &format!("the variable {name}")));
                }
            }
        }
    }
    Ok(())
}

/// A file's `[providers]` table: the same rules, each error at its line.
fn check_file(file: &TomlProvider) -> Result<(), Error> {
    let Some(doc) = strata_secrets_core::Provider::document(file) else {
        return Ok(());
    };
    let at = |segments: &[&str]| -> String {
        Path::from_segments(segments.iter().copied())
            .ok()
            .and_then(|p| file.defined_at(&p))
            .map(|(f, line)| format!("{}:{line}", f.display()))
            .unwrap_or_else(|| strata_secrets_core::Provider::name(file).to_owned())
    };
    let Some(providers) = doc
        .get_path(&[BOOTSTRAP_SECTION.to_owned()])
        .and_then(Value::as_table)
    else {
        return Ok(());
    };
    for (key, value) in providers {
        if let Some(section) = key.strip_prefix("enable_") {
            if !KNOWN.iter().any(|(_, s)| *s == section) {
                return Err(unknown_switch(
                    key,
                    &format!(
                        "`providers.{}` ({})",
                        naming::shown(key),
                        at(&[BOOTSTRAP_SECTION, key])
                    ),
                ));
            }
            continue;
        }
        let Some(d) = BACKENDS.iter().find(|d| d.section == key) else {
            continue;
        };
        if let Some(table) = value.as_table()
            && let Some(k) = table.keys().find(|k| !known_key(d, k))
        {
            return Err(unknown_key(
                d,
                k,
                &format!("[providers.{key}] ({})", at(&[BOOTSTRAP_SECTION, key, k])),
            ));
        }
    }
    Ok(())
}

/// A switch for a vault strata does not know, set `at`.
fn unknown_switch(name: &str, at: &str) -> Error {
    Error::new(
        ErrorKind::ConfigInvalid,
        format!(
            "{at} turns on a vault strata does not know (`{}`): the switches are {}",
            naming::shown(name),
            KNOWN
                .iter()
                .map(|(_, s)| format!("enable_{s}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// A key that is not a setting of `d`, set `at`.
fn unknown_key(d: &Descriptor, key: &str, at: &str) -> Error {
    let keys: Vec<String> = typed::keys_of(d.settings)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    Error::new(
        ErrorKind::ConfigInvalid,
        format!(
            "{at}: `{}` is not a setting of {} (a typo, or an option this build of strata lacks); its settings are {}",
            naming::shown(key),
            d.display_name(),
            keys.join(", ")
        ),
    )
    .with_provider(d.section)
}

/// Whether `key` is a setting of `d`, by the key of the section itself:
/// what lies inside a nested table (a credentials table holds whatever its
/// vendor's key file holds) is that configuration's own business.
fn known_key(d: &Descriptor, key: &str) -> bool {
    let top = key.split('.').next().unwrap_or(key);
    typed::keys_of(d.settings).iter().any(|(k, _)| k == top)
}

/// Enables every vault switched on in the chain: each is configured from
/// the chain as it is before any vault joins it (as dlt bootstraps its
/// vault providers from the initial ones), then all are appended in chain
/// order.
pub async fn enable_all(
    resolver: &mut Resolver,
    workspace: &Workspace,
) -> Result<Vec<EnabledVault>, Error> {
    let mut out = Vec::new();
    for descriptor in enabled_backends(resolver).await? {
        let provider = Arc::new(build(descriptor, resolver, workspace).await?);
        let leases = provider.leases().cloned().map(Arc::new);
        out.push(EnabledVault {
            descriptor,
            provider,
            leases,
        });
    }
    for v in &out {
        if let Some(leases) = &v.leases {
            resolver.push(leases.clone());
        }
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
            // the command line that builds the `strata` command with it
            assert!(
                e.to_string()
                    .contains(&format!("--features strata-secrets/{feature}")),
                "{e}"
            );
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
