//! Bootstrap settings of the Google backend, from `[providers.google_secrets]`.

use crate::SECTION;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use strata_secrets_core::typed::{Configuration, NativeError, NativeValue};
use strata_secrets_core::vault::CommonSettings;
use strata_secrets_core::{Error, ErrorKind, Value};

/// Google's OAuth token endpoint, the default `token_uri`.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// Explicit service-account credentials (dlt's bootstrap fields).
#[derive(Clone)]
pub struct ServiceAccount {
    /// The project of the account.
    pub project_id: String,
    /// `...@<project>.iam.gserviceaccount.com`.
    pub client_email: String,
    /// The PKCS#8 PEM private key.
    pub private_key: SecretString,
    /// Optional, as in dlt.
    pub private_key_id: Option<String>,
    /// Where tokens are issued (default Google's endpoint).
    pub token_uri: String,
}

/// Leaves the private key out.
impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

/// How to authenticate.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Service-account key: JWT-bearer exchange at its `token_uri`.
    ServiceAccount(ServiceAccount),
    /// The platform's application default credentials.
    ApplicationDefault,
}

/// Everything the backend needs.
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    /// The project holding the secrets (default: the credentials' project).
    pub project_id: Option<String>,
    /// How to authenticate.
    pub credentials: Credentials,
    /// The service address (tests point it at a local server).
    pub endpoint: Option<String>,
    /// PEM text of CA certificates to trust besides the system's.
    pub ca_certificate: Option<String>,
    /// The version to read: `latest` or a number.
    pub version: String,
}

/// A Google service account, as dlt's `GcpServiceAccountCredentials`;
/// natively the whole JSON key. The vault's bootstrap resolves it under
/// `providers.google_secrets.credentials`; a pipeline may resolve it for a
/// destination (`destination.bigquery.credentials`).
#[derive(Configuration)]
#[config(crate = "strata_secrets_core", credentials, native)]
pub struct GcpServiceAccountCredentials {
    /// The project.
    pub project_id: String,
    /// `...@<project>.iam.gserviceaccount.com`.
    pub client_email: String,
    /// The private key (a secret).
    pub private_key: SecretString,
    /// Optional, as in dlt.
    pub private_key_id: Option<String>,
    /// The token endpoint, when not Google's.
    pub token_uri: Option<String>,
}

/// Leaves the private key out.
impl fmt::Debug for GcpServiceAccountCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpServiceAccountCredentials")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl NativeValue for GcpServiceAccountCredentials {
    fn from_native(value: &Value) -> Option<Result<Self, NativeError>> {
        let text = value.as_str()?;
        if !text.trim_start().starts_with('{') {
            return None;
        }
        let Some(table) = value.to_table() else {
            return Some(Err("the service-account key is not a JSON object".into()));
        };
        let get = |k: &str| table.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(
            match (get("project_id"), get("client_email"), get("private_key")) {
                (Some(project_id), Some(client_email), Some(key)) => Ok(Self {
                    project_id,
                    client_email,
                    private_key: SecretString::from(key),
                    private_key_id: get("private_key_id"),
                    token_uri: get("token_uri"),
                }),
                _ => Err("the JSON key lacks project_id, client_email or private_key".into()),
            },
        )
    }
}

/// `[providers.google_secrets]`: the keys the Google backend reads, and
/// nothing else. Resolved from the chain as dlt resolves its own (the
/// options under `providers.google_secrets`, the service account under
/// `providers.google_secrets.credentials`, field by field or as the whole
/// JSON key in one string).
#[derive(Configuration, Debug)]
#[config(crate = "strata_secrets_core")]
pub struct GoogleSettings {
    /// The options every vault has.
    #[config(flatten)]
    pub common: CommonSettings,
    /// The project holding the secrets (default: the service account's).
    pub project_id: Option<String>,
    /// The service address (tests point it at a local server).
    pub endpoint: Option<String>,
    /// PEM text of CA certificates to trust besides the system's (a private
    /// endpoint, a TLS-inspecting proxy), for the API and token endpoint.
    pub ca_certificate: Option<String>,
    /// The version to read: `latest` or a number.
    #[config(default = "latest".to_owned())]
    pub version: String,
    /// Absent: application default credentials. Set in part: an error that
    /// lists each missing field and where it was looked up.
    #[config(nested)]
    pub credentials: Option<GcpServiceAccountCredentials>,
}

impl AsRef<CommonSettings> for GoogleSettings {
    fn as_ref(&self) -> &CommonSettings {
        &self.common
    }
}

impl GoogleConfig {
    /// Checks the settings: the version, the timeout, the service account's
    /// key and token endpoint.
    pub fn from_settings(s: GoogleSettings) -> Result<Self, Error> {
        let invalid =
            |m: String| Error::new(ErrorKind::ConfigInvalid, m).with_provider(SECTION.to_owned());
        if s.version != "latest" && s.version.parse::<u64>().is_err() {
            return Err(invalid(format!(
                "`providers.{SECTION}.version` must be `latest` or a version number"
            )));
        }
        if let Some(endpoint) = &s.endpoint {
            check_url(&format!("providers.{SECTION}.endpoint"), endpoint)?;
        }
        let credentials = match s.credentials {
            Some(c) => Credentials::ServiceAccount(service_account(c)?),
            None => Credentials::ApplicationDefault,
        };
        Ok(Self {
            project_id: s.project_id.filter(|p| !p.is_empty()),
            credentials,
            endpoint: s.endpoint.filter(|e| !e.is_empty()),
            ca_certificate: s.ca_certificate.filter(|c| !c.trim().is_empty()),
            version: s.version,
        })
    }

    /// The project: the explicit one, else the service account's.
    pub fn project(&self) -> Result<String, Error> {
        if let Some(p) = &self.project_id {
            return Ok(p.clone());
        }
        match &self.credentials {
            Credentials::ServiceAccount(sa) => Ok(sa.project_id.clone()),
            Credentials::ApplicationDefault => Err(Error::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "set `providers.{SECTION}.project_id` (PROVIDERS__GOOGLE_SECRETS__PROJECT_ID): application default credentials do not name a project"
                ),
            )
            .with_provider(SECTION.to_owned())),
        }
    }
}

/// Checks that `text` is an http(s) URL, naming `key` (never the text) when
/// it is not.
pub(crate) fn check_url(key: &str, text: &str) -> Result<(), Error> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(Error::new(
            ErrorKind::ConfigInvalid,
            format!("`{key}` must be an http or https URL"),
        )
        .with_provider(SECTION.to_owned())),
    }
}

/// Checks a resolved service account: the key must be a PKCS#8 PEM, the
/// token endpoint an http(s) URL.
fn service_account(c: GcpServiceAccountCredentials) -> Result<ServiceAccount, Error> {
    let private_key = normalize_pem(&c.private_key)?;
    let token_uri = c
        .token_uri
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| GOOGLE_TOKEN_URI.into());
    check_url(
        &format!("providers.{SECTION}.credentials.token_uri"),
        &token_uri,
    )?;
    Ok(ServiceAccount {
        project_id: c.project_id,
        client_email: c.client_email,
        private_key,
        private_key_id: c.private_key_id.filter(|k| !k.is_empty()),
        token_uri,
    })
}

const BEGIN: &str = concat!("-----BEGIN ", "PRIVATE KEY-----");
const END: &str = concat!("-----END ", "PRIVATE KEY-----");

/// Accepts a PKCS#8 PEM key, also with `\n` written as two characters (as
/// environment variables often carry it); the error names the field and
/// what is wrong, never the key.
fn normalize_pem(raw: &SecretString) -> Result<SecretString, Error> {
    let at = format!("providers.{SECTION}.credentials.private_key");
    let invalid =
        |m: String| Error::new(ErrorKind::ConfigInvalid, m).with_provider(SECTION.to_owned());
    let mut text = raw.expose_secret().replace("\\n", "\n");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if text.contains(concat!("-----BEGIN RSA ", "PRIVATE KEY-----")) {
        return Err(invalid(format!(
            "`{at}` is a PKCS#1 key; Google service-account keys are PKCS#8 (a `PRIVATE KEY` PEM block): convert it with `openssl pkcs8 -topk8 -nocrypt`"
        )));
    }
    let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        return Err(invalid(format!(
            "`{at}` is not a PEM private key (no `{BEGIN}` ... `{END}` block)"
        )));
    };
    let body: String = text
        .get(start + BEGIN.len()..end)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let decoded = base64::engine::general_purpose::STANDARD.decode(body.as_bytes());
    match decoded {
        Ok(der) if der.len() > 64 && der.first() == Some(&0x30) => Ok(SecretString::from(text)),
        _ => Err(invalid(format!(
            "`{at}` is not a valid PKCS#8 key: its PEM body is not base64 DER"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_secrets_core::Table;
    use strata_secrets_core::vault::{VaultOptions, kit};

    use strata_secrets_conformance::{block_on, settings_table as table};

    fn from_table(t: &Table) -> Result<kit::Checked<GoogleConfig>, Error> {
        block_on(kit::checked::<crate::GoogleBackend, _>(
            t,
            GoogleConfig::from_settings,
        ))
    }

    /// A made-up PKCS#8-shaped body (DER SEQUENCE tag, random bytes).
    fn fake_key_body() -> String {
        let mut der = vec![0x30u8, 0x82, 0x01, 0x00];
        der.extend((0..200u32).map(|i| (i * 37 % 251) as u8));
        base64::engine::general_purpose::STANDARD.encode(der)
    }

    fn key_with_escaped_newlines() -> String {
        format!("{BEGIN}\\n{}\\n{END}\\n", fake_key_body())
    }

    #[test]
    fn dlt_defaults_and_options() {
        let c = from_table(&Table::default()).unwrap();
        assert_eq!(
            c.options,
            VaultOptions {
                timeout: crate::DEFAULT_TIMEOUT,
                ..VaultOptions::default()
            }
        );
        assert!(matches!(c.credentials, Credentials::ApplicationDefault));
        assert_eq!(c.version, "latest");
        assert_eq!(c.options.timeout, crate::DEFAULT_TIMEOUT);
        let c = from_table(&table(
            "only_secrets = false\nlist_secrets = \"true\"\nversion = \"3\"\ntimeout = 2.5",
        ))
        .unwrap();
        assert!(!c.options.only_secrets && c.options.list_secrets && c.options.only_toml_fragments);
        assert_eq!(c.version, "3");
        assert_eq!(c.options.timeout, std::time::Duration::from_millis(2500));
        assert!(from_table(&table("version = \"newest\"")).is_err());
        assert!(from_table(&table("list_secrets = \"maybe\"")).is_err());
        assert!(from_table(&table("timeout = 1e20")).is_err());
        let e = from_table(&table("endpoint = \"not a url\"")).unwrap_err();
        assert!(
            e.to_string().contains("providers.google_secrets.endpoint"),
            "{e}"
        );
    }

    #[test]
    fn service_account_fields_without_private_key_id() {
        let mut t = Table::default();
        let mut creds = Table::default();
        creds.insert("project_id".into(), Value::from("p"));
        creds.insert(
            "client_email".into(),
            Value::from("a@p.iam.gserviceaccount.com"),
        );
        creds.insert(
            "private_key".into(),
            Value::from(key_with_escaped_newlines()),
        );
        t.insert("credentials".into(), Value::Table(creds.clone()));
        let c = from_table(&t).unwrap();
        let Credentials::ServiceAccount(sa) = &c.credentials else {
            panic!("service account")
        };
        assert_eq!(sa.token_uri, GOOGLE_TOKEN_URI);
        assert!(sa.private_key_id.is_none());
        assert!(
            sa.private_key
                .expose_secret()
                .starts_with(&format!("{BEGIN}\n"))
        );
        assert_eq!(c.project().unwrap(), "p");
        assert!(!format!("{c:?}").contains(&fake_key_body()[..40]));
        // a token endpoint that is not a URL is an error, not a panic
        creds.insert("token_uri".into(), Value::from("not a url"));
        t.insert("credentials".into(), Value::Table(creds));
        let e = from_table(&t).unwrap_err();
        assert!(e.to_string().contains("credentials.token_uri"), "{e}");
    }

    #[test]
    fn the_whole_json_key_as_one_string() {
        let key = serde_json::json!({
            "type": "service_account",
            "project_id": "p2",
            "private_key_id": "abc",
            "private_key": format!("{BEGIN}\n{}\n{END}\n", fake_key_body()),
            "client_email": "x@p2.iam.gserviceaccount.com",
            "token_uri": "http://127.0.0.1:1/token"
        });
        let mut t = Table::default();
        t.insert("credentials".into(), Value::from(key.to_string()));
        let c = from_table(&t).unwrap();
        let Credentials::ServiceAccount(sa) = &c.credentials else {
            panic!("service account")
        };
        assert_eq!(sa.token_uri, "http://127.0.0.1:1/token");
        assert_eq!(sa.private_key_id.as_deref(), Some("abc"));
    }

    #[test]
    fn bad_keys_name_the_field_never_the_key() {
        let cases = [
            (
                "not a key at all canary-secret".to_owned(),
                "not a PEM private key",
            ),
            (
                format!(
                    "-----BEGIN RSA {}\ncanary-secret\n-----END RSA {}\n",
                    "PRIVATE KEY-----", "PRIVATE KEY-----"
                ),
                "PKCS#1",
            ),
            (
                format!("{BEGIN}\ncanary-secret!!\n{END}\n"),
                "not a valid PKCS#8 key",
            ),
        ];
        for (key, why) in cases {
            let t = table(&format!(
                "[credentials]\nproject_id = \"p\"\nclient_email = \"e\"\nprivate_key = {}\n",
                Value::from(key.as_str()).to_toml()
            ));
            let err = from_table(&t).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(
                text.contains("providers.google_secrets.credentials.private_key"),
                "{text}"
            );
            assert!(text.contains(why), "{text}");
            assert!(!text.contains("canary"), "{text}");
        }
        let err = from_table(&table("[credentials]\nproject_id = \"p\"\n")).unwrap_err();
        assert!(
            err.to_string()
                .contains("providers.google_secrets.credentials.client_email"),
            "{err}"
        );
    }

    #[test]
    fn service_account_json_is_the_native_form() {
        let v = Value::from(
            r#"{"project_id": "p", "client_email": "e@p.iam.gserviceaccount.com", "private_key": "canary"}"#,
        );
        let sa = <GcpServiceAccountCredentials as Configuration>::from_native(&v)
            .unwrap()
            .unwrap();
        assert_eq!(sa.project_id, "p");
        assert!(sa.private_key_id.is_none());
        assert!(!format!("{sa:?}").contains("canary"));
        let partial = Value::from(r#"{"project_id": "p", "private_key": "canary"}"#);
        let e = <GcpServiceAccountCredentials as Configuration>::from_native(&partial)
            .unwrap()
            .unwrap_err();
        assert!(!e.to_string().contains("canary"), "{e}");
        // not JSON-looking: resolved field by field instead
        assert!(
            <GcpServiceAccountCredentials as Configuration>::from_native(&Value::from("x"))
                .is_none()
        );
    }
}
