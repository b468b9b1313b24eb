//! A faithful local Azure Key Vault for tests (no Key Vault emulator can be
//! installed here).
//!
//! It speaks the Key Vault secrets REST API that Microsoft's Rust SDK uses:
//! get a secret (latest or a version), list secret properties with
//! `maxresults` and `nextLink`, set a secret (a new version); Azure's error
//! JSON; the bearer-challenge handshake (an unauthenticated request gets 401
//! with a `WWW-Authenticate` challenge naming the authority and resource);
//! and a Microsoft Entra-style token endpoint for the client-credentials
//! flow that checks the tenant, client id, secret and scope and issues the
//! tokens every API call must carry. Names are case-insensitive, as in Key
//! Vault. Fault injection and request counts as for the local Secret
//! Manager.

use crate::http::{Faults, Handler, Received, Reply, query_param, receive, reply, serve_tls};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// The scope the SDK requests for Key Vault.
pub const VAULT_SCOPE: &str = "https://vault.azure.net/.default";

/// The test service principal.
#[derive(Clone)]
pub struct TestPrincipal {
    /// Tenant id.
    pub tenant_id: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (made for this run only).
    pub client_secret: String,
}

impl std::fmt::Debug for TestPrincipal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPrincipal")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Entry {
    name: String,
    versions: Vec<(String, String)>,
    forbidden: bool,
}

#[derive(Default)]
struct State {
    secrets: BTreeMap<String, Entry>,
    tokens: HashSet<String>,
    counts: HashMap<String, usize>,
    faults: Faults,
    list_forbidden: bool,
    max_page_size: Option<usize>,
    version_counter: u64,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    match state.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The running server; dropping it stops it.
pub struct LocalKeyVault {
    addr: SocketAddr,
    ca_pem: String,
    principal: TestPrincipal,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LocalKeyVault {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LocalKeyVault {
    /// Starts on 127.0.0.1, on a free port, with a fresh service principal.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start() -> Self {
        #[allow(clippy::expect_used)]
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the local Key Vault binds a loopback port");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("a bound address");
        let principal = TestPrincipal {
            tenant_id: "72f988bf-0000-4000-8000-000000000001".into(),
            client_id: "00000000-0000-4000-8000-00000000c11e".into(),
            client_secret: format!("local~{:032x}", rand::random::<u128>()),
        };
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::new(Shared {
            state: state.clone(),
            principal: principal.clone(),
            base: format!("https://{addr}"),
        });
        let (ca_pem, tls) = crate::tls::self_signed();
        let task = serve_tls(listener, shared, tls);
        Self {
            addr,
            ca_pem,
            principal,
            state,
            task,
        }
    }

    /// The vault URL (`https://127.0.0.1:PORT`; the SDK sends tokens over
    /// TLS only).
    pub fn vault_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The authority host the token endpoint lives under.
    pub fn authority_host(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The PEM of the self-signed certificate the server presents, made for
    /// this run: clients must trust it.
    pub fn ca_certificate_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The service principal whose secret is accepted.
    pub fn principal(&self) -> &TestPrincipal {
        &self.principal
    }

    /// Sets `value` as a new version of `name`.
    pub fn put(&self, name: &str, value: &str) {
        let mut s = lock(&self.state);
        s.version_counter += 1;
        let version = format!("{:032x}", s.version_counter);
        let e = s.secrets.entry(name.to_lowercase()).or_default();
        if e.name.is_empty() {
            e.name = name.to_owned();
        }
        e.versions.push((version, value.to_owned()));
    }

    /// Makes every read of `name` answer 403.
    pub fn forbid(&self, name: &str) {
        let mut s = lock(&self.state);
        let e = s.secrets.entry(name.to_lowercase()).or_default();
        if e.name.is_empty() {
            e.name = name.to_owned();
        }
        e.forbidden = true;
    }

    /// Makes listing answer 403.
    pub fn forbid_list(&self) {
        lock(&self.state).list_forbidden = true;
    }

    /// Caps the page size of listings.
    pub fn set_max_page_size(&self, n: usize) {
        lock(&self.state).max_page_size = Some(n.max(1));
    }

    /// Adds latency to every request.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).faults.latency = latency;
    }

    /// The next `n` API requests fail with `status`.
    pub fn fail_next(&self, n: usize, status: u16) {
        lock(&self.state)
            .faults
            .fail_next
            .extend(std::iter::repeat_n(status, n));
    }

    /// Every API request fails with `status` (`None` heals).
    pub fn fail_always(&self, status: Option<u16>) {
        lock(&self.state).faults.fail_always = status;
    }

    /// The next `n` connections are dropped unanswered.
    pub fn drop_next(&self, n: usize) {
        lock(&self.state).faults.drop_next = n;
    }

    /// Requests of `method` (`get`, `list`, `set`, `token`, `challenge`)
    /// for `name` (lower-cased; empty for calls on no secret).
    pub fn count(&self, method: &str, name: &str) -> usize {
        lock(&self.state)
            .counts
            .get(&format!("{method} {}", name.to_lowercase()))
            .copied()
            .unwrap_or(0)
    }

    /// Authenticated API requests (`get`, `list`, `set`).
    pub fn api_requests(&self) -> usize {
        lock(&self.state)
            .counts
            .iter()
            .filter(|(k, _)| ["get ", "list ", "set "].iter().any(|m| k.starts_with(m)))
            .map(|(_, v)| v)
            .sum()
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        lock(&self.state).counts.clear();
    }
}

struct Shared {
    state: Arc<Mutex<State>>,
    principal: TestPrincipal,
    base: String,
}

fn azure_error(status: u16, code: &str, message: &str) -> Reply {
    reply(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        json!({"error": {"code": code, "message": message}}),
    )
}

impl Handler for Shared {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Reply, std::io::Error> {
        self.answer(req).await
    }
}

impl Shared {
    fn count(&self, method: &str, name: &str) {
        *lock(&self.state)
            .counts
            .entry(format!("{method} {}", name.to_lowercase()))
            .or_default() += 1;
    }

    fn challenge(&self) -> Reply {
        let mut r = azure_error(
            401,
            "Unauthorized",
            "AKV10000: Request is missing a Bearer or PoP token.",
        );
        let value = format!(
            "Bearer authorization=\"{}/{}\", resource=\"https://vault.azure.net\"",
            self.base, self.principal.tenant_id
        );
        if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
            r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, v);
        }
        r
    }

    async fn answer(&self, req: Request<Incoming>) -> Result<Reply, std::io::Error> {
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
        if method == Method::POST && path.ends_with("/oauth2/v2.0/token") {
            self.count("token", "");
            return Ok(self.token(&path, &body));
        }
        let Some(token) = auth.as_deref().and_then(|a| a.strip_prefix("Bearer ")) else {
            self.count("challenge", "");
            return Ok(self.challenge());
        };
        if !lock(&self.state).tokens.contains(token) {
            self.count("unauthenticated", "");
            return Ok(azure_error(
                401,
                "Unauthorized",
                "AKV10032: Invalid issuer.",
            ));
        }
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (kind, name) = match (&method, segments.as_slice()) {
            (&Method::GET, ["secrets"]) => ("list", ""),
            (&Method::GET, ["secrets", n, "versions"]) => ("versions", *n),
            (&Method::GET, ["secrets", n]) | (&Method::GET, ["secrets", n, _]) => ("get", *n),
            (&Method::PUT, ["secrets", n]) => ("set", *n),
            _ => ("unknown", ""),
        };
        self.count(kind, name);
        if let Some(code) = lock(&self.state).faults.take_failure() {
            return Ok(azure_error(code, "Throttled", "injected fault"));
        }
        Ok(match (kind, segments.as_slice()) {
            ("list", _) => self.list(&query),
            ("versions", [_, n, _]) => self.versions(n),
            ("get", [_, n]) => self.get(n, None),
            ("get", [_, n, v]) => self.get(n, Some(v)),
            ("set", [_, n]) => self.set(n, &body),
            _ => azure_error(
                400,
                "BadParameter",
                "The request URI contains an invalid name",
            ),
        })
    }

    fn token(&self, path: &str, body: &[u8]) -> Reply {
        let form = String::from_utf8_lossy(body).into_owned();
        let tenant = path.trim_start_matches('/').split('/').next().unwrap_or("");
        let bad = |code: &str, why: &str| {
            reply(
                StatusCode::UNAUTHORIZED,
                json!({"error": code, "error_description": why}),
            )
        };
        if tenant != self.principal.tenant_id {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."}),
            );
        }
        if query_param(&form, "grant_type").as_deref() != Some("client_credentials") {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type"}),
            );
        }
        if query_param(&form, "client_id").as_deref() != Some(self.principal.client_id.as_str()) {
            return bad(
                "unauthorized_client",
                "AADSTS700016: Application not found in the directory.",
            );
        }
        if query_param(&form, "client_secret").as_deref()
            != Some(self.principal.client_secret.as_str())
        {
            return bad(
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided.",
            );
        }
        if query_param(&form, "scope").as_deref() != Some(VAULT_SCOPE) {
            return reply(StatusCode::BAD_REQUEST, json!({"error": "invalid_scope"}));
        }
        let token = format!("eyJ.local.{:032x}", rand::random::<u128>());
        lock(&self.state).tokens.insert(token.clone());
        reply(
            StatusCode::OK,
            json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
        )
    }

    fn bundle(&self, name: &str, version: &str, value: &str) -> Json {
        json!({
            "value": value,
            "id": format!("{}/secrets/{name}/{version}", self.base),
            "attributes": {"enabled": true, "created": 1_700_000_000, "updated": 1_700_000_000, "recoveryLevel": "Recoverable+Purgeable"}
        })
    }

    fn get(&self, name: &str, version: Option<&str>) -> Reply {
        let s = lock(&self.state);
        let not_found = || {
            azure_error(
                404,
                "SecretNotFound",
                &format!("A secret with (name/id) {name} was not found in this key vault."),
            )
        };
        let Some(e) = s.secrets.get(&name.to_lowercase()) else {
            return not_found();
        };
        if e.forbidden {
            return azure_error(
                403,
                "Forbidden",
                &format!(
                    "The user, group or application does not have secrets get permission on key vault for secret {name}."
                ),
            );
        }
        let found = match version {
            None | Some("") => e.versions.last(),
            Some(v) => e.versions.iter().find(|(id, _)| id == v),
        };
        match found {
            Some((v, value)) => reply(StatusCode::OK, self.bundle(&e.name, v, value)),
            None => not_found(),
        }
    }

    fn list(&self, query: &str) -> Reply {
        let s = lock(&self.state);
        if s.list_forbidden {
            return azure_error(
                403,
                "Forbidden",
                "The user, group or application does not have secrets list permission on key vault.",
            );
        }
        let page = query_param(query, "maxresults")
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(25)
            .clamp(1, 25)
            .min(s.max_page_size.unwrap_or(25));
        let skip = query_param(query, "$skiptoken")
            .and_then(|t| t.parse::<usize>().ok())
            .unwrap_or(0);
        let all: Vec<&Entry> = s
            .secrets
            .values()
            .filter(|e| !e.versions.is_empty() || e.forbidden)
            .collect();
        let items: Vec<Json> = all
            .iter()
            .skip(skip)
            .take(page)
            .map(|e| json!({"id": format!("{}/secrets/{}", self.base, e.name), "attributes": {"enabled": true}}))
            .collect();
        let next = (skip + page < all.len()).then(|| {
            format!(
                "{}/secrets?api-version=7.5&$skiptoken={}&maxresults={page}",
                self.base,
                skip + page
            )
        });
        reply(StatusCode::OK, json!({"value": items, "nextLink": next}))
    }

    /// Every version of `name`, in the order they were made, as Key Vault
    /// lists them (`GET /secrets/{name}/versions`).
    fn versions(&self, name: &str) -> Reply {
        let s = lock(&self.state);
        let Some(e) = s.secrets.get(&name.to_lowercase()) else {
            return azure_error(
                404,
                "SecretNotFound",
                &format!("A secret with (name/id) {name} was not found in this key vault."),
            );
        };
        let items: Vec<Json> = e
            .versions
            .iter()
            .map(|(v, _)| {
                json!({
                    "id": format!("{}/secrets/{}/{v}", self.base, e.name),
                    "attributes": {"enabled": true, "created": 1_700_000_000, "updated": 1_700_000_000},
                })
            })
            .collect();
        reply(StatusCode::OK, json!({"value": items, "nextLink": null}))
    }

    fn set(&self, name: &str, body: &[u8]) -> Reply {
        let Ok(request) = serde_json::from_slice::<Json>(body) else {
            return azure_error(400, "BadParameter", "The request body is not JSON.");
        };
        let Some(value) = request["value"].as_str() else {
            return azure_error(400, "BadParameter", "The parameter value is missing.");
        };
        if value.len() > 25 * 1024 {
            return azure_error(400, "BadParameter", "Secret value is too long.");
        }
        if name.is_empty()
            || name.len() > 127
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return azure_error(
                400,
                "BadParameter",
                "The request URI contains an invalid name",
            );
        }
        let mut s = lock(&self.state);
        s.version_counter += 1;
        let version = format!("{:032x}", s.version_counter);
        let e = s.secrets.entry(name.to_lowercase()).or_default();
        if e.name.is_empty() {
            e.name = name.to_owned();
        }
        e.versions.push((version.clone(), value.to_owned()));
        let stored = e.name.clone();
        drop(s);
        reply(StatusCode::OK, self.bundle(&stored, &version, value))
    }
}
