//! Enabling vault providers from the chain above them (SPEC §7, bootstrap):
//! `[providers] enable_<vault> = true` and the `[providers.<vault>]`
//! section, from environment variables or the profile's TOML files.

use std::sync::Arc;
use strata_core::vault::VaultProvider;
use strata_core::{Error, ErrorKind, Lookup, Path, Resolver, Table, Value, Vault};

/// One vault's switch, section and cargo feature.
#[derive(Debug, Clone, Copy)]
pub struct VaultKind {
    /// The vault.
    pub vault: Vault,
    /// `google_secrets`, `aws_secrets`, `azure_key_vault`.
    pub section: &'static str,
    /// `enable_google_secrets`, ...
    pub switch: &'static str,
    /// The cargo feature of the `strata` crate that compiles it in.
    pub feature: &'static str,
    /// Option keys read from `[providers.<section>]` (configuration lookups).
    pub options: &'static [&'static str],
    /// Credential fields read from `[providers.<section>.credentials]`
    /// (secret lookups). Empty for Google, whose service account is
    /// resolved as a typed configuration by the backend itself
    /// (`strata_google::GoogleBootstrap`, walked as dlt walks it).
    pub credentials: &'static [&'static str],
}

const COMMON: [&str; 4] = [
    "only_secrets",
    "only_toml_fragments",
    "list_secrets",
    "prefetch_single_values",
];

/// The vaults, in chain order: google, aws, azure.
pub const VAULT_KINDS: [VaultKind; 3] = [
    VaultKind {
        vault: Vault::Google,
        section: "google_secrets",
        switch: "enable_google_secrets",
        feature: "google",
        options: &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "endpoint",
            "project_id",
            "version",
            "timeout",
        ],
        credentials: &[],
    },
    VaultKind {
        vault: Vault::Aws,
        section: "aws_secrets",
        switch: "enable_aws_secrets",
        feature: "aws",
        options: &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "secret_name_prefix",
            "timeout",
        ],
        credentials: &[
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "profile_name",
            "region_name",
            "endpoint_url",
        ],
    },
    VaultKind {
        vault: Vault::Azure,
        section: "azure_key_vault",
        switch: "enable_azure_key_vault",
        feature: "azure",
        options: &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            "vault_url",
            "authority_host",
            "ca_certificate",
        ],
        credentials: &["azure_tenant_id", "azure_client_id", "azure_client_secret"],
    },
];

fn path(text: &str) -> Result<Path, Error> {
    Ok(Path::parse(text)?)
}

async fn optional(resolver: &Resolver, at: &str, lookup: &Lookup) -> Result<Option<Value>, Error> {
    match resolver.get(&path(at)?, lookup).await {
        Ok(r) => Ok(Some(r.expose().clone())),
        Err(e) if e.is_missing() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether `providers.<switch>` is set to true.
pub async fn enabled(resolver: &Resolver, kind: &VaultKind) -> Result<bool, Error> {
    let at = format!("providers.{}", kind.switch);
    match optional(resolver, &at, &Lookup::config()).await? {
        None => Ok(false),
        Some(v) => v.deserialize::<bool>().map_err(|e| {
            Error::new(
                ErrorKind::ConfigInvalid,
                format!("`{at}` must be true or false: {e}"),
            )
            .with_path(at)
        }),
    }
}

/// The `[providers.<section>]` table as the chain resolves it: each option
/// (configuration lookups) and the credentials (secret lookups: the whole
/// `credentials` table or JSON string, then each field, which overrides).
pub async fn section(resolver: &Resolver, kind: &VaultKind) -> Result<Table, Error> {
    let base = format!("providers.{}", kind.section);
    let mut table = Table::default();
    for option in kind.options {
        if let Some(v) = optional(resolver, &format!("{base}.{option}"), &Lookup::config()).await? {
            table.insert((*option).to_owned(), v);
        }
    }
    if kind.credentials.is_empty() {
        return Ok(table);
    }
    let mut creds: Option<Table> = None;
    if let Some(v) = optional(resolver, &format!("{base}.credentials"), &Lookup::secret()).await? {
        let t = v.to_table().ok_or_else(|| {
            Error::new(
                ErrorKind::ConfigInvalid,
                format!("`{base}.credentials` must be a table or a JSON object (the service-account key)"),
            )
        })?;
        creds = Some(t.into_owned());
    }
    for field in kind.credentials {
        let at = format!("{base}.credentials.{field}");
        if let Some(v) = optional(resolver, &at, &Lookup::secret()).await? {
            creds
                .get_or_insert_with(Table::default)
                .insert((*field).to_owned(), v);
        }
    }
    if let Some(c) = creds {
        table.insert("credentials".into(), Value::Table(c));
    }
    Ok(table)
}

/// An enabled vault: its kind and its provider.
#[derive(Debug, Clone)]
pub struct EnabledVault {
    /// Which vault.
    pub kind: VaultKind,
    /// The provider in the chain.
    pub provider: Arc<VaultProvider>,
}

/// Builds the provider of `kind` from its section (and, for Google, the
/// service account resolved from `resolver`), or says which cargo feature
/// is missing.
pub async fn build(
    resolver: &Resolver,
    kind: &VaultKind,
    table: &Table,
) -> Result<VaultProvider, Error> {
    match kind.vault {
        #[cfg(feature = "google")]
        Vault::Google => strata_google::bootstrap(resolver, table).await,
        #[cfg(feature = "aws")]
        Vault::Aws => strata_aws::provider(table).await,
        #[cfg(feature = "azure")]
        Vault::Azure => strata_azure::provider(table).await,
        #[allow(unreachable_patterns)]
        _ => {
            let _ = (resolver, table);
            Err(not_compiled(kind))
        }
    }
}

/// The error for a vault enabled in configuration but not compiled in.
pub fn not_compiled(kind: &VaultKind) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "`providers.{}` is true, but this strata was built without the `{}` cargo feature (rebuild with `--features {}`)",
            kind.switch, kind.feature, kind.feature
        ),
    )
}

/// Enables every vault switched on in the chain, appending each to it in
/// the order google, aws, azure.
pub async fn enable_all(resolver: &mut Resolver) -> Result<Vec<EnabledVault>, Error> {
    let mut out = Vec::new();
    for kind in VAULT_KINDS {
        if !enabled(resolver, &kind).await? {
            continue;
        }
        let table = section(resolver, &kind).await?;
        let provider = Arc::new(build(resolver, &kind, &table).await?);
        resolver.push(provider.clone());
        out.push(EnabledVault { kind, provider });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vault_not_compiled_in_names_its_cargo_feature() {
        for kind in VAULT_KINDS {
            let e = not_compiled(&kind);
            assert_eq!(e.kind(), ErrorKind::Unsupported);
            assert!(
                e.to_string()
                    .contains(&format!("`{}` cargo feature", kind.feature)),
                "{e}"
            );
            assert!(e.to_string().contains(kind.switch), "{e}");
        }
    }
}
