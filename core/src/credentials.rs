//! Credentials configurations with a native form, as dlt ships them: a
//! connection string for database credentials. It also resolves field by
//! field; it is a credentials configuration, so its native value is looked
//! up as a secret. (A vault's own credentials live in its backend crate.)

use crate::typed::Configuration;
use crate::typed::{NativeError, NativeValue};
use crate::value::Value;
use secrecy::SecretString;
use std::fmt;

/// Database credentials; natively `driver://user:password@host:port/database`.
#[derive(Configuration)]
#[config(crate = "crate", credentials, native)]
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

/// Leaves the password out.
impl fmt::Debug for ConnectionStringCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionStringCredentials")
            .field("drivername", &self.drivername)
            .field("username", &self.username)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

/// Decodes `%XX` escapes (invalid escapes are kept as written).
pub fn percent_decode(s: &str) -> String {
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
    pub fn parse(text: &str) -> Result<Self, NativeError> {
        let (driver, rest) = text
            .split_once("://")
            .ok_or("not a connection string (no `://`)")?;
        let (auth, location) = rest.rsplit_once('@').ok_or("no `user@host` part")?;
        let (user, password) = match auth.split_once(':') {
            Some((u, p)) => (u, Some(SecretString::from(percent_decode(p)))),
            None => (auth, None),
        };
        let (hostport, database) = location.split_once('/').unwrap_or((location, ""));
        let database = database.split('?').next().unwrap_or("");
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| NativeError::new("the port is not a number"))?,
                ),
            ),
            None => (hostport, None),
        };
        if driver.is_empty() || user.is_empty() || host.is_empty() {
            return Err("driver, user and host are required".into());
        }
        Ok(Self {
            drivername: driver.to_owned(),
            username: percent_decode(user),
            password,
            host: host.to_owned(),
            port,
            database: percent_decode(database),
        })
    }
}

impl NativeValue for ConnectionStringCredentials {
    fn from_native(value: &Value) -> Option<Result<Self, NativeError>> {
        value
            .as_str()
            .filter(|s| s.contains("://"))
            .map(Self::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn connection_strings_parse_and_errors_never_quote_them() {
        let c =
            ConnectionStringCredentials::parse("postgresql://u%40x:p%2Fw@h:5433/db?ssl=1").unwrap();
        assert_eq!(c.username, "u@x");
        assert_eq!(c.password.unwrap().expose_secret(), "p/w");
        assert_eq!(
            (c.host.as_str(), c.port, c.database.as_str()),
            ("h", Some(5433), "db")
        );
        let no_port = ConnectionStringCredentials::parse("mysql://u@h/db").unwrap();
        assert!(no_port.password.is_none() && no_port.port.is_none());
        for bad in ["canary", "pg://canary@h:xx/db", "pg://:canary@h/db"] {
            let e = ConnectionStringCredentials::parse(bad).unwrap_err();
            assert!(!e.to_string().contains("canary"), "{e}");
        }
        assert!(
            !format!(
                "{:?}",
                ConnectionStringCredentials::parse("pg://u:canary@h/d").unwrap()
            )
            .contains("canary")
        );
    }
}
