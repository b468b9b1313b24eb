//! Bootstrap settings of the Google backend, from `[providers.google_secrets]`.

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::time::Duration;
use strata_core::credentials::GcpServiceAccountCredentials;
use strata_core::typed::{self, Configuration, NativeValue};
use strata_core::vault::{Settings, VaultOptions};
use strata_core::{Error, Resolver, Table, Value};

/// Google's OAuth token endpoint, the default `token_uri`.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The configuration section, under `providers`.
pub const SECTION: &str = "google_secrets";

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
    /// The version to read: `latest` or a number.
    pub version: String,
    /// Per-attempt timeout, if set.
    pub timeout: Option<Duration>,
    /// The vault engine options.
    pub options: VaultOptions,
}

/// What the bootstrap resolves from the chain: the service account under
/// `providers.google_secrets`, resolved as a typed configuration the way dlt
/// resolves its `GcpServiceAccountCredentials` there. Its native value (the
/// whole JSON key in one string) is looked up at
/// `providers.google_secrets.credentials`, `providers.credentials` and
/// `credentials`; else each field at the same three places
/// (`providers.google_secrets.credentials.private_key`, ...).
#[derive(Configuration, Debug)]
#[config(crate = "strata_core")]
pub struct GoogleBootstrap {
    /// Absent: application default credentials. Set in part: an error that
    /// lists each missing field and where it was looked up.
    #[config(nested)]
    pub credentials: Option<GcpServiceAccountCredentials>,
}

/// Resolves the bootstrap service account from `resolver` (see
/// [`GoogleBootstrap`]).
pub async fn resolve_credentials(
    resolver: &Resolver,
) -> Result<Option<GcpServiceAccountCredentials>, Error> {
    let found: GoogleBootstrap = typed::resolve(resolver, &["providers", SECTION], None).await?;
    Ok(found.credentials)
}

impl GoogleConfig {
    /// Reads the `[providers.google_secrets]` table: `only_secrets`,
    /// `only_toml_fragments`, `list_secrets`, `endpoint`, `project_id`,
    /// `version`, `timeout` (seconds) and `credentials` (a table with
    /// `project_id`, `client_email`, `private_key`, optional
    /// `private_key_id` and `token_uri`, or the whole service-account JSON key
    /// as one string; absent: application default credentials).
    pub fn from_table(t: &Table) -> Result<Self, Error> {
        let credentials = table_credentials(t)?;
        Self::with_credentials(t, credentials)
    }

    /// The options of the `[providers.google_secrets]` table with the
    /// service account resolved separately ([`resolve_credentials`]); a
    /// `credentials` entry in the table is ignored.
    pub fn with_credentials(
        t: &Table,
        credentials: Option<GcpServiceAccountCredentials>,
    ) -> Result<Self, Error> {
        let s = Settings::new(SECTION, "", t);
        let version = s.text("version")?.unwrap_or_else(|| "latest".into());
        if version != "latest" && version.parse::<u64>().is_err() {
            return Err(s.invalid(format!(
                "`{}` must be `latest` or a version number",
                s.key("version")
            )));
        }
        let credentials = match credentials {
            Some(c) => Credentials::ServiceAccount(service_account(c)?),
            None => Credentials::ApplicationDefault,
        };
        Ok(Self {
            project_id: s.text("project_id")?,
            credentials,
            endpoint: s.text("endpoint")?,
            version,
            timeout: s.seconds("timeout")?,
            options: s.vault_options()?,
        })
    }

    /// The project: the explicit one, else the service account's.
    pub fn project(&self) -> Result<String, Error> {
        if let Some(p) = &self.project_id {
            return Ok(p.clone());
        }
        match &self.credentials {
            Credentials::ServiceAccount(sa) => Ok(sa.project_id.clone()),
            Credentials::ApplicationDefault => {
                let s = Settings::new(SECTION, "", &EMPTY);
                Err(s.invalid(format!(
                    "set `{}`: application default credentials do not name a project",
                    s.key("project_id")
                )))
            }
        }
    }
}

static EMPTY: std::sync::LazyLock<Table> = std::sync::LazyLock::new(Table::default);

/// The `credentials` entry of a settings table: a table of fields, or the
/// whole JSON key as one string.
fn table_credentials(t: &Table) -> Result<Option<GcpServiceAccountCredentials>, Error> {
    let s = Settings::new(SECTION, "", t);
    let Some(raw) = t.get("credentials") else {
        return Ok(None);
    };
    if let Some(native) = <GcpServiceAccountCredentials as NativeValue>::from_native(raw) {
        return native
            .map(Some)
            .map_err(|why| s.invalid(format!("`{}`: {why}", s.key("credentials"))));
    }
    let Some(table) = raw.as_table().filter(|t| !t.is_empty()) else {
        return match raw {
            Value::Table(_) => Ok(None),
            _ => Err(s.invalid(format!(
                "`{}` must be a table or the service-account JSON key",
                s.key("credentials")
            ))),
        };
    };
    let c = Settings::new(SECTION, "credentials.", table);
    let why = "service-account credentials need project_id, client_email and private_key";
    Ok(Some(GcpServiceAccountCredentials {
        project_id: c.required("project_id", why)?,
        client_email: c.required("client_email", why)?,
        private_key: SecretString::from(c.required("private_key", why)?),
        private_key_id: c.text("private_key_id")?,
        token_uri: c.text("token_uri")?,
    }))
}

/// Checks a resolved service account: the key must be a PKCS#8 PEM.
fn service_account(c: GcpServiceAccountCredentials) -> Result<ServiceAccount, Error> {
    let settings = Settings::new(SECTION, "credentials.", &EMPTY);
    let private_key = normalize_pem(&c.private_key, &settings)?;
    Ok(ServiceAccount {
        project_id: c.project_id,
        client_email: c.client_email,
        private_key,
        private_key_id: c.private_key_id.filter(|k| !k.is_empty()),
        token_uri: c
            .token_uri
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| GOOGLE_TOKEN_URI.into()),
    })
}

const BEGIN: &str = concat!("-----BEGIN ", "PRIVATE KEY-----");
const END: &str = concat!("-----END ", "PRIVATE KEY-----");

/// Accepts a PKCS#8 PEM key, also with `\n` written as two characters (as
/// environment variables often carry it); the error names the field and
/// what is wrong, never the key.
fn normalize_pem(raw: &SecretString, c: &Settings<'_>) -> Result<SecretString, Error> {
    let at = c.key("private_key");
    let invalid = |m: String| c.invalid(m);
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

    use strata_core::Value;

    fn table(toml_text: &str) -> Table {
        Value::from(toml_text)
            .to_table()
            .map(|c| c.into_owned())
            .unwrap_or_default()
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
        let c = GoogleConfig::from_table(&Table::default()).unwrap();
        assert_eq!(c.options, VaultOptions::default());
        assert!(matches!(c.credentials, Credentials::ApplicationDefault));
        assert_eq!(c.version, "latest");
        let c = GoogleConfig::from_table(&table(
            "only_secrets = false\nlist_secrets = \"true\"\nversion = \"3\"\ntimeout = 2.5",
        ))
        .unwrap();
        assert!(!c.options.only_secrets && c.options.list_secrets && c.options.only_toml_fragments);
        assert_eq!(c.version, "3");
        assert_eq!(c.timeout, Some(Duration::from_millis(2500)));
        assert!(GoogleConfig::from_table(&table("version = \"newest\"")).is_err());
        assert!(GoogleConfig::from_table(&table("list_secrets = \"maybe\"")).is_err());
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
        t.insert("credentials".into(), Value::Table(creds));
        let c = GoogleConfig::from_table(&t).unwrap();
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
        let c = GoogleConfig::from_table(&t).unwrap();
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
            let err = GoogleConfig::from_table(&t).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(
                text.contains("providers.google_secrets.credentials.private_key"),
                "{text}"
            );
            assert!(text.contains(why), "{text}");
            assert!(!text.contains("canary"), "{text}");
        }
        let err =
            GoogleConfig::from_table(&table("[credentials]\nproject_id = \"p\"\n")).unwrap_err();
        assert!(
            err.to_string()
                .contains("providers.google_secrets.credentials.client_email"),
            "{err}"
        );
    }
}
