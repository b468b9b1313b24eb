//! The conformance suite against a real OpenBao dev server (the same HTTP
//! API as HashiCorp Vault) through `vaultrs`: denials come from real
//! policies and refused tokens from the server itself; throttling, server
//! errors, dropped connections and hangs from a fault proxy in front of it.
//! Then what only this backend does: native KV maps read as tables, AppRole,
//! JWT and Kubernetes-shaped logins, token renewal, a token file read again
//! after its token was revoked, check-and-set, KV versions, TLS with a CA
//! file, namespaces.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use strata_secrets_conformance::{
    CaseResult, Fault, ServerFaults, Suite, VaultHarness, VaultSetup,
};
use strata_secrets_core::vault::{
    Descriptor, Fetched, VaultBackend, VaultOptions, VaultProvider, kit,
};
use strata_secrets_core::{Environment, ErrorKind, Path, ProviderExt, Table, Value};
use strata_secrets_hashicorp::HashicorpBackend;
use strata_secrets_test_servers::fault_proxy::FaultProxy;
use strata_secrets_test_servers::openbao::OpenBao;

/// One server for the whole binary: every case resets the KV mount.
fn bao() -> &'static OpenBao {
    static BAO: OnceLock<OpenBao> = OnceLock::new();
    BAO.get_or_init(OpenBao::start)
}

/// Settings as a table.
fn settings(pairs: &[(&str, Value)]) -> Table {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

async fn backend(table: &Table) -> HashicorpBackend {
    kit::connect_with::<HashicorpBackend>(table, &Environment::default())
        .await
        .unwrap()
}

/// The KV path of a suite name (`secret/data/dlt/x` -> `dlt/x`).
fn kv_path(name: &str) -> &str {
    name.strip_prefix("secret/data/").unwrap_or(name)
}

/// A policy that reads and lists everything under the mount and writes
/// it, except `denied` paths (and listing, when `list` is false).
fn policy(denied: &[String], list: bool) -> String {
    let mut hcl = String::from(
        "path \"secret/data/*\" { capabilities = [\"create\", \"read\", \"update\"] }\n",
    );
    let meta = if list {
        "\"read\", \"list\""
    } else {
        "\"read\""
    };
    hcl.push_str(&format!(
        "path \"secret/metadata/*\" {{ capabilities = [{meta}] }}\n"
    ));
    if list {
        hcl.push_str("path \"secret/metadata/\" { capabilities = [\"list\"] }\n");
    }
    for name in denied {
        hcl.push_str(&format!(
            "path \"{name}\" {{ capabilities = [\"deny\"] }}\n"
        ));
    }
    hcl
}

struct BaoHarness {
    proxies: Mutex<Vec<FaultProxy>>,
}

#[strata_secrets_core::async_trait]
impl VaultHarness for BaoHarness {
    fn descriptor(&self) -> &'static Descriptor {
        &strata_secrets_hashicorp::DESCRIPTOR
    }

    fn server(&self) -> ServerFaults {
        ServerFaults {
            forbid: true,
            forbid_list: true,
            faults: Fault::ALL.to_vec(),
            fail_next: true,
        }
    }

    fn serial(&self) -> bool {
        true
    }

    async fn make(&self, setup: &VaultSetup) -> Arc<dyn VaultBackend> {
        let bao = bao();
        bao.reset_kv("secret");
        for (name, bytes) in &setup.secrets {
            let text = String::from_utf8(bytes.clone()).expect("KV holds text only");
            bao.put("secret", kv_path(name), json!({ "value": text }));
        }
        bao.policy("strata-case", &policy(&setup.forbidden, !setup.forbid_list));
        let token = match setup.fault {
            Some(Fault::Unauthenticated) => "not-a-valid-token".to_owned(),
            _ => bao.token(&["strata-case"], "1h"),
        };
        let proxy = FaultProxy::start(&bao.host_port()).await;
        proxy.fail_next(setup.fail_next, 503);
        let mut table = settings(&[
            ("url", Value::from(proxy.endpoint())),
            ("token", Value::from(token)),
        ]);
        match setup.fault {
            Some(Fault::RateLimited) => proxy.fail_always(Some(429)),
            Some(Fault::Unavailable) => proxy.fail_always(Some(500)),
            Some(Fault::Timeout) => {
                proxy.set_latency(Duration::from_secs(3));
                table.insert("timeout".into(), Value::Float(0.2));
            }
            Some(Fault::Unauthenticated) | None => {}
        }
        let backend = backend(&table).await;
        self.proxies.lock().unwrap().push(proxy);
        Arc::new(backend)
    }
}

fn check(ok: bool, what: impl Into<String>) -> CaseResult {
    if ok { Ok(()) } else { Err(what.into()) }
}

fn root_backend_table(url: &str) -> Table {
    settings(&[
        ("url", Value::from(url)),
        ("token", Value::from(bao().root_token())),
    ])
}

async fn provider(table: &Table) -> VaultProvider {
    let options = VaultOptions {
        only_toml_fragments: false,
        ..VaultOptions::default()
    };
    VaultProvider::of(Arc::new(backend(table).await), options)
}

async fn get(p: &VaultProvider, path: &str) -> Result<Option<Value>, strata_secrets_core::Error> {
    let path = Path::parse(path).unwrap();
    match p.get(&path, true).await? {
        strata_secrets_core::Answer::Found(f) => Ok(Some(f.value)),
        _ => Ok(None),
    }
}

/// `bao kv put secret/dlt/sources/pipedrive api_key=...` answers
/// `sources.pipedrive.api_key`; nested JSON objects are tables; one field
/// `value` is text (a TOML fragment there is read as one).
async fn native_maps_are_tables() -> CaseResult {
    let bao = bao();
    bao.reset_kv("secret");
    bao.put(
        "secret",
        "dlt/sources/pipedrive",
        json!({"api_key": "pd-key", "limits": {"per_page": 50, "tags": ["a", "b"]}}),
    );
    bao.put(
        "secret",
        "dlt/destination/postgres/credentials/password",
        json!({"value": "pg-pass"}),
    );
    bao.put(
        "secret",
        "dlt/dlt_secrets_toml",
        json!({"value": "[sources.other]\ntoken = \"from-toml\"\n"}),
    );
    let p = provider(&root_backend_table(&bao.address())).await;
    check(
        get(&p, "sources.pipedrive.api_key").await.unwrap() == Some(Value::from("pd-key")),
        "a field of a native map answers its path",
    )?;
    check(
        get(&p, "sources.pipedrive.limits.per_page").await.unwrap() == Some(Value::Integer(50)),
        "nested objects are tables with typed values",
    )?;
    check(
        get(&p, "destination.postgres.credentials.password")
            .await
            .unwrap()
            == Some(Value::from("pg-pass")),
        "one field `value` is the text",
    )?;
    check(
        get(&p, "sources.other.token").await.unwrap() == Some(Value::from("from-toml")),
        "dlt_secrets_toml is a TOML document in `value`",
    )?;
    // a field that is not there is missing, not an error
    check(
        get(&p, "sources.pipedrive.nope").await.unwrap().is_none(),
        "a missing field of a map is missing",
    )
}

/// A read the policy denies is nothing plus a warning naming the
/// capability and the path; a refused token is an authentication error.
async fn denied_and_refused_are_told_apart() -> CaseResult {
    let bao = bao();
    bao.reset_kv("secret");
    bao.put("secret", "dlt/sources/a/key", json!({"value": "a"}));
    bao.policy(
        "strata-deny",
        &policy(&["secret/data/dlt/sources/a/key".to_owned()], true),
    );
    let token = bao.token(&["strata-deny"], "1h");
    let b = backend(&settings(&[
        ("url", Value::from(bao.address())),
        ("token", Value::from(token.clone())),
    ]))
    .await;
    let e = b.fetch("secret/data/dlt/sources/a/key").await.unwrap_err();
    check(
        e.kind() == ErrorKind::PermissionDenied
            && e.to_string().contains("\"read\"")
            && e.to_string().contains("secret/data/dlt/sources/a/key"),
        format!("denied names the capability and the path: {e}"),
    )?;
    bao.revoke(&token);
    let e = b.fetch("secret/data/dlt/sources/a/key").await.unwrap_err();
    check(
        e.kind() == ErrorKind::Unauthenticated && e.to_string().contains("token was refused"),
        format!("a revoked token is refused: {e}"),
    )?;
    check(
        !e.to_string().contains(&token),
        "the token is never printed",
    )
}

/// AppRole logs in once, renews its short lease before it runs out, and
/// keeps reading for longer than one lease.
async fn approle_logs_in_once_and_renews() -> CaseResult {
    let bao = bao();
    bao.reset_kv("secret");
    bao.put("secret", "dlt/sources/a/key", json!({"value": "a"}));
    bao.policy("strata-read", &policy(&[], true));
    let (role_id, secret_id) = bao.approle("strata-renew", &["strata-read"], "6s");
    let proxy = FaultProxy::start(&bao.host_port()).await;
    let b = backend(&settings(&[
        ("url", Value::from(proxy.endpoint())),
        ("auth", Value::from("approle")),
        ("role_id", Value::from(role_id)),
        ("secret_id", Value::from(secret_id.clone())),
    ]))
    .await;
    // 6 s leases renewed at 4 s: a call every half second leaves two
    // seconds of slack before a lease could run out
    for _ in 0..22 {
        let got = b.fetch("secret/data/dlt/sources/a/key").await;
        check(
            matches!(&got, Ok(Fetched::Found(t)) if t.expose_secret() == "a"),
            format!("reads across leases: {got:?}"),
        )?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let logins = proxy.count("POST /v1/auth/approle/login");
    let renewals = proxy.count("POST /v1/auth/token/renew-self");
    check(
        logins == 1,
        format!("one login for 11 s of 6 s leases, got {logins}"),
    )?;
    check(
        renewals >= 2,
        format!("the lease was renewed, got {renewals}"),
    )?;
    check(
        !format!("{b:?}").contains(&secret_id),
        "Debug shows no secret id",
    )
}

/// A token file whose token was revoked is read again once (as after a
/// new `bao login`); a wrong AppRole secret id is an authentication error
/// naming what to check.
async fn a_refused_token_is_read_again_once() -> CaseResult {
    let bao = bao();
    bao.reset_kv("secret");
    bao.put("secret", "dlt/sources/a/key", json!({"value": "a"}));
    bao.policy("strata-read", &policy(&[], true));
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join(".vault-token");
    let first = bao.token(&["strata-read"], "1h");
    std::fs::write(&file, format!("{first}\n")).unwrap();
    let env = Environment::from_pairs([
        ("VAULT_ADDR", bao.address()),
        ("HOME", home.path().display().to_string()),
    ]);
    let b = kit::connect_with::<HashicorpBackend>(&Table::default(), &env)
        .await
        .unwrap();
    check(
        matches!(
            b.fetch("secret/data/dlt/sources/a/key").await,
            Ok(Fetched::Found(_))
        ),
        "reads with the file's token",
    )?;
    bao.revoke(&first);
    std::fs::write(&file, bao.token(&["strata-read"], "1h")).unwrap();
    check(
        matches!(
            b.fetch("secret/data/dlt/sources/a/key").await,
            Ok(Fetched::Found(_))
        ),
        "reads again with the new token in the file",
    )?;
    // once: a file whose new token is refused too is an error, not a loop
    let second = std::fs::read_to_string(&file).unwrap();
    bao.revoke(second.trim());
    std::fs::write(&file, "s.not-a-token").unwrap();
    let e = b.fetch("secret/data/dlt/sources/a/key").await.unwrap_err();
    check(
        e.kind() == ErrorKind::Unauthenticated && e.to_string().contains("log in again"),
        format!("a refused token after a read of the file: {e}"),
    )?;
    let (role_id, _) = bao.approle("strata-wrong", &["strata-read"], "1m");
    let b = backend(&settings(&[
        ("url", Value::from(bao.address())),
        ("auth", Value::from("approle")),
        ("role_id", Value::from(role_id)),
        ("secret_id", Value::from("wrong-secret-id")),
    ]))
    .await;
    let e = b.fetch("secret/data/dlt/sources/a/key").await.unwrap_err();
    check(
        e.kind() == ErrorKind::Unauthenticated
            && e.to_string().contains("role_id and secret_id")
            && !e.to_string().contains("wrong-secret-id"),
        format!("a refused login says what to check: {e}"),
    )
}

/// JWT login with a signed token given inline, and the Kubernetes login
/// (same request shape: role and jwt) with the token read from a file.
async fn jwt_and_kubernetes_logins() -> CaseResult {
    let bao = bao();
    bao.reset_kv("secret");
    bao.put("secret", "dlt/sources/a/key", json!({"value": "a"}));
    bao.policy("strata-read", &policy(&[], true));
    let issuer = bao.jwt("jwt", "pipeline", &["strata-read"]);
    let b = backend(&settings(&[
        ("url", Value::from(bao.address())),
        ("auth", Value::from("jwt")),
        ("role", Value::from("pipeline")),
        ("jwt", Value::from(issuer.sign("pipeline-1"))),
    ]))
    .await;
    let got = b.fetch("secret/data/dlt/sources/a/key").await;
    check(
        matches!(&got, Ok(Fetched::Found(_))),
        format!("JWT login reads: {got:?}"),
    )?;
    let dir = tempfile::tempdir().unwrap();
    let jwt_file = dir.path().join("token");
    std::fs::write(&jwt_file, issuer.sign("pod-1")).unwrap();
    let b = backend(&settings(&[
        ("url", Value::from(bao.address())),
        ("auth", Value::from("kubernetes")),
        ("auth_mount", Value::from("jwt")),
        ("role", Value::from("pipeline")),
        ("jwt_path", Value::from(jwt_file.display().to_string())),
    ]))
    .await;
    let got = b.fetch("secret/data/dlt/sources/a/key").await;
    check(
        matches!(&got, Ok(Fetched::Found(_))),
        format!("Kubernetes-shaped login with the token file reads: {got:?}"),
    )?;
    let b = backend(&settings(&[
        ("url", Value::from(bao.address())),
        ("auth", Value::from("jwt")),
        ("role", Value::from("pipeline")),
        ("jwt", Value::from("e30.e30.forged")),
    ]))
    .await;
    let e = b.fetch("secret/data/dlt/sources/a/key").await.unwrap_err();
    check(
        e.kind() == ErrorKind::Unauthenticated && !e.to_string().contains("forged"),
        format!("a forged JWT is refused without printing it: {e}"),
    )
}

/// Writes are KV versions; a check-and-set write on a stale version is
/// refused by the server; deleted and destroyed versions say so.
async fn versions_and_check_and_set() -> CaseResult {
    let bao = bao();
    bao.reset_kv("secret");
    let b = backend(&root_backend_table(&bao.address())).await;
    let name = "secret/data/dlt/dlt_secrets_toml";
    let v1 = b
        .store_after(name, &SecretString::from("a = 1"), None)
        .await
        .unwrap();
    check(v1 == "1", format!("first version is 1, got {v1}"))?;
    let e = b
        .store_after(name, &SecretString::from("a = 2"), None)
        .await
        .unwrap_err();
    check(
        e.to_string().contains("check-and-set"),
        format!("a create over an existing secret is refused: {e}"),
    )?;
    let v2 = b
        .store_after(name, &SecretString::from("a = 2"), Some("1"))
        .await
        .unwrap();
    check(v2 == "2", "second version")?;
    let e = b
        .store_after(name, &SecretString::from("a = 3"), Some("1"))
        .await
        .unwrap_err();
    check(
        e.to_string().contains("check-and-set") && !e.to_string().contains("a = 3"),
        format!("a stale base is refused, without the value: {e}"),
    )?;
    bao.root(
        "POST",
        "/v1/secret/delete/dlt/dlt_secrets_toml",
        Some(json!({"versions": [1]})),
    );
    let versions = b.versions(name).await.unwrap();
    let states: Vec<(&str, &str)> = versions
        .iter()
        .map(|v| (v.id.as_str(), v.state.as_str()))
        .collect();
    check(
        states == [("1", "deleted"), ("2", "enabled")],
        format!("versions in order with their states: {states:?}"),
    )?;
    check(
        matches!(b.fetch_version(name, "1").await, Ok(Fetched::NotFound)),
        "a deleted version reads as nothing",
    )?;
    check(
        matches!(b.fetch_version(name, "2").await, Ok(Fetched::Found(t)) if t.expose_secret() == "a = 2"),
        "version 2 reads",
    )?;
    check(
        b.versions("secret/data/dlt/none").await.unwrap().is_empty(),
        "no versions of a missing secret",
    )
}

/// A missing mount is a configuration error naming the setting, not
/// "not found".
async fn a_missing_mount_is_a_configuration_error() -> CaseResult {
    let bao = bao();
    let mut t = root_backend_table(&bao.address());
    t.insert("mount".into(), Value::from("nowhere"));
    let b = backend(&t).await;
    let e = b
        .fetch("nowhere/data/dlt/dlt_secrets_toml")
        .await
        .unwrap_err();
    check(
        e.kind() == ErrorKind::ConfigInvalid && e.to_string().contains("mount"),
        format!("{e}"),
    )
}

/// Over TLS, the `ca_cert` file makes the server trusted; without it the
/// error says the server could not be reached.
async fn tls_with_a_ca_file() -> CaseResult {
    let tls = OpenBao::start_tls();
    let put = tls
        .cli(&["kv", "put", "secret/dlt/sources/a", "key=over-tls"])
        .unwrap();
    check(
        put.status.success(),
        format!("bao kv put: {}", String::from_utf8_lossy(&put.stderr)),
    )?;
    let mut t = settings(&[
        ("url", Value::from(tls.address())),
        ("token", Value::from(tls.root_token())),
    ]);
    let untrusted = backend(&t).await;
    let e = untrusted
        .fetch("secret/data/dlt/sources/a")
        .await
        .unwrap_err();
    // a TLS failure is permanent: it fails at once, naming the certificate
    check(
        e.kind() == ErrorKind::ConfigInvalid
            && !e.is_temporary()
            && e.to_string().contains("certificate"),
        format!("an untrusted certificate: {e}"),
    )?;
    t.insert(
        "ca_cert".into(),
        Value::from(tls.ca_cert().unwrap().display().to_string()),
    );
    let trusted = provider(&t).await;
    check(
        get(&trusted, "sources.a.key").await.unwrap() == Some(Value::from("over-tls")),
        "read over TLS with the CA file",
    )?;
    t.insert("ca_cert".into(), Value::from("/nonexistent/ca.pem"));
    let e = kit::connect_with::<HashicorpBackend>(&t, &Environment::default())
        .await
        .unwrap_err();
    check(
        e.kind() == ErrorKind::ConfigInvalid && e.to_string().contains("ca_cert"),
        format!("a missing CA file names the setting: {e}"),
    )
}

/// A namespace (OpenBao namespaces, as Vault Enterprise's) holds its own
/// mount: the backend reads there with `namespace` set.
async fn namespaces() -> CaseResult {
    let bao = bao();
    let _ = bao.api(
        "POST",
        "/v1/sys/namespaces/team",
        Some(bao.root_token()),
        Some(&json!({})),
    );
    let (status, _) = bao
        .api(
            "POST",
            "/v1/team/sys/mounts/kv",
            Some(bao.root_token()),
            Some(&json!({"type": "kv", "options": {"version": "2"}})),
        )
        .unwrap();
    check(
        status < 300 || status == 400,
        format!("mount in the namespace: {status}"),
    )?;
    let (status, _) = bao
        .api(
            "POST",
            "/v1/team/kv/data/dlt/sources/a",
            Some(bao.root_token()),
            Some(&json!({"data": {"key": "in-team"}})),
        )
        .unwrap();
    check(status < 300, format!("write in the namespace: {status}"))?;
    let mut t = root_backend_table(&bao.address());
    t.insert("namespace".into(), Value::from("team"));
    t.insert("mount".into(), Value::from("kv"));
    let p = provider(&t).await;
    check(
        get(&p, "sources.a.key").await.unwrap() == Some(Value::from("in-team")),
        "read in the namespace",
    )
}

/// Listing walks one `LIST` per folder, a level at a time, and returns
/// every secret under the prefix (and nothing outside it).
async fn listing_walks_one_list_per_folder() -> CaseResult {
    let bao = bao();
    bao.reset_kv("secret");
    for f in ["host", "password"] {
        bao.put(
            "secret",
            &format!("dlt/destination/bigquery/credentials/{f}"),
            json!({"value": f}),
        );
    }
    bao.put("secret", "dlt/dlt_secrets_toml", json!({"value": ""}));
    bao.put("secret", "elsewhere/x", json!({"value": "x"}));
    let proxy = FaultProxy::start(&bao.host_port()).await;
    let b = backend(&root_backend_table(&proxy.endpoint())).await;
    let mut names = b.list().await.map_err(|e| e.to_string())?;
    names.sort();
    check(
        names
            == [
                "secret/data/dlt/destination/bigquery/credentials/host",
                "secret/data/dlt/destination/bigquery/credentials/password",
                "secret/data/dlt/dlt_secrets_toml",
            ],
        format!("listed {names:?}"),
    )?;
    let lists = proxy.count("LIST /v1/secret/metadata/") + proxy.count("GET /v1/secret/metadata/");
    check(lists == 4, format!("4 folders, {lists} listings"))
}

/// A dropped connection is a passing failure: the backend says so, and the
/// engine's retry reads the value on the next try.
async fn a_dropped_connection_is_retried() -> CaseResult {
    let bao = bao();
    bao.reset_kv("secret");
    bao.put("secret", "dlt/sources/a/key", json!({"value": "a"}));
    let proxy = FaultProxy::start(&bao.host_port()).await;
    let table = root_backend_table(&proxy.endpoint());
    proxy.drop_next(1);
    let e = backend(&table)
        .await
        .fetch("secret/data/dlt/sources/a/key")
        .await
        .unwrap_err();
    check(
        e.kind() == ErrorKind::Unavailable && e.is_temporary(),
        format!("a dropped connection is temporary: {e}"),
    )?;
    proxy.drop_next(2);
    let p = provider(&table).await;
    check(
        get(&p, "sources.a.key").await.map_err(|e| e.to_string())? == Some(Value::from("a")),
        "the engine retried past two dropped connections",
    )
}

fn main() -> std::process::ExitCode {
    // start the server before the cases, so a missing binary fails loudly
    let _ = bao();
    Suite::new()
        .vault(BaoHarness {
            proxies: Mutex::new(Vec::new()),
        })
        .test(
            "hashicorp_vault::native_maps_are_tables",
            native_maps_are_tables,
        )
        .test(
            "hashicorp_vault::denied_and_refused_are_told_apart",
            denied_and_refused_are_told_apart,
        )
        .test(
            "hashicorp_vault::approle_logs_in_once_and_renews",
            approle_logs_in_once_and_renews,
        )
        .test(
            "hashicorp_vault::a_refused_token_is_read_again_once",
            a_refused_token_is_read_again_once,
        )
        .test(
            "hashicorp_vault::jwt_and_kubernetes_logins",
            jwt_and_kubernetes_logins,
        )
        .test(
            "hashicorp_vault::versions_and_check_and_set",
            versions_and_check_and_set,
        )
        .test(
            "hashicorp_vault::a_missing_mount_is_a_configuration_error",
            a_missing_mount_is_a_configuration_error,
        )
        .test("hashicorp_vault::tls_with_a_ca_file", tls_with_a_ca_file)
        .test("hashicorp_vault::namespaces", namespaces)
        .test(
            "hashicorp_vault::listing_walks_one_list_per_folder",
            listing_walks_one_list_per_folder,
        )
        .test(
            "hashicorp_vault::a_dropped_connection_is_retried",
            a_dropped_connection_is_retried,
        )
        .run()
}
