//! Fetch and list against AWS Secrets Manager through the official SDK.

use crate::config::AwsConfig;
use crate::error::{Place, READ_PERMISSION, map, read_outcome};
use crate::{NAMING, SECTION};
use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use strata_secrets_core::naming::VaultNaming;
use strata_secrets_core::vault::{Capabilities, Fetched, VaultBackend, VaultOptions, Version};
use strata_secrets_core::{Error, ErrorKind};

/// AWS Secrets Manager, through `aws-sdk-secretsmanager`.
pub struct AwsBackend {
    client: Client,
    pub(crate) naming: VaultNaming,
    location: String,
    endpoint: String,
    region: String,
}

impl fmt::Debug for AwsBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsBackend")
            .field("prefix", &self.naming.prefix)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl AwsBackend {
    fn place(&self) -> Place<'_> {
        Place {
            endpoint: &self.endpoint,
            region: &self.region,
        }
    }

    /// Builds the client from the bootstrap settings: explicit keys, a
    /// profile, a region and an endpoint where given, else the SDK's
    /// default chain. The client makes one attempt per call: the vault
    /// engine retries passing failures within its deadline.
    pub async fn new(config: &AwsConfig, options: &VaultOptions) -> Result<Self, Error> {
        let c = &config.credentials;
        let t = options.timeout;
        let mut http = strata_secrets_http::PolicyClient::builder().timeout(t);
        if let Some(pem) = &config.ca_certificate {
            http = http.root_certificates_pem(pem.as_bytes());
        }
        let http = http.build().map_err(|e| {
            Error::new(
                ErrorKind::ConfigInvalid,
                format!("`providers.{}.ca_certificate` is not usable: {e}", SECTION),
            )
            .with_provider(SECTION)
        })?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .http_client(crate::transport::PolicyHttp::new(http));
        loader = loader.timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(t)
                .read_timeout(t)
                .operation_attempt_timeout(t)
                .build(),
        );
        if let Some(profile) = &c.profile_name {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &c.region_name {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let (Some(id), Some(secret)) = (&c.aws_access_key_id, &c.aws_secret_access_key) {
            let creds = aws_sdk_secretsmanager::config::Credentials::new(
                id.clone(),
                secret.expose_secret().to_owned(),
                c.aws_session_token
                    .as_ref()
                    .map(|t| t.expose_secret().to_owned()),
                None,
                "strata",
            );
            loader = loader.credentials_provider(creds);
        }
        if let Some(endpoint) = &c.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let sdk = loader.load().await;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            return Err(Error::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "the AWS region could not be determined: set `providers.{}.credentials.region_name`, AWS_DEFAULT_REGION or a region in your AWS profile",
                    SECTION
                ),
            )
            .with_provider(SECTION));
        };
        let location = location_of(config, &region);
        let endpoint = c
            .endpoint_url
            .clone()
            .unwrap_or_else(|| format!("https://secretsmanager.{region}.amazonaws.com"));
        Ok(Self {
            client: Client::new(&sdk),
            naming: NAMING.with_prefix(config.secret_name_prefix.clone()),
            location,
            endpoint,
            region,
        })
    }
}

/// Where the vault is, for reports: `who@region[:prefix][ at endpoint]`.
fn location_of(config: &AwsConfig, region: &str) -> String {
    let c = &config.credentials;
    let who = c
        .profile_name
        .clone()
        .or_else(|| c.aws_access_key_id.clone())
        .unwrap_or_else(|| "default".into());
    let mut location = format!("{who}@{region}");
    if !config.secret_name_prefix.is_empty() {
        location.push(':');
        location.push_str(&config.secret_name_prefix);
    }
    if let Some(endpoint) = &c.endpoint_url {
        location.push_str(&format!(" at {endpoint}"));
    }
    location
}

#[async_trait]
impl VaultBackend for AwsBackend {
    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        let out = match self.client.get_secret_value().secret_id(name).send().await {
            Ok(out) => out,
            Err(e) => return read_outcome(e, name, &self.place()),
        };
        if let Some(text) = out.secret_string() {
            return Ok(Fetched::Found(SecretString::from(text.to_owned())));
        }
        if out.secret_binary().is_some() {
            return Err(Error::new(
                ErrorKind::Parse,
                format!(
                    "`{name}` is a binary secret (SecretBinary); strata reads string secrets (SecretString) only"
                ),
            ));
        }
        Ok(Fetched::NotFound)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: true,
            store: true,
            versions: true,
            empty_values: false,
            binary_values: true,
        }
    }

    async fn list(&self) -> Result<Vec<String>, Error> {
        let prefix: &str = &self.naming.prefix;
        let mut request = self.client.list_secrets().max_results(100);
        if !prefix.is_empty() {
            let filter = Filter::builder()
                .key(FilterNameStringType::Name)
                .values(prefix)
                .build();
            request = request.filters(filter);
        }
        let mut pages = request.into_paginator().send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| map(e, "list", "secrets", &self.place()))?;
            for secret in page.secret_list() {
                // the server-side filter matches the start of the name; check again
                if let Some(n) = secret.name().filter(|n| n.starts_with(prefix)) {
                    names.push(n.to_owned());
                }
            }
        }
        Ok(names)
    }

    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        let put = self
            .client
            .put_secret_value()
            .secret_id(name)
            .secret_string(value.expose_secret())
            .send()
            .await;
        match put {
            Ok(out) => Ok(out.version_id().unwrap_or_default().to_owned()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                let out = self
                    .client
                    .create_secret()
                    .name(name)
                    .secret_string(value.expose_secret())
                    .send()
                    .await
                    .map_err(|e| map(e, "create", name, &self.place()))?;
                Ok(out.version_id().unwrap_or_default().to_owned())
            }
            Err(e) => Err(map(e, "write", name, &self.place())),
        }
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        // oldest first: by creation time, the current version last among equals
        let mut out: Vec<((i64, u32, bool), Version)> = Vec::new();
        let mut pages = self
            .client
            .list_secret_version_ids()
            .secret_id(name)
            .include_deprecated(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(Vec::new()),
                Err(e) => return Err(map(e, "list the versions of", name, &self.place())),
            };
            for v in page.versions() {
                let Some(id) = v.version_id() else {
                    continue;
                };
                let created = v.created_date();
                let stages = v.version_stages().join(", ");
                let current = v.version_stages().iter().any(|s| s == "AWSCURRENT");
                out.push((
                    (
                        created.map(|d| d.secs()).unwrap_or(i64::MAX),
                        created.map(|d| d.subsec_nanos()).unwrap_or(0),
                        current,
                    ),
                    Version {
                        id: id.to_owned(),
                        created: created.and_then(|d| {
                            d.fmt(aws_sdk_secretsmanager::primitives::DateTimeFormat::DateTime)
                                .ok()
                        }),
                        state: if stages.is_empty() {
                            "deprecated".to_owned()
                        } else {
                            stages
                        },
                    },
                ));
            }
        }
        out.sort_by_key(|(t, _)| *t);
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }

    async fn fetch_version(&self, name: &str, id: &str) -> Result<Fetched, Error> {
        let out = match self
            .client
            .get_secret_value()
            .secret_id(name)
            .version_id(id)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => return read_outcome(e, name, &self.place()),
        };
        Ok(match out.secret_string() {
            Some(text) => Fetched::Found(SecretString::from(text.to_owned())),
            None => Fetched::NotFound,
        })
    }

    fn access_hint(&self) -> String {
        READ_PERMISSION.into()
    }

    fn location(&self) -> String {
        self.location.clone()
    }
}
