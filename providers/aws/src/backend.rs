//! Fetch and list against AWS Secrets Manager through the official SDK.

use crate::config::AwsConfig;
use crate::error::{READ_PERMISSION, is_not_found, map};
use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use secrecy::{ExposeSecret, SecretString};
use std::borrow::Cow;
use std::fmt;
use strata_core::naming::VaultNaming;
use strata_core::vault::{Fetched, VaultBackend};
use strata_core::{Error, ErrorKind};

/// Secrets Manager's names (with dlt's default prefix, which the
/// `secret_name_prefix` setting replaces): normalized segments joined with
/// `/`, letters, digits and `/_+=.@-`, at most 512 characters; values up to
/// 64 KiB.
pub const NAMING: VaultNaming = VaultNaming {
    vault: "AWS Secrets Manager",
    prefix: Cow::Borrowed(crate::config::DEFAULT_PREFIX),
    separator: "/",
    replace: &[],
    extra_chars: "/_+=.@-",
    max_name_len: 512,
    max_value_len: 64 * 1024,
    case_insensitive: false,
};

/// AWS Secrets Manager, through `aws-sdk-secretsmanager`.
pub struct AwsBackend {
    client: Client,
    naming: VaultNaming,
    location: String,
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
    /// Builds the client from the bootstrap settings: explicit keys, a
    /// profile, a region and an endpoint where given, else the SDK's
    /// default chain. The client makes one attempt per call: the vault
    /// engine retries passing failures within its deadline.
    pub async fn connect(config: &AwsConfig) -> Result<Self, Error> {
        let c = &config.credentials;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .retry_config(aws_config::retry::RetryConfig::disabled());
        let t = config.timeout;
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
                    crate::SECTION
                ),
            )
            .with_provider(crate::SECTION));
        };
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
        Ok(Self {
            client: Client::new(&sdk),
            naming: NAMING.with_prefix(config.secret_name_prefix.clone()),
            location,
        })
    }
}

#[async_trait]
impl VaultBackend for AwsBackend {
    fn name(&self) -> &str {
        crate::SECTION
    }

    fn naming(&self) -> &VaultNaming {
        &self.naming
    }

    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        let out = match self.client.get_secret_value().secret_id(name).send().await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(Fetched::NotFound),
            Err(e) => return Err(map(e, "read", name)),
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

    fn can_list(&self) -> bool {
        true
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
            let page = page.map_err(|e| map(e, "list", "secrets"))?;
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
            Err(e) if is_not_found(&e) => {
                let out = self
                    .client
                    .create_secret()
                    .name(name)
                    .secret_string(value.expose_secret())
                    .send()
                    .await
                    .map_err(|e| map(e, "create", name))?;
                Ok(out.version_id().unwrap_or_default().to_owned())
            }
            Err(e) => Err(map(e, "write", name)),
        }
    }

    fn access_hint(&self) -> String {
        READ_PERMISSION.into()
    }

    fn location(&self) -> String {
        self.location.clone()
    }
}
