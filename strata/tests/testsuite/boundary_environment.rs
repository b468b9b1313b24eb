//! Trust boundary: the environment and the command line (docs/security.md).
//! What the user set there is trusted, and handled with care: `exec`
//! never passes the vault bootstrap or the user's ambient credentials on to
//! its child unless asked, a key the user wrote is read or an error, a
//! resource limit is an error and never a panic.

use crate::boundary_files::child_env;
use crate::common::Project;
use serde_json::json;
use strata_secrets_test_servers::openbao::OpenBao;

/// `exec`'s child gets neither `PROVIDERS__*` (any case) nor the ambient
/// credentials of an enabled vault (`VAULT_TOKEN`); `--with-bootstrap`
/// hands them on. Unrelated variables pass through.
#[test]
fn exec_withholds_the_bootstrap_and_ambient_credentials() {
    let bao = OpenBao::start();
    bao.reset_kv("secret");
    bao.put(
        "secret",
        "dlt/sources/pipedrive",
        json!({"api_key": "from-vault"}),
    );
    let mut p = Project::workspace();
    p.set_env("PROVIDERS__ENABLE_HASHICORP_VAULT", "true")
        .set_env("PROVIDERS__HASHICORP_VAULT__TIMEOUT", "5")
        .set_env("providers__hashicorp_vault__note", "lower-case")
        .set_env("VAULT_ADDR", &bao.address())
        .set_env("VAULT_TOKEN", bao.root_token())
        .set_env("UNRELATED", "kept");
    p.write(
        ".dlt/secrets.toml",
        "[sources.pipedrive]\napi_key = \"from-file\"\n",
    );
    // in place, and as the parent of the command (the same rule)
    for mode in [
        &[][..],
        &["--redact"][..],
        &["--files"][..],
        &["--watch"][..],
    ] {
        let mut args = vec!["exec"];
        args.extend_from_slice(mode);
        args.extend(["--", "env", "-0"]);
        let r = p.run(&args);
        assert_eq!(r.code(), 0, "{mode:?}: {}", r.stderr());
        let env = child_env(&r.0.stdout);
        for k in env.keys() {
            assert!(
                !k.to_ascii_uppercase().starts_with("PROVIDERS__"),
                "{mode:?}: {k} reached the child"
            );
        }
        assert!(
            !env.contains_key("VAULT_TOKEN"),
            "{mode:?}: the token reached the child"
        );
        assert_eq!(env["UNRELATED"], "kept");
        assert_eq!(env["VAULT_ADDR"], bao.address());
        let expected = if mode == ["--redact"] {
            "***"
        } else {
            "from-file"
        };
        assert_eq!(env["SOURCES__PIPEDRIVE__API_KEY"], expected, "{mode:?}");
    }
    let r = p.run(&["exec", "--with-bootstrap", "--", "env", "-0"]);
    let env = child_env(&r.ok().0.stdout);
    assert_eq!(env["VAULT_TOKEN"], bao.root_token());
    assert_eq!(env["PROVIDERS__ENABLE_HASHICORP_VAULT"], "true");
}

/// Without a vault enabled nothing is withheld but the bootstrap itself.
#[test]
fn exec_without_a_vault_keeps_the_users_variables() {
    let mut p = Project::workspace();
    p.set_env("VAULT_TOKEN", "not-used-by-strata")
        .set_env("PROVIDERS__GOOGLE_SECRETS__ONLY_SECRETS", "false");
    let r = p.run(&["exec", "--", "env", "-0"]);
    let env = child_env(&r.ok().0.stdout);
    assert_eq!(env["VAULT_TOKEN"], "not-used-by-strata");
    assert!(!env.contains_key("PROVIDERS__GOOGLE_SECRETS__ONLY_SECRETS"));
}

/// A `PROVIDERS__*` variable or `[providers]` key strata does not read (a
/// typo, or an option this build lacks) is an error naming it, never
/// silently ignored.
#[test]
fn unknown_provider_settings_are_errors() {
    for (var, named) in [
        ("PROVIDERS__HASHICORP_VAULT__TOKNE", "tokne"),
        (
            "PROVIDERS__AWS_SECRETS__SECRET_NAME_PREFIXX",
            "secret_name_prefixx",
        ),
        ("PROVIDERS__GOOGLE_SECRETS__ONLY_SECRET", "only_secret"),
        ("PROVIDERS__AZURE_KEY_VAULT__VAULTURL", "vaulturl"),
        (
            "PROVIDERS__ENABLE_GOOGLE_SECRET",
            "PROVIDERS__ENABLE_GOOGLE_SECRET",
        ),
        (
            "PROVIDERS__ENABLE_ONEPASSWORD",
            "PROVIDERS__ENABLE_ONEPASSWORD",
        ),
    ] {
        let mut p = Project::workspace();
        p.set_env(var, "1");
        let r = p.run(&["get", "x"]);
        assert_eq!(r.code(), 2, "{var}: {}", r.all());
        assert!(r.stderr().contains(named), "{var}: {}", r.stderr());
    }
    for (toml, at) in [
        ("[providers.aws_secrets]\nmax_agee = 1\n", "config.toml:2"),
        (
            "[providers]\nenable_gogle_secrets = true\n",
            "config.toml:2",
        ),
    ] {
        let p = Project::workspace();
        p.write(".dlt/config.toml", toml);
        let r = p.run(&["get", "x"]);
        assert_eq!(r.code(), 2, "{toml}: {}", r.all());
        assert!(r.stderr().contains(at), "{toml}: {}", r.stderr());
    }
    // known keys are fine
    let mut p = Project::workspace();
    p.set_env("PROVIDERS__HASHICORP_VAULT__TOKEN", "t")
        .set_env("PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PROJECT_ID", "p");
    assert_eq!(p.run(&["get", "x"]).code(), 1);
}

/// A secrets directory that is there but cannot be listed is an error for
/// secret lookups, never a fall-through to the variable's value.
#[test]
fn an_unreadable_secrets_dir_is_an_error() {
    let mut p = Project::workspace();
    let not_a_dir = p.write("not-a-dir", "x");
    p.write(
        ".dlt/secrets.toml",
        "[sources.pipedrive]\napi_key = \"from-file\"\n",
    );
    p.set_env("STRATA_SECRETS_DIR", not_a_dir.to_str().unwrap())
        .set_env("SOURCES__PIPEDRIVE__API_KEY", "from-env");
    for args in [
        vec!["get", "sources.pipedrive.api_key"],
        vec!["exec", "--", "true"],
    ] {
        // the project's own STRATA_SECRETS_DIR is set after run's default
        let r = p.run(&args);
        assert_eq!(r.code(), 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr().contains("cannot list the secrets directory"),
            "{}",
            r.stderr()
        );
        assert!(!r.stdout().contains("from-"));
    }
    // configuration lookups do not read it
    p.set_env("RUNTIME__LOG_LEVEL", "INFO");
    let r = p.run(&["get", "runtime.log_level", "--config"]);
    assert_eq!(r.ok().stdout(), "INFO");
}

/// A profile given on the command line or in the environment is plain
/// ASCII: an invisible or look-alike character is bad usage.
#[test]
fn profile_names_from_the_user_are_plain_ascii() {
    for bad in [
        "prod\u{200b}",
        "pr\u{43e}d",
        "\u{feff}prod",
        "prod ",
        "prod/x",
        "prod\u{301}",
    ] {
        let p = Project::workspace();
        let r = p.run(&["--profile", bad, "get", "x"]);
        assert_eq!(r.code(), 2, "{bad:?}: {}", r.all());
        assert!(
            r.stderr().contains("invalid profile name"),
            "{}",
            r.stderr()
        );
        let mut p = Project::workspace();
        p.set_env("WORKSPACE__PROFILE", bad);
        let r = p.run(&["get", "x"]);
        assert_eq!(r.code(), 2, "{bad:?}: {}", r.all());
        assert!(r.stderr().contains("WORKSPACE__PROFILE"), "{}", r.stderr());
    }
}

/// Few file descriptors: an error, never a panic (exit 101).
#[test]
fn few_file_descriptors_is_an_error_not_a_panic() {
    let p = Project::workspace();
    p.write(".dlt/secrets.toml", "[s]\nk = \"v\"\n");
    let bin = env!("CARGO_BIN_EXE_strata");
    for n in 4..=12 {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n {n}; exec \"$0\" --workspace \"$1\" get s.k",
            ))
            .arg(bin)
            .arg(p.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", p.path().join("home"))
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(code == 0 || code == 2, "ulimit -n {n}: exit {code}: {err}");
        assert!(!err.contains("panicked"), "ulimit -n {n}: {err}");
        if code == 2 {
            assert!(err.contains("error:"), "ulimit -n {n}: {err}");
        }
    }
}
