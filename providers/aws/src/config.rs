//! Bootstrap settings of the AWS backend, from `[providers.aws_secrets]`,
//! as dlt 1.31's own AWS provider reads them.

use secrecy::SecretString;
use std::fmt;
use strata_core::naming::DEFAULT_AWS_PREFIX;
use strata_core::vault::VaultOptions;
use strata_core::{Error, ErrorKind, Table, Value};

/// The configuration section, under `providers`.
pub const SECTION: &str = "aws_secrets";

/// `[providers.aws_secrets.credentials]`; every field optional. With none,
/// the SDK's default credential chain and region.
#[derive(Clone, Default)]
pub struct AwsCredentials {
    /// Access key id.
    pub aws_access_key_id: Option<String>,
    /// Secret access key.
    pub aws_secret_access_key: Option<SecretString>,
    /// Session token of temporary credentials.
    pub aws_session_token: Option<SecretString>,
    /// A named profile of the shared config files.
    pub profile_name: Option<String>,
    /// The region.
    pub region_name: Option<String>,
    /// Another endpoint (moto, LocalStack, a VPC endpoint).
    pub endpoint_url: Option<String>,
}

/// Leaves the secret key and the session token out.
impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("aws_access_key_id", &self.aws_access_key_id)
            .field("profile_name", &self.profile_name)
            .field("region_name", &self.region_name)
            .field("endpoint_url", &self.endpoint_url)
            .finish_non_exhaustive()
    }
}

/// Everything the backend needs.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    /// Prepended verbatim to every secret name and used to filter listings.
    pub secret_name_prefix: String,
    /// Credentials, region and endpoint.
    pub credentials: AwsCredentials,
    /// Per-attempt timeout (a strata option; dlt has none).
    pub timeout: Option<std::time::Duration>,
    /// The vault engine options.
    pub options: VaultOptions,
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::ConfigInvalid, message).with_provider(SECTION)
}

fn text(t: &Table, key: &str, at: &str) -> Result<Option<String>, Error> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(v) => v
            .deserialize::<String>()
            .map(Some)
            .map_err(|e| invalid(format!("`providers.{SECTION}.{at}{key}` must be text: {e}"))),
    }
}

fn flag(t: &Table, key: &str, default: bool) -> Result<bool, Error> {
    match t.get(key) {
        None => Ok(default),
        Some(v) => v.deserialize::<bool>().map_err(|e| {
            invalid(format!(
                "`providers.{SECTION}.{key}` must be a boolean: {e}"
            ))
        }),
    }
}

impl AwsConfig {
    /// Reads the `[providers.aws_secrets]` table: `only_secrets`,
    /// `only_toml_fragments`, `list_secrets`, `secret_name_prefix` (default
    /// `dlt/`; an empty string means no prefix) and `credentials`.
    pub fn from_table(t: &Table) -> Result<Self, Error> {
        let d = VaultOptions::default();
        let options = VaultOptions {
            only_secrets: flag(t, "only_secrets", d.only_secrets)?,
            only_toml_fragments: flag(t, "only_toml_fragments", d.only_toml_fragments)?,
            list_secrets: flag(t, "list_secrets", d.list_secrets)?,
        };
        let secret_name_prefix = match t.get("secret_name_prefix") {
            None => DEFAULT_AWS_PREFIX.to_owned(),
            Some(v) => v.deserialize::<String>().map_err(|e| {
                invalid(format!(
                    "`providers.{SECTION}.secret_name_prefix` must be text: {e}"
                ))
            })?,
        };
        let credentials = match t.get("credentials") {
            None => AwsCredentials::default(),
            Some(v) => {
                let c = v.to_table().ok_or_else(|| {
                    invalid(format!("`providers.{SECTION}.credentials` must be a table"))
                })?;
                let c = c.as_ref();
                let at = "credentials.";
                AwsCredentials {
                    aws_access_key_id: text(c, "aws_access_key_id", at)?,
                    aws_secret_access_key: text(c, "aws_secret_access_key", at)?
                        .map(SecretString::from),
                    aws_session_token: text(c, "aws_session_token", at)?.map(SecretString::from),
                    profile_name: text(c, "profile_name", at)?,
                    region_name: text(c, "region_name", at)?,
                    endpoint_url: text(c, "endpoint_url", at)?,
                }
            }
        };
        if credentials.aws_access_key_id.is_some() != credentials.aws_secret_access_key.is_some() {
            return Err(invalid(format!(
                "set both `providers.{SECTION}.credentials.aws_access_key_id` and `aws_secret_access_key`, or neither"
            )));
        }
        let timeout = match t.get("timeout") {
            None => None,
            Some(v) => {
                let secs = v.deserialize::<f64>().map_err(|e| {
                    invalid(format!(
                        "`providers.{SECTION}.timeout` must be seconds: {e}"
                    ))
                })?;
                if !(secs > 0.0 && secs.is_finite()) {
                    return Err(invalid(format!(
                        "`providers.{SECTION}.timeout` must be positive"
                    )));
                }
                Some(std::time::Duration::from_secs_f64(secs))
            }
        };
        Ok(Self {
            secret_name_prefix,
            credentials,
            timeout,
            options,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        Value::from(text)
            .to_table()
            .map(|c| c.into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn defaults_as_dlt() {
        let c = AwsConfig::from_table(&Table::new()).unwrap();
        assert_eq!(c.secret_name_prefix, "dlt/");
        assert_eq!(c.options, VaultOptions::default());
        let c = AwsConfig::from_table(&table("secret_name_prefix = \"\"\nlist_secrets = true"))
            .unwrap();
        assert_eq!(c.secret_name_prefix, "");
        assert!(c.options.list_secrets);
    }

    #[test]
    fn credentials_and_redacted_debug() {
        let c = AwsConfig::from_table(&table(
            "[credentials]\naws_access_key_id = \"AKIDEXAMPLE\"\naws_secret_access_key = \"canary-secret-key\"\nregion_name = \"eu-west-1\"\n",
        ))
        .unwrap();
        assert_eq!(c.credentials.region_name.as_deref(), Some("eu-west-1"));
        assert!(!format!("{c:?}").contains("canary"));
        let err = AwsConfig::from_table(&table(
            "[credentials]\naws_access_key_id = \"AKIDEXAMPLE\"\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("aws_secret_access_key"), "{err}");
    }
}
