//! The `strata` binary bootstrapped for HashiCorp Vault from environment
//! variables alone (`VAULT_ADDR`, `VAULT_TOKEN` or `~/.vault-token`, and
//! the switch), against a real OpenBao dev server: get, explain, exec, push
//! then versions, check, and the errors a user meets.

use crate::common::Project;
use serde_json::json;
use strata_secrets_test_servers::openbao::OpenBao;

fn bootstrap(p: &mut Project, bao: &OpenBao, token: &str) {
    p.set_env("PROVIDERS__ENABLE_HASHICORP_VAULT", "true")
        .set_env("VAULT_ADDR", &bao.address())
        .set_env("VAULT_TOKEN", token);
}

fn read_write_policy(bao: &OpenBao) -> String {
    bao.policy(
        "strata-e2e",
        "path \"secret/data/dlt/*\" { capabilities = [\"create\", \"read\", \"update\"] }\n\
         path \"secret/metadata/dlt/*\" { capabilities = [\"read\", \"list\"] }\n",
    );
    bao.token(&["strata-e2e"], "1h")
}

#[test]
fn bootstrap_from_environment_variables_then_get_explain_exec_push_versions() {
    let bao = OpenBao::start();
    bao.reset_kv("secret");
    let token = read_write_policy(&bao);
    // a secret stored the Vault way: a map of fields
    bao.put(
        "secret",
        "dlt/sources/pipedrive",
        json!({"api_key": "pd-native"}),
    );
    let mut p = Project::workspace();
    p.write(".gitignore", ".dlt/*secrets*.toml\n");
    bootstrap(&mut p, &bao, &token);

    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.ok().stdout(), "pd-native");
    let r = p.run(&["explain", "sources.pipedrive.api_key", "--json"]);
    assert_eq!(
        r.ok().json()["name"],
        json!("secret/data/dlt/sources/pipedrive")
    );

    // push the profile's secrets as a KV version of dlt_secrets_toml
    p.write(
        ".dlt/dev.secrets.toml",
        "[destination.postgres.credentials]\npassword = \"pg-from-file\"\n",
    );
    let r = p.run(&["push", "--vault", "hashicorp", "--json"]);
    let out = r.ok().json();
    assert_eq!(out["secret"], json!("secret/data/dlt/dlt_secrets_toml"));
    assert_eq!(out["version"], json!("1"));
    let r = p.run(&["versions", "--vault", "hashicorp", "--json"]);
    let out = r.ok().json();
    assert_eq!(out["versions"][0]["id"], json!("1"), "{out}");
    assert_eq!(
        out["versions"][0]["keys"],
        json!(["destination.postgres.credentials.password"])
    );
    assert!(!out.to_string().contains("pg-from-file"), "{out}");
    std::fs::remove_file(p.path().join(".dlt/dev.secrets.toml")).unwrap();

    // the pushed document answers, and exec hands it to the child
    let r = p.run(&["get", "destination.postgres.credentials.password"]);
    assert_eq!(r.ok().stdout(), "pg-from-file");
    let r = p.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "printf %s \"$DESTINATION__POSTGRES__CREDENTIALS__PASSWORD\"",
    ]);
    assert_eq!(r.ok().stdout(), "pg-from-file");

    // another writer makes version 2; it can be read by number
    bao.put(
        "secret",
        "dlt/dlt_secrets_toml",
        json!({"value": "[x]\ny = 1\n"}),
    );
    let r = p.run(&["get", "x.y", "--vault-version", "2"]);
    assert_eq!(r.ok().stdout(), "1\n");

    let r = p.run(&["check"]);
    assert_eq!(r.code(), 0, "{}", r.all());
    assert!(
        r.stdout().contains("ok [hashicorp_vault]: reached"),
        "{}",
        r.stdout()
    );
    assert!(!r.all().contains(&token), "{}", r.all());
}

#[test]
fn a_token_file_a_denied_read_and_a_refused_token() {
    let bao = OpenBao::start();
    bao.reset_kv("secret");
    bao.put("secret", "dlt/sources/a/key", json!({"value": "a-value"}));
    bao.put("secret", "dlt/sources/b/key", json!({"value": "b-value"}));
    bao.policy(
        "strata-a-only",
        "path \"secret/data/dlt/sources/a/*\" { capabilities = [\"read\"] }\n",
    );
    let token = bao.token(&["strata-a-only"], "1h");
    let mut p = Project::workspace();
    p.set_env("PROVIDERS__ENABLE_HASHICORP_VAULT", "true")
        .set_env("PROVIDERS__HASHICORP_VAULT__ONLY_TOML_FRAGMENTS", "false")
        .set_env("VAULT_ADDR", &bao.address());
    // the token from ~/.vault-token, as `bao login` leaves it
    p.write("home/.vault-token", &format!("{token}\n"));
    let r = p.run(&["get", "sources.a.key"]);
    assert_eq!(r.ok().stdout(), "a-value");
    // denied: nothing, and a warning naming the capability and path
    let r = p.run(&["get", "sources.b.key"]);
    assert_eq!(r.code(), 1, "{}", r.all());
    assert!(
        r.stderr()
            .contains("\"read\" on `secret/data/dlt/sources/b/key`"),
        "{}",
        r.stderr()
    );
    assert!(!r.all().contains("b-value"), "{}", r.all());
    // a revoked token: an authentication error (exit 2) that says to log
    // in again, never the token
    bao.revoke(&token);
    let r = p.run(&["get", "sources.a.key"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("log in again"), "{}", r.stderr());
    assert!(!r.all().contains(&token), "{}", r.all());
    // no address at all
    let mut q = Project::workspace();
    q.set_env("PROVIDERS__ENABLE_HASHICORP_VAULT", "true");
    let r = q.run(&["get", "sources.a.key"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("VAULT_ADDR"), "{}", r.stderr());
}

/// At every log level, with a token and with an AppRole secret id, no
/// credential and no secret reaches the output of any command (but `get`'s
/// value).
#[test]
fn no_credential_in_any_output_at_trace() {
    let bao = OpenBao::start();
    bao.reset_kv("secret");
    let token = read_write_policy(&bao);
    let (role_id, secret_id) = bao.approle("strata-leak", &["strata-e2e"], "10m");
    bao.put(
        "secret",
        "dlt/dlt_secrets_toml",
        json!({"value": "[sources.a]\nk = \"canary-vault-value\"\n"}),
    );
    for auth in ["token", "approle"] {
        let mut p = Project::workspace();
        p.set_env("STRATA_LOG", "trace")
            .set_env("PROVIDERS__ENABLE_HASHICORP_VAULT", "true")
            .set_env("PROVIDERS__HASHICORP_VAULT__URL", &bao.address())
            .set_env("PROVIDERS__HASHICORP_VAULT__AUTH", auth)
            .set_env("PROVIDERS__HASHICORP_VAULT__TOKEN", &token)
            .set_env("PROVIDERS__HASHICORP_VAULT__ROLE_ID", &role_id)
            .set_env("PROVIDERS__HASHICORP_VAULT__SECRET_ID", &secret_id);
        p.write(
            ".dlt/prod.secrets.toml",
            "[sources.a]\nk = \"canary-file\"\n",
        );
        for args in [
            vec!["explain", "sources.a.k"],
            vec!["check"],
            vec!["export"],
            vec!["names", "sources.a.k"],
            vec!["--profile", "prod", "push", "--dry-run"],
            vec!["versions"],
            vec!["get", "sources.missing"],
        ] {
            let r = p.run(&args);
            let all = r.all();
            for canary in [
                token.as_str(),
                secret_id.as_str(),
                "canary-vault-value",
                "canary-file",
            ] {
                assert!(!all.contains(canary), "{auth} {args:?}: {all}");
            }
        }
        let r = p.run(&["get", "sources.a.k"]);
        assert_eq!(r.ok().stdout(), "canary-vault-value", "{auth}");
    }
}
