//! Settings of the HashiCorp Vault / OpenBao backend, from
//! `[providers.hashicorp_vault]`, with the vendor's own variables
//! (`VAULT_ADDR`, `VAULT_NAMESPACE`, `VAULT_TOKEN`, `VAULT_CACERT`) as
//! fallbacks, read from the environment snapshot strata was given.

use crate::{NAMING, SECTION};
use secrecy::SecretString;
use std::fmt;
use std::path::PathBuf;
use strata_secrets_core::typed::Configuration;
use strata_secrets_core::vault::{CommonSettings, leases};
use strata_secrets_core::{Environment, Error, ErrorKind, Path};

/// The KV v2 mount, by default (the dev server's, and the usual one).
pub const DEFAULT_MOUNT: &str = "secret";
/// The path under the mount that holds strata's secrets, by default.
pub const DEFAULT_PATH_PREFIX: &str = "dlt";
/// Where Kubernetes mounts a pod's service-account token.
pub const KUBERNETES_TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// `[providers.hashicorp_vault]`: every key the backend reads.
#[derive(Configuration, Debug)]
#[config(crate = "strata_secrets_core")]
pub struct HashicorpSettings {
    /// The options every vault has.
    #[config(flatten)]
    pub common: CommonSettings,
    /// The server's address (`https://vault.example.com:8200`); else
    /// `VAULT_ADDR`.
    pub url: Option<String>,
    /// The KV version 2 secrets engine's mount path.
    #[config(default = DEFAULT_MOUNT.to_owned())]
    pub mount: String,
    /// The path under the mount where the secrets are (empty: the mount's
    /// root).
    #[config(default = DEFAULT_PATH_PREFIX.to_owned())]
    pub path_prefix: String,
    /// The namespace (Vault Enterprise, OpenBao); else `VAULT_NAMESPACE`.
    pub namespace: Option<String>,
    /// A PEM file of the CA certificates to trust for `https` URLs; else
    /// `VAULT_CACERT`.
    pub ca_cert: Option<String>,
    /// How to authenticate: `token`, `approle`, `jwt` or `kubernetes`.
    #[config(default = "token".to_owned())]
    pub auth: String,
    /// Where the auth method is mounted (default: the method's name).
    pub auth_mount: Option<String>,
    /// `auth = "token"`: the token; else `VAULT_TOKEN`, else
    /// `~/.vault-token` (written by `bao login` / `vault login`).
    pub token: Option<SecretString>,
    /// `auth = "approle"`: the role id.
    pub role_id: Option<String>,
    /// `auth = "approle"`: the secret id.
    pub secret_id: Option<SecretString>,
    /// `auth = "jwt"` or `"kubernetes"`: the role to log in as.
    pub role: Option<String>,
    /// `auth = "jwt"` or `"kubernetes"`: the JWT itself.
    pub jwt: Option<SecretString>,
    /// `auth = "jwt"` or `"kubernetes"`: a file holding the JWT (read at
    /// each login; default for `kubernetes`: the pod's service-account
    /// token).
    pub jwt_path: Option<String>,
    /// Leased credentials: a path mapped to a dynamic secrets role
    /// (`"destination.postgres.credentials" = "database/creds/loader"`).
    pub leases: Option<std::collections::BTreeMap<String, String>>,
}

/// Where a token comes from, in the order they are tried.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// The `token` setting.
    Setting(SecretString),
    /// `VAULT_TOKEN`.
    Variable(SecretString),
    /// A token file (`~/.vault-token`), read at each login.
    File(PathBuf),
}

impl TokenSource {
    /// Where the token came from, for messages.
    pub fn describe(&self) -> String {
        match self {
            TokenSource::Setting(_) => format!("`providers.{SECTION}.token`"),
            TokenSource::Variable(_) => "VAULT_TOKEN".to_owned(),
            TokenSource::File(p) => format!("`{}`", p.display()),
        }
    }
}

/// Where a JWT comes from.
#[derive(Debug, Clone)]
pub enum JwtSource {
    /// The `jwt` setting.
    Value(SecretString),
    /// A file, read at each login.
    File(PathBuf),
}

/// How the backend gets its token.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A token given (no login).
    Token(TokenSource),
    /// AppRole login.
    AppRole {
        /// Where the method is mounted.
        mount: String,
        /// The role id.
        role_id: String,
        /// The secret id.
        secret_id: SecretString,
    },
    /// JWT login (`jwt`) or Kubernetes login (`kubernetes`).
    Jwt {
        /// `jwt` or `kubernetes`.
        method: &'static str,
        /// Where the method is mounted.
        mount: String,
        /// The role.
        role: Option<String>,
        /// The JWT.
        jwt: JwtSource,
    },
}

impl Auth {
    /// The method's name, as the `auth` setting spells it.
    pub fn method(&self) -> &'static str {
        match self {
            Auth::Token(_) => "token",
            Auth::AppRole { .. } => "approle",
            Auth::Jwt { method, .. } => method,
        }
    }
}

/// Everything the backend needs, checked.
#[derive(Clone)]
pub struct HashicorpConfig {
    /// The server's address.
    pub url: url::Url,
    /// The KV v2 mount, without slashes at either end.
    pub mount: String,
    /// The path under the mount, without slashes at either end.
    pub path_prefix: String,
    /// The namespace.
    pub namespace: Option<String>,
    /// CA certificates to trust (a PEM file).
    pub ca_cert: Option<PathBuf>,
    /// How to authenticate.
    pub auth: Auth,
    /// Paths answered by leased credentials, with their roles.
    pub leases: Vec<(Path, String)>,
}

/// Leaves every credential out.
impl fmt::Debug for HashicorpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashicorpConfig")
            .field("url", &self.url.as_str())
            .field("mount", &self.mount)
            .field("path_prefix", &self.path_prefix)
            .field("namespace", &self.namespace)
            .field("auth", &self.auth.method())
            .finish_non_exhaustive()
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::ConfigInvalid, message).with_provider(SECTION)
}

/// A setting, else a variable; empty counts as unset.
fn setting_or_var(
    setting: Option<String>,
    env: &Environment,
    var: &str,
) -> Result<Option<String>, Error> {
    match setting.filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(s)),
        None => Ok(env.get_non_empty_checked(var)?.map(str::to_owned)),
    }
}

/// Trims slashes at both ends; a path segment `.` or `..`, an empty
/// segment or a character other than letters, digits and `_-.` is an error
/// naming the key.
fn kv_path(key: &str, value: &str) -> Result<String, Error> {
    let trimmed = value.trim_matches('/');
    let ok = trimmed.split('/').all(|s| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    });
    if trimmed.is_empty() && key == "path_prefix" {
        return Ok(String::new());
    }
    if !ok {
        return Err(invalid(format!(
            "`providers.{SECTION}.{key}` must be a path of letters, digits and _-. separated by /"
        )));
    }
    Ok(trimmed.to_owned())
}

impl AsRef<CommonSettings> for HashicorpSettings {
    fn as_ref(&self) -> &CommonSettings {
        &self.common
    }
}

impl HashicorpConfig {
    /// Checks the settings: the URL, the paths, the auth method and what it
    /// needs, the timeout.
    pub fn from_settings(mut s: HashicorpSettings, env: &Environment) -> Result<Self, Error> {
        let url = vault_url(s.url.take(), env)?;
        let mount = kv_path("mount", &s.mount)?;
        let path_prefix = kv_path("path_prefix", &s.path_prefix)?;
        let namespace = setting_or_var(s.namespace.take(), env, "VAULT_NAMESPACE")?
            .map(|n| n.trim_matches('/').to_owned());
        let ca_cert = setting_or_var(s.ca_cert.take(), env, "VAULT_CACERT")?.map(PathBuf::from);
        let auth = auth_of(&mut s, env)?;
        let leases = s
            .leases
            .unwrap_or_default()
            .iter()
            .map(|(path, role)| leases::parse_mapping(SECTION, path, role))
            .collect::<Result<Vec<_>, _>>()?;
        let config = Self {
            url,
            mount,
            path_prefix,
            namespace,
            ca_cert,
            auth,
            leases,
        };
        config.check_prefix()?;
        Ok(config)
    }

    /// What to do when the server refuses the credentials.
    pub fn auth_advice(&self) -> String {
        match &self.auth {
            Auth::Token(TokenSource::File(p)) => format!(
                "log in again (`bao login` or `vault login` writes `{}`), or set `providers.{SECTION}.token` or VAULT_TOKEN",
                p.display()
            ),
            Auth::Token(source) => format!("check the token in {}", source.describe()),
            Auth::AppRole { mount, .. } => format!(
                "check `providers.{SECTION}.role_id` and `secret_id` (AppRole at auth/{mount})"
            ),
            Auth::Jwt { method, mount, .. } => {
                format!("check `providers.{SECTION}.role` and the JWT ({method} at auth/{mount})")
            }
        }
    }

    /// The prefix every name starts with: `<mount>/data/<path_prefix>/`.
    pub fn name_prefix(&self) -> String {
        if self.path_prefix.is_empty() {
            format!("{}/data/", self.mount)
        } else {
            format!("{}/data/{}/", self.mount, self.path_prefix)
        }
    }

    /// A name under the prefix must fit the naming rule.
    fn check_prefix(&self) -> Result<(), Error> {
        NAMING
            .with_prefix(self.name_prefix())
            .name(&Path::parse("x")?)
            .map(|_| ())
            .map_err(|_| {
                invalid(format!(
                    "`providers.{SECTION}.mount` and `path_prefix` are too long for a secret name"
                ))
            })
    }
}

/// The token: the setting, else `VAULT_TOKEN`, else `~/.vault-token`.
fn token_source(setting: Option<SecretString>, env: &Environment) -> Result<TokenSource, Error> {
    use secrecy::ExposeSecret;
    if let Some(t) = setting.filter(|t| !t.expose_secret().is_empty()) {
        return Ok(TokenSource::Setting(t));
    }
    if let Some(t) = env.get_non_empty_checked("VAULT_TOKEN")? {
        return Ok(TokenSource::Variable(SecretString::from(t.to_owned())));
    }
    match env.get_non_empty_checked("HOME")? {
        Some(home) => Ok(TokenSource::File(PathBuf::from(home).join(".vault-token"))),
        None => Err(invalid(format!(
            "no Vault token: set `providers.{SECTION}.token` (PROVIDERS__HASHICORP_VAULT__TOKEN) or VAULT_TOKEN, or choose another `auth`"
        ))),
    }
}

/// The server's address: `url`, else `VAULT_ADDR`; an http or https URL
/// with a host and no credentials in it.
fn vault_url(url: Option<String>, env: &Environment) -> Result<url::Url, Error> {
    let Some(url_text) = setting_or_var(url, env, "VAULT_ADDR")? else {
        return Err(invalid(format!(
            "no Vault address: set `providers.{SECTION}.url` (PROVIDERS__HASHICORP_VAULT__URL) or VAULT_ADDR"
        )));
    };
    let url = url::Url::parse(&url_text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            invalid(format!(
                "`providers.{SECTION}.url` (or VAULT_ADDR) must be an http or https URL"
            ))
        })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(format!(
            "`providers.{SECTION}.url` may not hold credentials: use the auth settings"
        )));
    }
    Ok(url)
}

/// The auth method of the settings, with what it needs (taken from them).
fn auth_of(s: &mut HashicorpSettings, env: &Environment) -> Result<Auth, Error> {
    let auth_mount = s.auth_mount.take().filter(|m| !m.is_empty());
    let mount_for = |method: &str| -> Result<String, Error> {
        match auth_mount.as_deref() {
            Some(m) => kv_path("auth_mount", m),
            None => Ok(method.to_owned()),
        }
    };
    Ok(match s.auth.as_str() {
        "token" => Auth::Token(token_source(s.token.take(), env)?),
        "approle" => {
            let role_id = s.role_id.take().filter(|r| !r.is_empty());
            let (Some(role_id), Some(secret_id)) = (role_id, s.secret_id.take()) else {
                return Err(invalid(format!(
                    "`auth = \"approle\"` needs `providers.{SECTION}.role_id` and `providers.{SECTION}.secret_id`"
                )));
            };
            Auth::AppRole {
                mount: mount_for("approle")?,
                role_id,
                secret_id,
            }
        }
        method @ ("jwt" | "kubernetes") => {
            let method = if method == "jwt" { "jwt" } else { "kubernetes" };
            let jwt = match (s.jwt.take(), s.jwt_path.take().filter(|p| !p.is_empty())) {
                (Some(jwt), None) => JwtSource::Value(jwt),
                (None, Some(path)) => JwtSource::File(PathBuf::from(path)),
                (None, None) if method == "kubernetes" => {
                    JwtSource::File(PathBuf::from(KUBERNETES_TOKEN_PATH))
                }
                (None, None) => {
                    return Err(invalid(format!(
                        "`auth = \"jwt\"` needs `providers.{SECTION}.jwt` or `providers.{SECTION}.jwt_path`"
                    )));
                }
                (Some(_), Some(_)) => {
                    return Err(invalid(format!(
                        "set `providers.{SECTION}.jwt` or `providers.{SECTION}.jwt_path`, not both"
                    )));
                }
            };
            let role = s.role.take().filter(|r| !r.is_empty());
            if method == "kubernetes" && role.is_none() {
                return Err(invalid(format!(
                    "`auth = \"kubernetes\"` needs `providers.{SECTION}.role`"
                )));
            }
            Auth::Jwt {
                method,
                mount: mount_for(method)?,
                role,
                jwt,
            }
        }
        _ => {
            return Err(invalid(format!(
                "`providers.{SECTION}.auth` must be one of token, approle, jwt, kubernetes"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_secrets_conformance::{block_on, settings_table as table};

    use strata_secrets_core::Table;
    use strata_secrets_core::vault::kit;

    async fn made(t: &Table, env: &Environment) -> Result<kit::Checked<HashicorpConfig>, Error> {
        kit::checked::<crate::HashicorpBackend, _>(t, |s| HashicorpConfig::from_settings(s, env))
            .await
    }

    fn from(text: &str, env: &[(&str, &str)]) -> Result<kit::Checked<HashicorpConfig>, Error> {
        let env = Environment::from_pairs(env.iter().copied());
        block_on(made(&table(text), &env))
    }

    #[test]
    fn defaults_and_variables() {
        let c = from(
            "",
            &[("VAULT_ADDR", "http://127.0.0.1:8200"), ("HOME", "/home/u")],
        )
        .unwrap();
        assert_eq!(c.mount, "secret");
        assert_eq!(c.path_prefix, "dlt");
        assert_eq!(c.name_prefix(), "secret/data/dlt/");
        assert_eq!(c.options.timeout, crate::DEFAULT_TIMEOUT);
        assert!(
            matches!(&c.auth, Auth::Token(TokenSource::File(p)) if p == std::path::Path::new("/home/u/.vault-token"))
        );
        let c = from(
            "url = \"https://v:8200\"\nmount = \"/kv/team/\"\npath_prefix = \"\"",
            &[("VAULT_TOKEN", "t"), ("VAULT_NAMESPACE", "ns1/")],
        )
        .unwrap();
        assert_eq!(c.url.as_str(), "https://v:8200/");
        assert_eq!(c.name_prefix(), "kv/team/data/");
        assert_eq!(c.namespace.as_deref(), Some("ns1"));
        assert!(matches!(&c.auth, Auth::Token(TokenSource::Variable(_))));
    }

    #[test]
    fn auth_methods_need_their_keys() {
        let env = [("VAULT_ADDR", "http://127.0.0.1:8200")];
        let c = from(
            "auth = \"approle\"\nrole_id = \"r\"\nsecret_id = \"s\"",
            &env,
        )
        .unwrap();
        assert!(matches!(&c.auth, Auth::AppRole { mount, .. } if mount == "approle"));
        let c = from("auth = \"kubernetes\"\nrole = \"app\"", &env).unwrap();
        assert!(
            matches!(&c.auth, Auth::Jwt { jwt: JwtSource::File(p), mount, .. } if p == std::path::Path::new(KUBERNETES_TOKEN_PATH) && mount == "kubernetes")
        );
        let c = from(
            "auth = \"jwt\"\njwt_path = \"/tmp/t\"\nauth_mount = \"ci-jwt\"",
            &env,
        )
        .unwrap();
        assert!(matches!(&c.auth, Auth::Jwt { mount, role: None, .. } if mount == "ci-jwt"));
        for (text, key) in [
            ("auth = \"approle\"\nrole_id = \"r\"", "secret_id"),
            ("auth = \"jwt\"", "jwt_path"),
            ("auth = \"kubernetes\"", "role"),
            ("auth = \"ldap\"", "auth` must be one of"),
            ("url = \"not a url\"", "url"),
            ("url = \"ftp://x\"", "url"),
            ("url = \"http://u:p@x\"", "credentials"),
            ("mount = \"a/../b\"", "mount"),
            ("path_prefix = \"a b\"", "path_prefix"),
            ("timeout = 1e20", "timeout"),
        ] {
            let e = from(text, &env).unwrap_err();
            assert!(e.to_string().contains(key), "{text}: {e}");
            assert_eq!(e.kind(), ErrorKind::ConfigInvalid, "{text}");
        }
        let e = from("", &[]).unwrap_err();
        assert!(e.to_string().contains("VAULT_ADDR"), "{e}");
    }

    #[test]
    fn a_variable_that_is_not_utf8_is_an_error_naming_it() {
        use std::os::unix::ffi::OsStringExt;
        let env = Environment::from_os_pairs([
            ("VAULT_ADDR".into(), "http://x:1".into()),
            (
                "VAULT_TOKEN".into(),
                std::ffi::OsString::from_vec(vec![0x78, 0xff]),
            ),
        ]);
        let e = block_on(made(&Table::default(), &env)).unwrap_err();
        assert!(e.to_string().contains("VAULT_TOKEN"), "{e}");
    }

    #[test]
    fn debug_shows_no_credential() {
        let c = from(
            "url = \"http://x:1\"\nauth = \"approle\"\nrole_id = \"r\"\nsecret_id = \"canary-secret-id\"",
            &[],
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("canary"));
        let c = from("url = \"http://x:1\"\ntoken = \"canary-token\"", &[]).unwrap();
        assert!(!format!("{c:?}").contains("canary"));
    }
}
