//! Credentials configurations with a native form, as dlt ships them: a
//! connection string for database credentials, a service-account JSON key
//! for Google. Both resolve field by field too.

use crate::typed::{Configuration, Presence, ResolveContext, Scope};
use secrecy::SecretString;
use strata_core::Value;

/// Database credentials; natively `driver://user:password@host:port/database`.
#[derive(Debug)]
pub struct ConnectionStringCredentials {
    /// `postgresql`, `mysql`, ...
    pub drivername: String,
    /// User name.
    pub username: String,
    /// Password (a secret).
    pub password: Option<SecretString>,
    /// Host.
    pub host: String,
    /// Port, when given.
    pub port: Option<u16>,
    /// Database.
    pub database: String,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl ConnectionStringCredentials {
    /// Parses `driver://user:password@host:port/database` (percent-encoded
    /// parts decoded). Errors say what is wrong, never the string.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (driver, rest) = text
            .split_once("://")
            .ok_or("not a connection string (no `://`)")?;
        let (auth, location) = rest.rsplit_once('@').ok_or("no `user@host` part")?;
        let (user, password) = match auth.split_once(':') {
            Some((u, p)) => (u, Some(SecretString::from(decode(p)))),
            None => (auth, None),
        };
        let (hostport, database) = location.split_once('/').unwrap_or((location, ""));
        let database = database.split('?').next().unwrap_or("");
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                Some(p.parse::<u16>().map_err(|_| "the port is not a number")?),
            ),
            None => (hostport, None),
        };
        if driver.is_empty() || user.is_empty() || host.is_empty() {
            return Err("driver, user and host are required".into());
        }
        Ok(Self {
            drivername: driver.to_owned(),
            username: decode(user),
            password,
            host: host.to_owned(),
            port,
            database: decode(database),
        })
    }
}

#[async_trait::async_trait]
impl Configuration for ConnectionStringCredentials {
    async fn resolve_under(ctx: &ResolveContext<'_>, sections: &Scope) -> Option<Self> {
        let drivername = ctx
            .field::<String>(sections, "drivername", false, Presence::Required)
            .await;
        let username = ctx
            .field::<String>(sections, "username", false, Presence::Required)
            .await;
        let password = ctx
            .secret_string(sections, "password", Presence::Optional)
            .await;
        let host = ctx
            .field::<String>(sections, "host", false, Presence::Required)
            .await;
        let port = ctx
            .field::<u16>(sections, "port", false, Presence::Optional)
            .await;
        let database = ctx
            .field::<String>(sections, "database", false, Presence::Required)
            .await;
        Some(Self {
            drivername: drivername?,
            username: username?,
            password,
            host: host?,
            port,
            database: database?,
        })
    }

    fn from_native(value: &Value) -> Option<Result<Self, String>> {
        value
            .as_str()
            .filter(|s| s.contains("://"))
            .map(Self::parse)
    }
}

/// A Google service account; natively the whole JSON key.
#[derive(Debug)]
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

#[async_trait::async_trait]
impl Configuration for GcpServiceAccountCredentials {
    async fn resolve_under(ctx: &ResolveContext<'_>, sections: &Scope) -> Option<Self> {
        let project_id = ctx
            .field::<String>(sections, "project_id", false, Presence::Required)
            .await;
        let client_email = ctx
            .field::<String>(sections, "client_email", false, Presence::Required)
            .await;
        let private_key = ctx
            .secret_string(sections, "private_key", Presence::Required)
            .await;
        let private_key_id = ctx
            .field::<String>(sections, "private_key_id", false, Presence::Optional)
            .await;
        let token_uri = ctx
            .field::<String>(sections, "token_uri", false, Presence::Optional)
            .await;
        Some(Self {
            project_id: project_id?,
            client_email: client_email?,
            private_key: private_key?,
            private_key_id,
            token_uri,
        })
    }

    fn from_native(value: &Value) -> Option<Result<Self, String>> {
        let text = value.as_str()?;
        if !text.trim_start().starts_with('{') {
            return None;
        }
        let table = value.to_table()?;
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
