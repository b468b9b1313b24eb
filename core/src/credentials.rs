//! Credentials configurations with a native form, as dlt ships them: a
//! connection string for database credentials. It also resolves field by
//! field; it is a credentials configuration, so its native value is looked
//! up as a secret. (A vault's own credentials live in its backend crate.)

use crate::typed::Configuration;
use crate::typed::{NativeError, NativeValue};
use crate::value::Value;
use secrecy::SecretString;
use std::collections::BTreeMap;
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
    /// The options after `?` (`sslmode = "require"`), as dlt keeps them.
    pub query: Option<BTreeMap<String, String>>,
}

/// Leaves the password out, and the query's values (only its keys show).
impl fmt::Debug for ConnectionStringCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionStringCredentials")
            .field("drivername", &self.drivername)
            .field("username", &self.username)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field(
                "query",
                &self.query.as_ref().map(|q| q.keys().collect::<Vec<_>>()),
            )
            .finish_non_exhaustive()
    }
}

/// Decodes `%XX` escapes (invalid escapes are kept as written).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

impl ConnectionStringCredentials {
    /// Parses `driver://user:password@host:port/database?key=value&...`
    /// (percent-encoded parts decoded; the query kept as `query`). Errors
    /// say what is wrong, never the string.
    pub fn parse(text: &str) -> Result<Self, NativeError> {
        let (driver, rest) = text
            .split_once("://")
            .ok_or("not a connection string (no `://`)")?;
        let (auth, location) = rest.rsplit_once('@').ok_or("no `user@host` part")?;
        let (user, password) = match auth.split_once(':') {
            Some((u, p)) => (u, Some(SecretString::from(percent_decode(p)))),
            None => (auth, None),
        };
        let (location, query) = match location.split_once('?') {
            Some((l, q)) => (l, Some(q)),
            None => (location, None),
        };
        let (hostport, database) = location.split_once('/').unwrap_or((location, ""));
        let query = query.filter(|q| !q.is_empty()).map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect::<BTreeMap<_, _>>()
        });
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
            query,
        })
    }
}

/// Any string is meant as a connection string (as dlt reads it): one it
/// cannot parse is an error about that value, not a reason to look for the
/// fields one by one.
impl NativeValue for ConnectionStringCredentials {
    fn from_native(value: &Value) -> Option<Result<Self, NativeError>> {
        value.as_str().map(Self::parse)
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
        let q = c.query.unwrap();
        assert_eq!(q.get("ssl").map(String::as_str), Some("1"));
        let no_port = ConnectionStringCredentials::parse("mysql://u@h/db").unwrap();
        assert!(no_port.password.is_none() && no_port.port.is_none() && no_port.query.is_none());
        let opts = ConnectionStringCredentials::parse(
            "postgresql://u:canary@h/db?sslmode=require&connect_timeout=5&application_name=a%20b",
        )
        .unwrap();
        let q = opts.query.as_ref().unwrap();
        assert_eq!(
            (
                q["sslmode"].as_str(),
                q["connect_timeout"].as_str(),
                q["application_name"].as_str()
            ),
            ("require", "5", "a b")
        );
        assert_eq!(opts.database, "db");
        let no_db =
            ConnectionStringCredentials::parse("postgresql://u@h:5432?sslmode=disable").unwrap();
        assert_eq!(
            (no_db.host.as_str(), no_db.port, no_db.database.as_str()),
            ("h", Some(5432), "")
        );
        assert_eq!(no_db.query.unwrap()["sslmode"], "disable");
        for bad in [
            "canary",
            "postgresql//canary@h/db",
            "pg://canary@h:xx/db",
            "pg://:canary@h/db",
        ] {
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
