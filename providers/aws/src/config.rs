//! Bootstrap settings of the AWS backend, from `[providers.aws_secrets]`,
//! as dlt 1.31's own AWS provider reads them.

use secrecy::SecretString;
use std::fmt;
use strata_core::naming::DEFAULT_AWS_PREFIX;
use strata_core::vault::{Settings, VaultOptions};
use strata_core::{Error, Table};

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

impl AwsConfig {
    /// Reads the `[providers.aws_secrets]` table: `only_secrets`,
    /// `only_toml_fragments`, `list_secrets`, `secret_name_prefix` (default
    /// `dlt/`; an empty string means no prefix), `timeout` (seconds per
    /// attempt, a strata option) and `credentials`.
    pub fn from_table(t: &Table) -> Result<Self, Error> {
        let s = Settings::new(SECTION, "", t);
        let secret_name_prefix = match t.get("secret_name_prefix") {
            None => DEFAULT_AWS_PREFIX.to_owned(),
            Some(v) => v.deserialize::<String>().map_err(|e| {
                s.invalid(format!(
                    "`{}` must be text: {e}",
                    s.key("secret_name_prefix")
                ))
            })?,
        };
        let credentials = match s.credentials()? {
            None => AwsCredentials::default(),
            Some(table) => {
                let c = Settings::new(SECTION, "credentials.", &table);
                AwsCredentials {
                    aws_access_key_id: c.text("aws_access_key_id")?,
                    aws_secret_access_key: c.text("aws_secret_access_key")?.map(SecretString::from),
                    aws_session_token: c.text("aws_session_token")?.map(SecretString::from),
                    profile_name: c.text("profile_name")?,
                    region_name: c.text("region_name")?,
                    endpoint_url: c.text("endpoint_url")?,
                }
            }
        };
        if credentials.aws_access_key_id.is_some() != credentials.aws_secret_access_key.is_some() {
            return Err(s.invalid(format!(
                "set both `{}` and `{}`, or neither",
                s.key("credentials.aws_access_key_id"),
                s.key("credentials.aws_secret_access_key")
            )));
        }
        Ok(Self {
            secret_name_prefix,
            credentials,
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
    fn defaults_as_dlt() {
        let c = AwsConfig::from_table(&Table::default()).unwrap();
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
