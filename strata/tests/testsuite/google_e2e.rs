//! The `strata` binary bootstrapped from environment variables alone (and
//! from TOML), against the local Secret Manager: get, explain, check, push.

use crate::common::{Project, google_env, run_async};
use serde_json::json;
use strata_secrets_test_servers::google::LocalSecretManager;

const DOC: &str = "[sources.pipedrive]\napi_key = \"canary-from-vault\"\n[destination.bigquery.credentials]\nproject_id = \"bq\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_from_environment_variables_alone() {
    let server = LocalSecretManager::start().await;
    server.put("dlt_secrets_toml", DOC.as_bytes());
    let mut p = Project::workspace();
    google_env(&mut p, &server);
    let r = run_async(&p, &["get", "sources.pipedrive.api_key", "--json"]).await;
    assert_eq!(r.ok().json(), json!("canary-from-vault"));
    let r = run_async(&p, &["get", "destination.bigquery.credentials", "--json"]).await;
    assert_eq!(r.ok().json(), json!({"project_id": "bq"}));
    // only_secrets (the default): a configuration lookup does not reach the vault
    let r = run_async(
        &p,
        &["get", "sources.pipedrive.api_key", "--config", "--json"],
    )
    .await;
    assert_eq!(r.code(), 1, "{}", r.all());
    assert!(r.stderr().contains("only_secrets"), "{}", r.stderr());
    p.set_env("PROVIDERS__GOOGLE_SECRETS__ONLY_SECRETS", "false");
    let r = run_async(
        &p,
        &["get", "sources.pipedrive.api_key", "--config", "--json"],
    )
    .await;
    assert_eq!(r.ok().json(), json!("canary-from-vault"));
    p.env
        .retain(|(k, _)| k != "PROVIDERS__GOOGLE_SECRETS__ONLY_SECRETS");
    let r = run_async(&p, &["explain", "sources.pipedrive.api_key", "--config"]).await;
    assert_eq!(r.code(), 1, "{}", r.all());
    assert!(r.stdout().contains("only_secrets"), "{}", r.stdout());
    assert!(!r.all().contains("canary"), "{}", r.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_from_a_json_key_in_one_variable() {
    let server = LocalSecretManager::start().await;
    server.put(
        "sources-pipedrive",
        b"[sources.pipedrive]\napi_key = \"from-fragment\"\n",
    );
    let mut p = Project::workspace();
    p.set_env("PROVIDERS__ENABLE_GOOGLE_SECRETS", "true")
        .set_env("PROVIDERS__GOOGLE_SECRETS__ENDPOINT", &server.endpoint())
        .set_env(
            "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS",
            &server.account().json_key(&server.token_uri(), false),
        );
    let r = run_async(&p, &["get", "sources.pipedrive.api_key"]).await;
    assert_eq!(r.ok().stdout(), "from-fragment");
    // a private key with `\n` written as two characters works too
    let mut p = Project::workspace();
    google_env(&mut p, &server);
    let escaped = server.account().private_key_pem.replace('\n', "\\n");
    p.set_env(
        "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PRIVATE_KEY",
        &escaped,
    );
    let r = run_async(&p, &["get", "sources.pipedrive.api_key"]).await;
    assert_eq!(r.ok().stdout(), "from-fragment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_from_toml_and_explain_shows_vault_names() {
    let server = LocalSecretManager::start().await;
    server.put(
        "destination-bigquery",
        b"[destination.bigquery.credentials]\nproject_id = \"frag\"\n",
    );
    let p = Project::workspace();
    let a = server.account();
    p.write(
        ".dlt/secrets.toml",
        &format!(
            "[providers]\nenable_google_secrets = true\n[providers.google_secrets]\nlist_secrets = true\nendpoint = \"{}\"\n[providers.google_secrets.credentials]\nproject_id = \"{}\"\nclient_email = \"{}\"\nprivate_key = {}\ntoken_uri = \"{}\"\n",
            server.endpoint(),
            a.project_id,
            a.client_email,
            toml::Value::String(a.private_key_pem.clone()),
            server.token_uri()
        ),
    );
    let r = run_async(
        &p,
        &[
            "explain",
            "destination.bigquery.credentials.project_id",
            "--json",
        ],
    )
    .await;
    let j = r.ok().json();
    assert_eq!(j["provider"], json!("google_secrets"));
    assert_eq!(j["name"], json!("destination-bigquery"));
    let outcomes: Vec<String> = j["trace"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["provider"] == "google_secrets")
        .map(|e| {
            format!(
                "{} {}",
                e["name"].as_str().unwrap(),
                e["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        outcomes.contains(&"dlt_secrets_toml skipped: not listed".to_owned()),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&"destination-bigquery found".to_owned()),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&"destination skipped: not listed".to_owned()),
        "{outcomes:?}"
    );
    assert_eq!(server.count("list", ""), 1);
    assert_eq!(
        server.count("access", "destination"),
        0,
        "unlisted names are never fetched"
    );
    // the text form too
    let out = run_async(
        &p,
        &["explain", "destination.bigquery.credentials.project_id"],
    )
    .await
    .ok()
    .stdout();
    assert!(
        out.contains("google_secrets") && out.contains("skipped: not listed"),
        "{out}"
    );
    assert!(!out.contains("frag\""), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_dry_runs_each_vault() {
    let server = LocalSecretManager::start().await;
    server.put("dlt_secrets_toml", DOC.as_bytes());
    let mut p = Project::workspace();
    p.write(".gitignore", ".dlt/*secrets*.toml\n");
    google_env(&mut p, &server);
    let r = run_async(&p, &["check"]).await;
    assert_eq!(r.code(), 0, "{}", r.all());
    assert!(
        r.stdout().contains("ok [google_secrets]: reached"),
        "{}",
        r.stdout()
    );
    assert!(
        r.stdout().contains("`dlt_secrets_toml` found"),
        "{}",
        r.stdout()
    );
    p.set_env("PROVIDERS__GOOGLE_SECRETS__LIST_SECRETS", "true");
    let r = run_async(&p, &["check", "--json"]).await;
    assert_eq!(r.code(), 0, "{}", r.all());
    assert!(
        r.json()["vaults"][0]["message"]
            .as_str()
            .unwrap()
            .contains("listed 1 secret")
    );
    // wrong credentials: reported with what to fix, and no key material
    let stranger = strata_secrets_test_servers::google::TestServiceAccount::generate("strata-test");
    p.set_env(
        "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PRIVATE_KEY",
        &stranger.private_key_pem,
    );
    let r = run_async(&p, &["check"]).await;
    assert_eq!(r.code(), 1, "{}", r.all());
    assert!(r.stdout().contains("unauthenticated"), "{}", r.stdout());
    assert!(
        r.stdout().contains("providers.google_secrets.credentials"),
        "{}",
        r.stdout()
    );
    assert!(!r.all().contains("PRIVATE KEY"), "{}", r.all());
    // a key that is no key: the field is named, the text is not
    p.set_env(
        "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PRIVATE_KEY",
        "canary-not-a-key",
    );
    let r = run_async(&p, &["check"]).await;
    assert_eq!(r.code(), 1);
    assert!(
        r.stdout()
            .contains("providers.google_secrets.credentials.private_key"),
        "{}",
        r.stdout()
    );
    assert!(!r.all().contains("canary"), "{}", r.all());
    let r = run_async(&p, &["get", "sources.pipedrive.api_key"]).await;
    assert_eq!(r.code(), 2);
    assert!(!r.all().contains("canary"), "{}", r.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_stores_a_new_version_that_a_later_get_sees() {
    let server = LocalSecretManager::start().await;
    let mut p = Project::workspace();
    google_env(&mut p, &server);
    p.write(".dlt/prod.secrets.toml", "[sources.pipedrive]\napi_key = \"pushed-key\"\n[destination.pg.credentials]\npassword = \"pw\"\n");
    let r = run_async(&p, &["--profile", "prod", "push"]).await;
    assert!(
        r.ok().stdout().contains("stored version 1"),
        "{}",
        r.stdout()
    );
    assert!(
        r.stdout().contains("+ sources.pipedrive.api_key"),
        "{}",
        r.stdout()
    );
    assert!(!r.all().contains("pushed-key"), "{}", r.all());
    // the same files again: nothing changes, nothing is stored
    let r = run_async(&p, &["--profile", "prod", "push", "--json"]).await;
    assert_eq!(r.ok().json()["version"], json!(null));
    // a changed value is a new version, named by its key only
    p.write(".dlt/prod.secrets.toml", "[sources.pipedrive]\napi_key = \"pushed-key\"\n[destination.pg.credentials]\npassword = \"pw2\"\n");
    let r = run_async(
        &p,
        &["--profile", "prod", "push", "--vault", "google", "--json"],
    )
    .await;
    assert_eq!(r.ok().json()["version"], json!("2"));
    assert_eq!(
        r.json()["changed"],
        json!(["destination.pg.credentials.password"])
    );
    assert!(!r.all().contains("pw2"), "{}", r.all());
    // the files go away; the vault answers
    std::fs::remove_file(p.path().join(".dlt/prod.secrets.toml")).unwrap();
    let r = run_async(
        &p,
        &["--profile", "prod", "get", "sources.pipedrive.api_key"],
    )
    .await;
    assert_eq!(r.ok().stdout(), "pushed-key");
    // pipeline-scoped push
    p.write(".dlt/dev.secrets.toml", "[sources.x]\nk = \"scoped\"\n");
    let r = run_async(&p, &["push", "--pipeline", "my_pipe"]).await;
    assert!(
        r.ok().stdout().contains("my_pipe-dlt_secrets_toml"),
        "{}",
        r.stdout()
    );
    std::fs::remove_file(p.path().join(".dlt/dev.secrets.toml")).unwrap();
    let r = run_async(&p, &["get", "sources.x.k", "--pipeline", "my_pipe"]).await;
    assert_eq!(r.ok().stdout(), "scoped");
    // refused under access, and without a vault
    let r = run_async(&p, &["--profile", "access", "push"]).await;
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("read-only"), "{}", r.stderr());
    let q = Project::workspace();
    let r = run_async(&q, &["push"]).await;
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("no vault is enabled"), "{}", r.stderr());
}

#[test]
fn a_vault_switch_that_is_not_a_boolean_or_lacks_settings_is_an_error() {
    let mut p = Project::workspace();
    p.set_env("PROVIDERS__ENABLE_AZURE_KEY_VAULT", "true");
    let r = p.run(&["get", "x"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(
        r.stderr().contains("providers.azure_key_vault.vault_url"),
        "{}",
        r.stderr()
    );
    p.env.clear();
    p.set_env("PROVIDERS__ENABLE_GOOGLE_SECRETS", "maybe");
    let r = p.run(&["get", "x"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("providers.enable_google_secrets"),
        "{}",
        r.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_credentials_resolve_as_a_typed_configuration() {
    let server = LocalSecretManager::start().await;
    server.put("dlt_secrets_toml", DOC.as_bytes());
    let a = server.account();
    // fields from two places: the key in secrets.toml, the rest from env
    let mut p = Project::workspace();
    google_env(&mut p, &server);
    p.env
        .retain(|(k, _)| k != "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PRIVATE_KEY");
    p.write(
        ".dlt/secrets.toml",
        &format!(
            "[providers.google_secrets.credentials]\nprivate_key = {}\n",
            strata_secrets::Value::from(a.private_key_pem.as_str()).to_toml()
        ),
    );
    let r = run_async(&p, &["get", "sources.pipedrive.api_key"]).await;
    assert_eq!(r.ok().stdout(), "canary-from-vault");

    // set in part: every missing field is listed with where it was looked
    // up, and no key material is printed
    let mut p = Project::workspace();
    p.set_env("PROVIDERS__ENABLE_GOOGLE_SECRETS", "true")
        .set_env("PROVIDERS__GOOGLE_SECRETS__ENDPOINT", &server.endpoint())
        .set_env(
            "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PROJECT_ID",
            "canary-project",
        );
    let r = run_async(&p, &["get", "sources.pipedrive.api_key"]).await;
    assert_ne!(r.code(), 0, "{}", r.all());
    let err = r.stderr();
    for needle in [
        "missing value `providers.google_secrets.credentials.client_email`",
        "missing secret `providers.google_secrets.credentials.private_key`",
        "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PRIVATE_KEY",
        "`providers.google_secrets.credentials.project_id` from environment",
    ] {
        assert!(err.contains(needle), "{needle:?} not in:\n{err}");
    }
    assert!(!err.contains("canary-project"), "{err}");

    // a private key in config.toml is refused, naming the file, as dlt does
    let p = Project::workspace();
    p.write(
        ".dlt/config.toml",
        "[providers]\nenable_google_secrets = true\n[providers.google_secrets.credentials]\nprivate_key = \"canary-key\"\n",
    );
    let r = run_async(&p, &["get", "sources.pipedrive.api_key"]).await;
    assert_ne!(r.code(), 0, "{}", r.all());
    assert!(r.stderr().contains("config.toml"), "{}", r.stderr());
    assert!(
        r.stderr().contains("may not hold secrets"),
        "{}",
        r.stderr()
    );
    assert!(!r.all().contains("canary"), "{}", r.all());
}

#[derive(strata_secrets::Configuration)]
struct Warehouse {
    #[config(nested)]
    credentials: strata_secrets::credentials::ConnectionStringCredentials,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetch_single_values_is_an_option_of_the_vault() {
    let server = LocalSecretManager::start().await;
    server.put(
        "destination-warehouse-credentials",
        b"postgresql://loader:canary-pw@db.internal:5433/dwh",
    );
    let mut accesses = Vec::new();
    for prefetch in ["false", "true"] {
        let mut p = Project::workspace();
        google_env(&mut p, &server);
        p.set_env("PROVIDERS__GOOGLE_SECRETS__ONLY_TOML_FRAGMENTS", "false")
            .set_env(
                "PROVIDERS__GOOGLE_SECRETS__PREFETCH_SINGLE_VALUES",
                prefetch,
            );
        let env: Vec<(&str, &str)> = p
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let s = strata_secrets::Strata::open(p.options(&env)).await.unwrap();
        server.reset_counts();
        let w: Warehouse = s
            .resolve(&["destination", "warehouse"], None)
            .await
            .unwrap();
        assert_eq!(w.credentials.host, "db.internal");
        accesses.push(server.count_method("access"));
    }
    // off: dlt's four names (dlt_secrets_toml, two fragments, the native
    // value); on: the native value's other walk paths and the fields too
    assert_eq!(accesses[0], 4);
    assert!(accesses[1] > 4, "{accesses:?}");
    assert_eq!(
        server.count("access", "destination-credentials"),
        1,
        "the native value's second walk path is fetched ahead"
    );
}
