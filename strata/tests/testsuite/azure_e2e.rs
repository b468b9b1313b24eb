//! The `strata` binary bootstrapped for Azure Key Vault from environment
//! variables alone, against the local Key Vault.

use crate::common::{Project, Run};
use serde_json::json;
use strata_conformance::azure::LocalKeyVault;

async fn run(p: &Project, args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let (dir, env) = (p.path().to_path_buf(), p.env.clone());
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        Project::at(dir, env).run(&refs)
    })
    .await
    .unwrap()
}

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
    let r = run(&p, &["get", "sources.pipedrive.api_key", "--json"]).await;
    assert_eq!(r.ok().json(), json!("from-azure"));
    // dlt_secrets_toml is stored as dlt-secrets-toml
    p.write(
        ".dlt/prod.secrets.toml",
        "[destination.pg.credentials]\npassword = \"pushed\"\n",
    );
    let r = run(
        &p,
        &["--profile", "prod", "push", "--vault", "azure", "--json"],
    )
    .await;
    assert_eq!(r.ok().json()["secret"], json!("dlt-secrets-toml"));
    std::fs::remove_file(p.path().join(".dlt/prod.secrets.toml")).unwrap();
    let r = run(&p, &["get", "destination.pg.credentials.password"]).await;
    assert_eq!(r.ok().stdout(), "pushed");
    let r = run(&p, &["check"]).await;
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
    let r = run(&p, &["get", "sources.pipedrive.api_key"]).await;
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("azure_key_vault"), "{}", r.stderr());
    assert!(!r.all().contains("canary"), "{}", r.all());
}
