//! The `strata` binary bootstrapped for AWS Secrets Manager from
//! environment variables alone, against moto's server behind the proxy
//! that answers as AWS where moto does not.

use crate::common::{Project, aws_env};
use serde_json::json;

#[test]
fn bootstrap_from_environment_variables_alone_then_push_and_check() {
    let mut p = Project::workspace();
    let (_moto, _rt, _proxy) = aws_env(&mut p);
    p.write(".gitignore", ".dlt/*secrets*.toml\n");
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
