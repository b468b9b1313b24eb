//! The `strata` binary bootstrapped for Azure Key Vault from environment
//! variables alone, against the local Key Vault.

use crate::common::{Project, run_async};
use serde_json::json;
use strata_secrets_test_servers::azure::LocalKeyVault;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_from_environment_variables_alone_get_push_check() {
    let kv = LocalKeyVault::start().await;
    kv.put(
        "sources--pipedrive",
        "[sources.pipedrive]\napi_key = \"from-azure\"\n",
    );
    let principal = kv.principal().clone();
    let mut p = Project::workspace();
    p.write(".gitignore", ".dlt/*secrets*.toml\n");
    p.set_env("PROVIDERS__ENABLE_AZURE_KEY_VAULT", "true")
        .set_env("PROVIDERS__AZURE_KEY_VAULT__VAULT_URL", &kv.vault_url())
        .set_env(
            "PROVIDERS__AZURE_KEY_VAULT__AUTHORITY_HOST",
            &kv.authority_host(),
        )
        .set_env(
            "PROVIDERS__AZURE_KEY_VAULT__CA_CERTIFICATE",
            kv.ca_certificate_pem(),
        )
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
            &principal.client_secret,
        );
    let r = run_async(&p, &["get", "sources.pipedrive.api_key", "--json"]).await;
    assert_eq!(r.ok().json(), json!("from-azure"));
    // dlt_secrets_toml is stored as dlt-secrets-toml
    p.write(
        ".dlt/prod.secrets.toml",
        "[destination.pg.credentials]\npassword = \"pushed\"\n",
    );
    let r = run_async(
        &p,
        &["--profile", "prod", "push", "--vault", "azure", "--json"],
    )
    .await;
    assert_eq!(r.ok().json()["secret"], json!("dlt-secrets-toml"));
    std::fs::remove_file(p.path().join(".dlt/prod.secrets.toml")).unwrap();
    let r = run_async(&p, &["get", "destination.pg.credentials.password"]).await;
    assert_eq!(r.ok().stdout(), "pushed");
    let r = run_async(&p, &["check"]).await;
    assert_eq!(r.code(), 0, "{}", r.all());
    assert!(
        r.stdout().contains("ok [azure_key_vault]: reached"),
        "{}",
        r.stdout()
    );
    assert!(!r.all().contains(&principal.client_secret), "{}", r.all());
    // a wrong client secret: unauthenticated, reported without the secret
    p.set_env(
        "PROVIDERS__AZURE_KEY_VAULT__CREDENTIALS__AZURE_CLIENT_SECRET",
        "canary-wrong-secret",
    );
    let r = run_async(&p, &["get", "sources.pipedrive.api_key"]).await;
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("azure_key_vault"), "{}", r.stderr());
    assert!(!r.all().contains("canary"), "{}", r.all());
}

/// `[providers.azure_key_vault] timeout` from a TOML file is applied (the
/// key was once silently dropped by a hand-kept key list): a vault that
/// answers after 5 s fails each 0.3 s try, and the lookup gives up at the
/// 2 s `deadline`, saying how many tries it made. Without the timeout, the
/// one try would run into the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_setting_from_toml_is_applied() {
    let kv = LocalKeyVault::start().await;
    kv.put(
        "sources--pipedrive",
        "[sources.pipedrive]\napi_key = \"x\"\n",
    );
    let principal = kv.principal().clone();
    let p = Project::workspace();
    p.write(
        ".dlt/config.toml",
        &format!(
            "[providers]\nenable_azure_key_vault = true\n[providers.azure_key_vault]\nvault_url = \"{}\"\nauthority_host = \"{}\"\ntimeout = 0.3\ndeadline = 2\n",
            kv.vault_url(),
            kv.authority_host()
        ),
    );
    p.write(
        ".dlt/secrets.toml",
        &format!(
            "[providers.azure_key_vault]\nca_certificate = {}\n[providers.azure_key_vault.credentials]\nazure_tenant_id = \"{}\"\nazure_client_id = \"{}\"\nazure_client_secret = \"{}\"\n",
            strata_secrets::Value::from(kv.ca_certificate_pem()).to_toml(),
            principal.tenant_id,
            principal.client_id,
            principal.client_secret
        ),
    );
    let r = run_async(&p, &["get", "sources.pipedrive.api_key"]).await;
    assert_eq!(r.ok().stdout(), "x");
    kv.set_latency(std::time::Duration::from_secs(5));
    let r = run_async(&p, &["get", "sources.pipedrive.api_key"]).await;
    assert_eq!(r.code(), 2, "{}", r.all());
    let err = r.stderr();
    let tries: u32 = err
        .split("gave up after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of tries: {err}"));
    assert!(tries >= 2, "{err}");
}
