//! Bootstrap settings of the AWS backend, from `[providers.aws_secrets]`,
//! as dlt 1.31's own AWS provider reads them.

use crate::{NAMING, SECTION};
use secrecy::SecretString;
use std::fmt;
use strata_secrets_core::typed::Configuration;
use strata_secrets_core::vault::CommonSettings;
use strata_secrets_core::{Error, ErrorKind, Path};

/// `[providers.aws_secrets.credentials]`, dlt's `AwsCredentials`; every
/// field optional. With none, the SDK's default credential chain and region.
#[derive(Configuration, Clone, Default)]
#[config(crate = "strata_secrets_core", credentials)]
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

/// `[providers.aws_secrets]`: the keys the AWS backend reads, and nothing
/// else, resolved as dlt 1.31 resolves its own AWS provider's.
#[derive(Configuration, Debug)]
#[config(crate = "strata_secrets_core")]
pub struct AwsSettings {
    /// The options every vault has.
    #[config(flatten)]
    pub common: CommonSettings,
    /// Prepended verbatim to every secret name and used to filter listings
    /// (empty: no prefix).
    #[config(default = DEFAULT_PREFIX.to_owned())]
    pub secret_name_prefix: String,
    /// Credentials, region and endpoint.
    #[config(nested)]
    pub credentials: AwsCredentials,
    /// PEM text of CA certificates to trust besides the system's (a private
    /// endpoint, a TLS-inspecting proxy), for the API and the SDK's
    /// credential endpoints.
    pub ca_certificate: Option<String>,
}

/// The default secret name prefix, as in dlt's AWS provider.
pub(crate) const DEFAULT_PREFIX: &str = "dlt/";

impl AsRef<CommonSettings> for AwsSettings {
    fn as_ref(&self) -> &CommonSettings {
        &self.common
    }
}

/// Everything the backend needs.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    /// Prepended verbatim to every secret name and used to filter listings.
    pub secret_name_prefix: String,
    /// Credentials, region and endpoint.
    pub credentials: AwsCredentials,
    /// PEM text of CA certificates to trust besides the system's.
    pub ca_certificate: Option<String>,
}

impl AwsConfig {
    /// Checks the settings: keys in pairs, the endpoint a URL, the prefix
    /// and the timeout valid.
    pub fn from_settings(s: AwsSettings) -> Result<Self, Error> {
        let invalid =
            |m: String| Error::new(ErrorKind::ConfigInvalid, m).with_provider(SECTION.to_owned());
        let mut c = s.credentials;
        for field in [
            &mut c.aws_access_key_id,
            &mut c.profile_name,
            &mut c.region_name,
            &mut c.endpoint_url,
        ] {
            if field.as_deref() == Some("") {
                *field = None;
            }
        }
        if c.aws_access_key_id.is_some() != c.aws_secret_access_key.is_some() {
            return Err(invalid(format!(
                "set both `providers.{SECTION}.credentials.aws_access_key_id` and `providers.{SECTION}.credentials.aws_secret_access_key`, or neither"
            )));
        }
        if let Some(endpoint) = &c.endpoint_url {
            let ok = url::Url::parse(endpoint)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(invalid(format!(
                    "`providers.{SECTION}.credentials.endpoint_url` must be an http or https URL"
                )));
            }
        }
        // the prefix is part of every name: a character the vault refuses
        // fails here, before any request
        NAMING
            .with_prefix(s.secret_name_prefix.clone())
            .name(&Path::parse("x")?)
            .map_err(|_| {
                invalid(format!(
                    "`providers.{SECTION}.secret_name_prefix` may hold only letters, digits and /_+=.@-"
                ))
            })?;
        Ok(Self {
            secret_name_prefix: s.secret_name_prefix,
            credentials: c,
            ca_certificate: s.ca_certificate.filter(|p| !p.trim().is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use strata_secrets_conformance::{block_on, settings_table as table};

    use strata_secrets_core::Table;
    use strata_secrets_core::vault::{VaultOptions, kit};

    fn from_table(t: &Table) -> Result<kit::Checked<AwsConfig>, Error> {
        block_on(kit::checked::<crate::AwsBackend, _>(
            t,
            AwsConfig::from_settings,
        ))
    }

    #[test]
    fn defaults_as_dlt() {
        let c = from_table(&Table::default()).unwrap();
        assert_eq!(c.secret_name_prefix, "dlt/");
        assert_eq!(c.options, VaultOptions::default());
        assert_eq!(c.options.timeout, crate::DEFAULT_TIMEOUT);
        let c = from_table(&table("secret_name_prefix = \"\"\nlist_secrets = true")).unwrap();
        assert_eq!(c.secret_name_prefix, "");
        assert!(c.options.list_secrets);
    }

    #[test]
    fn credentials_and_redacted_debug() {
        let c = from_table(&table(
            "[credentials]\naws_access_key_id = \"AKIDEXAMPLE\"\naws_secret_access_key = \"canary-secret-key\"\nregion_name = \"eu-west-1\"\n",
        ))
        .unwrap();
        assert_eq!(c.credentials.region_name.as_deref(), Some("eu-west-1"));
        assert!(!format!("{c:?}").contains("canary"));
        let err = from_table(&table(
            "[credentials]\naws_access_key_id = \"AKIDEXAMPLE\"\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("aws_secret_access_key"), "{err}");
    }

    #[test]
    fn bad_settings_name_the_key() {
        for (text, key) in [
            ("timeout = 1e20", "providers.aws_secrets.timeout"),
            ("timeout = -3", "providers.aws_secrets.timeout"),
            (
                "[credentials]\nendpoint_url = \"not a url\"",
                "credentials.endpoint_url",
            ),
            ("secret_name_prefix = \"bad prefix\"", "secret_name_prefix"),
        ] {
            let e = from_table(&table(text)).unwrap_err();
            assert!(e.to_string().contains(key), "{text}: {e}");
        }
    }
}
