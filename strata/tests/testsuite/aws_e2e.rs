//! The `strata` binary bootstrapped for AWS Secrets Manager from
//! environment variables alone, against moto's server behind the proxy
//! that answers as AWS where moto does not.

use crate::common::Project;
use serde_json::json;
use strata_test_servers::aws_proxy::AwsFaultProxy;
use strata_test_servers::moto::MotoServer;

/// moto, and the proxy in front of it (served by the runtime's workers
/// while the test runs `strata`).
fn aws() -> (MotoServer, tokio::runtime::Runtime, AwsFaultProxy) {
    let moto = MotoServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let proxy = rt.block_on(AwsFaultProxy::start(&moto.endpoint()));
    (moto, rt, proxy)
}

fn bootstrap(p: &mut Project, proxy: &AwsFaultProxy) {
    p.set_env("PROVIDERS__ENABLE_AWS_SECRETS", "true")
        .set_env(
            "PROVIDERS__AWS_SECRETS__CREDENTIALS__AWS_ACCESS_KEY_ID",
            "testing",
        )
        .set_env(
            "PROVIDERS__AWS_SECRETS__CREDENTIALS__AWS_SECRET_ACCESS_KEY",
            "canary-aws-secret-key",
        )
        .set_env(
            "PROVIDERS__AWS_SECRETS__CREDENTIALS__REGION_NAME",
            "us-east-1",
        )
        .set_env(
            "PROVIDERS__AWS_SECRETS__CREDENTIALS__ENDPOINT_URL",
            &proxy.endpoint(),
        );
}

#[test]
fn bootstrap_from_environment_variables_alone_then_push_and_check() {
    let (_moto, _rt, proxy) = aws();
    let mut p = Project::workspace();
    p.write(".gitignore", ".dlt/*secrets*.toml\n");
    bootstrap(&mut p, &proxy);
    // push the profile's secrets as dlt/dlt_secrets_toml, then read them back through the vault
    p.write(
        ".dlt/prod.secrets.toml",
        "[sources.pipedrive]\napi_key = \"from-aws\"\n",
    );
    let r = p.run(&["--profile", "prod", "push", "--vault", "aws", "--json"]);
    assert_eq!(r.ok().json()["secret"], json!("dlt/dlt_secrets_toml"));
    std::fs::remove_file(p.path().join(".dlt/prod.secrets.toml")).unwrap();
    let r = p.run(&["get", "sources.pipedrive.api_key", "--json"]);
    assert_eq!(r.ok().json(), json!("from-aws"));
    let r = p.run(&["explain", "sources.pipedrive.api_key", "--json"]);
    assert_eq!(r.ok().json()["name"], json!("dlt/dlt_secrets_toml"));
    let r = p.run(&["check"]);
    assert_eq!(r.code(), 0, "{}", r.all());
    assert!(
        r.stdout().contains("ok [aws_secrets]: reached"),
        "{}",
        r.stdout()
    );
    assert!(!r.all().contains("canary"), "{}", r.all());
    // a custom prefix filters names, as in dlt
    p.set_env("PROVIDERS__AWS_SECRETS__SECRET_NAME_PREFIX", "team/");
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.code(), 1, "{}", r.all());
    assert!(
        r.stderr().contains("team/dlt_secrets_toml"),
        "{}",
        r.stderr()
    );
}
