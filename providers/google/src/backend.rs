//! Fetch and list against Secret Manager through Google's official client.

use crate::SECTION;
use crate::config::{Credentials, GoogleConfig};
use crate::error::{ACCESSOR_ROLE, is_not_found, map};
use async_trait::async_trait;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use strata_secrets_core::vault::{Capabilities, Fetched, VaultBackend, VaultOptions, Version};
use strata_secrets_core::{Error, ErrorKind};
use strata_secrets_http::PolicyClient;

/// Secret Manager's address, unless `endpoint` says otherwise.
pub const DEFAULT_ENDPOINT: &str = "https://secretmanager.googleapis.com";

/// Secret Manager, through the official client.
pub struct GoogleBackend {
    client: SecretManagerService,
    /// Authenticated by the platform's application default credentials.
    adc: bool,
    project: String,
    version: String,
    endpoint: String,
}

impl fmt::Debug for GoogleBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleBackend")
            .field("project", &self.project)
            .field("version", &self.version)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl GoogleBackend {
    /// Builds the client from the bootstrap settings. The client makes one
    /// attempt per call: the vault engine retries passing failures within
    /// its deadline.
    pub async fn new(config: &GoogleConfig, options: &VaultOptions) -> Result<Self, Error> {
        let project = config.project()?;
        let mut http = PolicyClient::builder().timeout(options.timeout);
        if let Some(pem) = &config.ca_certificate {
            http = http.root_certificates_pem(pem.as_bytes());
        }
        let http = http.build().map_err(|e| {
            Error::new(
                ErrorKind::ConfigInvalid,
                format!("`providers.google_secrets.ca_certificate` is not usable: {e}"),
            )
            .with_provider(SECTION)
        })?;
        let credentials = match &config.credentials {
            Credentials::ServiceAccount(sa) => google_cloud_auth::credentials::Credentials::from(
                crate::token::ServiceAccountTokens::new(sa, http.clone())?,
            ),
            Credentials::ApplicationDefault => {
                google_cloud_auth::credentials::Builder::default()
                    .build()
                    .map_err(|e| {
                        Error::new(
                            ErrorKind::Unauthenticated,
                            format!(
                                "no Google credentials: none are set and the application default credentials cannot be used ({e}); set providers.google_secrets.credentials (PROVIDERS__GOOGLE_SECRETS__CREDENTIALS as the whole service-account JSON key, or its project_id, client_email and private_key fields), or GOOGLE_APPLICATION_CREDENTIALS to a key file"
                            ),
                        )
                        .with_provider(SECTION)
                    })?
            }
        };
        let endpoint_text = config
            .endpoint
            .clone()
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let endpoint = url::Url::parse(&endpoint_text).map_err(|_| {
            Error::new(
                ErrorKind::ConfigInvalid,
                "`providers.google_secrets.endpoint` is not a URL".to_owned(),
            )
            .with_provider(SECTION)
        })?;
        let client = SecretManagerService::from_stub::<crate::transport::PolicyTransport>(
            crate::transport::PolicyTransport::new(http, endpoint, credentials),
        );
        Ok(Self {
            client,
            adc: matches!(config.credentials, Credentials::ApplicationDefault),
            project,
            version: config.version.clone(),
            endpoint: endpoint_text,
        })
    }

    fn secret_path(&self, name: &str) -> String {
        format!("projects/{}/secrets/{name}", self.project)
    }

    /// Reads version `version` (`latest` or a number) of `name`.
    async fn access(&self, name: &str, version: &str) -> Result<Fetched, Error> {
        let version = format!("{}/versions/{version}", self.secret_path(name));
        let response = match self
            .client
            .access_secret_version()
            .set_name(&version)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) if is_not_found(&e) => return Ok(Fetched::NotFound),
            Err(e) => return Err(map(e, "access", name, self.adc)),
        };
        let Some(payload) = response.payload else {
            return Ok(Fetched::NotFound);
        };
        if let Some(expected) = payload.data_crc32c
            && i64::from(crc32c::crc32c(&payload.data)) != expected
        {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!("the payload of `{name}` failed its CRC32C check"),
            )
            .set_temporary(true));
        }
        match String::from_utf8(payload.data.to_vec()) {
            Ok(text) => Ok(Fetched::Found(SecretString::from(text))),
            Err(_) => Err(Error::new(
                ErrorKind::Parse,
                format!(
                    "the payload of `{name}` is not UTF-8 text; strata reads text secrets only"
                ),
            )),
        }
    }
}

#[async_trait]
impl VaultBackend for GoogleBackend {
    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        self.access(name, &self.version).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: true,
            store: true,
            versions: true,
            empty_values: true,
            binary_values: true,
        }
    }

    async fn list(&self) -> Result<Vec<String>, Error> {
        let parent = format!("projects/{}", self.project);
        let prefix = format!("{parent}/secrets/");
        let mut names = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .client
                .list_secrets()
                .set_parent(&parent)
                .set_page_size(25_000)
                .set_page_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    let mut err = map(e, "list", &parent, self.adc);
                    if err.kind() == ErrorKind::PermissionDenied {
                        err = Error::new(
                            ErrorKind::PermissionDenied,
                            format!("{}; listing needs roles/secretmanager.viewer (permission secretmanager.secrets.list), or set list_secrets = false", err.message()),
                        );
                    }
                    err
                })?;
            names.extend(
                page.secrets
                    .iter()
                    .filter_map(|s| s.name.strip_prefix(&prefix).map(str::to_owned)),
            );
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        Ok(names)
    }

    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        let parent = format!("projects/{}", self.project);
        let created = self
            .client
            .create_secret()
            .set_parent(&parent)
            .set_secret_id(name)
            .set_secret(model::Secret::new().set_replication(
                model::Replication::new().set_automatic(model::replication::Automatic::new()),
            ))
            .send()
            .await;
        if let Err(e) = created {
            let exists = e
                .status()
                .is_some_and(|s| s.code == google_cloud_gax::error::rpc::Code::AlreadyExists);
            if !exists {
                return Err(map(e, "create", name, self.adc));
            }
        }
        let data = value.expose_secret().as_bytes().to_vec();
        let crc = i64::from(crc32c::crc32c(&data));
        let version = self
            .client
            .add_secret_version()
            .set_parent(self.secret_path(name))
            .set_payload(
                model::SecretPayload::new()
                    .set_data(data)
                    .set_data_crc32c(crc),
            )
            .send()
            .await
            .map_err(|e| map(e, "add a version to", name, self.adc))?;
        Ok(version
            .name
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned())
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        let parent = self.secret_path(name);
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = match self
                .client
                .list_secret_versions()
                .set_parent(&parent)
                .set_page_token(token.clone())
                .send()
                .await
            {
                Ok(page) => page,
                Err(e) if is_not_found(&e) => return Ok(Vec::new()),
                Err(e) => return Err(map(e, "list the versions of", name, self.adc)),
            };
            for v in page.versions {
                let Some(id) = v.name.rsplit('/').next().map(str::to_owned) else {
                    continue;
                };
                out.push(Version {
                    id,
                    created: v.create_time.map(String::from),
                    state: v.state.name().unwrap_or("UNKNOWN").to_lowercase(),
                });
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        // oldest first: by number
        out.sort_by_key(|v| v.id.parse::<u64>().unwrap_or(u64::MAX));
        Ok(out)
    }

    async fn fetch_version(&self, name: &str, id: &str) -> Result<Fetched, Error> {
        self.access(name, id).await
    }

    fn access_hint(&self) -> String {
        ACCESSOR_ROLE.into()
    }

    fn location(&self) -> String {
        format!("projects/{} at {}", self.project, self.endpoint)
    }
}
