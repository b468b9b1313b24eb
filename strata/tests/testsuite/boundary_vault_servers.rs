//! Trust boundary: vault servers and token endpoints (docs/security.md). A
//! server is trusted with what it holds and nothing else; its replies are
//! input. Every backend's API and its token or login endpoint is pointed at
//! a hostile server that redirects (301, 302, 303, 307, 308: to another
//! host, from https to http, in a loop), sends bodies larger than any cap,
//! drips, hangs or sends garbage. The user's credentials never reach a host
//! the server names, memory stays bounded, and the command ends within its
//! deadline and a second.

use crate::common::{Project, run_async};
use serde_json::json;
use std::time::{Duration, Instant};
use strata_secrets_test_servers::azure::LocalKeyVault;
use strata_secrets_test_servers::google::LocalSecretManager;
use strata_secrets_test_servers::hostile::{Behavior, HostileServer};

/// What a test points at the hostile server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// HashiCorp Vault's API (a token from `VAULT_TOKEN`).
    VaultApi,
    /// HashiCorp Vault's AppRole login endpoint.
    VaultLogin,
    /// Secret Manager's API.
    GoogleApi,
    /// A service account's token endpoint (`token_uri`).
    GoogleToken,
    /// Secrets Manager's API (`endpoint_url`).
    AwsApi,
    /// The AWS SDK's container credentials endpoint.
    AwsCredentials,
    /// Key Vault's API (`vault_url`).
    AzureApi,
    /// Entra ID's token endpoint (`authority_host`).
    AzureToken,
}

const TARGETS: [Target; 8] = [
    Target::VaultApi,
    Target::VaultLogin,
    Target::GoogleApi,
    Target::GoogleToken,
    Target::AwsApi,
    Target::AwsCredentials,
    Target::AzureApi,
    Target::AzureToken,
];

/// The credentials each target is given: none may ever appear anywhere.
const CANARIES: [&str; 4] = [
    "canary-vault-token",
    "canary-secret-id",
    "canary-aws-secret",
    "canary-azure-secret",
];

impl Target {
    /// Whether the hostile server must speak TLS (Key Vault's addresses
    /// are https only).
    fn tls(self) -> bool {
        matches!(self, Target::AzureApi | Target::AzureToken)
    }
}

/// The servers a target needs besides the hostile one.
struct Aimed {
    _google: Option<LocalSecretManager>,
    _kv: Option<LocalKeyVault>,
    _dir: tempfile::TempDir,
}

/// Enables the target's vault through the environment, with `hostile` at
/// the target and real local servers elsewhere.
async fn aim(t: Target, p: &mut Project, hostile: &HostileServer) -> Aimed {
    let dir = tempfile::tempdir().unwrap();
    let mut aimed = Aimed {
        _google: None,
        _kv: None,
        _dir: tempfile::tempdir().unwrap(),
    };
    let url = hostile.url();
    if let Some(ca) = hostile.ca_pem() {
        std::fs::write(dir.path().join("ca.pem"), ca).unwrap();
    }
    let ca_file = dir.path().join("ca.pem").display().to_string();
    match t {
        Target::VaultApi | Target::VaultLogin => {
            p.set_env("PROVIDERS__ENABLE_HASHICORP_VAULT", "true")
                .set_env("VAULT_ADDR", &url)
                .set_env("VAULT_TOKEN", "canary-vault-token");
            if hostile.ca_pem().is_some() {
                p.set_env("VAULT_CACERT", &ca_file);
            }
            if t == Target::VaultLogin {
                p.set_env("PROVIDERS__HASHICORP_VAULT__AUTH", "approle")
                    .set_env("PROVIDERS__HASHICORP_VAULT__ROLE_ID", "role")
                    .set_env("PROVIDERS__HASHICORP_VAULT__SECRET_ID", "canary-secret-id");
            }
        }
        Target::GoogleApi | Target::GoogleToken => {
            let sm = LocalSecretManager::start().await;
            let a = sm.account();
            let (endpoint, token_uri) = if t == Target::GoogleApi {
                (url.clone(), sm.token_uri())
            } else {
                (sm.endpoint(), format!("{url}/token"))
            };
            p.set_env("PROVIDERS__ENABLE_GOOGLE_SECRETS", "true")
                .set_env("PROVIDERS__GOOGLE_SECRETS__ENDPOINT", &endpoint)
                .set_env(
                    "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PROJECT_ID",
                    &a.project_id,
                )
                .set_env(
                    "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__CLIENT_EMAIL",
                    &a.client_email,
                )
                .set_env(
                    "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PRIVATE_KEY",
                    &a.private_key_pem,
                )
                .set_env(
                    "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__TOKEN_URI",
                    &token_uri,
                );
            aimed._google = Some(sm);
        }
        Target::AwsApi => {
            p.set_env("PROVIDERS__ENABLE_AWS_SECRETS", "true")
                .set_env(
                    "PROVIDERS__AWS_SECRETS__CREDENTIALS__AWS_ACCESS_KEY_ID",
                    "AKIDCANARY",
                )
                .set_env(
                    "PROVIDERS__AWS_SECRETS__CREDENTIALS__AWS_SECRET_ACCESS_KEY",
                    "canary-aws-secret",
                )
                .set_env(
                    "PROVIDERS__AWS_SECRETS__CREDENTIALS__REGION_NAME",
                    "us-east-1",
                )
                .set_env("PROVIDERS__AWS_SECRETS__CREDENTIALS__ENDPOINT_URL", &url);
        }
        Target::AwsCredentials => {
            // the SDK's own chain: container credentials from a loopback
            // endpoint the user set, with its authorization token
            p.set_env("PROVIDERS__ENABLE_AWS_SECRETS", "true")
                .set_env("AWS_REGION", "us-east-1")
                .set_env(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    &format!("{url}/creds"),
                )
                .set_env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "canary-aws-secret")
                .set_env("AWS_EC2_METADATA_DISABLED", "true")
                .set_env(
                    "PROVIDERS__AWS_SECRETS__CREDENTIALS__ENDPOINT_URL",
                    "http://127.0.0.1:9",
                );
        }
        Target::AzureApi | Target::AzureToken => {
            let kv = LocalKeyVault::start().await;
            let principal = kv.principal().clone();
            let ca = format!(
                "{}\n{}",
                kv.ca_certificate_pem(),
                String::from_utf8_lossy(hostile.ca_pem().unwrap_or_default())
            );
            let (vault_url, authority) = if t == Target::AzureApi {
                (url.clone(), kv.authority_host())
            } else {
                (kv.vault_url(), url.clone())
            };
            p.set_env("PROVIDERS__ENABLE_AZURE_KEY_VAULT", "true")
                .set_env("PROVIDERS__AZURE_KEY_VAULT__VAULT_URL", &vault_url)
                .set_env("PROVIDERS__AZURE_KEY_VAULT__AUTHORITY_HOST", &authority)
                .set_env("PROVIDERS__AZURE_KEY_VAULT__CA_CERTIFICATE", &ca)
                .set_env(
                    "PROVIDERS__AZURE_KEY_VAULT__CREDENTIALS__AZURE_TENANT_ID",
                    &principal.tenant_id,
                )
                .set_env(
                    "PROVIDERS__AZURE_KEY_VAULT__CREDENTIALS__AZURE_CLIENT_ID",
                    &principal.client_id,
                )
                .set_env(
                    "PROVIDERS__AZURE_KEY_VAULT__CREDENTIALS__AZURE_CLIENT_SECRET",
                    "canary-azure-secret",
                );
            aimed._kv = Some(kv);
        }
    }
    if matches!(t, Target::AwsApi | Target::AwsCredentials)
        && let Some(ca) = hostile.ca_pem()
    {
        p.set_env(
            "PROVIDERS__AWS_SECRETS__CA_CERTIFICATE",
            &String::from_utf8_lossy(ca),
        );
    }
    aimed._dir = dir;
    aimed
}

async fn hostile_for(t: Target, behavior: Behavior) -> HostileServer {
    if t.tls() {
        HostileServer::start_tls(behavior).await
    } else {
        HostileServer::start(behavior).await
    }
}

fn assert_no_canary(r: &crate::common::Run, what: &str) {
    for c in CANARIES {
        assert!(
            !r.all().contains(c),
            "{what}: {c} in the output: {}",
            r.all()
        );
    }
    assert!(!r.all().contains("panicked"), "{what}: {}", r.all());
}

/// Every redirect status, to another host: nothing follows it, the other
/// host never hears from strata, the error names where it pointed (no
/// query) and the command fails at once (a permanent failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_redirect_to_another_host_is_followed() {
    for t in TARGETS {
        for status in [301, 302, 303, 307, 308] {
            let elsewhere = HostileServer::start(Behavior::json(200, &json!({"data": {}}))).await;
            let to = format!("{}/v1/stolen?token=leakme", elsewhere.url());
            let hostile = hostile_for(t, Behavior::Redirect { status, to }).await;
            let mut p = Project::workspace();
            let _aimed = aim(t, &mut p, &hostile).await;
            let started = Instant::now();
            let r = run_async(&p, &["get", "sources.x.key"]).await;
            let what = format!("{t:?} {status}");
            assert_eq!(r.code(), 2, "{what}: {}", r.all());
            assert!(
                elsewhere.seen().is_empty(),
                "{what}: the other host was asked"
            );
            assert!(
                !hostile.seen().is_empty(),
                "{what}: the hostile server was not asked"
            );
            let err = r.stderr();
            assert!(err.contains("redirect"), "{what}: {err}");
            assert!(
                err.contains(&elsewhere.url().replace("http://", "")),
                "{what}: the error does not say where it pointed: {err}"
            );
            assert!(!err.contains("leakme"), "{what}: {err}");
            assert_no_canary(&r, &what);
            // refused at once, not retried as a passing failure
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{what}: {:?}",
                started.elapsed()
            );
            assert!(
                hostile.seen().len() <= 2,
                "{what}: {} requests",
                hostile.seen().len()
            );
        }
    }
}

/// From https to http, even on the same host: refused; the plain server
/// never hears from strata.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_redirect_from_https_to_http_is_followed() {
    for t in [
        Target::VaultApi,
        Target::VaultLogin,
        Target::AzureApi,
        Target::AzureToken,
    ] {
        for status in [301, 307, 308] {
            let plain = HostileServer::start(Behavior::json(200, &json!({"data": {}}))).await;
            let to = format!("{}/v1/secret", plain.url());
            let hostile = HostileServer::start_tls(Behavior::Redirect { status, to }).await;
            let mut p = Project::workspace();
            let _aimed = aim(t, &mut p, &hostile).await;
            let r = run_async(&p, &["get", "sources.x.key"]).await;
            let what = format!("{t:?} {status} downgrade");
            assert_eq!(r.code(), 2, "{what}: {}", r.all());
            assert!(
                !hostile.seen().is_empty(),
                "{what}: the TLS server was not asked"
            );
            assert!(
                plain.seen().is_empty(),
                "{what}: the plain server was asked"
            );
            assert!(
                r.stderr().contains("leaves https"),
                "{what}: {}",
                r.stderr()
            );
            assert_no_canary(&r, &what);
        }
    }
}

/// A redirect to the same place, again and again: followed once at most,
/// then an error, at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_loop_ends_at_once() {
    for t in TARGETS {
        let hostile = hostile_for(t, Behavior::Close).await;
        hostile.set(Behavior::Redirect {
            status: 307,
            to: format!("{}/v1/again", hostile.url()),
        });
        let mut p = Project::workspace();
        let _aimed = aim(t, &mut p, &hostile).await;
        let started = Instant::now();
        let r = run_async(&p, &["get", "sources.x.key"]).await;
        let what = format!("{t:?} loop");
        assert_eq!(r.code(), 2, "{what}: {}", r.all());
        assert!(r.stderr().contains("redirect"), "{what}: {}", r.stderr());
        // the original request, and the one same-origin redirect followed
        let asked = hostile.seen().len();
        assert_eq!(asked, 2, "{what}: {asked} requests");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: {:?}",
            started.elapsed()
        );
        assert_no_canary(&r, &what);
    }
}

/// Bodies larger than any cap, declared or streamed: the command fails
/// with what happened, and its memory stays bounded (peak RSS, measured).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_replies_are_refused_with_bounded_memory() {
    for t in TARGETS {
        for behavior in [
            Behavior::Oversize {
                len: 2 * 1024 * 1024 * 1024,
                declared: true,
            },
            Behavior::Oversize {
                len: 512 * 1024 * 1024,
                declared: false,
            },
        ] {
            let hostile = hostile_for(t, behavior.clone()).await;
            let mut p = Project::workspace();
            let _aimed = aim(t, &mut p, &hostile).await;
            let what = format!("{t:?} {behavior:?}");
            let (r, peak_kib) = run_measured(&p, &["get", "sources.x.key"]).await;
            assert_eq!(r.code(), 2, "{what}: {}", r.all());
            assert!(
                r.stderr().contains("larger than 16 MiB") || r.stderr().contains("cap"),
                "{what}: {}",
                r.stderr()
            );
            assert!(peak_kib < 200 * 1024, "{what}: peak {peak_kib} KiB");
            assert_no_canary(&r, &what);
        }
    }
}

/// `strata ARGS` under `/usr/bin/time`: its result and its peak resident
/// memory in KiB.
async fn run_measured(p: &Project, args: &[&str]) -> (crate::common::Run, u64) {
    let mut full = vec!["-f", "PEAK-RSS-KIB %M", env!("CARGO_BIN_EXE_strata")];
    full.extend_from_slice(args);
    let full: Vec<String> = full.iter().map(|s| (*s).to_owned()).collect();
    let (dir, env) = (p.path().to_path_buf(), p.env.clone());
    let r = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        let q = Project::at(dir, env);
        // run_bin adds --workspace after the binary: here after `time`'s
        // arguments, so pass it through `time` by hand
        let mut cmd = std::process::Command::new("/usr/bin/time");
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", q.path().join("home"))
            .env("STRATA_GLOBAL_DIR", q.path().join("global"))
            .env("STRATA_SECRETS_DIR", q.path().join("run-secrets"))
            .args(&refs[..3])
            .arg("--workspace")
            .arg(q.path())
            .args(&refs[3..])
            .current_dir(q.path());
        for (k, v) in &q.env {
            cmd.env(k, v);
        }
        crate::common::Run(cmd.output().unwrap())
    })
    .await
    .unwrap();
    let err = r.stderr();
    let peak = err
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("PEAK-RSS-KIB "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no peak RSS: {err}"));
    // strip time's line from what the test sees
    let mut out = r.0.clone();
    out.stderr = err
        .lines()
        .filter(|l| !l.starts_with("PEAK-RSS-KIB "))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes();
    (crate::common::Run(out), peak)
}

/// A server that never answers, or drips a byte at a time: the command
/// ends within its deadline and a second, whatever the client is doing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_and_dripping_servers_never_outlast_the_deadline() {
    for t in TARGETS {
        for behavior in [
            Behavior::Hang,
            Behavior::Drip {
                every: Duration::from_millis(200),
            },
        ] {
            let hostile = hostile_for(t, behavior.clone()).await;
            let mut p = Project::workspace();
            let _aimed = aim(t, &mut p, &hostile).await;
            p.set_env("STRATA_DEADLINE", "2");
            let what = format!("{t:?} {behavior:?}");
            let started = Instant::now();
            let r = run_async(&p, &["get", "sources.x.key"]).await;
            let took = started.elapsed();
            assert_eq!(r.code(), 2, "{what}: {}", r.all());
            assert!(took < Duration::from_secs(3), "{what}: took {took:?}");
            assert_no_canary(&r, &what);
        }
    }
}

/// Garbage in place of HTTP: an error, no panic, no secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_an_error() {
    for t in TARGETS {
        for behavior in [Behavior::Garbage { len: 4096 }, Behavior::Close] {
            let hostile = hostile_for(t, behavior.clone()).await;
            let mut p = Project::workspace();
            let _aimed = aim(t, &mut p, &hostile).await;
            p.set_env("STRATA_DEADLINE", "3");
            let what = format!("{t:?} {behavior:?}");
            let started = Instant::now();
            let r = run_async(&p, &["get", "sources.x.key"]).await;
            assert_eq!(r.code(), 2, "{what}: {}", r.all());
            assert_no_canary(&r, &what);
            if matches!(behavior, Behavior::Garbage { .. }) {
                // a reply that is not HTTP is permanent: no retries
                assert!(
                    started.elapsed() < Duration::from_secs(2),
                    "{what}: {:?}: {}",
                    started.elapsed(),
                    r.stderr()
                );
            }
        }
    }
}

/// Random JSON: scalars of every kind (huge and negative numbers, strings
/// with control characters), objects and arrays, now and then nested
/// deeper than any parser allows.
fn random_json(g: &mut crate::boundary_files::Gen, depth: usize) -> serde_json::Value {
    use serde_json::Value as J;
    if depth == 0 && g.below(40) == 0 {
        // 300 levels deep
        let mut v = J::Null;
        for _ in 0..300 {
            v = J::Array(vec![v]);
        }
        return v;
    }
    match g.below(if depth > 3 { 6 } else { 9 }) {
        0 => J::Null,
        1 => J::Bool(g.below(2) == 0),
        2 => json!(g.next()),
        3 => json!(-(g.below(1 << 40) as i64)),
        4 => json!(f64::from_bits(g.next() & 0x7fef_ffff_ffff_ffff)),
        5 => {
            let len = g.below(40) as usize;
            J::String(
                (0..len)
                    .map(|_| char::from_u32(g.below(0x800) as u32).unwrap_or('\u{1b}'))
                    .collect(),
            )
        }
        6 => J::Array((0..g.below(4)).map(|_| random_json(g, depth + 1)).collect()),
        _ => {
            let keys = [
                "data",
                "value",
                "payload",
                "auth",
                "lease_duration",
                "client_token",
                "renewable",
                "access_token",
                "expires_in",
                "id",
                "keys",
                "versions",
                "metadata",
                "SecretString",
                "Name",
                "errors",
                "error",
                "nextPageToken",
                "secrets",
                "dataCrc32c",
                "ttl",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..g.below(5) {
                let k = keys[g.below(keys.len() as u64) as usize];
                m.insert(k.to_owned(), random_json(g, depth + 1));
            }
            J::Object(m)
        }
    }
}

/// A reply shaped like the API's, with random leaves.
fn shaped(g: &mut crate::boundary_files::Gen, t: Target) -> serde_json::Value {
    let r = |g: &mut crate::boundary_files::Gen| random_json(g, 2);
    let lease = [u64::MAX, 0, 1][g.below(3) as usize];
    match t {
        Target::VaultApi | Target::VaultLogin => json!({
            "request_id": "r", "lease_id": "", "renewable": r(g), "lease_duration": r(g),
            "data": {"data": r(g), "metadata": {"version": r(g), "created_time": r(g)}, "keys": r(g)},
            "auth": {"client_token": r(g), "accessor": "a", "policies": [], "token_policies": [],
                     "lease_duration": lease,
                     "renewable": true, "entity_id": "", "token_type": "service", "orphan": true},
            "warnings": r(g), "wrap_info": null,
        }),
        Target::GoogleApi => json!({
            "name": r(g), "payload": {"data": r(g), "dataCrc32c": r(g)},
            "secrets": r(g), "nextPageToken": r(g),
        }),
        Target::GoogleToken | Target::AzureToken => json!({
            "access_token": r(g), "expires_in": r(g), "token_type": "Bearer",
        }),
        Target::AwsApi | Target::AwsCredentials => json!({
            "Name": r(g), "SecretString": r(g), "SecretBinary": r(g), "VersionId": r(g),
            "AccessKeyId": r(g), "SecretAccessKey": r(g), "Token": r(g), "Expiration": r(g),
        }),
        Target::AzureApi => {
            json!({"value": r(g), "id": r(g), "attributes": r(g), "nextLink": r(g)})
        }
    }
}

/// A property test per backend over random replies, in process (a panic
/// fails the test): whatever the server answers, a lookup returns a value
/// or an error, never a panic, and never reads more than the cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_replies_never_panic() {
    use strata_secrets::{Environment, Lookup, Options, Strata};
    let mut g = crate::boundary_files::Gen::new();
    for t in TARGETS {
        if t == Target::AwsCredentials {
            // the SDK's chain reads the process environment: covered by the
            // binary's tests above
            continue;
        }
        let hostile = hostile_for(t, Behavior::Close).await;
        let mut p = Project::workspace();
        let _aimed = aim(t, &mut p, &hostile).await;
        let mut env: Vec<(String, String)> = p.env.clone();
        env.push(("HOME".into(), p.path().join("home").display().to_string()));
        // passing failures (429, 5xx) are retried within the deadline: keep
        // it short
        let section = match t {
            Target::VaultApi | Target::VaultLogin => "HASHICORP_VAULT",
            Target::GoogleApi | Target::GoogleToken => "GOOGLE_SECRETS",
            Target::AwsApi | Target::AwsCredentials => "AWS_SECRETS",
            Target::AzureApi | Target::AzureToken => "AZURE_KEY_VAULT",
        };
        for key in ["TIMEOUT", "DEADLINE"] {
            env.push((format!("PROVIDERS__{section}__{key}"), "0.5".into()));
        }
        for case in 0..40 {
            let status = [
                200, 200, 200, 200, 201, 204, 400, 401, 403, 404, 412, 429, 500, 503,
            ][g.below(14) as usize];
            let body = match g.below(10) {
                0 => random_json(&mut g, 0).to_string().into_bytes(),
                1 => (0..g.below(300)).map(|_| g.next() as u8).collect(),
                _ => shaped(&mut g, t).to_string().into_bytes(),
            };
            let content_type = [
                "application/json",
                "text/html",
                "application/x-amz-json-1.1",
            ][g.below(3) as usize]
                .to_owned();
            hostile.set(Behavior::Reply {
                status,
                content_type,
                body,
            });
            let options = Options {
                run_dir: Some(p.path().to_path_buf()),
                global_dir: Some(p.path().join("global")),
                secrets_dir: Some(p.path().join("run-secrets")),
                env: Some(Environment::from_pairs(
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                )),
                ..Default::default()
            };
            // every answer is fine but a panic or a hang
            let outcome = tokio::time::timeout(Duration::from_secs(30), async {
                let strata = Strata::open(options).await?;
                strata
                    .get("sources.x.key", &Lookup::secret())
                    .await
                    .map(|_| ())
            })
            .await;
            assert!(outcome.is_ok(), "{t:?} case {case}: no answer in 30 s");
            if let Ok(Err(e)) = outcome {
                for c in CANARIES {
                    assert!(!e.to_string().contains(c), "{t:?}: {e}");
                }
            }
        }
        assert!(
            hostile.seen().len() >= 40,
            "{t:?}: {} requests",
            hostile.seen().len()
        );
    }
}

/// Keys with control characters: `push` refuses to store one (naming it,
/// escaped), and `versions` shows those a vault already holds escaped, so
/// neither a file nor a server can rewrite the terminal.
#[test]
fn keys_with_control_characters_never_reach_a_terminal_raw() {
    use strata_secrets_test_servers::openbao::OpenBao;
    let bao = OpenBao::start();
    bao.reset_kv("secret");
    let mut p = Project::workspace();
    p.set_env("PROVIDERS__ENABLE_HASHICORP_VAULT", "true")
        .set_env("VAULT_ADDR", &bao.address())
        .set_env("VAULT_TOKEN", bao.root_token());
    for key in ["k\\u001b[2J", "a\\rb", "line\\nbreak", "bell\\u0007"] {
        p.write(".dlt/secrets.toml", &format!("[s]\n\"{key}\" = \"v\"\n"));
        let r = p.run(&["push", "--vault", "hashicorp", "--yes"]);
        assert_eq!(r.code(), 2, "{key}: {}", r.all());
        assert!(r.stderr().contains("control character"), "{}", r.stderr());
        assert!(
            !r.all().contains('\u{1b}') && !r.all().contains('\r'),
            "{:?}",
            r.all()
        );
    }
    let r = p.run(&["versions", "--vault", "hashicorp", "--json"]);
    assert_eq!(r.ok().json()["versions"], json!([]), "nothing was stored");
    // a document a server holds, with such keys: shown escaped
    bao.put(
        "secret",
        "dlt/dlt_secrets_toml",
        json!({"value": "[s]\n\"k\\u001b]0;owned\\u0007\" = 1\n\"x\\ry\" = 2\n"}),
    );
    std::fs::remove_file(p.path().join(".dlt/secrets.toml")).unwrap();
    let r = p.run(&["versions", "--vault", "hashicorp"]);
    let out = r.ok().stdout();
    assert!(
        !out.contains('\u{1b}') && !out.contains('\r') && !out.contains('\u{7}'),
        "{out:?}"
    );
    assert!(out.contains("\\u001B"), "{out}");
}

/// A login reply whose lease is the largest number JSON can carry: the
/// lease is range-checked, no arithmetic on it overflows (it once panicked,
/// exit 101).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_lease_is_range_checked() {
    let reply = json!({
        "request_id": "r", "lease_id": "", "renewable": false, "lease_duration": 0,
        "data": null, "warnings": null, "wrap_info": null,
        "auth": {"client_token": "hvs.issued", "accessor": "a", "policies": [], "token_policies": [],
                 "lease_duration": u64::MAX, "renewable": true, "entity_id": "", "token_type": "service", "orphan": true},
    });
    let hostile = HostileServer::start(Behavior::json(200, &reply)).await;
    let mut p = Project::workspace();
    let _aimed = aim(Target::VaultLogin, &mut p, &hostile).await;
    let r = run_async(&p, &["get", "sources.x.key"]).await;
    assert_ne!(r.code(), 101, "{}", r.all());
    assert!(!r.all().contains("panicked"), "{}", r.all());
    // it logged in, then asked with the token it was given
    let seen = hostile.seen();
    assert!(seen.len() >= 2, "{seen:?}");
    assert_eq!(seen[1].header("x-vault-token"), Some("hvs.issued"));
}

/// A push answered with a redirect to another host: the document (every
/// secret of the profile's files) never reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_is_never_redirected_elsewhere() {
    for status in [301, 302, 303, 307, 308] {
        let elsewhere = HostileServer::start(Behavior::json(200, &json!({"data": {}}))).await;
        let to = format!("{}/v1/secret/data/dlt/dlt_secrets_toml", elsewhere.url());
        let hostile = HostileServer::start(Behavior::Redirect { status, to }).await;
        let mut p = Project::workspace();
        let _aimed = aim(Target::VaultApi, &mut p, &hostile).await;
        p.write(
            ".dlt/secrets.toml",
            "[destination.pg.credentials]\npassword = \"canary-pushed-password\"\n",
        );
        let r = run_async(&p, &["push", "--vault", "hashicorp", "--yes"]).await;
        assert_eq!(r.code(), 2, "{status}: {}", r.all());
        assert!(
            elsewhere.seen().is_empty(),
            "{status}: the other host was asked"
        );
        assert!(
            hostile
                .seen()
                .iter()
                .all(|s| !String::from_utf8_lossy(&s.body).contains("canary")),
            "{status}: the document went to the redirecting server"
        );
        assert!(!r.all().contains("canary"), "{}", r.all());
    }
}
