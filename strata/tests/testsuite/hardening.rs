//! Hostile input, without a vault: a repository cloned from a stranger, an
//! environment with surprises, a closed stdout. Each test pins one class of
//! finding of the hardening issue (see docs/security.md).

use crate::common::Project;
use serde_json::json;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::Stdio;

fn sample() -> Project {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[sources.pipedrive]\napi_key = \"base-key\"\n[destination.pg.credentials]\npassword = \"pw\"\nhost = \"db\"\n",
    );
    p.write(".dlt/config.toml", "[runtime]\nlog_level = \"WARNING\"\n");
    p
}

/// A key in a committed config.toml is not a shell command under
/// `eval "$(strata export --format env)"`: a key whose variable name is not
/// `[A-Z_][A-Z0-9_]*` is refused, naming the key, its file and line.
#[test]
fn export_env_refuses_keys_that_are_not_variable_names() {
    let p = sample();
    let marker = p.path().join("pwned");
    p.write(
        ".dlt/config.toml",
        &format!(
            "[runtime]\nlog_level = \"WARNING\"\n\"x$(touch {})\" = 1\n",
            marker.display()
        ),
    );
    for args in [
        vec!["export", "--format", "env"],
        vec!["export", "--format", "dotenv"],
        vec!["exec", "--", "true"],
    ] {
        let r = p.run(&args);
        assert_eq!(r.code(), 2, "{args:?}: {}", r.all());
        let err = r.stderr();
        assert!(err.contains("config.toml:3"), "{err}");
        assert!(err.contains("portable environment variable"), "{err}");
        assert!(r.stdout().is_empty(), "{}", r.stdout());
    }
    assert!(!marker.exists());
    // octal escapes survive upper-casing: refused too
    p.write(
        ".dlt/config.toml",
        "[runtime]\n\"a$'\\\\101'\" = 1\n\"log_level=DEBUG\" = \"x\"\n",
    );
    let r = p.run(&["export", "--format", "env"]);
    assert_eq!(r.code(), 2, "{}", r.all());
}

/// The env formats are usable by a shell as they are: values are quoted,
/// whatever they hold.
#[test]
fn export_env_output_is_safe_to_eval() {
    let p = Project::workspace();
    let marker = p.path().join("pwned");
    p.write(
        ".dlt/secrets.toml",
        &format!(
            "[a]\nquote = \"it's\"\ncmd = \"$(touch {m}) `touch {m}`\"\nlines = \"one\\ntwo\"\n",
            m = marker.display()
        ),
    );
    let r = p.run(&["export", "--format", "env", "--reveal"]);
    let script = r.ok().stdout();
    assert_eq!(script.matches("export ").count(), 3, "{script}");
    let shell = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{script}\nprintf '%s|%s|%s' \"$A__QUOTE\" \"$A__CMD\" \"$A__LINES\""
        ))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&shell.stdout).into_owned();
    assert!(out.starts_with("it's|$(touch"), "{out}");
    assert!(out.ends_with("one\ntwo"), "{out}");
    assert!(!marker.exists());
    let r = p.run(&["export", "--format", "dotenv", "--reveal"]);
    assert!(
        r.ok().stdout().starts_with("A__QUOTE=\"it's\""),
        "{}",
        r.stdout()
    );
}

/// exec: a value with a NUL fails naming its key; `PATH` or `LD_PRELOAD`
/// from a file never reach the child: a top-level key makes no variable
/// (a warning names it), and a protected name under a section is refused.
#[test]
fn exec_refuses_nul_values_and_protected_variables() {
    let p = sample();
    p.write(".dlt/dev.secrets.toml", "[a]\nk = \"x\\u0000y\"\n");
    let r = p.run(&["exec", "--", "true"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("`a.k`"), "{}", r.stderr());
    assert!(r.stderr().contains("NUL"), "{}", r.stderr());
    for (key, var) in [("path", "PATH"), ("ld_preload", "LD_PRELOAD")] {
        p.write(".dlt/dev.secrets.toml", &format!("{key} = \"/tmp/evil\"\n"));
        let r = p.run(&["exec", "--", "sh", "-c", &format!("printf %s \"${var}\"")]);
        assert_eq!(r.code(), 0, "{}", r.all());
        assert!(!r.stdout().contains("/tmp/evil"), "{}", r.stdout());
        assert!(r.stderr().contains("top-level key"), "{}", r.stderr());
        assert!(r.stderr().contains("dev.secrets.toml:1"), "{}", r.stderr());
    }
    p.write(".dlt/dev.secrets.toml", "[ld_preload]\nx = \"/tmp/evil\"\n");
    let r = p.run(&["exec", "--", "true"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("LD_PRELOAD__X"), "{}", r.stderr());
}

/// export, exec and get of a table answer each key as `get` answers it: a
/// Kubernetes-mounted secret file reaches the child.
#[test]
fn every_command_sees_secret_files() {
    let p = sample();
    p.write("run-secrets/sources--pipedrive--api-key", "from-file");
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.ok().stdout(), "from-file");
    let r = p.run(&["get", "sources.pipedrive", "--json"]);
    assert_eq!(r.ok().json(), json!({"api_key": "from-file"}));
    let r = p.run(&["export", "--format", "json", "--reveal"]);
    assert_eq!(
        r.ok().json()["sources"]["pipedrive"]["api_key"],
        json!("from-file")
    );
    let r = p.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "printf %s \"$SOURCES__PIPEDRIVE__API_KEY\"",
    ]);
    assert_eq!(r.ok().stdout(), "from-file");
    // and an environment variable of one field overrides a table's
    let mut p = p;
    p.set_env("DESTINATION__PG__CREDENTIALS__HOST", "env-host");
    let r = p.run(&["get", "destination.pg.credentials", "--json"]);
    assert_eq!(r.ok().json(), json!({"password": "pw", "host": "env-host"}));
}

fn not_utf8() -> OsString {
    OsString::from_vec(b"x\xffy".to_vec())
}

/// A variable strata reads whose value is not UTF-8 is an error naming it,
/// never skipped for another provider's value.
#[test]
fn environment_values_that_are_not_utf8_are_errors_naming_the_variable() {
    for (var, args) in [
        (
            "SOURCES__PIPEDRIVE__API_KEY",
            vec!["get", "sources.pipedrive.api_key"],
        ),
        (
            "WORKSPACE__PROFILE",
            vec!["get", "sources.pipedrive.api_key"],
        ),
        (
            "STRATA_SECRETS_DIR",
            vec!["get", "sources.pipedrive.api_key"],
        ),
        ("DLT_PROJECT_DIR", vec!["profile"]),
    ] {
        let mut p = sample();
        p.os_env.push((var.to_owned(), not_utf8()));
        let r = if var == "DLT_PROJECT_DIR" {
            // without --workspace, so that the variable is read
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
                .env_clear()
                .env("HOME", p.path().join("home"))
                .env(var, not_utf8())
                .args(&args)
                .current_dir(p.path())
                .output()
                .unwrap();
            crate::common::Run(out)
        } else {
            p.run(&args)
        };
        assert_eq!(r.code(), 2, "{var}: {}", r.all());
        assert!(r.stderr().contains(var), "{var}: {}", r.stderr());
        assert!(r.stderr().contains("not UTF-8"), "{var}: {}", r.stderr());
    }
}

/// `--workspace` naming nothing is bad usage, not a missing value.
#[test]
fn a_workspace_that_does_not_exist_is_exit_2() {
    let p = sample();
    let gone = p.path().join("nope");
    let r = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["--workspace", gone.to_str().unwrap(), "get", "x"])
        .env_clear()
        .output()
        .unwrap();
    let r = crate::common::Run(r);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("nope"), "{}", r.stderr());
}

/// `.dlt/secrets.toml -> /dev/zero` reads nothing without end, and a FIFO
/// does not hang: only regular files are read.
#[test]
fn a_secrets_file_that_is_a_device_or_a_fifo_is_an_error_not_a_hang() {
    let p = sample();
    std::fs::remove_file(p.path().join(".dlt/secrets.toml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", p.path().join(".dlt/secrets.toml")).unwrap();
    let r = p.run(&["get", "x"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("a device"), "{}", r.stderr());
    std::fs::remove_file(p.path().join(".dlt/secrets.toml")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(p.path().join(".dlt/secrets.toml"))
        .status()
        .unwrap();
    assert!(made.success());
    let r = p.run(&["get", "x"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("FIFO"), "{}", r.stderr());
}

/// A full disk or a closed pipe is never exit 0 and never a panic.
#[test]
fn output_that_cannot_be_written_is_exit_2_never_a_panic() {
    let p = sample();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let r = p.run_to(&["get", "sources.pipedrive.api_key"], Stdio::from(full));
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("cannot write"), "{}", r.stderr());
    for args in [
        vec!["get", "sources.pipedrive.api_key", "--json"],
        vec!["explain", "sources.pipedrive.api_key"],
        vec!["check"],
        vec!["names", "a.b"],
        vec!["profile", "list"],
        vec!["export"],
    ] {
        // a pipe whose reader is gone
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let r = p.run_to(&args, Stdio::from(writer));
        assert_eq!(r.code(), 2, "{args:?}: {}", r.all());
        assert!(!r.stderr().contains("panicked"), "{args:?}: {}", r.stderr());
    }
}

/// STRATA_LOG takes a level or nothing.
#[test]
fn an_unknown_log_level_is_an_error() {
    let mut p = sample();
    p.set_env("STRATA_LOG", "bogus");
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("STRATA_LOG"), "{}", r.stderr());
}

/// init never rewrites what it did not write: a .gitignore that is not
/// UTF-8 keeps every byte and gets lines appended; a link is refused.
#[test]
fn init_appends_to_gitignore_and_keeps_every_byte() {
    let p = Project::classic();
    let rules: &[u8] = b"# mine\n\xff\xfe-binary-rule\n*.log";
    std::fs::write(p.path().join(".gitignore"), rules).unwrap();
    p.run(&["init"]).ok();
    let after = std::fs::read(p.path().join(".gitignore")).unwrap();
    assert!(after.starts_with(rules), "{after:?}");
    let tail = String::from_utf8_lossy(&after[rules.len()..]).into_owned();
    assert!(tail.contains(".dlt/*.secrets.toml"), "{tail}");
    // a second init changes nothing
    p.run(&["init"]).ok();
    assert_eq!(std::fs::read(p.path().join(".gitignore")).unwrap(), after);
    // --json says what it did
    let r = p.run(&["init", "--dry-run", "--json"]);
    assert_eq!(r.ok().json()["dry_run"], json!(true));
}

/// init with a dangling link in its way writes nothing, outside the
/// workspace or in it.
#[test]
fn init_refuses_links_and_leaves_nothing_half_done() {
    let outside = tempfile::tempdir().unwrap();
    let p = Project::classic();
    std::os::unix::fs::symlink(
        outside.path().join("config.toml"),
        p.path().join(".dlt/config.toml"),
    )
    .unwrap();
    let r = p.run(&["init"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("symbolic link"), "{}", r.stderr());
    assert!(!outside.path().join("config.toml").exists());
    assert!(!p.path().join(".dlt/.workspace").exists());
    assert!(!p.path().join(".gitignore").exists());
    // a linked .gitignore too
    let q = Project::classic();
    std::fs::write(outside.path().join("gi"), "keep\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("gi"), q.path().join(".gitignore")).unwrap();
    assert_eq!(q.run(&["init"]).code(), 2);
    assert_eq!(
        std::fs::read_to_string(outside.path().join("gi")).unwrap(),
        "keep\n"
    );
}

/// pin never writes through a link, and a reader never sees half a pin.
#[test]
fn pin_is_atomic_and_never_follows_a_link() {
    let outside = tempfile::tempdir().unwrap();
    let p = sample();
    let target = outside.path().join("victim");
    std::fs::write(&target, "precious\n").unwrap();
    std::os::unix::fs::symlink(&target, p.path().join(".dlt/profile-name")).unwrap();
    let r = p.run(&["profile", "prod", "pin"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("symbolic link"), "{}", r.stderr());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    std::fs::remove_file(p.path().join(".dlt/profile-name")).unwrap();
    // readers while the pin changes: always a whole pin
    p.write(".dlt/prod.secrets.toml", "[x]\nk = 1\n");
    let root = p.path().to_path_buf();
    let writer = std::thread::spawn(move || {
        let q = Project::at(root, Vec::new());
        for i in 0..60 {
            q.run(&["profile", if i % 2 == 0 { "prod" } else { "dev" }, "pin"])
                .ok();
        }
    });
    for _ in 0..60 {
        let j = p.run(&["profile", "--json"]).ok().json();
        let source = j["source"].as_str().unwrap_or_default().to_owned();
        assert!(source == ".dlt/profile-name" || source == "default", "{j}");
        if source == ".dlt/profile-name" {
            assert!(
                j["current"] == json!("prod") || j["current"] == json!("dev"),
                "{j}"
            );
        }
    }
    writer.join().unwrap();
    // a profile without files warns
    let r = p.run(&["profile", "staging", "pin"]);
    assert!(
        r.ok().stderr().contains("no files of its own"),
        "{}",
        r.stderr()
    );
}

/// clean never deletes through a link.
#[test]
fn clean_refuses_a_linked_data_dir() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep"), "x").unwrap();
    let p = sample();
    std::fs::create_dir_all(p.path().join(".dlt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), p.path().join(".dlt/data")).unwrap();
    let r = p.run(&["workspace", "clean"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("symbolic link"), "{}", r.stderr());
    assert!(outside.path().join("keep").exists());
}

/// Linear work: many keys export at once; a path thousands of segments
/// deep is refused at once.
#[test]
fn many_keys_and_deep_paths_take_linear_work() {
    let p = Project::workspace();
    let mut text = String::from("[s]\n");
    for i in 0..20_000 {
        text.push_str(&format!("k{i} = \"v{i}\"\n"));
    }
    p.write(".dlt/secrets.toml", &text);
    let started = std::time::Instant::now();
    let r = p.run(&["export", "--format", "env"]);
    assert_eq!(r.ok().stdout().lines().count(), 20_000);
    // the quadratic version took minutes here; this is a bound, not a benchmark
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let deep = vec!["s"; 4000].join(".");
    let r = p.run(&["explain", &deep]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("too long"), "{}", r.stderr());
}

/// A classic project with profile files says they are ignored.
#[test]
fn classic_mode_says_which_profile_files_it_ignores() {
    let p = Project::classic();
    p.write(".dlt/dev.secrets.toml", "[a]\nk = 1\n");
    let r = p.run(&["get", "a.k"]);
    assert_eq!(r.code(), 1, "{}", r.all());
    assert!(r.stderr().contains("dev.secrets.toml"), "{}", r.stderr());
    assert!(r.stderr().contains("classic project"), "{}", r.stderr());
    assert!(r.stderr().contains("strata init"), "{}", r.stderr());
}

/// explain of a secret found in config.toml shows what it asked, then the
/// error.
#[test]
fn explain_shows_the_trace_of_a_value_not_secret() {
    let p = Project::workspace();
    p.write(".dlt/config.toml", "[sources.x]\ntoken = \"t\"\n");
    let r = p.run(&["explain", "sources.x.token"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stdout().contains("SOURCES__X__TOKEN"), "{}", r.stdout());
    assert!(
        r.stderr().contains("may not hold secrets"),
        "{}",
        r.stderr()
    );
}

/// Group-readable and world-readable are told apart.
#[test]
fn check_says_who_can_read_a_secrets_file() {
    use std::os::unix::fs::PermissionsExt;
    let p = sample();
    p.write(".gitignore", ".dlt/*secrets*.toml\n");
    let f = p.path().join(".dlt/secrets.toml");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let r = p.run(&["check"]);
    assert!(
        r.stdout().contains("readable by its group"),
        "{}",
        r.stdout()
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o604)).unwrap();
    let r = p.run(&["check"]);
    assert!(
        r.stdout().contains("readable by every user"),
        "{}",
        r.stdout()
    );
}
