//! Hostile and broken vaults, through the `strata` binary: a hung token
//! endpoint, missing or malformed credentials, denied documents, proxies
//! that answer HTML, keys AWS does not know, and the versioned push.

use crate::common::{Project, aws_env, google_env, run_async};
use serde_json::json;
use strata_secrets_test_servers::aws_proxy::AwsFaultProxy;
use strata_secrets_test_servers::google::LocalSecretManager;
use strata_secrets_test_servers::moto::MotoServer;

/// In a vault workspace, export and exec hand on the vault's values, and
/// the bootstrap credentials only when asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_exec_carry_vault_values_and_keep_the_bootstrap_back() {
    let server = LocalSecretManager::start().await;
    server.put(
        "dlt_secrets_toml",
        b"[sources.crm]\ntoken = \"from-vault\"\n",
    );
    let a = server.account();
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        &format!(
            "[providers]\nenable_google_secrets = true\n[providers.google_secrets]\nendpoint = \"{}\"\n[providers.google_secrets.credentials]\nproject_id = \"{}\"\nclient_email = \"{}\"\ntoken_uri = \"{}\"\nprivate_key = {}\n",
            server.endpoint(),
            a.project_id,
            a.client_email,
            server.token_uri(),
            strata_secrets::Value::from(a.private_key_pem.as_str()).to_toml()
        ),
    );
    let r = run_async(&p, &["export", "--format", "json", "--reveal"]).await;
    let j = r.ok().json();
    assert_eq!(j["sources"]["crm"]["token"], json!("from-vault"));
    assert!(j.get("providers").is_none(), "{j}");
    let r = run_async(
        &p,
        &[
            "exec",
            "--",
            "sh",
            "-c",
            "printf '%s|%s' \"$SOURCES__CRM__TOKEN\" \"${PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PRIVATE_KEY:-none}\"",
        ],
    )
    .await;
    assert_eq!(r.ok().stdout(), "from-vault|none");
    let r = run_async(
        &p,
        &[
            "exec",
            "--with-bootstrap",
            "--",
            "sh",
            "-c",
            "printf %s \"$PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__CLIENT_EMAIL\"",
        ],
    )
    .await;
    assert_eq!(r.ok().stdout(), a.client_email);
}

/// A denied dlt_secrets_toml lets a fragment answer (dlt's policy), and
/// every command says so on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_document_warns_on_every_command() {
    let server = LocalSecretManager::start().await;
    server.put("dlt_secrets_toml", b"[sources.crm]\ntoken = \"newest\"\n");
    server.put("sources-crm", b"[sources.crm]\ntoken = \"older\"\n");
    server.forbid("dlt_secrets_toml");
    let mut p = Project::workspace();
    google_env(&mut p, &server);
    let r = run_async(&p, &["get", "sources.crm.token"]).await;
    assert_eq!(r.ok().stdout(), "older");
    assert!(r.stderr().contains("warning:"), "{}", r.stderr());
    assert!(r.stderr().contains("dlt_secrets_toml"), "{}", r.stderr());
    let r = run_async(&p, &["explain", "sources.crm.token"]).await;
    assert!(r.ok().stderr().contains("warning:"), "{}", r.stderr());
}

/// A token endpoint that never answers: every step has a timeout, the
/// lookup a deadline, and check says which step hung.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_token_endpoint_fails_in_time_naming_the_step() {
    let server = LocalSecretManager::start().await;
    server.set_latency(std::time::Duration::from_secs(30));
    let mut p = Project::workspace();
    google_env(&mut p, &server);
    p.set_env("PROVIDERS__GOOGLE_SECRETS__TIMEOUT", "0.3")
        .set_env("PROVIDERS__GOOGLE_SECRETS__DEADLINE", "1.5");
    let started = std::time::Instant::now();
    let r = run_async(&p, &["check"]).await;
    assert_eq!(r.code(), 1, "{}", r.all());
    assert!(r.stdout().contains("token request"), "{}", r.stdout());
    let r = run_async(&p, &["get", "x.y"]).await;
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
}

/// No credentials at all: a quick error that says what to set.
#[test]
fn missing_google_credentials_say_what_to_set() {
    let mut p = Project::workspace();
    p.set_env("PROVIDERS__ENABLE_GOOGLE_SECRETS", "true")
        .set_env("PROVIDERS__GOOGLE_SECRETS__PROJECT_ID", "p")
        .set_env("PROVIDERS__GOOGLE_SECRETS__DEADLINE", "5");
    let r = p.run(&["get", "x.y"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    let err = r.stderr();
    assert!(
        err.contains("PROVIDERS__GOOGLE_SECRETS__CREDENTIALS"),
        "{err}"
    );
    assert!(err.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{err}");
}

/// Bootstrap fields are validated: an error naming the key, not a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_uri_that_is_not_a_url_is_an_error_naming_it() {
    let server = LocalSecretManager::start().await;
    let mut p = Project::workspace();
    google_env(&mut p, &server);
    p.set_env(
        "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__TOKEN_URI",
        "not a url",
    );
    let r = run_async(&p, &["get", "x.y"]).await;
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("token_uri"), "{}", r.stderr());
    assert!(!r.stderr().contains("panicked"), "{}", r.stderr());
}

/// The versioned sync: nothing to push, names that do not map one to one,
/// personal global files, removals without --yes, dry runs, versions and
/// reading an old version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_is_a_versioned_sync() {
    let server = LocalSecretManager::start().await;
    let mut p = Project::workspace();
    google_env(&mut p, &server);
    // nothing to push
    let r = run_async(&p, &["--profile", "prod", "push"]).await;
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("nothing to push"), "{}", r.stderr());
    // the global directory's personal secrets never leave the machine
    p.write(
        "global/secrets.toml",
        "[personal]\ntoken = \"canary-personal\"\n",
    );
    p.write(
        ".dlt/prod.secrets.toml",
        "[sources.a]\nk = \"one\"\nold = \"x\"\n",
    );
    let r = run_async(&p, &["--profile", "prod", "push", "--json"]).await;
    let j = r.ok().json();
    assert_eq!(j["added"], json!(["sources.a.k", "sources.a.old"]), "{j}");
    assert!(!r.all().contains("canary"), "{}", r.all());
    // removing a key needs --yes; a dry run stores nothing
    p.write(".dlt/prod.secrets.toml", "[sources.a]\nk = \"two\"\n");
    let r = run_async(&p, &["--profile", "prod", "push"]).await;
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stdout().contains("- sources.a.old"), "{}", r.stdout());
    assert!(r.stderr().contains("--yes"), "{}", r.stderr());
    let r = run_async(&p, &["--profile", "prod", "push", "--dry-run", "--json"]).await;
    assert_eq!(r.ok().json()["version"], json!(null));
    let r = run_async(&p, &["--profile", "prod", "push", "--yes", "--json"]).await;
    let j = r.ok().json();
    assert_eq!(j["version"], json!("2"), "{j}");
    assert_eq!(j["removed"], json!(["sources.a.old"]));
    assert_eq!(j["changed"], json!(["sources.a.k"]));
    // versions, with their keys and no value
    let r = run_async(&p, &["versions", "--json"]).await;
    let j = r.ok().json();
    assert_eq!(j["versions"].as_array().unwrap().len(), 2, "{j}");
    assert_eq!(
        j["versions"][0]["keys"],
        json!(["sources.a.k", "sources.a.old"])
    );
    assert!(!r.all().contains("one"), "{}", r.all());
    let r = run_async(&p, &["get", "sources.a.k", "--vault-version", "1"]).await;
    assert_eq!(r.ok().stdout(), "one");
    // a pipeline name a vault name would change is refused
    let r = run_async(&p, &["--profile", "prod", "push", "--pipeline", "my pipe"]).await;
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("my pipe"), "{}", r.stderr());
    // an unknown vault is named as such
    let r = run_async(&p, &["--profile", "prod", "push", "--vault", "bogus"]).await;
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(
        r.stderr().contains("unknown vault `bogus`"),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("google"), "{}", r.stderr());
}

/// moto behind the proxy, and a project bootstrapped for it.
fn aws(p: &mut Project) -> (MotoServer, tokio::runtime::Runtime, AwsFaultProxy) {
    let servers = aws_env(p);
    p.set_env("PROVIDERS__AWS_SECRETS__ONLY_TOML_FRAGMENTS", "false")
        .set_env("PROVIDERS__AWS_SECRETS__DEADLINE", "2");
    servers
}

/// AWS errors speak the user's terms: no SDK Debug dump, no colours, no
/// empty message, and what is really wrong instead of a grant to give.
#[test]
fn aws_errors_say_what_failed_and_what_to_set() {
    let mut p = Project::workspace();
    let (_moto, _rt, proxy) = aws(&mut p);
    // a proxy's HTML page
    proxy.answer_html(Some(502));
    let r = p.run(&["get", "sources.a.k"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    let err = r.stderr();
    assert!(err.contains("HTTP 502"), "{err}");
    assert!(!err.contains("failed: :"), "{err}");
    for bad in ["DispatchFailure", "ConnectorError", "\u{1b}[", "Debug"] {
        assert!(!err.contains(bad), "{bad}: {err}");
    }
    proxy.answer_html(None);
    // an access key AWS does not know: nothing, with a warning about the
    // credentials (as dlt treats it), never a grant to give
    proxy.fail_secret(
        "dlt/dlt_secrets_toml",
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    );
    let r = p.run(&["get", "sources.a.k"]);
    assert_eq!(r.code(), 1, "{}", r.all());
    assert!(r.stderr().contains("not recognized"), "{}", r.stderr());
    assert!(
        !r.stderr().contains("grant secretsmanager"),
        "{}",
        r.stderr()
    );
    // a secret scheduled for deletion says so
    proxy.fail_secret(
        "dlt/sources",
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    );
    let r = p.run(&["get", "sources.a.k"]);
    assert!(
        r.stderr().contains("scheduled for deletion"),
        "{}",
        r.stderr()
    );
    // a name over AWS's 512 characters: an error before any request
    let before = proxy.count("GetSecretValue");
    let long = format!("sources.{}", "k".repeat(600));
    let r = p.run(&["get", &long]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(
        r.stderr().contains("over its limit of 512"),
        "{}",
        r.stderr()
    );
    assert_eq!(proxy.count("GetSecretValue"), before);
    // a timeout no Duration can hold
    p.set_env("PROVIDERS__AWS_SECRETS__TIMEOUT", "1e20");
    let r = p.run(&["get", "sources.a.k"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(
        r.stderr().contains("providers.aws_secrets.timeout"),
        "{}",
        r.stderr()
    );
}

/// At every log level, no credential reaches the output: the SDK's own
/// logs (which print the session token at trace) are never written.
#[test]
fn no_credential_in_any_output_at_trace() {
    let mut p = Project::workspace();
    let (_moto, _rt, _proxy) = aws(&mut p);
    p.set_env("STRATA_LOG", "trace");
    p.write(".dlt/prod.secrets.toml", "[sources.a]\nk = \"v\"\n");
    for args in [
        vec!["get", "sources.a.k"],
        vec!["explain", "sources.a.k"],
        vec!["check"],
        vec!["export"],
        vec!["--profile", "prod", "push"],
        vec!["versions"],
    ] {
        let r = p.run(&args);
        let all = r.all();
        assert!(!all.contains("canary"), "{args:?}: {all}");
        assert!(!all.contains("x-amz-security-token"), "{args:?}: {all}");
    }
}

/// The documented default timeout (10 s) applies with no setting: a
/// vault that never answers fails the try in time, not at the deadline.
#[test]
fn the_default_aws_timeout_is_applied() {
    let mut p = Project::workspace();
    let (_moto, _rt, proxy) = aws(&mut p);
    proxy.set_latency(std::time::Duration::from_secs(120));
    p.set_env("PROVIDERS__AWS_SECRETS__DEADLINE", "11");
    let r = p.run(&["get", "sources.a.k"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("in time"), "{}", r.stderr());
    assert!(
        !r.stderr().contains("before the deadline"),
        "{}",
        r.stderr()
    );
}

/// A vault's trace names what it asked, what answered and what it skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_traces_say_what_was_asked_and_skipped() {
    let server = LocalSecretManager::start().await;
    server.put("dlt_secrets_toml", b"[sources.crm]\ntoken = \"t\"\n");
    let mut p = Project::workspace();
    google_env(&mut p, &server);
    let r = run_async(&p, &["explain", "sources.crm.token", "--json"]).await;
    let j = r.ok().json();
    let trace = j["trace"].as_array().unwrap();
    let vault: Vec<(String, String)> = trace
        .iter()
        .filter(|e| e["provider"] == json!("google_secrets"))
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        vault,
        [("dlt_secrets_toml".to_owned(), "found".to_owned())],
        "{j}"
    );
    assert_eq!(j["name"], json!("dlt_secrets_toml"));
    // with only_toml_fragments (the default) the single value is skipped,
    // and says why
    let r = run_async(&p, &["explain", "sources.crm.other", "--json"]).await;
    let j = r.json();
    let single = j["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == json!("sources-crm-other"))
        .cloned()
        .unwrap_or_default();
    assert!(
        single["outcome"]
            .as_str()
            .unwrap_or_default()
            .contains("only_toml_fragments"),
        "{j}"
    );
}
