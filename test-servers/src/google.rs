//! A faithful local Google Secret Manager for tests.
//!
//! It speaks the Secret Manager v1 REST API that Google's official Rust
//! client uses (access a version, list secrets with `pageSize`/`pageToken`,
//! create a secret, add a version, get a secret, list and get versions), with
//! Google's JSON error shape and status codes, and serves the OAuth token
//! endpoint for the JWT-bearer grant: the assertion's RS256 signature is
//! checked against the test service account's public key, with its `iss`,
//! `aud` and expiry. Every API call must carry a token it issued, else 401.
//!
//! Fault injection: added latency, N failures with a status before success,
//! failing every call, dropped connections, forbidden (403) secrets. It
//! counts requests per method and secret.

use crate::http::{Faults, Handler, Received, Reply, query_param, receive, reply, serve};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::Verifier;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

/// The OAuth scope the official client asks for.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// A service account whose key pair is made for this test run only.
#[derive(Clone)]
pub struct TestServiceAccount {
    /// The project.
    pub project_id: String,
    /// `...@<project>.iam.gserviceaccount.com`.
    pub client_email: String,
    /// The private key, PKCS#8 PEM.
    pub private_key_pem: String,
    public_key: RsaPublicKey,
}

impl std::fmt::Debug for TestServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServiceAccount")
            .field("client_email", &self.client_email)
            .finish_non_exhaustive()
    }
}

impl TestServiceAccount {
    /// One account per test process (RSA key generation is slow).
    ///
    /// # Panics
    /// When the key cannot be generated or encoded.
    pub fn shared() -> &'static TestServiceAccount {
        static ACCOUNT: OnceLock<TestServiceAccount> = OnceLock::new();
        ACCOUNT.get_or_init(|| Self::generate("strata-test"))
    }

    /// A new account with a fresh 2048-bit key.
    ///
    /// # Panics
    /// When the key cannot be generated or encoded.
    pub fn generate(project_id: &str) -> Self {
        let mut rng = rand::thread_rng();
        #[allow(clippy::expect_used)]
        let key = RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
        #[allow(clippy::expect_used)]
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8 encoding")
            .to_string();
        Self {
            project_id: project_id.to_owned(),
            client_email: format!("strata-tests@{project_id}.iam.gserviceaccount.com"),
            private_key_pem: pem,
            public_key: RsaPublicKey::from(&key),
        }
    }

    /// The service-account JSON key, as Google issues it, pointing at
    /// `token_uri`. `with_key_id` adds a `private_key_id`.
    pub fn json_key(&self, token_uri: &str, with_key_id: bool) -> String {
        let mut key = json!({
            "type": "service_account",
            "project_id": self.project_id,
            "private_key": self.private_key_pem,
            "client_email": self.client_email,
            "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
        });
        if with_key_id {
            key["private_key_id"] = json!("0123456789abcdef");
        }
        key.to_string()
    }
}

#[derive(Default)]
struct SecretEntry {
    versions: Vec<Vec<u8>>,
    forbidden: bool,
}

#[derive(Default)]
struct State {
    secrets: BTreeMap<String, SecretEntry>,
    tokens: HashSet<String>,
    token_counter: u64,
    counts: HashMap<String, usize>,
    faults: Faults,
    list_forbidden: bool,
    max_page_size: Option<usize>,
}

/// The running server. Dropping it stops accepting connections.
pub struct LocalSecretManager {
    addr: SocketAddr,
    project: String,
    account: TestServiceAccount,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LocalSecretManager {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    match state.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl LocalSecretManager {
    /// Starts on 127.0.0.1, on a free port, with the shared test account.
    ///
    /// # Panics
    /// When no port can be bound: a test that needs the server must fail.
    pub async fn start() -> Self {
        Self::start_with(TestServiceAccount::shared().clone(), "127.0.0.1:0").await
    }

    /// Starts with `account` on `bind` (e.g. `127.0.0.1:0`).
    ///
    /// # Panics
    /// When `bind` cannot be bound.
    pub async fn start_with(account: TestServiceAccount, bind: &str) -> Self {
        #[allow(clippy::expect_used)]
        let listener = TcpListener::bind(bind)
            .await
            .expect("the local Secret Manager binds a loopback port");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("a bound address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::new(Shared {
            state: state.clone(),
            account: account.clone(),
            token_uri: format!("http://{addr}/token"),
        });
        let task = serve(listener, shared);
        Self {
            addr,
            project: account.project_id.clone(),
            account,
            state,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`, the API endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The OAuth token endpoint.
    pub fn token_uri(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The project the secrets live in.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The service account whose tokens are accepted.
    pub fn account(&self) -> &TestServiceAccount {
        &self.account
    }

    /// Adds `bytes` as a new version of `secret` (creating it).
    pub fn put(&self, secret: &str, bytes: &[u8]) {
        lock(&self.state)
            .secrets
            .entry(secret.to_owned())
            .or_default()
            .versions
            .push(bytes.to_vec());
    }

    /// Makes every access to `secret` answer 403.
    pub fn forbid(&self, secret: &str) {
        lock(&self.state)
            .secrets
            .entry(secret.to_owned())
            .or_default()
            .forbidden = true;
    }

    /// Makes listing answer 403.
    pub fn forbid_list(&self) {
        lock(&self.state).list_forbidden = true;
    }

    /// Caps the page size of listings (Google's own cap is 25,000).
    pub fn set_max_page_size(&self, n: usize) {
        lock(&self.state).max_page_size = Some(n.max(1));
    }

    /// Adds latency to every request.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).faults.latency = latency;
    }

    /// The next `n` API requests fail with `status` (429, 500, 503, ...).
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut s = lock(&self.state);
        s.faults.fail_next.extend(std::iter::repeat_n(status, n));
    }

    /// Every API request fails with `status` (`None` heals).
    pub fn fail_always(&self, status: Option<u16>) {
        lock(&self.state).faults.fail_always = status;
    }

    /// The next `n` connections are dropped without an answer.
    pub fn drop_next(&self, n: usize) {
        lock(&self.state).faults.drop_next = n;
    }

    /// Requests of `method` (`access`, `list`, `create`, `addVersion`,
    /// `getSecret`, `listVersions`, `getVersion`, `token`) for `secret`
    /// (empty for calls on no secret).
    pub fn count(&self, method: &str, secret: &str) -> usize {
        lock(&self.state)
            .counts
            .get(&format!("{method} {secret}"))
            .copied()
            .unwrap_or(0)
    }

    /// All requests of `method`, over every secret.
    pub fn count_method(&self, method: &str) -> usize {
        lock(&self.state)
            .counts
            .iter()
            .filter(|(k, _)| k.split(' ').next() == Some(method))
            .map(|(_, v)| v)
            .sum()
    }

    /// All API requests (token requests excluded).
    pub fn api_requests(&self) -> usize {
        lock(&self.state)
            .counts
            .iter()
            .filter(|(k, _)| !k.starts_with("token"))
            .map(|(_, v)| v)
            .sum()
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        lock(&self.state).counts.clear();
    }

    /// Issues a token directly (for clients that bring their own).
    pub fn issue_token(&self) -> String {
        issue(&mut lock(&self.state))
    }
}

fn issue(state: &mut State) -> String {
    state.token_counter += 1;
    let token = format!(
        "ya29.local-{}-{}",
        state.token_counter,
        rand::random::<u64>()
    );
    state.tokens.insert(token.clone());
    token
}

struct Shared {
    state: Arc<Mutex<State>>,
    account: TestServiceAccount,
    token_uri: String,
}

fn google_error(code: u16, message: &str) -> Reply {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    };
    reply(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

/// The audience Google's token endpoint expects in a JWT-bearer assertion.
const GOOGLE_TOKEN_AUDIENCE: &str = "https://oauth2.googleapis.com/token";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Shared {
    fn count(&self, method: &str, secret: &str) {
        *lock(&self.state)
            .counts
            .entry(format!("{method} {secret}"))
            .or_default() += 1;
    }

    async fn answer(&self, req: Request<Incoming>) -> Result<Reply, std::io::Error> {
        // the server's own endpoints, for a benchmark run against the
        // standalone binary: not part of Google's API, no latency, no auth
        match (req.method(), req.uri().path()) {
            (&Method::GET, "/_local/counts") => {
                let counts = lock(&self.state).counts.clone();
                return Ok(reply(StatusCode::OK, json!(counts)));
            }
            (&Method::POST, "/_local/reset") => {
                lock(&self.state).counts.clear();
                return Ok(reply(StatusCode::OK, json!({})));
            }
            _ => {}
        }
        let due = {
            let mut s = lock(&self.state);
            (s.faults.latency, s.faults.take_drop())
        };
        let Received {
            method,
            path,
            query,
            auth,
            body,
        } = receive(req, due).await?;
        if path == "/token" && method == Method::POST {
            self.count("token", "");
            return Ok(self.token(&body));
        }
        // every API call needs a token this server issued
        let token_ok = auth
            .as_deref()
            .and_then(|a| a.strip_prefix("Bearer "))
            .is_some_and(|t| lock(&self.state).tokens.contains(t));
        if !token_ok {
            self.count("unauthenticated", "");
            return Ok(google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            ));
        }
        let injected = lock(&self.state).faults.take_failure();
        let Some(rest) = path.strip_prefix("/v1/projects/") else {
            return Ok(google_error(404, "Not Found"));
        };
        let (project, rest) = rest.split_once('/').unwrap_or((rest, ""));
        let route = self.route(&method, rest);
        let (kind, secret) = match &route {
            Route::Access(s, _) => ("access", s.as_str()),
            Route::List => ("list", ""),
            Route::Create => ("create", ""),
            Route::AddVersion(s) => ("addVersion", s.as_str()),
            Route::GetSecret(s) => ("getSecret", s.as_str()),
            Route::ListVersions(s) => ("listVersions", s.as_str()),
            Route::GetVersion(s, _) => ("getVersion", s.as_str()),
            Route::Unknown => ("unknown", ""),
        };
        self.count(kind, secret);
        if let Some(code) = injected {
            return Ok(google_error(code, "injected fault"));
        }
        if project != self.account.project_id {
            return Ok(google_error(
                403,
                &format!("Permission denied on resource project {project}."),
            ));
        }
        Ok(match route {
            Route::Access(secret, version) => self.access(project, &secret, &version),
            Route::List => self.list(project, &query),
            Route::Create => self.create(project, &query),
            Route::AddVersion(secret) => self.add_version(project, &secret, &body),
            Route::GetSecret(secret) => self.get_secret(project, &secret),
            Route::ListVersions(secret) => self.list_versions(project, &secret),
            Route::GetVersion(secret, version) => self.get_version(project, &secret, &version),
            Route::Unknown => google_error(404, "Not Found"),
        })
    }

    fn route(&self, method: &Method, rest: &str) -> Route {
        if rest == "secrets" {
            return match *method {
                Method::GET => Route::List,
                Method::POST => Route::Create,
                _ => Route::Unknown,
            };
        }
        let Some(rest) = rest.strip_prefix("secrets/") else {
            return Route::Unknown;
        };
        if let Some(secret) = rest.strip_suffix(":addVersion") {
            return if *method == Method::POST {
                Route::AddVersion(secret.to_owned())
            } else {
                Route::Unknown
            };
        }
        match rest.split_once("/versions") {
            None if *method == Method::GET => Route::GetSecret(rest.to_owned()),
            Some((secret, "")) if *method == Method::GET => Route::ListVersions(secret.to_owned()),
            Some((secret, v)) if *method == Method::GET => {
                let v = v.trim_start_matches('/');
                match v.strip_suffix(":access") {
                    Some(version) => Route::Access(secret.to_owned(), version.to_owned()),
                    None => Route::GetVersion(secret.to_owned(), v.to_owned()),
                }
            }
            _ => Route::Unknown,
        }
    }

    fn token(&self, body: &[u8]) -> Reply {
        let form = String::from_utf8_lossy(body).into_owned();
        let grant = query_param(&form, "grant_type").unwrap_or_default();
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type"}),
            );
        }
        let Some(assertion) = query_param(&form, "assertion") else {
            return reply(StatusCode::BAD_REQUEST, json!({"error": "invalid_request"}));
        };
        match self.verify(&assertion) {
            Ok(()) => {
                let token = issue(&mut lock(&self.state));
                reply(
                    StatusCode::OK,
                    json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}),
                )
            }
            Err(why) => reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_grant", "error_description": why}),
            ),
        }
    }

    fn verify(&self, jwt: &str) -> Result<(), String> {
        let parts: Vec<&str> = jwt.split('.').collect();
        let [header, claims, signature] = parts[..] else {
            return Err("the assertion is not a JWT".into());
        };
        let decode = |s: &str| {
            URL_SAFE_NO_PAD
                .decode(s.trim_end_matches('='))
                .map_err(|_| "bad base64".to_owned())
        };
        let header: Json = serde_json::from_slice(&decode(header)?).map_err(|_| "bad header")?;
        if header["alg"] != "RS256" {
            return Err("alg must be RS256".into());
        }
        let signature =
            Signature::try_from(decode(signature)?.as_slice()).map_err(|_| "bad signature")?;
        let message = format!("{}.{}", parts[0], parts[1]);
        VerifyingKey::<Sha256>::new(self.account.public_key.clone())
            .verify(message.as_bytes(), &signature)
            .map_err(|_| "Invalid JWT Signature.".to_owned())?;
        let claims: Json = serde_json::from_slice(&decode(claims)?).map_err(|_| "bad claims")?;
        if claims["iss"] != self.account.client_email.as_str() {
            return Err("Invalid issuer".into());
        }
        // Google documents its own endpoint as the audience, and google-auth
        // (Python) always sends that; yup-oauth2 sends the key's token_uri
        let aud = claims["aud"].as_str().unwrap_or("");
        if aud != self.token_uri && aud != GOOGLE_TOKEN_AUDIENCE {
            return Err(format!(
                "Invalid JWT audience, expected {GOOGLE_TOKEN_AUDIENCE} or {}",
                self.token_uri
            ));
        }
        let exp = claims["exp"].as_i64().ok_or("no exp")?;
        let iat = claims["iat"].as_i64().unwrap_or(0);
        let t = now();
        if exp < t || iat > t + 300 || exp - iat > 3600 + 60 {
            return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.".into());
        }
        let scope = claims["scope"].as_str().unwrap_or("");
        if !scope.split(' ').any(|s| s == CLOUD_PLATFORM_SCOPE) {
            return Err("the cloud-platform scope is missing".into());
        }
        Ok(())
    }

    fn access(&self, project: &str, secret: &str, version: &str) -> Reply {
        let s = lock(&self.state);
        let Some(entry) = s.secrets.get(secret) else {
            return google_error(
                404,
                &format!(
                    "Secret [projects/{project}/secrets/{secret}] not found or has no versions."
                ),
            );
        };
        if entry.forbidden {
            return google_error(
                403,
                &format!(
                    "Permission 'secretmanager.versions.access' denied for resource 'projects/{project}/secrets/{secret}/versions/{version}' (or it may not exist)."
                ),
            );
        }
        let index = if version == "latest" {
            entry.versions.len().checked_sub(1)
        } else {
            version
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .filter(|i| *i < entry.versions.len())
        };
        let Some(index) = index else {
            return google_error(
                404,
                &format!(
                    "Secret Version [projects/{project}/secrets/{secret}/versions/{version}] not found."
                ),
            );
        };
        let data = &entry.versions[index];
        reply(
            StatusCode::OK,
            json!({
                "name": format!("projects/{project}/secrets/{secret}/versions/{}", index + 1),
                "payload": {"data": STANDARD.encode(data), "dataCrc32c": crc32c::crc32c(data).to_string()}
            }),
        )
    }

    fn list(&self, project: &str, query: &str) -> Reply {
        let s = lock(&self.state);
        if s.list_forbidden {
            return google_error(
                403,
                &format!(
                    "Permission 'secretmanager.secrets.list' denied for resource 'projects/{project}'."
                ),
            );
        }
        let page_size = query_param(query, "pageSize")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(25000)
            .min(s.max_page_size.unwrap_or(25000));
        let start = query_param(query, "pageToken")
            .and_then(|t| t.parse::<usize>().ok())
            .unwrap_or(0);
        let names: Vec<&String> = s
            .secrets
            .iter()
            .filter(|(_, e)| !e.versions.is_empty() || e.forbidden)
            .map(|(n, _)| n)
            .collect();
        let page: Vec<Json> = names
            .iter()
            .skip(start)
            .take(page_size)
            .map(|n| json!({"name": format!("projects/{project}/secrets/{n}"), "replication": {"automatic": {}}}))
            .collect();
        let mut body = json!({"secrets": page, "totalSize": names.len()});
        if start + page_size < names.len() {
            body["nextPageToken"] = json!((start + page_size).to_string());
        }
        reply(StatusCode::OK, body)
    }

    fn create(&self, project: &str, query: &str) -> Reply {
        let Some(id) = query_param(query, "secretId") else {
            return google_error(400, "secretId is required");
        };
        if id.is_empty()
            || id.len() > 255
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return google_error(400, "Secret id is invalid.");
        }
        let mut s = lock(&self.state);
        if s.secrets.contains_key(&id) {
            return google_error(
                409,
                &format!("Secret [projects/{project}/secrets/{id}] already exists."),
            );
        }
        s.secrets.insert(id.clone(), SecretEntry::default());
        reply(
            StatusCode::OK,
            json!({"name": format!("projects/{project}/secrets/{id}"), "replication": {"automatic": {}}}),
        )
    }

    fn add_version(&self, project: &str, secret: &str, body: &[u8]) -> Reply {
        let Ok(request) = serde_json::from_slice::<Json>(body) else {
            return google_error(400, "Invalid JSON payload received.");
        };
        let Some(data) = request["payload"]["data"]
            .as_str()
            .and_then(|d| STANDARD.decode(d).ok())
        else {
            return google_error(400, "payload.data is required");
        };
        if data.len() > 64 * 1024 {
            return google_error(400, "Secret Payload cannot be larger than 64KiB.");
        }
        if let Some(crc) = request["payload"]["dataCrc32c"]
            .as_str()
            .and_then(|c| c.parse::<u32>().ok())
            .or_else(|| request["payload"]["dataCrc32c"].as_u64().map(|c| c as u32))
            && crc != crc32c::crc32c(&data)
        {
            return google_error(400, "Checksum mismatch.");
        }
        let mut s = lock(&self.state);
        let Some(entry) = s.secrets.get_mut(secret) else {
            return google_error(
                404,
                &format!("Secret [projects/{project}/secrets/{secret}] not found."),
            );
        };
        entry.versions.push(data);
        let n = entry.versions.len();
        reply(
            StatusCode::OK,
            json!({"name": format!("projects/{project}/secrets/{secret}/versions/{n}"), "state": "ENABLED"}),
        )
    }

    fn get_secret(&self, project: &str, secret: &str) -> Reply {
        if lock(&self.state).secrets.contains_key(secret) {
            reply(
                StatusCode::OK,
                json!({"name": format!("projects/{project}/secrets/{secret}"), "replication": {"automatic": {}}}),
            )
        } else {
            google_error(
                404,
                &format!("Secret [projects/{project}/secrets/{secret}] not found."),
            )
        }
    }

    fn list_versions(&self, project: &str, secret: &str) -> Reply {
        let s = lock(&self.state);
        let Some(entry) = s.secrets.get(secret) else {
            return google_error(
                404,
                &format!("Secret [projects/{project}/secrets/{secret}] not found."),
            );
        };
        let versions: Vec<Json> = (1..=entry.versions.len())
            .rev()
            .map(|n| json!({"name": format!("projects/{project}/secrets/{secret}/versions/{n}"), "state": "ENABLED"}))
            .collect();
        reply(
            StatusCode::OK,
            json!({"versions": versions, "totalSize": entry.versions.len()}),
        )
    }

    fn get_version(&self, project: &str, secret: &str, version: &str) -> Reply {
        let s = lock(&self.state);
        let n = s.secrets.get(secret).map(|e| e.versions.len()).unwrap_or(0);
        let v = if version == "latest" {
            n
        } else {
            version.parse().unwrap_or(0)
        };
        if v == 0 || v > n {
            return google_error(
                404,
                &format!(
                    "Secret Version [projects/{project}/secrets/{secret}/versions/{version}] not found."
                ),
            );
        }
        reply(
            StatusCode::OK,
            json!({"name": format!("projects/{project}/secrets/{secret}/versions/{v}"), "state": "ENABLED"}),
        )
    }
}

impl Handler for Shared {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Reply, std::io::Error> {
        self.answer(req).await
    }
}

enum Route {
    Access(String, String),
    List,
    Create,
    AddVersion(String),
    GetSecret(String),
    ListVersions(String),
    GetVersion(String, String),
    Unknown,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};

    fn assertion(account: &TestServiceAccount, aud: &str, scope: &str) -> String {
        let key = RsaPrivateKey::from_pkcs8_pem(&account.private_key_pem).unwrap();
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key);
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string());
        let t = now();
        let claims = URL_SAFE_NO_PAD.encode(
            json!({"iss": account.client_email, "aud": aud, "scope": scope, "iat": t, "exp": t + 3600})
                .to_string(),
        );
        let message = format!("{header}.{claims}");
        let signature = URL_SAFE_NO_PAD.encode(signer.sign(message.as_bytes()).to_bytes());
        format!("{message}.{signature}")
    }

    #[test]
    fn the_token_endpoint_accepts_google_s_audience_and_its_own_only() {
        let account = TestServiceAccount::shared().clone();
        let shared = Shared {
            state: Arc::default(),
            account: account.clone(),
            token_uri: "http://127.0.0.1:9/token".into(),
        };
        // yup-oauth2 (Rust) sends the key's token_uri, google-auth (Python)
        // Google's own endpoint: both are accepted
        for aud in ["http://127.0.0.1:9/token", GOOGLE_TOKEN_AUDIENCE] {
            shared
                .verify(&assertion(&account, aud, CLOUD_PLATFORM_SCOPE))
                .unwrap();
        }
        let wrong = shared.verify(&assertion(
            &account,
            "https://elsewhere/token",
            CLOUD_PLATFORM_SCOPE,
        ));
        assert!(wrong.unwrap_err().contains("audience"));
        let no_scope = shared.verify(&assertion(&account, GOOGLE_TOKEN_AUDIENCE, "openid"));
        assert!(no_scope.unwrap_err().contains("scope"));
        // another key's signature is refused
        let other = TestServiceAccount::generate("other");
        let forged = shared.verify(&assertion(
            &other,
            GOOGLE_TOKEN_AUDIENCE,
            CLOUD_PLATFORM_SCOPE,
        ));
        assert!(forged.unwrap_err().contains("Signature"));
    }

    async fn raw(server: &LocalSecretManager, method: &str, path: &str) -> (String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = server.endpoint().trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (
            head.lines().next().unwrap_or("").to_owned(),
            body.to_owned(),
        )
    }

    #[tokio::test]
    async fn the_standalone_server_reports_and_resets_its_counts_without_latency() {
        let server = LocalSecretManager::start().await;
        server.set_latency(Duration::from_secs(30));
        // an API call waits out the latency (this one is abandoned first,
        // so never counted)
        let call = tokio::time::timeout(
            Duration::from_secs(1),
            raw(&server, "GET", "/v1/projects/p/secrets"),
        )
        .await;
        assert!(call.is_err(), "the API call waits out the latency");
        server.set_latency(Duration::ZERO);
        let (status, _) = raw(&server, "GET", "/v1/projects/p/secrets").await;
        assert!(status.contains("401"), "{status}");
        // the counts endpoint answers at once, unauthenticated
        server.set_latency(Duration::from_secs(30));
        let (status, body) = tokio::time::timeout(
            Duration::from_secs(5),
            raw(&server, "GET", "/_local/counts"),
        )
        .await
        .unwrap();
        assert!(status.contains("200"), "{status}");
        let counts: Json = serde_json::from_str(&body).unwrap();
        assert_eq!(counts, json!({"unauthenticated ": 1}), "{body}");
        let (status, _) = raw(&server, "POST", "/_local/reset").await;
        assert!(status.contains("200"), "{status}");
        let (_, body) = raw(&server, "GET", "/_local/counts").await;
        assert_eq!(serde_json::from_str::<Json>(&body).unwrap(), json!({}));
    }
}
