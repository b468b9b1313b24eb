//! Fetch and list against Azure Key Vault through Microsoft's Rust SDK.

use crate::SECTION;
use crate::config::{AzureConfig, AzureCredentials, ClientSecret};
use crate::error::{READER_ROLE, is_not_found, map};
use async_trait::async_trait;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::time::{Duration as AzDuration, OffsetDateTime};
use azure_security_keyvault_secrets::models::SetSecretParameters;
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use futures::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::sync::Arc;
use strata_secrets_core::vault::{Capabilities, Fetched, VaultBackend, VaultOptions, Version};
use strata_secrets_core::{Error, ErrorKind};
use strata_secrets_http::PolicyClient;

/// The client-credentials flow: `POST {authority}/{tenant}/oauth2/v2.0/token`
/// with the client id and secret, tokens cached until shortly before they
/// expire. azure_identity's own credential accepts HTTPS authorities only,
/// so a local token endpoint (tests) could not be reached through it.
struct ClientSecretToken {
    http: PolicyClient,
    url: String,
    client_id: String,
    secret: SecretString,
    cache: tokio::sync::Mutex<Option<AccessToken>>,
}

impl fmt::Debug for ClientSecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretToken")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn credential_error(message: String) -> azure_core::Error {
    azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, message)
}

#[async_trait]
impl TokenCredential for ClientSecretToken {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let mut cache = self.cache.lock().await;
        if let Some(t) = cache.as_ref()
            && t.expires_on > OffsetDateTime::now_utc() + AzDuration::seconds(60)
        {
            return Ok(t.clone());
        }
        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
            form_encode(&self.client_id),
            form_encode(self.secret.expose_secret()),
            form_encode(&scopes.join(" "))
        );
        let mut request = http::Request::new(body.into_bytes());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = self.url.parse().map_err(|_| {
            credential_error(format!("the token endpoint {} is not a URL", self.url))
        })?;
        request.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let response = self.http.send(request).await.map_err(|e| {
            let kind = if e.is_temporary() {
                azure_core::error::ErrorKind::Io
            } else {
                azure_core::error::ErrorKind::Credential
            };
            azure_core::Error::new(kind, e)
        })?;
        let status = response.status();
        let bytes = response.into_body();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if !status.is_success() {
            let code = json["error"].as_str().unwrap_or("unknown error");
            return Err(credential_error(format!(
                "{} refused the client credentials: {status} {code}",
                self.url
            )));
        }
        let token = json["access_token"]
            .as_str()
            .ok_or_else(|| credential_error(format!("{} returned no access token", self.url)))?;
        // range-checked: a reply's duration never overflows a time
        let expires_in = json["expires_in"]
            .as_i64()
            .unwrap_or(3600)
            .clamp(0, 366 * 24 * 3600);
        let access = AccessToken::new(
            token.to_owned(),
            OffsetDateTime::now_utc() + AzDuration::seconds(expires_in),
        );
        *cache = Some(access.clone());
        Ok(access)
    }
}

/// Azure Key Vault, through `azure_security_keyvault_secrets`.
pub struct AzureBackend {
    client: SecretClient,
    vault_url: String,
}

impl fmt::Debug for AzureBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureBackend")
            .field("vault_url", &self.vault_url)
            .finish_non_exhaustive()
    }
}

/// The policy's HTTP client ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)), trusting the settings' CA
/// certificate as well.
fn http_client(ca: Option<&str>, timeout: std::time::Duration) -> Result<PolicyClient, Error> {
    let mut builder = PolicyClient::builder().timeout(timeout);
    if let Some(pem) = ca {
        builder = builder.root_certificates_pem(pem.as_bytes());
    }
    builder.build().map_err(|e| {
        Error::new(
            ErrorKind::ConfigInvalid,
            format!(
                "`providers.{}.ca_certificate` is not a usable certificate: {e}",
                SECTION
            ),
        )
        .with_provider(SECTION)
    })
}

fn client_secret(
    c: &ClientSecret,
    authority: &str,
    http: PolicyClient,
) -> Result<Arc<dyn TokenCredential>, Error> {
    Ok(Arc::new(ClientSecretToken {
        http,
        url: format!("{authority}/{}/oauth2/v2.0/token", c.azure_tenant_id),
        client_id: c.azure_client_id.clone(),
        secret: c.azure_client_secret.clone(),
        cache: tokio::sync::Mutex::new(None),
    }))
}

impl AzureBackend {
    /// Builds the client from the bootstrap settings. The client makes one
    /// attempt per call: the vault engine retries passing failures within
    /// its deadline.
    pub fn new(config: &AzureConfig, options: &VaultOptions) -> Result<Self, Error> {
        let http = http_client(config.ca_certificate.as_deref(), options.timeout)?;
        let credential: Arc<dyn TokenCredential> = match &config.credentials {
            AzureCredentials::ClientSecret(c) => {
                client_secret(c, &config.authority_host, http.clone())?
            }
            AzureCredentials::ManagedIdentity => {
                let mut options = azure_identity::ManagedIdentityCredentialOptions::default();
                options.client_options.transport = Some(azure_core::http::Transport::new(
                    Arc::new(crate::transport::PolicyHttp {
                        client: http.clone(),
                    }),
                ));
                azure_identity::ManagedIdentityCredential::new(Some(options)).map_err(|e| {
                    Error::new(
                        ErrorKind::ConfigInvalid,
                        format!("no managed identity: {e}"),
                    )
                    .with_provider(SECTION)
                })?
            }
        };
        let mut options = SecretClientOptions {
            // the challenge's resource must match the vault's domain; an
            // address (a local emulator) has no domain to match
            verify_challenge_resource: Some(!is_ip_url(&config.vault_url)),
            ..SecretClientOptions::default()
        };
        options.client_options.transport = Some(azure_core::http::Transport::new(Arc::new(
            crate::transport::PolicyHttp { client: http },
        )));
        options.client_options.retry = azure_core::http::RetryOptions::none();
        let client =
            SecretClient::new(&config.vault_url, credential, Some(options)).map_err(|e| {
                Error::new(
                    ErrorKind::ConfigInvalid,
                    format!("cannot build the Key Vault client: {e}"),
                )
                .with_provider(SECTION)
            })?;
        Ok(Self {
            client,
            vault_url: config.vault_url.clone(),
        })
    }
}

fn is_ip_url(url: &str) -> bool {
    let host = url
        .trim_start_matches("https://")
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    host.parse::<std::net::IpAddr>().is_ok() || host == "localhost"
}

/// `https://v.vault.azure.net/secrets/NAME/VERSION` -> VERSION.
fn version_of(id: &str) -> Option<&str> {
    let rest = &id[id.find("/secrets/")? + "/secrets/".len()..];
    rest.split('/').nth(1).filter(|v| !v.is_empty())
}

/// `https://v.vault.azure.net/secrets/NAME[/VERSION]` -> NAME.
fn name_of(id: &str) -> Option<&str> {
    let rest = &id[id.find("/secrets/")? + "/secrets/".len()..];
    rest.split('/').next().filter(|n| !n.is_empty())
}

#[async_trait]
impl VaultBackend for AzureBackend {
    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        let secret = match self.client.get_secret(name, None).await {
            Ok(r) => r.into_model().map_err(|e| map(e, "read", name))?,
            Err(e) if is_not_found(&e) => return Ok(Fetched::NotFound),
            Err(e) => return Err(map(e, "read", name)),
        };
        Ok(match secret.value {
            Some(v) => Fetched::Found(SecretString::from(v)),
            None => Fetched::NotFound,
        })
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: true,
            store: true,
            versions: true,
            empty_values: true,
            binary_values: false,
        }
    }

    async fn list(&self) -> Result<Vec<String>, Error> {
        let mut pager = self
            .client
            .list_secret_properties(None)
            .map_err(|e| map(e, "list", "secrets"))?;
        let mut names = Vec::new();
        while let Some(item) = pager
            .try_next()
            .await
            .map_err(|e| map(e, "list", "secrets"))?
        {
            if let Some(n) = item.id.as_deref().and_then(name_of) {
                names.push(n.to_owned());
            }
        }
        Ok(names)
    }

    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        let params = SetSecretParameters {
            value: Some(value.expose_secret().to_owned()),
            ..Default::default()
        };
        let body = params.try_into().map_err(|e: azure_core::Error| {
            Error::new(ErrorKind::Other, format!("cannot encode the secret: {e}"))
        })?;
        let secret = self
            .client
            .set_secret(name, body, None)
            .await
            .and_then(|r| r.into_model())
            .map_err(|e| map(e, "write", name))?;
        Ok(secret
            .id
            .as_deref()
            .and_then(|id| id.rsplit('/').next())
            .unwrap_or_default()
            .to_owned())
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        let mut pager = self
            .client
            .list_secret_properties_versions(name, None)
            .map_err(|e| map(e, "list the versions of", name))?;
        let mut out: Vec<(Option<i64>, Version)> = Vec::new();
        loop {
            let item = match pager.try_next().await {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(e) if is_not_found(&e) => return Ok(Vec::new()),
                Err(e) => return Err(map(e, "list the versions of", name)),
            };
            let Some(id) = item.id.as_deref().and_then(version_of) else {
                continue;
            };
            let attributes = item.attributes.as_ref();
            let created = attributes.and_then(|a| a.created);
            let enabled = attributes.and_then(|a| a.enabled).unwrap_or(true);
            out.push((
                created.map(|c| c.unix_timestamp_nanos() as i64),
                Version {
                    id: id.to_owned(),
                    created: created.as_ref().map(azure_core::time::to_rfc3339),
                    state: if enabled { "enabled" } else { "disabled" }.to_owned(),
                },
            ));
        }
        // oldest first
        out.sort_by_key(|(t, _)| t.unwrap_or(i64::MAX));
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }

    async fn fetch_version(&self, name: &str, id: &str) -> Result<Fetched, Error> {
        let options = azure_security_keyvault_secrets::models::SecretClientGetSecretOptions {
            secret_version: Some(id.to_owned()),
            ..Default::default()
        };
        let secret = match self.client.get_secret(name, Some(options)).await {
            Ok(r) => r.into_model().map_err(|e| map(e, "read", name))?,
            Err(e) if is_not_found(&e) => return Ok(Fetched::NotFound),
            Err(e) => return Err(map(e, "read", name)),
        };
        Ok(match secret.value {
            Some(v) => Fetched::Found(SecretString::from(v)),
            None => Fetched::NotFound,
        })
    }

    fn access_hint(&self) -> String {
        READER_ROLE.into()
    }

    fn location(&self) -> String {
        self.vault_url.clone()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_from_ids() {
        assert_eq!(
            super::name_of("https://v.vault.azure.net/secrets/a--b/123"),
            Some("a--b")
        );
        assert_eq!(super::name_of("http://127.0.0.1:9/secrets/x"), Some("x"));
        assert_eq!(super::name_of("https://v/keys/x"), None);
    }
}
