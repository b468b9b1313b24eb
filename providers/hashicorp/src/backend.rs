//! Fetch, list, store and versions against a KV version 2 secrets engine,
//! through `vaultrs`; logins, token renewal and telling a denied read from
//! a refused token.

use crate::api::Api;
use crate::config::{Auth, HashicorpConfig, JwtSource, TokenSource};
use crate::error::{Call, Failure, classify};
use crate::{NAMING, SECTION};
use async_trait::async_trait;
use secrecy::SecretBox;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value as Json};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_secrets_core::naming::VaultNaming;
use strata_secrets_core::vault::{
    Capabilities, Fetched, Lease, LeaseSource, VaultBackend, VaultOptions, Version,
};
use strata_secrets_core::{Error, ErrorKind, Table, Value};
use strata_secrets_http::PolicyClient;

/// How long a token given as is (not from a login) is used before the
/// backend looks up its time to live, to renew it if it can.
const TOKEN_CHECK_AFTER: Duration = Duration::from_secs(300);

/// The longest lease strata plans with: a reply's `lease_duration` is
/// range-checked ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)), so no arithmetic on it can overflow.
const MAX_LEASE: Duration = Duration::from_secs(366 * 24 * 3600);

/// When to renew a lease of `secs` seconds that starts now: two thirds in.
fn renew_at(secs: u64) -> Option<Instant> {
    let lease = Duration::from_secs(secs).min(MAX_LEASE);
    Instant::now().checked_add(lease / 3 * 2)
}

/// A logged-in client.
#[derive(Clone)]
struct Session {
    client: Arc<Api>,
    /// Counts logins, so that two callers who both saw a token refused log
    /// in again once.
    id: u64,
    /// When to renew the token (or look up its lease first).
    renew_at: Option<Instant>,
    /// Whether the lease is known (a login's) or still to be looked up (a
    /// token given as is).
    lease_known: bool,
}

/// HashiCorp Vault or OpenBao, through `vaultrs`.
pub struct HashicorpBackend {
    pub(crate) naming: VaultNaming,
    config: HashicorpConfig,
    /// One request's timeout (the `timeout` setting).
    timeout: Duration,
    http: PolicyClient,
    location: String,
    session: tokio::sync::Mutex<Option<Session>>,
    logins: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for HashicorpBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashicorpBackend")
            .field("location", &self.location)
            .field("auth", &self.config.auth.method())
            .finish_non_exhaustive()
    }
}

fn auth_error(message: String) -> Error {
    Error::new(ErrorKind::Unauthenticated, message).with_provider(SECTION)
}

impl HashicorpBackend {
    /// A backend over the checked settings. No request is made until the
    /// first call (logins happen then, once).
    pub fn new(config: &HashicorpConfig, options: &VaultOptions) -> Result<Self, Error> {
        let mut location = config.url.as_str().trim_end_matches('/').to_owned();
        if let Some(ns) = &config.namespace {
            location.push_str(&format!(" namespace {ns}"));
        }
        location.push_str(&format!(" {}", config.name_prefix()));
        Ok(Self {
            naming: NAMING.with_prefix(config.name_prefix()),
            config: config.clone(),
            timeout: options.timeout,
            http: Self::http_client(config, options.timeout)?,
            location,
            session: tokio::sync::Mutex::new(None),
            logins: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The paths mapped to leased credentials, with their roles.
    pub(crate) fn lease_mappings(&self) -> Vec<(strata_secrets_core::Path, String)> {
        self.config.leases.clone()
    }

    /// The policy's HTTP client ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)), trusting the CA file of
    /// the settings for `https` addresses; the file is read now.
    fn http_client(c: &HashicorpConfig, timeout: Duration) -> Result<PolicyClient, Error> {
        let mut builder = PolicyClient::builder().timeout(timeout);
        if let Some(path) = &c.ca_cert {
            let pem = strata_secrets_core::fs::read_regular(path)
                .map_err(|e| {
                    Error::new(
                        ErrorKind::ConfigInvalid,
                        format!("`providers.{SECTION}.ca_cert` (or VAULT_CACERT): {e}"),
                    )
                    .with_provider(SECTION)
                })?
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::ConfigInvalid,
                        format!(
                            "`providers.{SECTION}.ca_cert` (or VAULT_CACERT): cannot read `{}`: no such file",
                            path.display()
                        ),
                    )
                    .with_provider(SECTION)
                })?;
            builder = builder.root_certificates_pem(&pem);
        }
        builder.build().map_err(|e| {
            Error::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "`providers.{SECTION}.ca_cert` (or VAULT_CACERT): `{}` holds no PEM certificate ({e})",
                    c.ca_cert
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ),
            )
            .with_provider(SECTION)
        })
    }

    /// A client holding `token`. A token that is not printable ASCII (a
    /// header cannot carry it) is an authentication error, never sent.
    fn client(&self, token: &str) -> Result<Api, Error> {
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(auth_error(format!(
                "the Vault token holds characters no token has; {}",
                self.config.auth_advice()
            )));
        }
        Ok(Api::new(
            self.http.clone(),
            self.config.url.as_str(),
            token,
            self.config.namespace.clone(),
        ))
    }

    /// Reads a token or a JWT from a file: a regular file, its text
    /// trimmed.
    fn read_credential_file(
        path: &std::path::Path,
        what: &str,
        advice: &str,
    ) -> Result<SecretString, Error> {
        match strata_secrets_core::fs::read_text(path) {
            Ok(Some(text)) if !text.trim().is_empty() => {
                Ok(SecretString::from(text.trim().to_owned()))
            }
            Ok(_) => Err(auth_error(format!(
                "no {what}: `{}` is missing or empty; {advice}",
                path.display()
            ))),
            Err(e) => Err(auth_error(format!("cannot read the {what}: {e}; {advice}"))),
        }
    }

    /// Logs in (or reads the token) and returns a fresh session.
    async fn login(&self) -> Result<Session, Error> {
        let id = self
            .logins
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let timeout = self.timeout;
        match &self.config.auth {
            Auth::Token(source) => {
                let token = match source {
                    TokenSource::Setting(t) | TokenSource::Variable(t) => t.clone(),
                    TokenSource::File(path) => Self::read_credential_file(
                        path,
                        "Vault token",
                        &format!(
                            "log in with `bao login` (or `vault login`), or set `providers.{SECTION}.token` or VAULT_TOKEN"
                        ),
                    )?,
                };
                tracing::debug!(target: "strata::hashicorp", "using a token ({})", source.describe());
                Ok(Session {
                    client: Arc::new(self.client(token.expose_secret())?),
                    id,
                    renew_at: Some(Instant::now() + TOKEN_CHECK_AFTER),
                    lease_known: false,
                })
            }
            Auth::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                let anonymous = self.client("")?;
                let info = timed(
                    timeout,
                    anonymous.approle_login(mount, role_id, secret_id.expose_secret()),
                )
                .await
                .map_err(|f| {
                    self.login_failure(f, &format!("auth/{mount}/login"), "role_id and secret_id")
                })?;
                self.session_from_login(id, info)
            }
            Auth::Jwt {
                method,
                mount,
                role,
                jwt,
            } => {
                let jwt = match jwt {
                    JwtSource::Value(j) => j.clone(),
                    JwtSource::File(path) => Self::read_credential_file(
                        path,
                        "JWT",
                        &format!("set `providers.{SECTION}.jwt` or `jwt_path`"),
                    )?,
                };
                let anonymous = self.client("")?;
                let login = async {
                    if *method == "kubernetes" {
                        anonymous
                            .kubernetes_login(
                                mount,
                                role.as_deref().unwrap_or_default(),
                                jwt.expose_secret(),
                            )
                            .await
                    } else {
                        anonymous
                            .jwt_login(mount, jwt.expose_secret(), role.clone())
                            .await
                    }
                };
                let info = timed(timeout, login).await.map_err(|f| {
                    self.login_failure(f, &format!("auth/{mount}/login"), "the role and the JWT")
                })?;
                self.session_from_login(id, info)
            }
        }
    }

    fn session_from_login(&self, id: u64, info: vaultrs::api::AuthInfo) -> Result<Session, Error> {
        tracing::debug!(target: "strata::hashicorp", "logged in with {} (lease {}s, renewable: {})", self.config.auth.method(), info.lease_duration, info.renewable);
        Ok(Session {
            client: Arc::new(self.client(&info.client_token)?),
            id,
            renew_at: (info.renewable && info.lease_duration > 0)
                .then(|| renew_at(info.lease_duration))
                .flatten(),
            lease_known: true,
        })
    }

    fn login_failure(&self, f: Failure, endpoint: &str, check: &str) -> Error {
        match f {
            Failure::Status { code, errors } if code == 400 || code == 401 || code == 403 => {
                auth_error(format!(
                    "logging in at `{endpoint}` ({}) was refused: {}; check {check}",
                    self.config.auth.method(),
                    errors.join("; ")
                ))
            }
            other => other.into_error(&Call::login(endpoint), &self.location),
        }
    }

    /// The current session: logs in the first time; renews the token when
    /// its lease is two-thirds gone (a renewal that fails logs in again).
    async fn session(&self) -> Result<Session, Error> {
        let mut guard = self.session.lock().await;
        let current = match guard.take() {
            None => self.login().await?,
            Some(s) if s.renew_at.is_some_and(|t| Instant::now() >= t) => self.renew(s).await?,
            Some(s) => s,
        };
        *guard = Some(current.clone());
        Ok(current)
    }

    /// Renews the session's token (looking up a given token's lease
    /// first); when that fails, logs in again.
    async fn renew(&self, s: Session) -> Result<Session, Error> {
        let timeout = self.timeout;
        if !s.lease_known {
            match timed(timeout, s.client.lookup_self()).await {
                Ok(info) if info.renewable == Some(true) && info.ttl > 0 => {}
                Ok(_) => {
                    // not renewable (a root token, a batch token): used
                    // until refused, then read again
                    return Ok(Session {
                        renew_at: None,
                        lease_known: true,
                        ..s
                    });
                }
                Err(_) => return self.login().await,
            }
        }
        match timed(timeout, s.client.renew_self()).await {
            Ok(info) => {
                tracing::debug!(target: "strata::hashicorp", "renewed the token (lease {}s)", info.lease_duration);
                Ok(Session {
                    renew_at: (info.renewable && info.lease_duration > 0)
                        .then(|| renew_at(info.lease_duration))
                        .flatten(),
                    lease_known: true,
                    ..s
                })
            }
            Err(_) => self.login().await,
        }
    }

    /// Logs in again, unless another caller already did since session
    /// `seen` was handed out.
    async fn relogin(&self, seen: u64) -> Result<Session, Error> {
        let mut guard = self.session.lock().await;
        if let Some(s) = guard.as_ref().filter(|s| s.id != seen) {
            return Ok(s.clone());
        }
        let fresh = self.login().await?;
        *guard = Some(fresh.clone());
        Ok(fresh)
    }

    /// Whether logging in again may give another token.
    fn can_relogin(&self) -> bool {
        !matches!(
            self.config.auth,
            Auth::Token(TokenSource::Setting(_) | TokenSource::Variable(_))
        )
    }

    /// One call: `f` with the session's client. A 403 is told apart: when
    /// the token can still look itself up, the call was denied; when it
    /// cannot, the token is refused, and the backend logs in (or reads the
    /// token file) again once and repeats the call. The statuses in
    /// `expected` come back as they are (`Ok(Err(code))`).
    async fn call<T, F, Fut>(
        &self,
        call: &Call<'_>,
        expected: &[u16],
        f: F,
    ) -> Result<Result<T, (u16, Vec<String>)>, Error>
    where
        F: Fn(Arc<Api>) -> Fut,
        Fut: Future<Output = Result<T, vaultrs::error::ClientError>>,
    {
        let timeout = self.timeout;
        let mut session = self.session().await?;
        let mut retried = false;
        loop {
            match timed(timeout, f(session.client.clone())).await {
                Ok(v) => return Ok(Ok(v)),
                Err(Failure::Status { code, errors }) if expected.contains(&code) => {
                    return Ok(Err((code, errors)));
                }
                Err(Failure::Status { code: 403, errors }) => {
                    match timed(timeout, session.client.lookup_self()).await {
                        Ok(_) => {
                            return Err(Failure::Status { code: 403, errors }
                                .into_error(call, &self.location));
                        }
                        Err(Failure::Status {
                            code: 403 | 401, ..
                        }) => {
                            if retried || !self.can_relogin() {
                                return Err(auth_error(format!(
                                    "{} `{}` failed: the Vault token was refused (invalid, expired or revoked; or its policies do not let it look itself up at auth/token/lookup-self); {}",
                                    call.op,
                                    call.name,
                                    self.config.auth_advice()
                                )));
                            }
                            retried = true;
                            session = self.relogin(session.id).await?;
                        }
                        Err(other) => return Err(other.into_error(call, &self.location)),
                    }
                }
                Err(other) => return Err(other.into_error(call, &self.location)),
            }
        }
    }

    /// The KV path of a name (what follows `<mount>/data/`).
    fn kv_path<'n>(&self, name: &'n str) -> Result<&'n str, Error> {
        name.strip_prefix(&format!("{}/data/", self.config.mount))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidName,
                    format!("`{name}` is not under the mount `{}`", self.config.mount),
                )
                .with_provider(SECTION)
            })
    }

    /// What a secret's data stands for: one field `value` holding text is
    /// that text; any other map is a table (core places it at the secret's
    /// path).
    fn fetched_of(data: Map<String, Json>) -> Fetched {
        if data.len() == 1
            && let Some(Json::String(text)) = data.get("value")
        {
            return Fetched::Found(SecretString::from(text.clone()));
        }
        Fetched::Table(data.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
    }

    async fn read(&self, name: &str, version: Option<u64>) -> Result<Fetched, Error> {
        let path = self.kv_path(name)?.to_owned();
        let mount = self.config.mount.clone();
        let call = Call::new("read", name, "read", name.to_owned());
        let data = self
            .call(&call, &[404], |c| {
                let (mount, path) = (mount.clone(), path.clone());
                async move { c.kv2_read(&mount, &path, version).await }
            })
            .await?;
        match data {
            Ok(Some(data)) => Ok(Self::fetched_of(data)),
            Err((_, errors)) if errors.iter().any(|e| e.contains("no handler for route")) => {
                Err(Error::new(
                    ErrorKind::ConfigInvalid,
                    format!(
                        "read `{name}` failed: no secrets engine is mounted at `{}` on {} (providers.{SECTION}.mount)",
                        self.config.mount, self.location
                    ),
                )
                .with_provider(SECTION))
            }
            // deleted (its data is null) or never written
            Ok(None) | Err(_) => Ok(Fetched::NotFound),
        }
    }

    fn metadata_path(&self, kv_path: &str) -> String {
        format!("{}/metadata/{kv_path}", self.config.mount)
    }
}

/// Runs a client call within `timeout`; its error classified.
pub(crate) async fn timed<T>(
    timeout: Duration,
    call: impl Future<Output = Result<T, vaultrs::error::ClientError>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(e)),
        Err(_) => Err(Failure::TimedOut(timeout)),
    }
}

#[async_trait]
impl VaultBackend for HashicorpBackend {
    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        self.read(name, None).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: true,
            store: true,
            versions: true,
            empty_values: true,
            binary_values: false,
        }
    }

    /// Walks `LIST <mount>/metadata/<path_prefix>/` and every folder below
    /// it, a level at a time.
    async fn list(&self) -> Result<Vec<String>, Error> {
        let mount = self.config.mount.clone();
        let root = if self.config.path_prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.config.path_prefix)
        };
        let mut names = Vec::new();
        let mut folders = vec![root];
        while !folders.is_empty() {
            let level = std::mem::take(&mut folders);
            let listed = futures::future::join_all(level.iter().map(|folder| {
                let mount = mount.clone();
                let folder = folder.clone();
                let call = Call::new(
                    "list",
                    &self.config.mount,
                    "list",
                    self.metadata_path(&folder),
                );
                async move {
                    let keys = self
                        .call(&call, &[404], |c| {
                            let (mount, folder) = (mount.clone(), folder.clone());
                            async move { c.kv2_list(&mount, &folder).await }
                        })
                        .await?;
                    Ok::<_, Error>((folder, keys.unwrap_or_default()))
                }
            }))
            .await;
            for result in listed {
                let (folder, keys) = result?;
                for key in keys {
                    if key.ends_with('/') {
                        folders.push(format!("{folder}{key}"));
                    } else {
                        names.push(format!("{}/data/{folder}{key}", self.config.mount));
                    }
                }
            }
        }
        Ok(names)
    }

    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        self.write(name, value, None).await
    }

    /// A check-and-set write: the server refuses it when the secret's
    /// latest version is no longer `base`.
    async fn store_after(
        &self,
        name: &str,
        value: &SecretString,
        base: Option<&str>,
    ) -> Result<String, Error> {
        let cas = match base {
            None => 0,
            Some(id) => id.parse::<u32>().map_err(|_| {
                Error::new(
                    ErrorKind::Other,
                    format!("`{id}` is not a KV version of `{name}`"),
                )
                .with_provider(SECTION)
            })?,
        };
        self.write(name, value, Some(cas)).await
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        let path = self.kv_path(name)?.to_owned();
        let mount = self.config.mount.clone();
        let call = Call::new(
            "list the versions of",
            name,
            "read",
            self.metadata_path(&path),
        );
        let meta = self
            .call(&call, &[404], |c| {
                let (mount, path) = (mount.clone(), path.clone());
                async move { c.kv2_read_metadata(&mount, &path).await }
            })
            .await?;
        let Ok(meta) = meta else {
            return Ok(Vec::new());
        };
        let mut versions: Vec<(u64, Version)> = meta
            .versions
            .into_iter()
            .filter_map(|(id, v)| {
                let n = id.parse::<u64>().ok()?;
                let state = if v.destroyed {
                    "destroyed"
                } else if !v.deletion_time.is_empty() {
                    "deleted"
                } else {
                    "enabled"
                };
                Some((
                    n,
                    Version {
                        id,
                        created: Some(v.created_time),
                        state: state.to_owned(),
                    },
                ))
            })
            .collect();
        versions.sort_by_key(|(n, _)| *n);
        Ok(versions.into_iter().map(|(_, v)| v).collect())
    }

    async fn fetch_version(&self, name: &str, id: &str) -> Result<Fetched, Error> {
        let Ok(n) = id.parse::<u64>() else {
            return Ok(Fetched::NotFound);
        };
        self.read(name, Some(n)).await
    }

    fn access_hint(&self) -> String {
        format!("a policy of the token `read` on `{}*`", self.naming.prefix)
    }

    fn location(&self) -> String {
        self.location.clone()
    }
}

/// Leased credentials ([docs/runtime.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/runtime/index.html)): a role's path read with the
/// token, renewed and revoked at `sys/leases/*`, each call as every other
/// (timeout, a refused token logged in again once).
#[async_trait]
impl LeaseSource for HashicorpBackend {
    async fn lease(&self, role: &str) -> Result<Lease, Error> {
        let call = Call::new("lease", role, "read", role.to_owned());
        let path = role.to_owned();
        let leased = self
            .call(&call, &[], |c| {
                let path = path.clone();
                async move { c.read_leased(&path).await }
            })
            .await?
            .map_err(|(code, errors)| {
                Failure::Status { code, errors }.into_error(&call, &self.location)
            })?;
        if leased.lease_id.is_empty() {
            return Err(Error::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "`{role}` on {} answered without a lease: map a dynamic secrets role (`database/creds/NAME`), not a static secret",
                    self.location
                ),
            )
            .with_provider(SECTION));
        }
        let data: Table = leased
            .data
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect();
        Ok(Lease {
            id: leased.lease_id,
            ttl: Duration::from_secs(u64::from(leased.lease_duration)).min(MAX_LEASE),
            renewable: leased.renewable,
            data: SecretBox::new(Box::new(Value::Table(data))),
        })
    }

    async fn renew(&self, id: &str, increment: Duration) -> Result<Duration, Error> {
        let call = Call::new(
            "renew the lease",
            id,
            "update",
            "sys/leases/renew".to_owned(),
        );
        let secs = increment.as_secs();
        let ttl = self
            .call(&call, &[], |c| {
                let id = id.to_owned();
                async move { c.renew_lease(&id, secs).await }
            })
            .await?
            .map_err(|(code, errors)| {
                Failure::Status { code, errors }.into_error(&call, &self.location)
            })?;
        Ok(Duration::from_secs(u64::from(ttl)).min(MAX_LEASE))
    }

    async fn revoke(&self, id: &str) -> Result<(), Error> {
        let call = Call::new(
            "revoke the lease",
            id,
            "update",
            "sys/leases/revoke".to_owned(),
        );
        self.call(&call, &[], |c| {
            let id = id.to_owned();
            async move { c.revoke_lease(&id).await }
        })
        .await?
        .map_err(|(code, errors)| {
            Failure::Status { code, errors }.into_error(&call, &self.location)
        })
    }

    fn location(&self) -> String {
        self.location.clone()
    }
}

impl HashicorpBackend {
    async fn write(
        &self,
        name: &str,
        value: &SecretString,
        cas: Option<u32>,
    ) -> Result<String, Error> {
        let path = self.kv_path(name)?.to_owned();
        let mount = self.config.mount.clone();
        let call = Call::new("write", name, "create\" and \"update", name.to_owned());
        let written = self
            .call(&call, &[400], |c| {
                let (mount, path) = (mount.clone(), path.clone());
                let mut data = Map::new();
                data.insert(
                    "value".into(),
                    Json::String(value.expose_secret().to_owned()),
                );
                async move { c.kv2_set(&mount, &path, &data, cas).await }
            })
            .await?;
        match written {
            Ok(meta) => Ok(meta.version.to_string()),
            Err(_) if cas.is_some() => Err(Error::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "write `{name}` was refused: another version was written since this push read it (check-and-set); run the push again to see the changes against it"
                ),
            )
            .with_provider(SECTION)),
            Err((code, errors)) => Err(Error::new(
                ErrorKind::Other,
                format!(
                    "write `{name}` failed: the server answered {code} ({})",
                    errors.join("; ").replace('\n', " ")
                ),
            )
            .with_provider(SECTION)),
        }
    }
}
