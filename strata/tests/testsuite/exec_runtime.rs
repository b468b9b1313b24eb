//! `strata exec` as the parent of a long-running command (docs/runtime.md):
//! `--redact` masks every secret form in the command's output, streaming,
//! and forwards signals and the exit status; `--files` hands values on as
//! private files removed at exit; `--only` chooses sections; `--watch`
//! restarts or signals the command when a vault value rotates (a real
//! OpenBao).

use crate::boundary_files::child_env;
use crate::common::Project;
use base64::Engine as _;
use serde_json::json;
use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use strata_secrets_test_servers::openbao::OpenBao;

const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7Vx9yZ2bfQwJ\n-----END PRIVATE KEY-----\n";

fn project() -> Project {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        &format!(
            "[sources.pipedrive]\napi_key = \"pd-s3cr3t/with+chars \\\"q\\\"\"\n\n\
             [destination.bigquery.credentials]\nproject_id = \"my-project\"\n\
             client_email = \"loader@my-project.iam.gserviceaccount.com\"\nprivate_key = {}\n",
            serde_json::to_string(KEY).unwrap()
        ),
    );
    p.write(
        ".dlt/config.toml",
        "[sources.pipedrive]\nbase_url = \"https://api.example\"\n",
    );
    p
}

/// The forms a secret may take in a log, computed here independently of
/// strata's own code.
fn forms(secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let json = serde_json::to_string(secret).unwrap();
    let mut url = String::new();
    for b in secret.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    vec![
        secret.to_owned(),
        json[1..json.len() - 1].to_owned(),
        url,
        b64.encode(secret),
        b64url.encode(secret),
    ]
}

/// Every line a child prints, as it comes.
fn lines_of(from: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line holding `what`, for at most `within`.
#[track_caller]
fn expect_line(rx: &mpsc::Receiver<String>, what: &str, within: Duration) -> String {
    let until = Instant::now() + within;
    let mut seen = Vec::new();
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(what) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line with {what:?} within {within:?}; saw {seen:?}");
}

fn kill(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn redact_masks_every_form_of_every_secret_in_stdout_and_stderr() {
    let p = project();
    let api_key = "pd-s3cr3t/with+chars \"q\"";
    let mut printed = Vec::new();
    for s in [api_key, KEY] {
        printed.extend(forms(s));
    }
    for line in KEY.lines() {
        printed.push(line.to_owned());
    }
    let text = printed
        .iter()
        .map(|f| format!("<{f}>\n"))
        .collect::<String>();
    p.write("printed.txt", &text);
    let r = p.run(&[
        "exec",
        "--redact",
        "--",
        "sh",
        "-c",
        "cat printed.txt; cat printed.txt >&2; echo base=$SOURCES__PIPEDRIVE__BASE_URL",
    ]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    for out in [r.stdout(), r.stderr()] {
        for f in &printed {
            for piece in f.lines().filter(|l| l.chars().count() >= 4) {
                assert!(!out.contains(piece), "{piece:?} shown in {out}");
            }
        }
        assert!(out.contains("<***>"), "{out}");
    }
    // configuration is not secret: it is shown as it is
    assert!(
        r.stdout().contains("base=https://api.example"),
        "{}",
        r.stdout()
    );
    // without --redact the child's output is its own
    let r = p.run(&["exec", "--", "cat", "printed.txt"]);
    assert!(r.ok().stdout().contains(api_key));
}

#[test]
fn redact_catches_a_secret_split_across_writes_and_holds_no_clean_line_back() {
    let p = project();
    let mut child = p.spawn(&[
        "exec",
        "--redact",
        "--",
        "sh",
        "-c",
        // a clean line that starts like the secret, the secret in two
        // writes a moment apart, then a long pause
        "echo pd-s3; printf 'key=pd-s3cr'; sleep 0.3; printf '3t/with+chars \"q\" done\\n'; sleep 30",
    ]);
    let rx = lines_of(child.stdout.take().unwrap());
    let started = Instant::now();
    assert_eq!(expect_line(&rx, "pd-s3", Duration::from_secs(10)), "pd-s3");
    let line = expect_line(&rx, "done", Duration::from_secs(10));
    assert_eq!(line, "key=*** done");
    // each line came while the child still ran (it sleeps 30 s more)
    assert!(started.elapsed() < Duration::from_secs(20));
    kill(&child, "TERM");
    let status = child.wait().unwrap();
    // the shell died of the TERM strata forwarded: 128 + 15
    assert_eq!(status.code(), Some(143));
}

#[test]
fn supervised_exec_forwards_signals_and_the_exit_status() {
    let p = project();
    for signal in ["INT", "TERM", "HUP", "QUIT"] {
        let script = format!(
            "trap 'echo got {signal}; exit 7' {signal}; echo ready; while :; do sleep 0.05; done"
        );
        let mut child = p.spawn(&["exec", "--redact", "--", "sh", "-c", &script]);
        let rx = lines_of(child.stdout.take().unwrap());
        expect_line(&rx, "ready", Duration::from_secs(20));
        kill(&child, signal);
        expect_line(&rx, &format!("got {signal}"), Duration::from_secs(10));
        assert_eq!(child.wait().unwrap().code(), Some(7), "{signal}");
    }
    // a status, a signal's death, a command that is not there
    let r = p.run(&["exec", "--redact", "--", "sh", "-c", "exit 42"]);
    assert_eq!(r.code(), 42);
    let r = p.run(&["exec", "--redact", "--", "sh", "-c", "kill -9 $$"]);
    assert_eq!(r.code(), 137);
    let r = p.run(&["exec", "--redact", "--", "no-such-command-here"]);
    assert_eq!(r.code(), 127, "{}", r.stderr());
    assert!(
        r.stderr().contains("no-such-command-here"),
        "{}",
        r.stderr()
    );
}

/// A supervised child is held to no command deadline: the deadline bounds
/// resolving the values, not the pipeline's run.
#[test]
fn a_supervised_child_outlives_the_command_deadline() {
    let mut p = project();
    p.set_env("STRATA_DEADLINE", "1");
    let r = p.run(&[
        "exec",
        "--redact",
        "--",
        "sh",
        "-c",
        "sleep 2.5; echo finished",
    ]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(r.stdout(), "finished\n");
}

fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn files_hand_tables_and_multi_line_secrets_on_as_private_files() {
    let p = project();
    // a value too long for a variable, which plain exec refuses
    let long = "x".repeat(200 * 1024);
    p.write(
        ".dlt/dev.secrets.toml",
        &format!("[sources.big]\nblob = \"{long}\"\n[sources.other]\nnote = \"two\\nlines\"\n"),
    );
    p.write(".dlt/.workspace", "");
    let r = p.run(&["exec", "--", "true"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("--files"), "{}", r.stderr());

    let r = p.run(&[
        "exec",
        "--files",
        "--",
        "sh",
        "-c",
        "env -0; printf '\\0'; ls -ld \"$(dirname \"$GOOGLE_APPLICATION_CREDENTIALS\")\"",
    ]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let raw = r.0.stdout.clone();
    let env = child_env(&raw);
    // the credentials table is one JSON key file, Google's client reads it
    let key_file = std::path::PathBuf::from(&env["DESTINATION__BIGQUERY__CREDENTIALS_FILE"]);
    assert_eq!(
        env["GOOGLE_APPLICATION_CREDENTIALS"],
        key_file.display().to_string()
    );
    assert!(!env.contains_key("DESTINATION__BIGQUERY__CREDENTIALS__PRIVATE_KEY"));
    // a multi-line secret and a long value are files of their own
    assert!(env.contains_key("SOURCES__OTHER__NOTE_FILE"));
    assert!(env.contains_key("SOURCES__BIG__BLOB_FILE"));
    assert!(!env.contains_key("SOURCES__BIG__BLOB"));
    // a one-line secret and configuration stay variables
    assert_eq!(
        env["SOURCES__PIPEDRIVE__API_KEY"],
        "pd-s3cr3t/with+chars \"q\""
    );
    assert_eq!(env["SOURCES__PIPEDRIVE__BASE_URL"], "https://api.example");
    // the private directory is mode 700, and all of it is gone now
    let listing = String::from_utf8_lossy(raw.rsplit(|b| *b == 0).next().unwrap()).into_owned();
    assert!(listing.starts_with("drwx------"), "{listing}");
    assert!(!key_file.exists(), "{} left behind", key_file.display());
    assert!(!key_file.parent().unwrap().exists());

    // the key file's content, while the child runs
    let r = p.run(&[
        "exec",
        "--files",
        "--",
        "sh",
        "-c",
        "cat \"$GOOGLE_APPLICATION_CREDENTIALS\"; printf '\\n%s\\n' \"$(stat -c %a \"$GOOGLE_APPLICATION_CREDENTIALS\")\"; cat \"$SOURCES__OTHER__NOTE_FILE\"",
    ]);
    let out = r.ok().stdout();
    let mut parts = out.splitn(3, '\n');
    let key: serde_json::Value = serde_json::from_str(parts.next().unwrap()).unwrap();
    assert_eq!(key["type"], json!("service_account"));
    assert_eq!(key["private_key"], json!(KEY));
    assert_eq!(
        key["client_email"],
        json!("loader@my-project.iam.gserviceaccount.com")
    );
    assert_eq!(
        key["token_uri"],
        json!("https://oauth2.googleapis.com/token")
    );
    assert_eq!(parts.next().unwrap(), "600");
    assert_eq!(parts.next().unwrap(), "two\nlines");
}

#[test]
fn files_in_a_given_directory_never_replace_what_strata_did_not_write() {
    let p = project();
    let dir = p.path().join("handoff");
    // a directory strata makes is removed with its files
    let r = p.run(&["exec", &format!("--files={}", dir.display()), "--", "true"]);
    r.ok();
    assert!(!dir.exists());
    // in a directory the user made, strata removes only its own files
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("mine.txt"), "keep").unwrap();
    let target = dir.join("DESTINATION__BIGQUERY__CREDENTIALS.json");
    std::fs::write(&target, "the user's").unwrap();
    let r = p.run(&["exec", &format!("--files={}", dir.display()), "--", "true"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("strata did not write it"),
        "{}",
        r.stderr()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "the user's");
    std::fs::remove_file(&target).unwrap();
    // a link where the file goes is not followed
    let outside = p.path().join("outside.json");
    std::os::unix::fs::symlink(&outside, &target).unwrap();
    let r = p.run(&["exec", &format!("--files={}", dir.display()), "--", "true"]);
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(!outside.exists(), "written through a link");
    std::fs::remove_file(&target).unwrap();
    let r = p.run(&["exec", &format!("--files={}", dir.display()), "--", "true"]);
    r.ok();
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.txt")).unwrap(),
        "keep"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // a directory that is a link is refused
    let link = p.path().join("linked");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    let r = p.run(&["exec", &format!("--files={}", link.display()), "--", "true"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("is a link"), "{}", r.stderr());
}

#[test]
fn files_are_removed_when_strata_is_told_to_stop() {
    let p = project();
    let mut child = p.spawn(&[
        "exec",
        "--files",
        "--",
        "sh",
        "-c",
        "trap 'exit 0' TERM; echo \"$GOOGLE_APPLICATION_CREDENTIALS\"; while :; do sleep 0.05; done",
    ]);
    let rx = lines_of(child.stdout.take().unwrap());
    let path = expect_line(&rx, "/", Duration::from_secs(20));
    let path = std::path::PathBuf::from(path);
    assert!(path.exists());
    kill(&child, "TERM");
    child.wait().unwrap();
    assert!(!path.exists(), "{} left after a TERM", path.display());
    assert!(!path.parent().unwrap().exists());
}

#[test]
fn only_gives_the_command_the_sections_it_names() {
    let p = project();
    for mode in [&[][..], &["--redact"][..]] {
        let mut args = vec!["exec"];
        args.extend_from_slice(mode);
        args.extend(["--only", "sources.pipedrive", "--", "env", "-0"]);
        let r = p.run(&args);
        let env = child_env(&r.ok().0.stdout);
        assert!(env.contains_key("SOURCES__PIPEDRIVE__API_KEY"));
        assert!(env.contains_key("SOURCES__PIPEDRIVE__BASE_URL"));
        assert!(
            !env.keys().any(|k| k.starts_with("DESTINATION__")),
            "{mode:?}: {:?}",
            env.keys().collect::<Vec<_>>()
        );
    }
    // several sections
    let r = p.run(&[
        "exec",
        "--only",
        "sources",
        "destination.bigquery",
        "--",
        "env",
        "-0",
    ]);
    let env = child_env(&r.ok().0.stdout);
    assert!(env.contains_key("DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID"));
    // a section that gives nothing is a mistake, and the sections are named
    let r = p.run(&["exec", "--only", "source", "--", "true"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("destination, sources"),
        "{}",
        r.stderr()
    );
    let r = p.run(&["exec", "--only", "a..b", "--", "true"]);
    assert_eq!(r.code(), 2);
}

/// OpenBao with the value the child gets, the vault read again after a
/// second (max_age) and looked at every second (--watch-interval).
fn rotating(bao: &OpenBao) -> Project {
    bao.reset_kv("secret");
    bao.put(
        "secret",
        "dlt/sources/pipedrive",
        json!({"api_key": "first-value"}),
    );
    let mut p = Project::workspace();
    p.set_env("PROVIDERS__ENABLE_HASHICORP_VAULT", "true")
        .set_env("PROVIDERS__HASHICORP_VAULT__MAX_AGE", "1")
        .set_env("PROVIDERS__HASHICORP_VAULT__LIST_SECRETS", "true")
        .set_env("VAULT_ADDR", &bao.address())
        .set_env("VAULT_TOKEN", bao.root_token());
    p
}

#[test]
fn watch_restarts_the_command_when_a_vault_value_rotates() {
    let bao = OpenBao::start();
    let p = rotating(&bao);
    let mut child = p.spawn(&[
        "exec",
        "--watch",
        "--watch-interval",
        "1",
        "--",
        "sh",
        "-c",
        "echo \"run with $SOURCES__PIPEDRIVE__API_KEY\"; trap 'echo stopped; exit 0' TERM; while :; do sleep 0.05; done",
    ]);
    let rx = lines_of(child.stdout.take().unwrap());
    expect_line(&rx, "run with first-value", Duration::from_secs(20));
    bao.put(
        "secret",
        "dlt/sources/pipedrive",
        json!({"api_key": "second-value"}),
    );
    expect_line(&rx, "stopped", Duration::from_secs(20));
    expect_line(&rx, "run with second-value", Duration::from_secs(20));
    kill(&child, "TERM");
    expect_line(&rx, "stopped", Duration::from_secs(20));
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn watch_with_a_signal_rewrites_the_files_and_signals_the_command() {
    let bao = OpenBao::start();
    let p = rotating(&bao);
    bao.put(
        "secret",
        "dlt/destination/postgres",
        json!({"credentials": {"password": "pw-one", "username": "loader"}}),
    );
    let mut child = p.spawn(&[
        "exec",
        "--files",
        "--redact",
        "--watch",
        "--watch-interval",
        "1",
        "--on-change-signal",
        "HUP",
        "--",
        "sh",
        "-c",
        "show() { f=\"$DESTINATION__POSTGRES__CREDENTIALS_FILE\"; echo \"$$ sees $(md5sum < \"$f\" | cut -c1-8) $(tr -d '\\n' < \"$f\")\"; }; \
         trap show HUP; show; while :; do sleep 0.05; done",
    ]);
    let rx = lines_of(child.stdout.take().unwrap());
    let first = expect_line(&rx, "sees", Duration::from_secs(20));
    // the secret is masked in the output, and still in the file
    assert!(first.contains("\"password\":\"***\""), "{first}");
    let pid = first.split(' ').next().unwrap().to_owned();
    bao.put(
        "secret",
        "dlt/destination/postgres",
        json!({"credentials": {"password": "pw-two", "username": "loader"}}),
    );
    // the same process (no restart) reads the new file after its HUP; the
    // new secret is masked too
    let next = expect_line(&rx, "sees", Duration::from_secs(20));
    assert!(next.starts_with(&format!("{pid} ")), "{next} vs {first}");
    assert!(
        !next.contains("pw-two") && !next.contains("pw-one"),
        "{next}"
    );
    assert_ne!(next, first, "the file did not change");
    kill(&child, "TERM");
    child.wait().unwrap();
}
