//! The conformance suite against the `command` backend twice: over the
//! real `pass` (Debian's package, with a GnuPG key made for the run), and
//! over a scripted helper that can hang, fail, print too much or print
//! garbage. Then what only this backend has: the trust rule's setting
//! checks, the process group killed at the timeout, standard error shown as
//! text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strata_secrets_command::CommandBackend;
use strata_secrets_conformance::{
    CaseResult, Fault, ServerFaults, Suite, VaultHarness, VaultSetup,
};
use strata_secrets_core::vault::kit::{self, Backend};
use strata_secrets_core::vault::{Descriptor, Fetched, VaultBackend};
use strata_secrets_core::{Environment, ErrorKind, Table, Value};

fn check(ok: bool, what: impl Into<String>) -> CaseResult {
    if ok { Ok(()) } else { Err(what.into()) }
}

fn array(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(*s)).collect())
}

fn settings(pairs: &[(&str, Value)]) -> Table {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

// --- the real `pass`

/// A password store and a GnuPG home made for the run.
struct PassHarness {
    dir: tempfile::TempDir,
}

impl PassHarness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let gnupg = dir.path().join("gnupg");
        std::fs::create_dir(&gnupg).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let h = PassHarness { dir };
        let made = h
            .cmd("gpg")
            .args([
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--quick-gen-key",
                "strata-test <test@strata.invalid>",
                "default",
                "default",
                "never",
            ])
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run gpg ({e}): bash .ci/setup installs gnupg and pass")
            });
        assert!(
            made.status.success(),
            "gpg: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        let init = h
            .cmd("pass")
            .args(["init", "test@strata.invalid"])
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run pass ({e}): bash .ci/setup installs Debian's pass")
            });
        assert!(
            init.status.success(),
            "pass init: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        h
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), self.dir.path().display().to_string()),
            (
                "GNUPGHOME".into(),
                self.dir.path().join("gnupg").display().to_string(),
            ),
            (
                "PASSWORD_STORE_DIR".into(),
                self.store().display().to_string(),
            ),
        ]
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear().envs(self.env()).stdin(Stdio::null());
        c
    }

    fn insert(&self, name: &str, payload: &[u8]) {
        use std::io::Write;
        let mut child = self
            .cmd("pass")
            .args(["insert", "--multiline", "--force", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(payload).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "pass insert: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn table(&self) -> Table {
        settings(&[
            ("fetch", array(&["pass", "show", "{name}"])),
            (
                "list",
                array(&[
                    "sh",
                    "-c",
                    "cd \"$PASSWORD_STORE_DIR\" && find . -name '*.gpg' | sed -e 's|^\\./||' -e 's|\\.gpg$||'",
                ]),
            ),
            (
                "not_found_stderr",
                Value::from("is not in the password store"),
            ),
            ("trim_newline", Value::Boolean(false)),
            ("timeout", Value::Float(20.0)),
        ])
    }
}

#[strata_secrets_core::async_trait]
impl VaultHarness for PassHarness {
    fn descriptor(&self) -> &'static Descriptor {
        &strata_secrets_command::DESCRIPTOR
    }

    fn server(&self) -> ServerFaults {
        ServerFaults::default()
    }

    fn serial(&self) -> bool {
        true
    }

    fn label(&self) -> &str {
        "command_pass"
    }

    async fn make(&self, setup: &VaultSetup) -> Arc<dyn VaultBackend> {
        // a fresh store: every entry of the last case removed
        for entry in std::fs::read_dir(self.store()).unwrap().flatten() {
            if entry.file_name() != ".gpg-id" {
                let p = entry.path();
                if p.is_dir() {
                    std::fs::remove_dir_all(p).unwrap();
                } else {
                    std::fs::remove_file(p).unwrap();
                }
            }
        }
        for (name, payload) in &setup.secrets {
            self.insert(name, payload);
        }
        let env = Environment::from_pairs(self.env());
        Arc::new(
            kit::connect_with::<CommandBackend>(&self.table(), &env)
                .await
                .unwrap(),
        )
    }
}

// --- a scripted helper

const HELPER: &str = r#"#!/bin/sh
# helper.sh DIR get NAME | helper.sh DIR list
dir=$1; op=$2; name=$3
case "$(cat "$dir/mode" 2>/dev/null)" in
  hang) sleep 30 & echo $! > "$dir/grandchild"; wait; exit 0 ;;
  fail) printf 'helper: the store is unreachable\033[31m (red)\n' >&2; exit 7 ;;
  flood) while :; do printf 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'; done ;;
  crash) kill -9 $$ ;;
  count) mkdir -p "$dir/running"; : > "$dir/running/$$"
         ls "$dir/running" | wc -l >> "$dir/seen"; sleep 0.2; rm -f "$dir/running/$$" ;;
esac
file="$dir/secrets/$(printf '%s' "$name" | sed 's|/|%2F|g')"
case "$op" in
  get) if [ -f "$file" ]; then cat "$file"; exit 0; fi
       echo "no secret $name" >&2; exit 3 ;;
  list) ls "$dir/secrets" | sed 's|%2F|/|g' ;;
esac
"#;

/// A directory with the helper script and its secrets.
struct Scripted {
    dir: tempfile::TempDir,
}

impl Scripted {
    fn new(setup: &VaultSetup) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("helper.sh"), HELPER).unwrap();
        std::fs::create_dir(dir.path().join("secrets")).unwrap();
        for (name, payload) in &setup.secrets {
            let p = dir.path().join("secrets").join(name.replace('/', "%2F"));
            std::fs::write(p, payload).unwrap();
        }
        let mode = match setup.fault {
            Some(Fault::Timeout) => "hang",
            Some(_) => "fail",
            None => "",
        };
        std::fs::write(dir.path().join("mode"), mode).unwrap();
        Scripted { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn set_mode(&self, mode: &str) {
        std::fs::write(self.path().join("mode"), mode).unwrap();
    }

    fn table(&self, timeout: f64) -> Table {
        let dir = self.path().display().to_string();
        let script = self.path().join("helper.sh").display().to_string();
        settings(&[
            ("fetch", array(&["sh", &script, &dir, "get", "{name}"])),
            ("list", array(&["sh", &script, &dir, "list"])),
            ("not_found_status", Value::Integer(3)),
            ("trim_newline", Value::Boolean(false)),
            ("timeout", Value::Float(timeout)),
        ])
    }

    async fn backend(&self, timeout: f64) -> CommandBackend {
        self.backend_with(self.table(timeout)).await
    }

    async fn backend_with(&self, table: Table) -> CommandBackend {
        let env = Environment::from_pairs([("PATH", std::env::var("PATH").unwrap_or_default())]);
        kit::connect_with::<CommandBackend>(&table, &env)
            .await
            .unwrap()
    }
}

struct ScriptHarness {
    dirs: Mutex<Vec<Scripted>>,
}

#[strata_secrets_core::async_trait]
impl VaultHarness for ScriptHarness {
    fn descriptor(&self) -> &'static Descriptor {
        &strata_secrets_command::DESCRIPTOR
    }

    fn server(&self) -> ServerFaults {
        ServerFaults {
            faults: vec![Fault::Unavailable, Fault::Timeout],
            ..ServerFaults::default()
        }
    }

    fn label(&self) -> &str {
        "command_script"
    }

    async fn make(&self, setup: &VaultSetup) -> Arc<dyn VaultBackend> {
        let s = Scripted::new(setup);
        let timeout = if setup.fault == Some(Fault::Timeout) {
            0.3
        } else {
            10.0
        };
        let backend = s.backend(timeout).await;
        self.dirs.lock().unwrap().push(s);
        Arc::new(backend)
    }
}

// --- what only the command backend has

/// Whether `pid` runs (a zombie, ended but not yet reaped by whoever
/// inherited it, does not).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_owned))
        })
        .is_some_and(|state| state != "Z" && state != "X")
}

async fn a_hung_helper_is_killed_with_its_process_group() -> CaseResult {
    let s = Scripted::new(&VaultSetup::with(&[("sources/a", "x")]));
    s.set_mode("hang");
    let b = s.backend(0.5).await;
    let started = Instant::now();
    let e = b.fetch("sources/a").await.unwrap_err();
    check(
        started.elapsed() < Duration::from_secs(5),
        "it waited for the hung helper",
    )?;
    check(
        e.kind() == ErrorKind::Unavailable && e.to_string().contains("did not finish within"),
        format!("the timeout error: {e}"),
    )?;
    check(!e.is_temporary(), "a hung helper is not tried again")?;
    let grandchild = std::fs::read_to_string(s.path().join("grandchild")).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    check(
        !alive(&grandchild),
        "the helper's own child was left running",
    )
}

async fn failures_show_stderr_as_text_and_never_the_value() -> CaseResult {
    let s = Scripted::new(&VaultSetup::with(&[("sources/a", "canary-value")]));
    let b = s.backend(10.0).await;
    // found, not found
    check(
        matches!(b.fetch("sources/a").await, Ok(Fetched::Found(_))),
        "found",
    )?;
    check(
        matches!(b.fetch("sources/b").await, Ok(Fetched::NotFound)),
        "exit 3 is not found",
    )?;
    // a failure shows the status and stderr, escaped
    s.set_mode("fail");
    let e = b.fetch("sources/a").await.unwrap_err();
    let text = e.to_string();
    check(
        text.contains("exited with status 7"),
        format!("status: {text}"),
    )?;
    check(
        text.contains("the store is unreachable"),
        format!("stderr: {text}"),
    )?;
    check(
        !text.contains('\u{1b}'),
        format!("a control character reached the message: {text:?}"),
    )?;
    check(!text.contains("canary"), "the value is in the error")?;
    // a flood is cut off, a crash is a signal
    s.set_mode("flood");
    let e = b.fetch("sources/a").await.unwrap_err();
    check(e.to_string().contains("more than"), format!("flood: {e}"))?;
    s.set_mode("crash");
    let e = b.fetch("sources/a").await.unwrap_err();
    check(e.to_string().contains("signal 9"), format!("crash: {e}"))?;
    // garbage that is not text is an error, not a value
    s.set_mode("");
    std::fs::write(s.path().join("secrets/sources%2Fa"), [0xff, 0xfe]).unwrap();
    let e = b.fetch("sources/a").await.unwrap_err();
    check(e.kind() == ErrorKind::Conversion, format!("garbage: {e}"))
}

async fn arguments_are_never_read_by_a_shell() -> CaseResult {
    let s = Scripted::new(&VaultSetup::default());
    let marker = s.path().join("ran");
    // a name can only hold what the naming rule allows: `;`, `$`, spaces
    // never reach the command line
    let b = s.backend(10.0).await;
    let e = b
        .naming()
        .name(&strata_secrets_core::Path::parse("sources.\"a; touch x\"").unwrap());
    check(
        e.as_ref()
            .map(|n| !n.contains(';') && !n.contains(' '))
            .unwrap_or(true),
        format!("a name with shell characters: {e:?}"),
    )?;
    // `{name}` goes into one argument as it is: the helper sees it whole
    let _ = b.fetch("sources/a b;touch ran").await;
    check(!marker.exists(), "a shell read the arguments")
}

/// The most helpers the `count` mode saw running at once.
async fn most_at_once(parallel: Option<i64>, lookups: usize) -> Result<usize, String> {
    let s = Scripted::new(&VaultSetup::with(&[("sources/a", "x")]));
    s.set_mode("count");
    let mut table = s.table(20.0);
    if let Some(n) = parallel {
        table.insert("parallel".into(), Value::Integer(n));
    }
    let b = s.backend_with(table).await;
    let fetches = (0..lookups).map(|_| b.fetch("sources/a"));
    for got in futures::future::join_all(fetches).await {
        got.map_err(|e| e.to_string())?;
    }
    let seen = std::fs::read_to_string(s.path().join("seen")).map_err(|e| e.to_string())?;
    let counts: Vec<usize> = seen.lines().filter_map(|l| l.trim().parse().ok()).collect();
    check(
        counts.len() == lookups,
        format!("{} helpers ran", counts.len()),
    )?;
    Ok(counts.into_iter().max().unwrap_or(0))
}

async fn at_most_parallel_commands_run_at_once() -> CaseResult {
    let most = most_at_once(Some(3), 24).await?;
    check(
        (2..=3).contains(&most),
        format!("with parallel = 3, {most} ran at once"),
    )?;
    let most = most_at_once(None, 24).await?;
    check(
        (2..=8).contains(&most),
        format!("by default, {most} ran at once (at most 8)"),
    )
}

async fn settings_are_checked() -> CaseResult {
    let env = Environment::default();
    for (table, wanted) in [
        (settings(&[("fetch", array(&[]))]), "program"),
        (settings(&[("fetch", array(&["pass", "show"]))]), "{name}"),
        (
            settings(&[
                ("fetch", array(&["x", "{name}"])),
                ("separator", Value::from(";")),
            ]),
            "separator",
        ),
        (
            settings(&[
                ("fetch", array(&["x", "{name}"])),
                ("prefix", Value::from("a b")),
            ]),
            "prefix",
        ),
        (
            settings(&[
                ("fetch", array(&["x", "{name}"])),
                ("not_found_status", Value::Integer(0)),
            ]),
            "not_found_status",
        ),
        (
            settings(&[
                ("fetch", array(&["x", "{name}"])),
                ("parallel", Value::Integer(0)),
            ]),
            "parallel",
        ),
        (Table::default(), "fetch"),
    ] {
        match kit::connect_with::<CommandBackend>(&table, &env).await {
            Ok(_) => return Err(format!("{table:?} was accepted")),
            Err(e) => check(
                e.kind() == ErrorKind::ConfigInvalid || e.is_missing(),
                format!("{wanted}: {e:?}"),
            )
            .and(check(
                e.to_string().contains(wanted),
                format!("{wanted}: {e}"),
            ))?,
        }
    }
    // a program that is not there is bad settings, named
    let t = settings(&[("fetch", array(&["no-such-helper-here", "{name}"]))]);
    let b = kit::connect_with::<CommandBackend>(&t, &env).await.unwrap();
    let e = b.fetch("x").await.unwrap_err();
    check(
        e.kind() == ErrorKind::ConfigInvalid && e.to_string().contains("no-such-helper-here"),
        format!("a missing program: {e}"),
    )
}

fn main() -> std::process::ExitCode {
    Suite::new()
        .vault(PassHarness::new())
        .vault(ScriptHarness {
            dirs: Mutex::new(Vec::new()),
        })
        .test(
            "command::a_hung_helper_is_killed_with_its_process_group",
            a_hung_helper_is_killed_with_its_process_group,
        )
        .test(
            "command::failures_show_stderr_as_text_and_never_the_value",
            failures_show_stderr_as_text_and_never_the_value,
        )
        .test(
            "command::arguments_are_never_read_by_a_shell",
            arguments_are_never_read_by_a_shell,
        )
        .test(
            "command::at_most_parallel_commands_run_at_once",
            at_most_parallel_commands_run_at_once,
        )
        .test("command::settings_are_checked", settings_are_checked)
        .run()
}
