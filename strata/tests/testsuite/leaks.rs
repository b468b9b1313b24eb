//! No command but `get` and `export --reveal` prints a secret value, in any
//! output or error. Every value below is a canary; each command's stdout and
//! stderr are searched for every canary.

use crate::common::Project;

const CANARIES: &[&str] = &[
    "canary-toml-secret-1",
    "canary-profile-secret-2",
    "canary-env-secret-3",
    "canary-file-secret-4",
    "canary-config-5",
    "canary-inline-6",
];

fn project() -> Project {
    let mut p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[sources.pipedrive]\napi_key = \"canary-toml-secret-1\"\n[destination.pg.credentials]\npassword = \"canary-inline-6\"\nport = 5432\n",
    );
    p.write(
        ".dlt/prod.secrets.toml",
        "[sources.pipedrive]\napi_key = \"canary-profile-secret-2\"\n[providers]\nenable_google_secrets = true\n",
    );
    p.write(
        ".dlt/config.toml",
        "[sources.pipedrive]\ntoken = \"canary-config-5\"\n",
    );
    p.write(
        "run-secrets/destination--pg--credentials--user",
        "canary-file-secret-4",
    );
    p.set_env("DESTINATION__PG__CREDENTIALS__HOST", "canary-env-secret-3");
    p
}

fn assert_no_canary(what: &str, text: &str) {
    for c in CANARIES {
        assert!(!text.contains(c), "`{what}` printed {c}:\n{text}");
    }
}

#[test]
fn no_command_but_get_and_reveal_prints_a_secret() {
    let p = project();
    let commands: Vec<Vec<&str>> = vec![
        vec!["explain", "sources.pipedrive.api_key"],
        vec!["explain", "sources.pipedrive.api_key", "--json"],
        vec!["--profile", "prod", "explain", "sources.pipedrive.api_key"],
        vec!["explain", "destination.pg.credentials.host"],
        vec!["explain", "destination.pg.credentials.user"],
        vec!["explain", "destination.pg.credentials"],
        vec!["explain", "sources.pipedrive.token"],
        vec!["explain", "sources.pipedrive.token", "--config"],
        vec!["explain", "sources.pipedrive.missing"],
        vec!["get", "sources.pipedrive.missing"],
        vec!["get", "sources.pipedrive.token"],
        vec![
            "get",
            "sources.pipedrive.api_key",
            "--json",
            "--pipeline",
            "",
        ],
        vec!["get", "destination.pg.credentials.port.below"],
        vec!["export"],
        vec!["export", "--format", "json"],
        vec!["export", "--format", "env"],
        vec!["--profile", "prod", "export", "--format", "json"],
        vec!["names", "sources.pipedrive.api_key"],
        vec!["check"],
        vec!["--profile", "prod", "check", "--json"],
        vec!["workspace", "info"],
        vec!["workspace", "info", "--json"],
        vec!["profile"],
        vec!["profile", "list"],
        vec!["init", "--dry-run"],
        vec!["--profile", "access", "workspace", "clean"],
    ];
    for args in &commands {
        let r = p.run(args);
        let mut out = r.all();
        if args.contains(&"export") {
            // export shows configuration values (config.toml) by design
            out = out.replace("canary-config-5", "");
        }
        assert_no_canary(&args.join(" "), &out);
    }
}

#[test]
fn errors_of_malformed_files_print_no_secret() {
    let p = project();
    // each with a path the broken file may hold, so that lookups read it
    for (broken, path) in [
        (
            "[sources.pipedrive]\napi_key = \"canary-toml-secret-1\n",
            "sources.pipedrive.api_key",
        ),
        ("api_key = canary-toml-secret-1\n", "api_key"),
        (
            "[a]\nk = \"canary-toml-secret-1\"\n[a]\nk = \"canary-inline-6\"\n",
            "a.k",
        ),
        (
            "k = { x = \"canary-toml-secret-1\", x = \"canary-inline-6\" }\n",
            "k.x",
        ),
    ] {
        p.write(".dlt/dev.secrets.toml", broken);
        for args in [
            vec!["get", path],
            vec!["export"],
            vec!["export", "--reveal"],
            vec!["explain", path],
            vec!["check"],
        ] {
            let r = p.run(&args);
            assert_eq!(r.code(), 2, "{}", r.all());
            assert_no_canary(&args.join(" "), &r.all());
        }
    }
    // the alias conflict names files and key, not values
    p.write(".dlt/dev.secrets.toml", "k = \"canary-toml-secret-1\"\n");
    p.write(".dlt/secrets.dev.toml", "k = \"canary-inline-6\"\n");
    let r = p.run(&["get", "k"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("secrets.dev.toml"), "{}", r.stderr());
    assert_no_canary("alias conflict", &r.all());
}

#[test]
fn conversion_errors_print_no_secret() {
    // a typed read of a secret that does not parse names path, provider and type
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let p = project();
    let strata = strata_secrets::Strata::open_local(strata_secrets::Options {
        run_dir: Some(p.path().to_path_buf()),
        global_dir: Some(p.path().join("global")),
        env: Some(strata_secrets::Environment::from_pairs([(
            "X__PORT",
            "canary-env-secret-3",
        )])),
        ..Default::default()
    })
    .unwrap();
    let err = rt.block_on(strata.config::<u16>("x.port")).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("x.port") && text.contains("u16") && text.contains("environment"),
        "{text}"
    );
    assert_no_canary("conversion error", &text);
    let resolved = rt
        .block_on(strata.get(
            "sources.pipedrive.api_key",
            &strata_secrets::Lookup::secret(),
        ))
        .unwrap();
    assert_no_canary("Debug of Resolved", &format!("{resolved:?}"));
    assert_no_canary("Debug of Strata", &format!("{strata:?}"));
}

#[test]
fn get_and_export_reveal_do_print_secrets() {
    // the positive control: the canaries are really reachable
    let p = project();
    assert_eq!(
        p.run(&["get", "sources.pipedrive.api_key"]).ok().stdout(),
        "canary-toml-secret-1"
    );
    assert_eq!(
        p.run(&["get", "destination.pg.credentials.user"])
            .ok()
            .stdout(),
        "canary-file-secret-4"
    );
    let revealed = p
        .run(&["export", "--reveal", "--format", "json"])
        .ok()
        .stdout();
    assert!(
        revealed.contains("canary-toml-secret-1") && revealed.contains("canary-inline-6"),
        "{revealed}"
    );
}
