//! Bootstrap settings of the Azure backend, from `[providers.azure_key_vault]`.

use crate::SECTION;
use secrecy::SecretString;
use std::fmt;
use strata_secrets_core::typed::Configuration;
use strata_secrets_core::vault::CommonSettings;
use strata_secrets_core::{Error, ErrorKind};

/// Microsoft Entra ID's public-cloud authority.
pub const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";

/// A service principal with a client secret.
#[derive(Clone)]
pub struct ClientSecret {
    /// The tenant (directory) id.
    pub azure_tenant_id: String,
    /// The client (application) id.
    pub azure_client_id: String,
    /// The client secret.
    pub azure_client_secret: SecretString,
}

/// Leaves the client secret out.
impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecret")
            .field("azure_tenant_id", &self.azure_tenant_id)
            .field("azure_client_id", &self.azure_client_id)
            .finish_non_exhaustive()
    }
}

/// How to authenticate.
#[derive(Debug, Clone)]
pub enum AzureCredentials {
    /// The client-credentials flow of a service principal.
    ClientSecret(ClientSecret),
    /// The SDK's managed identity credential (the default on Azure hosts).
    ManagedIdentity,
}

/// `[providers.azure_key_vault.credentials]`: a service principal's
/// client secret; all three fields, or none (the managed identity).
#[derive(Configuration, Clone, Default)]
#[config(crate = "strata_secrets_core", credentials)]
pub struct AzureCredentialFields {
    /// The tenant (directory) id.
    pub azure_tenant_id: Option<String>,
    /// The client (application) id.
    pub azure_client_id: Option<String>,
    /// The client secret.
    pub azure_client_secret: Option<SecretString>,
}

/// Leaves the client secret out.
impl fmt::Debug for AzureCredentialFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureCredentialFields")
            .field("azure_tenant_id", &self.azure_tenant_id)
            .field("azure_client_id", &self.azure_client_id)
            .finish_non_exhaustive()
    }
}

/// `[providers.azure_key_vault]`: the keys the Azure backend reads, and
/// nothing else.
#[derive(Configuration, Debug)]
#[config(crate = "strata_secrets_core")]
pub struct AzureSettings {
    /// The options every vault has.
    #[config(flatten)]
    pub common: CommonSettings,
    /// `https://<vault-name>.vault.azure.net`.
    pub vault_url: String,
    /// Where client-secret tokens are requested.
    #[config(default = PUBLIC_AUTHORITY.to_owned())]
    pub authority_host: String,
    /// An extra CA certificate (PEM) to trust.
    pub ca_certificate: Option<String>,
    /// The service principal, or none for the managed identity.
    #[config(nested)]
    pub credentials: AzureCredentialFields,
}

impl AsRef<CommonSettings> for AzureSettings {
    fn as_ref(&self) -> &CommonSettings {
        &self.common
    }
}

/// Everything the backend needs.
#[derive(Debug, Clone)]
pub struct AzureConfig {
    /// `https://<vault>.vault.azure.net`.
    pub vault_url: String,
    /// Where client-secret tokens are requested (default Microsoft's).
    pub authority_host: String,
    /// How to authenticate.
    pub credentials: AzureCredentials,
    /// An extra CA certificate (PEM) to trust, for private endpoints behind
    /// a TLS-inspecting proxy or a local emulator.
    pub ca_certificate: Option<String>,
}

fn is_https_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| u.scheme() == "https" && u.host().is_some())
}

impl AzureConfig {
    /// Checks the settings: https URLs, the credentials all or none, the
    /// certificate a PEM, the timeout valid.
    pub fn from_settings(s: AzureSettings) -> Result<Self, Error> {
        let invalid =
            |m: String| Error::new(ErrorKind::ConfigInvalid, m).with_provider(SECTION.to_owned());
        if !is_https_url(&s.vault_url) {
            return Err(invalid(format!(
                "`providers.{SECTION}.vault_url` must be an https URL, https://<vault-name>.vault.azure.net (Key Vault tokens are sent over TLS only)"
            )));
        }
        if !is_https_url(&s.authority_host) {
            return Err(invalid(format!(
                "`providers.{SECTION}.authority_host` must be an https URL"
            )));
        }
        let c = s.credentials;
        let credentials = match (
            c.azure_tenant_id.filter(|t| !t.is_empty()),
            c.azure_client_id.filter(|t| !t.is_empty()),
            c.azure_client_secret,
        ) {
            (None, None, None) => AzureCredentials::ManagedIdentity,
            (Some(tenant), Some(client), Some(secret)) => {
                AzureCredentials::ClientSecret(ClientSecret {
                    azure_tenant_id: tenant,
                    azure_client_id: client,
                    azure_client_secret: secret,
                })
            }
            _ => {
                return Err(invalid(format!(
                    "set all of `providers.{SECTION}.credentials.azure_tenant_id`, `azure_client_id` and `azure_client_secret`, or none of them"
                )));
            }
        };
        let ca_certificate = s.ca_certificate.filter(|c| !c.is_empty());
        if let Some(pem) = &ca_certificate
            && !pem.contains("-----BEGIN CERTIFICATE-----")
        {
            return Err(invalid(format!(
                "`providers.{SECTION}.ca_certificate` must be a PEM certificate"
            )));
        }
        Ok(Self {
            vault_url: s.vault_url.trim_end_matches('/').to_owned(),
            authority_host: s.authority_host.trim_end_matches('/').to_owned(),
            credentials,
            ca_certificate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use strata_secrets_conformance::{block_on, settings_table as table};

    use std::time::Duration;
    use strata_secrets_core::Table;
    use strata_secrets_core::vault::kit;

    fn from_table(t: &Table) -> Result<kit::Checked<AzureConfig>, Error> {
        block_on(kit::checked::<crate::AzureBackend, _>(
            t,
            AzureConfig::from_settings,
        ))
    }

    #[test]
    fn settings() {
        assert!(
            from_table(&Table::default())
                .unwrap_err()
                .to_string()
                .contains("vault_url")
        );
        let c = from_table(&table("vault_url = \"https://v.vault.azure.net/\"")).unwrap();
        assert_eq!(c.vault_url, "https://v.vault.azure.net");
        assert!(matches!(c.credentials, AzureCredentials::ManagedIdentity));
        assert_eq!(c.options.timeout, crate::DEFAULT_TIMEOUT);
        let c = from_table(&table(
            "vault_url = \"https://v.vault.azure.net\"\ntimeout = 2\n[credentials]\nazure_tenant_id = \"t\"\nazure_client_id = \"c\"\nazure_client_secret = \"canary\"\n",
        ))
        .unwrap();
        assert!(!format!("{c:?}").contains("canary"));
        assert_eq!(c.options.timeout, Duration::from_secs(2));
        assert!(from_table(&table("vault_url = \"http://v\"")).is_err());
        assert!(from_table(&table("vault_url = \"not a url\"")).is_err());
        let err = from_table(&table(
            "vault_url = \"https://v\"\n[credentials]\nazure_tenant_id = \"t\"\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("azure_client_secret"), "{err}");
    }
}
