//! The CLI contract: values, exit codes, stderr wording, profiles, files.

use crate::common::Project;
use serde_json::json;

fn sample() -> Project {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[sources.pipedrive]\napi_key = \"base-key\"\n\n[destination.postgres.credentials]\nhost = \"db\"\nport = 5432\npassword = \"base-pw\"\n",
    );
    p.write(
        ".dlt/config.toml",
        "[runtime]\nlog_level = \"WARNING\"\n[sources.pipedrive]\npage_size = 50\n",
    );
    p.write(
        ".dlt/prod.secrets.toml",
        "[destination.postgres.credentials]\npassword = \"prod-pw\"\n",
    );
    p
}

#[test]
fn get_json_prints_strings_tables_and_numbers() {
    let p = sample();
    let r = p.run(&["get", "sources.pipedrive.api_key", "--json"]);
    r.ok();
    assert_eq!(r.json(), json!("base-key"));
    let r = p.run(&["get", "destination.postgres.credentials", "--json"]);
    assert_eq!(
        r.ok().json(),
        json!({"host": "db", "port": 5432, "password": "base-pw"})
    );
    let r = p.run(&[
        "--profile",
        "prod",
        "get",
        "destination.postgres.credentials",
        "--json",
    ]);
    assert_eq!(
        r.ok().json(),
        json!({"password": "prod-pw", "host": "db", "port": 5432})
    );
    let r = p.run(&["get", "sources.pipedrive.page_size", "--config", "--json"]);
    assert_eq!(r.ok().json(), json!(50));
}

#[test]
fn get_prints_a_string_as_raw_text_and_a_table_as_toml() {
    let p = sample();
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.ok().stdout(), "base-key");
    let r = p.run(&["get", "destination.postgres.credentials"]);
    let table: toml::Table = r.ok().stdout().parse().unwrap();
    assert_eq!(table["password"].as_str(), Some("base-pw"));
    assert_eq!(table["port"].as_integer(), Some(5432));
    let r = p.run(&["get", "destination.postgres.credentials.port"]);
    assert_eq!(r.ok().stdout(), "5432\n");
}

#[test]
fn config_toml_answers_only_with_config() {
    let p = sample();
    let r = p.run(&["get", "runtime.log_level"]);
    assert_eq!(r.code(), 1, "{}", r.all());
    let err = r.stderr();
    assert!(err.contains("RUNTIME__LOG_LEVEL"), "{err}");
    assert!(err.contains("may not hold secrets"), "{err}");
    // configuration first: read it with --config; a secret: move it
    assert!(err.contains("strata get --config"), "{err}");
    assert!(err.contains("move it to secrets.toml"), "{err}");
    let r = p.run(&["get", "runtime.log_level", "--config"]);
    assert_eq!(r.ok().stdout(), "WARNING");
}

#[test]
fn missing_value_exits_1_with_the_trace_on_stderr() {
    let p = sample();
    let r = p.run(&["get", "sources.nothing.key"]);
    assert_eq!(r.code(), 1);
    assert_eq!(r.stdout(), "");
    let err = r.stderr();
    for needle in [
        "missing secret: `sources.nothing.key` was not found",
        "profile: dev",
        "environment",
        "SOURCES__NOTHING__KEY",
        "secrets.toml",
        "sources.nothing.key",
        "missing ",
        "dev.secrets.toml",
        "read ",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in {err}");
    }
}

#[test]
fn environment_overrides_files() {
    let mut p = sample();
    p.set_env("SOURCES__PIPEDRIVE__API_KEY", "env-key");
    let r = p.run(&["get", "sources.pipedrive.api_key", "--json"]);
    assert_eq!(r.ok().json(), json!("env-key"));
    // an env var holding JSON is kept as text by an exact get, like dlt
    p.set_env("DESTINATION__POSTGRES__CREDENTIALS", r#"{"host": "h"}"#);
    let r = p.run(&["get", "destination.postgres.credentials", "--json"]);
    assert_eq!(r.ok().json(), json!(r#"{"host": "h"}"#));
}

#[test]
fn secret_files_in_the_secrets_dir_answer_secret_lookups() {
    let p = sample();
    p.write("run-secrets/sources--pipedrive--api-key", "file-key\n");
    let r = p.run(&["get", "sources.pipedrive.api_key", "--json"]);
    assert_eq!(r.ok().json(), json!("file-key\n"));
}

#[test]
fn pipeline_scoped_get_falls_back() {
    let p = sample();
    p.write(
        ".dlt/dev.secrets.toml",
        "[my_pipe.sources.pipedrive]\napi_key = \"scoped\"\n",
    );
    let r = p.run(&[
        "get",
        "sources.pipedrive.api_key",
        "--pipeline",
        "my_pipe",
        "--json",
    ]);
    assert_eq!(r.ok().json(), json!("scoped"));
    let r = p.run(&[
        "get",
        "destination.postgres.credentials.host",
        "--pipeline",
        "my_pipe",
        "--json",
    ]);
    assert_eq!(r.ok().json(), json!("db"));
}

#[test]
fn malformed_toml_exits_2_naming_file_line_and_column_without_the_value() {
    let p = sample();
    p.write(
        ".dlt/dev.secrets.toml",
        "[x]\nok = 1\npassword = \"canary-secret-value\n",
    );
    for args in [
        // a lookup the broken file may answer reads it
        vec!["get", "x.ok"],
        vec!["explain", "x.ok"],
        vec!["get", "x.ok", "--config"],
        // the commands that read whole documents read it first
        vec!["export"],
        vec!["export", "--reveal"],
        vec!["check"],
    ] {
        let r = p.run(&args);
        assert_eq!(r.code(), 2, "{args:?}: {}", r.all());
        let err = r.stderr();
        assert!(err.contains("dev.secrets.toml"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("column"), "{err}");
        assert!(!r.all().contains("canary"), "leak: {}", r.all());
    }
    // as in dlt, which loads every file first: a lookup the broken file
    // cannot answer fails too, and so does a secret lookup when the broken
    // file is a config.toml
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("dev.secrets.toml"), "{}", r.all());
    assert!(!r.all().contains("canary"), "leak: {}", r.all());
    let p = sample();
    p.write(".dlt/config.toml", "[runtime\nlog_level = 1\n");
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("config.toml: line 1"), "{}", r.all());
}

#[test]
fn bad_profile_names_exit_2_and_build_no_path() {
    let mut p = sample();
    for bad in ["..", "../etc", "a/b", "", "a\u{1}b"] {
        let r = p.run(&["--profile", bad, "get", "sources.pipedrive.api_key"]);
        assert_eq!(r.code(), 2, "{bad:?}: {}", r.all());
        assert!(
            r.stderr().contains("invalid profile name"),
            "{}",
            r.stderr()
        );
    }
    p.set_env("WORKSPACE__PROFILE", "../../x");
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("WORKSPACE__PROFILE"), "{}", r.stderr());
    let p = sample();
    p.write(".dlt/profile-name", "a/b\n");
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("profile-name"), "{}", r.stderr());
    // a bad pin can still be replaced
    p.run(&["profile", "prod", "pin"]).ok();
    assert_eq!(
        p.run(&["get", "destination.postgres.credentials.password", "--json"])
            .ok()
            .json(),
        json!("prod-pw")
    );
    let r = p.run(&["profile", "../x", "pin"]);
    assert_eq!(r.code(), 2);
}

#[test]
fn profile_flag_in_classic_mode_says_how_to_enable_profiles() {
    let p = Project::classic();
    p.write(".dlt/secrets.toml", "k = \"v\"\n");
    p.write(
        ".dlt/prod.secrets.toml",
        "k = \"ignored-in-classic-mode\"\n",
    );
    let r = p.run(&["--profile", "prod", "get", "k"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains(".dlt/.workspace"), "{}", r.stderr());
    assert!(r.stderr().contains("strata init"), "{}", r.stderr());
    // without the flag: profile files are ignored, even pinned or by env
    p.write(".dlt/profile-name", "prod\n");
    let mut p = p;
    p.set_env("WORKSPACE__PROFILE", "prod");
    assert_eq!(p.run(&["get", "k", "--json"]).ok().json(), json!("v"));
}

#[test]
fn profiles_by_env_pin_and_flag() {
    let mut p = sample();
    let pw = |p: &Project, extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend(["get", "destination.postgres.credentials.password", "--json"]);
        p.run(&args).ok().json()
    };
    assert_eq!(pw(&p, &[]), json!("base-pw"));
    p.run(&["profile", "prod", "pin"]).ok();
    assert_eq!(
        std::fs::read_to_string(p.path().join(".dlt/profile-name"))
            .unwrap()
            .trim(),
        "prod"
    );
    assert_eq!(pw(&p, &[]), json!("prod-pw"));
    let show = p.run(&["profile"]).ok().stdout();
    assert!(
        show.contains("current profile: prod") && show.contains("pinned profile: prod"),
        "{show}"
    );
    assert_eq!(pw(&p, &["--profile", "dev"]), json!("base-pw"));
    p.set_env("WORKSPACE__PROFILE", "tests");
    assert_eq!(pw(&p, &[]), json!("base-pw"));
    assert_eq!(
        p.run(&["profile", "--json"]).ok().json()["current"],
        json!("tests")
    );
    p.run(&["profile", "unpin"]).ok();
    assert!(!p.path().join(".dlt/profile-name").exists());
}

#[test]
fn profile_list_marks_current_pinned_and_configured() {
    let p = sample();
    p.write(".dlt/staging.config.toml", "");
    p.run(&["profile", "tests", "pin"]).ok();
    let out = p.run(&["profile", "list"]).ok().stdout();
    assert!(out.contains("* tests"), "{out}");
    assert!(
        out.contains("prod") && out.contains("[configured]"),
        "{out}"
    );
    assert!(
        out.contains("staging - custom profile [configured]"),
        "{out}"
    );
    let rows = p.run(&["profile", "list", "--json"]).ok().json();
    let tests = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "tests")
        .unwrap();
    assert_eq!(tests["pinned"], json!(true));
    assert_eq!(tests["current"], json!(true));
    let dev = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "dev")
        .unwrap();
    assert_eq!(dev["configured"], json!(false));
}

#[test]
fn access_is_read_only_and_falls_back_to_prod_files() {
    let p = sample();
    let r = p.run(&[
        "--profile",
        "access",
        "get",
        "destination.postgres.credentials.password",
        "--json",
    ]);
    assert_eq!(r.ok().json(), json!("prod-pw"));
    let r = p.run(&["--profile", "access", "workspace", "clean"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("read-only"), "{}", r.stderr());
    p.write(
        ".dlt/access.secrets.toml",
        "[destination.postgres.credentials]\npassword = \"ro-pw\"\n",
    );
    let r = p.run(&[
        "--profile",
        "access",
        "get",
        "destination.postgres.credentials.password",
        "--json",
    ]);
    assert_eq!(r.ok().json(), json!("ro-pw"));
}

#[test]
fn explain_shows_the_walk_with_values_masked() {
    let p = sample();
    let r = p.run(&["explain", "destination.postgres.credentials.password"]);
    let out = r.ok().stdout();
    assert!(
        out.contains("DESTINATION__POSTGRES__CREDENTIALS__PASSWORD"),
        "{out}"
    );
    assert!(out.contains("DESTINATION__PASSWORD"), "{out}");
    assert!(out.contains("answered by secrets.toml"), "{out}");
    assert!(out.contains(".dlt/secrets.toml:7"), "{out}");
    assert!(!out.contains("base-pw"), "{out}");
    let j = p
        .run(&["explain", "sources.mod.pipedrive.api_key", "--json"])
        .ok()
        .json();
    let names: Vec<&str> = j["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "SOURCES__MOD__PIPEDRIVE__API_KEY",
            "SOURCES__MOD__API_KEY",
            "SOURCES__PIPEDRIVE__API_KEY",
            "SOURCES__API_KEY",
            "API_KEY",
            "sources.mod.pipedrive.api_key",
            "sources.mod.api_key",
            "sources.pipedrive.api_key"
        ]
    );
    assert_eq!(j["answered_at"], json!("sources.pipedrive.api_key"));
    let r = p.run(&["explain", "sources.x.missing"]);
    assert_eq!(r.code(), 1);
    assert!(r.stdout().contains("SOURCES__X__MISSING"), "{}", r.stdout());
}

#[test]
fn explain_refuses_a_secret_from_config_toml() {
    let p = sample();
    p.write(
        ".dlt/config.toml",
        "[sources.pipedrive]\ntoken = \"canary-in-config\"\n",
    );
    let r = p.run(&["explain", "sources.pipedrive.token"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("config.toml"), "{}", r.stderr());
    assert!(!r.all().contains("canary"), "{}", r.all());
    p.run(&["explain", "sources.pipedrive.token", "--config"])
        .ok();
}

#[test]
fn export_masks_secrets_unless_revealed() {
    let mut p = sample();
    p.set_env("SOURCES__PIPEDRIVE__API_KEY", "env-key");
    let masked = p.run(&["export", "--format", "json"]).ok().json();
    assert_eq!(masked["sources"]["pipedrive"]["api_key"], json!("***"));
    assert_eq!(masked["runtime"]["log_level"], json!("WARNING"));
    assert_eq!(masked["sources"]["pipedrive"]["page_size"], json!(50));
    let revealed = p
        .run(&["export", "--format", "json", "--reveal"])
        .ok()
        .json();
    assert_eq!(
        revealed["sources"]["pipedrive"]["api_key"],
        json!("env-key")
    );
    assert_eq!(
        revealed["destination"]["postgres"]["credentials"]["port"],
        json!(5432)
    );
    let toml_out = p.run(&["export"]).ok().stdout();
    assert!(
        toml_out.contains("[destination.postgres.credentials]"),
        "{toml_out}"
    );
    assert!(
        !toml_out.contains("base-pw") && !toml_out.contains("env-key"),
        "{toml_out}"
    );
    let env_out = p
        .run(&["export", "--format", "env", "--reveal"])
        .ok()
        .stdout();
    assert!(
        env_out.contains("DESTINATION__POSTGRES__CREDENTIALS__PASSWORD='base-pw'\n"),
        "{env_out}"
    );
    assert!(
        env_out.contains("RUNTIME__LOG_LEVEL='WARNING'\n"),
        "{env_out}"
    );
}

#[test]
fn exec_passes_resolved_values_in_env_naming() {
    let p = sample();
    p.write(
        ".dlt/dev.secrets.toml",
        "[my_pipe.sources.pipedrive]\napi_key = \"scoped\"\n",
    );
    let r = p.run(&["exec", "--", "sh", "-c", "printf '%s|%s|%s' \"$SOURCES__PIPEDRIVE__API_KEY\" \"$DESTINATION__POSTGRES__CREDENTIALS__PORT\" \"$RUNTIME__LOG_LEVEL\""]);
    assert_eq!(r.ok().stdout(), "base-key|5432|WARNING");
    let r = p.run(&[
        "exec",
        "--pipeline",
        "my_pipe",
        "--",
        "sh",
        "-c",
        "printf %s \"$SOURCES__PIPEDRIVE__API_KEY\"",
    ]);
    assert_eq!(r.ok().stdout(), "scoped");
    let r = p.run(&["exec", "--", "sh", "-c", "exit 7"]);
    assert_eq!(r.code(), 7);
    // as a shell: 127 for a command that is not there, 126 for one that
    // cannot be run
    let r = p.run(&["exec", "--", "/nonexistent/program"]);
    assert_eq!(r.code(), 127);
    assert!(r.stderr().contains("cannot run"), "{}", r.stderr());
}

#[test]
fn names_lists_every_provider_and_explains_vault_errors() {
    let p = Project::classic();
    let j = p
        .run(&[
            "names",
            "destination.bigquery.credentials.project_id",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        j["env"],
        json!("DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID")
    );
    assert_eq!(
        j["google"]["name"],
        json!("destination-bigquery-credentials-project_id")
    );
    assert_eq!(
        j["aws"]["name"],
        json!("dlt/destination/bigquery/credentials/project_id")
    );
    assert_eq!(
        j["azure"]["name"],
        json!("destination--bigquery--credentials--project-id")
    );
    let long = "x".repeat(300);
    let j = p.run(&["names", &long, "--json"]).ok().json();
    assert!(
        j["google"]["error"]
            .as_str()
            .unwrap()
            .contains("over its limit of 255")
    );
    assert!(j["aws"]["name"].is_string());
    let r = p.run(&["names", "a..b"]);
    assert_eq!(r.code(), 2);
}

#[test]
fn init_creates_the_workspace_and_dry_run_writes_nothing() {
    let p = Project::classic();
    std::fs::remove_dir_all(p.path().join(".dlt")).unwrap();
    let r = p.run(&["init", "--name", "demo", "--dry-run"]);
    assert!(r.ok().stdout().contains("nothing written"));
    assert!(!p.path().join(".dlt").exists());
    p.run(&["init", "--name", "demo"]).ok();
    for f in [
        ".dlt/.workspace",
        ".dlt/config.toml",
        ".dlt/secrets.toml",
        ".gitignore",
    ] {
        assert!(p.path().join(f).exists(), "{f}");
    }
    let gi = std::fs::read_to_string(p.path().join(".gitignore")).unwrap();
    assert!(
        gi.contains(".dlt/*.secrets.toml") && gi.contains(".dlt/secrets.toml"),
        "{gi}"
    );
    // the new workspace has profiles, and check is clean
    assert!(
        p.run(&["profile"])
            .ok()
            .stdout()
            .contains("current profile: dev")
    );
    let r = p.run(&["check"]);
    assert_eq!(r.code(), 0, "{}", r.all());
    // running again keeps existing files
    p.write(".dlt/secrets.toml", "kept = 1\n");
    p.run(&["init"]).ok();
    assert_eq!(
        std::fs::read_to_string(p.path().join(".dlt/secrets.toml")).unwrap(),
        "kept = 1\n"
    );
}

#[test]
fn check_reports_permissions_placeholders_and_gitignore() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::workspace();
    let f = p.write(
        ".dlt/secrets.toml",
        "[sources.x]\napi_key = \"<configure me>\"\n",
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = p.run(&["check", "--json"]);
    assert_eq!(r.code(), 1, "{}", r.all());
    let j = r.json();
    let checks: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert!(checks.contains(&"git"), "{checks:?}");
    assert!(checks.contains(&"permissions"), "{checks:?}");
    assert!(checks.contains(&"placeholder"), "{checks:?}");
    p.write(".gitignore", ".dlt/*secrets*.toml\n");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    p.write(".dlt/secrets.toml", "[sources.x]\napi_key = \"real\"\n");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = p.run(&["check"]);
    assert_eq!(r.code(), 0, "{}", r.all());
}

#[test]
fn check_warns_when_prod_keeps_secrets_in_files_with_a_vault_enabled() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::workspace();
    p.write(".gitignore", ".dlt/*secrets*.toml\n");
    let f = p.write(
        ".dlt/prod.secrets.toml",
        "[providers]\nenable_google_secrets = true\n[providers.google_secrets.credentials]\nproject_id = \"p\"\n[destination.pg.credentials]\npassword = \"canary-pw\"\n",
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = p.run(&["--profile", "prod", "check"]);
    assert_eq!(r.code(), 1, "{}", r.all());
    assert!(
        r.stdout().contains("destination.pg.credentials.password"),
        "{}",
        r.stdout()
    );
    assert!(!r.all().contains("canary"), "{}", r.all());
    assert_eq!(p.run(&["--profile", "dev", "check"]).code(), 0);
}

#[test]
fn workspace_info_and_clean() {
    let p = sample();
    let j = p.run(&["workspace", "info", "--json"]).ok().json();
    assert_eq!(j["mode"], json!("workspace"));
    assert_eq!(j["profile"], json!("dev"));
    // dlt 1.31's layout: `.dlt/state/P` and `.dlt/data/P`
    assert!(j["data_dir"].as_str().unwrap().ends_with(".dlt/data/dev"));
    assert!(j["state_dir"].as_str().unwrap().ends_with(".dlt/state/dev"));
    assert!(
        j["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["present"] == json!(true))
    );
    p.write(".dlt/data/dev/warehouse.duckdb", "data");
    p.write(".dlt/data/prod/keep", "data");
    p.write(".dlt/state/dev/pipelines/keep", "state");
    // the older layout is shown, never cleaned
    p.write("_local/dev/old", "data");
    let r = p.run(&["workspace", "info"]);
    assert!(r.ok().stdout().contains("older layout"), "{}", r.stdout());
    let r = p.run(&["workspace", "clean"]);
    assert!(r.ok().stdout().contains("deleted"));
    assert!(!p.path().join(".dlt/data/dev").exists());
    assert!(p.path().join(".dlt/data/prod/keep").exists());
    assert!(p.path().join(".dlt/state/dev/pipelines/keep").exists());
    assert!(p.path().join("_local/dev/old").exists());
    // the settings move the local data dir
    p.write(
        ".dlt/config.toml",
        "[workspace.settings]\nlocal_dir = \"mydata\"\n",
    );
    let j = p.run(&["workspace", "info", "--json"]).ok().json();
    assert!(j["data_dir"].as_str().unwrap().ends_with("mydata"), "{j}");
    assert_eq!(j["data_dir_from"], json!("workspace.settings.local_dir"));
}

#[test]
fn unicode_multiline_empty_and_dotted_values() {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "a.b.c = \"dotted\"\nempty = \"\"\nuni = \"żółw 🐢\"\npem = \"\"\"\n-----BEGIN X-----\nline\n-----END X-----\n\"\"\"\ninline = { k = \"v\", n = 1 }\n",
    );
    assert_eq!(
        p.run(&["get", "a.b.c", "--json"]).ok().json(),
        json!("dotted")
    );
    assert_eq!(p.run(&["get", "empty", "--json"]).ok().json(), json!(""));
    assert_eq!(p.run(&["get", "uni"]).ok().stdout(), "żółw 🐢");
    assert_eq!(
        p.run(&["get", "pem"]).ok().stdout(),
        "-----BEGIN X-----\nline\n-----END X-----\n"
    );
    assert_eq!(
        p.run(&["get", "inline", "--json"]).ok().json(),
        json!({"k": "v", "n": 1})
    );
    assert_eq!(p.run(&["get", "inline.n", "--json"]).ok().json(), json!(1));
}

#[test]
fn bad_usage_exits_2() {
    let p = sample();
    assert_eq!(p.run(&["get"]).code(), 2);
    assert_eq!(p.run(&["frobnicate"]).code(), 2);
    assert_eq!(p.run(&["get", "a..b"]).code(), 2);
    assert_eq!(p.run(&["profile", "a", "b", "c"]).code(), 2);
    assert_eq!(p.run(&["export", "--format", "yaml"]).code(), 2);
}
