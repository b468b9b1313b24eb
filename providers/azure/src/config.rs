//! Bootstrap settings of the Azure backend, from `[providers.azure_key_vault]`.

use secrecy::SecretString;
use std::fmt;
use strata_core::vault::{Settings, VaultOptions};
use strata_core::{Error, Table};

/// The configuration section, under `providers`.
pub const SECTION: &str = "azure_key_vault";
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
    /// Per-request timeout, if set.
    pub timeout: Option<std::time::Duration>,
    /// The vault engine options.
    pub options: VaultOptions,
}

impl AzureConfig {
    /// Reads `[providers.azure_key_vault]`: `vault_url` (required),
    /// `only_secrets`, `only_toml_fragments`, `list_secrets`,
    /// `authority_host`, `ca_certificate`, `timeout` (seconds per request),
    /// and `credentials` with
    /// `azure_tenant_id`, `azure_client_id`, `azure_client_secret` (all
    /// three, or none for the managed identity).
    pub fn from_table(t: &Table) -> Result<Self, Error> {
        let s = Settings::new(SECTION, "", t);
        let vault_url = s.required("vault_url", "https://<vault-name>.vault.azure.net")?;
        if !vault_url.starts_with("https://") {
            return Err(s.invalid(format!(
                "`{}` must be an https URL (Key Vault tokens are sent over TLS only)",
                s.key("vault_url")
            )));
        }
        let authority_host = s
            .text("authority_host")?
            .unwrap_or_else(|| PUBLIC_AUTHORITY.into());
        let credentials = match s.credentials()? {
            None => AzureCredentials::ManagedIdentity,
            Some(table) => {
                let c = Settings::new(SECTION, "credentials.", &table);
                match (
                    c.text("azure_tenant_id")?,
                    c.text("azure_client_id")?,
                    c.text("azure_client_secret")?,
                ) {
                    (None, None, None) => AzureCredentials::ManagedIdentity,
                    (Some(tenant), Some(client), Some(secret)) => {
                        AzureCredentials::ClientSecret(ClientSecret {
                            azure_tenant_id: tenant,
                            azure_client_id: client,
                            azure_client_secret: SecretString::from(secret),
                        })
                    }
                    _ => {
                        return Err(s.invalid(format!(
                            "set all of `{}`, `azure_client_id` and `azure_client_secret`, or none of them",
                            s.key("credentials.azure_tenant_id")
                        )));
                    }
                }
            }
        };
        let ca_certificate = s.text("ca_certificate")?;
        if let Some(pem) = &ca_certificate
            && !pem.contains("-----BEGIN CERTIFICATE-----")
        {
            return Err(s.invalid(format!(
                "`{}` must be a PEM certificate",
                s.key("ca_certificate")
            )));
        }
        Ok(Self {
            vault_url: vault_url.trim_end_matches('/').to_owned(),
            authority_host: authority_host.trim_end_matches('/').to_owned(),
            credentials,
            ca_certificate,
            timeout: s.seconds("timeout")?,
            options: s.vault_options()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use strata_core::Value;

    fn table(text: &str) -> Table {
        Value::from(text)
            .to_table()
            .map(|c| c.into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn settings() {
        assert!(
            AzureConfig::from_table(&Table::default())
                .unwrap_err()
                .to_string()
                .contains("vault_url")
        );
        let c =
            AzureConfig::from_table(&table("vault_url = \"https://v.vault.azure.net/\"")).unwrap();
        assert_eq!(c.vault_url, "https://v.vault.azure.net");
        assert!(matches!(c.credentials, AzureCredentials::ManagedIdentity));
        let c = AzureConfig::from_table(&table(
            "vault_url = \"https://v.vault.azure.net\"\n[credentials]\nazure_tenant_id = \"t\"\nazure_client_id = \"c\"\nazure_client_secret = \"canary\"\n",
        ))
        .unwrap();
        assert!(!format!("{c:?}").contains("canary"));
        assert!(AzureConfig::from_table(&table("vault_url = \"http://v\"")).is_err());
        let err = AzureConfig::from_table(&table(
            "vault_url = \"https://v\"\n[credentials]\nazure_tenant_id = \"t\"\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("azure_client_secret"), "{err}");
    }
}
