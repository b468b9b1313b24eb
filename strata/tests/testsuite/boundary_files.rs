//! Trust boundary: the repository's files (docs/security.md). A workspace
//! the user cloned is data: its files never choose how a program runs, what
//! strata deletes, or where it writes outside the workspace, and each key
//! has one answer. Each rule is checked over generated variants, not only
//! the cases that were reported.

use crate::common::{Project, python};
use std::collections::HashMap;

/// Variables that change how a program runs (its loader, interpreter,
/// shell, network routes, helpers it starts). No workspace key may set one.
const DANGEROUS: &[&str] = &[
    "PATH",
    "HOME",
    "SHELL",
    "IFS",
    "ENV",
    "BASH_ENV",
    "PS1",
    "PS4",
    "PROMPT_COMMAND",
    "CDPATH",
    "TMPDIR",
    "BROWSER",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "MANPAGER",
    "GIT_PAGER",
    "LESSOPEN",
    "LESSCLOSE",
    "PYTHONWARNINGS",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONINSPECT",
    "PYTHONBREAKPOINT",
    "PYTHONUSERBASE",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "DYLD_INSERT_LIBRARIES",
    "GCONV_PATH",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "LOCPATH",
    "NLSPATH",
    "MALLOC_CHECK_",
    "RESOLV_HOST_CONF",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_EXEC_PATH",
    "GIT_PROXY_COMMAND",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_KEY_0",
    "GIT_CONFIG_VALUE_0",
    "NODE_OPTIONS",
    "NODE_PATH",
    "JAVA_TOOL_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "CLASSPATH",
    "PERL5LIB",
    "PERL5OPT",
    "PERLLIB",
    "RUBYOPT",
    "RUBYLIB",
    "GEM_PATH",
    "LUA_PATH",
    "TCLLIBPATH",
    "R_PROFILE",
    "R_ENVIRON",
    "PHPRC",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "XDG_CONFIG_HOME",
    "TERMINFO",
    "KRB5CCNAME",
    "AWS_CONFIG_FILE",
    "DOCKER_HOST",
    "KUBECONFIG",
    "VAULT_ADDR",
    "PGPASSFILE",
];

/// The environment the child of `exec -- env -0` saw.
pub fn child_env(stdout: &[u8]) -> HashMap<String, String> {
    stdout
        .split(|b| *b == 0)
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            let kv = String::from_utf8_lossy(kv);
            let (k, v) = kv.split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// A top-level key never becomes a variable, whatever it is named, from
/// either file: each is skipped with a warning naming it and its
/// file:line, and stays readable through `get`. `exec`, `export --format
/// env` and `--format dotenv` agree.
#[test]
fn top_level_keys_never_become_variables() {
    let p = Project::workspace();
    assert!(DANGEROUS.len() >= 60, "{}", DANGEROUS.len());
    let (mut config, mut secrets) = (String::new(), String::new());
    for (i, name) in DANGEROUS.iter().enumerate() {
        let line = format!("{:?} = \"planted-{i}\"\n", name.to_lowercase());
        if i % 2 == 0 {
            config.push_str(&line);
        } else {
            secrets.push_str(&line);
        }
    }
    // and the names as written (upper case) in the other file
    for (i, name) in DANGEROUS.iter().enumerate() {
        let line = format!("{name:?} = \"planted-upper-{i}\"\n");
        if i % 2 == 0 {
            secrets.push_str(&line);
        } else {
            config.push_str(&line);
        }
    }
    config.push_str("[runtime]\nlog_level = \"INFO\"\n");
    secrets.push_str("[sources.pipedrive]\napi_key = \"k\"\n");
    p.write(".dlt/config.toml", &config);
    p.write(".dlt/secrets.toml", &secrets);

    let r = p.run(&["exec", "--", "env", "-0"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let env = child_env(&r.0.stdout);
    for name in DANGEROUS {
        if let Some(v) = env.get(*name) {
            assert!(!v.starts_with("planted"), "{name} reached the child: {v}");
        }
    }
    assert_eq!(env["SOURCES__PIPEDRIVE__API_KEY"], "k");
    assert_eq!(env["RUNTIME__LOG_LEVEL"], "INFO");
    let err = r.stderr();
    for name in DANGEROUS {
        assert!(
            err.contains(&format!("`{}`", name.to_lowercase()))
                || err.contains(&format!("\"{}\"", name.to_lowercase())),
            "no warning for {name}: {err}"
        );
    }
    assert!(err.contains("config.toml:1"), "{err}");
    assert!(err.contains("secrets.toml:1"), "{err}");

    for format in ["env", "dotenv"] {
        let r = p.run(&["export", "--format", format, "--reveal"]);
        let out = r.ok().stdout();
        assert!(!out.contains("planted"), "{format}: {out}");
        assert!(out.contains("SOURCES__PIPEDRIVE__API_KEY="), "{out}");
        assert!(r.stderr().contains("top-level key"), "{}", r.stderr());
    }
    // still readable, as a value of its own
    let r = p.run(&["get", "browser", "--config"]);
    assert_eq!(
        r.ok().stdout(),
        format!(
            "planted-{}",
            DANGEROUS.iter().position(|n| *n == "BROWSER").unwrap()
        )
    );
}

/// The case: a committed config.toml with `browser` and
/// `pythonwarnings` does not run a command through `exec`.
#[test]
fn a_committed_browser_key_runs_nothing() {
    let p = Project::workspace();
    let marker = p.path().join("PWNED");
    p.write(
        ".dlt/config.toml",
        &format!(
            "pythonwarnings = \"all:0:antigravity.x:0:0\"\nbrowser = \"sh -c 'id > {}' #%s\"\n",
            marker.display()
        ),
    );
    let r = p.run(&["exec", "--", "python3", "-c", "import warnings; print(1)"]);
    assert_eq!(r.code(), 0, "{}", r.all());
    assert!(!marker.exists(), "the browser command ran");
    assert!(r.stderr().contains("`browser`"), "{}", r.stderr());
}

/// A name under a section that lands on a protected family (the loaders',
/// exported shell functions) is refused, naming key and file:line.
#[test]
fn sectioned_keys_on_protected_prefixes_are_refused() {
    for (section, var) in [
        ("ld_preload", "LD_PRELOAD__X"),
        ("ld_library_path", "LD_LIBRARY_PATH__X"),
        ("dyld_insert_libraries", "DYLD_INSERT_LIBRARIES__X"),
        ("bash_func_f", "BASH_FUNC_F__X"),
    ] {
        let p = Project::workspace();
        p.write(".dlt/config.toml", &format!("[{section}]\nx = \"1\"\n"));
        for args in [
            vec!["exec", "--", "true"],
            vec!["export", "--format", "env"],
            vec!["export", "--format", "dotenv"],
        ] {
            let r = p.run(&args);
            assert_eq!(r.code(), 2, "{section} {args:?}: {}", r.all());
            assert!(r.stderr().contains(var), "{}", r.stderr());
            assert!(r.stderr().contains("config.toml:2"), "{}", r.stderr());
        }
    }
}

/// A small deterministic generator (xorshift), seeded per run and printed
/// on failure, so the variants differ from run to run and a failure can be
/// replayed with `STRATA_TEST_SEED`.
pub struct Gen(u64);

impl Gen {
    pub fn new() -> Self {
        let seed = std::env::var("STRATA_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
                    | 1
            });
        eprintln!("generator seed: STRATA_TEST_SEED={seed}");
        Self(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A segment: a letter, then up to six letters, digits or `_` (never
    /// `__`, never a trailing `_`).
    pub fn segment(&mut self) -> String {
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
        const REST: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut s = String::new();
        s.push(LETTERS[self.below(26) as usize] as char);
        for _ in 0..self.below(6) {
            if self.below(5) == 0 && !s.ends_with('_') {
                s.push('_');
            }
            s.push(REST[self.below(36) as usize] as char);
        }
        s
    }
}

fn quoted_key(segments: &[String]) -> String {
    segments
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(".")
}

/// Keys that make the same variable (case, `a__b` against `a.b`), in one
/// file or across the two, are an error naming both keys and their files,
/// in every command that makes variables; `get` still answers each.
#[test]
fn colliding_keys_are_an_error_naming_both() {
    let mut g = Gen::new();
    for case in 0..24 {
        let n = 2 + g.below(3) as usize;
        let path: Vec<String> = (0..n).map(|_| g.segment()).collect();
        let other: Vec<String> = match g.below(3) {
            // case: at least one segment changes case
            0 | 1 => {
                let mut o = path.clone();
                let i = g.below(n as u64) as usize;
                o[i] = o[i].to_uppercase();
                for s in o.iter_mut() {
                    if g.below(2) == 0 {
                        *s = s.to_uppercase();
                    }
                }
                o
            }
            // `a__b` against `a.b`
            _ => {
                let i = g.below(n as u64 - 1) as usize;
                let mut o = path[..i].to_vec();
                o.push(format!("{}__{}", path[i], path[i + 1]));
                o.extend(path[i + 2..].iter().cloned());
                if o.len() < 2 {
                    o.insert(0, "x".to_owned());
                    continue;
                }
                o
            }
        };
        assert_ne!(path, other);
        let p = Project::workspace();
        let same_file = g.below(2) == 0;
        let first = format!("{} = \"one\"\n", quoted_key(&path));
        let second = format!("{} = \"two\"\n", quoted_key(&other));
        if same_file {
            p.write(".dlt/secrets.toml", &format!("{first}{second}"));
        } else {
            p.write(".dlt/secrets.toml", &first);
            p.write(".dlt/config.toml", &second);
        }
        for args in [
            vec!["exec", "--", "true"],
            vec!["export", "--format", "env"],
            vec!["export", "--format", "dotenv"],
        ] {
            let r = p.run(&args);
            let err = r.stderr();
            assert_eq!(
                r.code(),
                2,
                "case {case} {path:?} / {other:?} {args:?}: {}",
                r.all()
            );
            assert!(err.contains("both make the variable"), "{err}");
            assert!(err.contains(&path.join(".")), "{err}");
            assert!(err.contains(&other.join(".")), "{err}");
            assert!(err.contains("secrets.toml:1"), "{err}");
            assert!(
                err.contains(if same_file {
                    "secrets.toml:2"
                } else {
                    "config.toml:1"
                }),
                "{err}"
            );
            assert!(!r.stdout().contains("one") && !r.stdout().contains("two"));
        }
        assert_eq!(
            p.run(&["get", &path.join("."), "--config"]).ok().stdout(),
            "one"
        );
        assert_eq!(
            p.run(&["get", &other.join("."), "--config"]).ok().stdout(),
            "two"
        );
    }
}

/// The case: one key, two answers. `get` reads secrets.toml's host;
/// `exec` and `export` never hand the child config.toml's upper-case one.
#[test]
fn one_answer_per_variable() {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\nhost = \"db.internal\"\npassword = \"pw\"\n",
    );
    p.write(
        ".dlt/config.toml",
        "[DESTINATION.POSTGRES.CREDENTIALS]\nHOST = \"attacker.example\"\n",
    );
    let r = p.run(&["get", "destination.postgres.credentials.host"]);
    assert_eq!(r.ok().stdout(), "db.internal");
    for args in [
        vec!["exec", "--", "env"],
        vec!["export", "--format", "env", "--reveal"],
    ] {
        let r = p.run(&args);
        assert_eq!(r.code(), 2, "{}", r.all());
        assert!(!r.stdout().contains("attacker.example"), "{}", r.stdout());
        assert!(
            r.stderr()
                .contains("DESTINATION__POSTGRES__CREDENTIALS__HOST"),
            "{}",
            r.stderr()
        );
    }
}

/// `workspace clean` with the local data dir set by a workspace file: only
/// a directory inside the run directory is deleted; every way out (`..`,
/// absolute, a link, the run dir itself, `.dlt`, a parent) is refused with
/// what to do, and nothing outside is touched.
#[test]
fn clean_deletes_only_inside_the_workspace_when_a_file_says_where() {
    let outside = tempfile::tempdir().unwrap();
    let important = outside.path().join("important");
    let p = Project::workspace();
    let run = p.path().to_path_buf();
    let parent = run.parent().unwrap().to_path_buf();
    let mut variants: Vec<String> = vec![
        "../important".into(),
        important.display().to_string(),
        ".".into(),
        "./".into(),
        "..".into(),
        ".dlt".into(),
        ".dlt/..".into(),
        "sub/../..".into(),
        "sub/../../important".into(),
        "/".into(),
        run.display().to_string(),
        parent.display().to_string(),
        run.join(".dlt").display().to_string(),
        "link".into(),
        "link/inner".into(),
    ];
    // generated: climbs of every depth, with noise segments
    let mut g = Gen::new();
    for _ in 0..8 {
        let ups = 1 + g.below(4) as usize;
        let mut v = String::new();
        for _ in 0..g.below(3) {
            v.push_str(&g.segment());
            v.push('/');
        }
        for _ in 0..(ups + v.matches('/').count()) {
            v.push_str("../");
        }
        v.push_str("important");
        variants.push(v);
    }
    for file in [
        ".dlt/config.toml",
        ".dlt/secrets.toml",
        ".dlt/dev.config.toml",
    ] {
        for value in &variants {
            std::fs::create_dir_all(important.join("deep")).unwrap();
            std::fs::write(important.join("deep/keep"), "x").unwrap();
            std::fs::write(run.join("keep"), "x").unwrap();
            std::fs::write(run.join(".dlt/keep"), "x").unwrap();
            let _ = std::fs::remove_file(run.join("link"));
            std::os::unix::fs::symlink(&important, run.join("link")).unwrap();
            for f in [
                ".dlt/config.toml",
                ".dlt/secrets.toml",
                ".dlt/dev.config.toml",
            ] {
                let _ = std::fs::remove_file(run.join(f));
            }
            p.write(
                file,
                &format!("[workspace.settings]\nlocal_dir = {value:?}\n"),
            );
            let r = p.run(&["workspace", "clean"]);
            assert_eq!(r.code(), 2, "{file}: local_dir = {value:?}: {}", r.all());
            assert!(r.stderr().contains("refusing to delete"), "{}", r.stderr());
            assert!(
                r.stderr().contains("local_dir"),
                "{value:?}: {}",
                r.stderr()
            );
            assert!(important.join("deep/keep").exists(), "{value:?}");
            assert!(run.join("keep").exists(), "{value:?}");
            assert!(run.join(".dlt/keep").exists(), "{value:?}");
            assert!(run.join(".dlt/.workspace").exists(), "{value:?}");
        }
    }
    // inside the workspace it is deleted
    let _ = std::fs::remove_file(run.join(".dlt/secrets.toml"));
    let _ = std::fs::remove_file(run.join(".dlt/dev.config.toml"));
    p.write(
        ".dlt/config.toml",
        "[workspace.settings]\nlocal_dir = \"mydata/dev\"\n",
    );
    p.write("mydata/dev/x.duckdb", "data");
    p.run(&["workspace", "clean"]).ok();
    assert!(!run.join("mydata/dev").exists());
    assert!(run.join("mydata").exists());
}

/// What the user set (environment, global directory) may lie outside the
/// workspace; never the run dir, `.dlt` or a parent of either.
#[test]
fn clean_deletes_outside_only_where_the_user_said() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("data");
    let mut p = Project::workspace();
    std::fs::create_dir_all(target.join("x")).unwrap();
    p.set_env("DLT_LOCAL_DIR", target.to_str().unwrap());
    p.run(&["workspace", "clean"]).ok();
    assert!(!target.exists());
    // the global directory's config.toml
    let p = Project::workspace();
    std::fs::create_dir_all(target.join("x")).unwrap();
    p.write(
        "global/config.toml",
        &format!(
            "[workspace.settings]\nlocal_dir = {:?}\n",
            target.display().to_string()
        ),
    );
    p.run(&["workspace", "clean"]).ok();
    assert!(!target.exists());
    // never the project itself, even when the user says so
    for dir in [
        p.path().to_path_buf(),
        p.path().join(".dlt"),
        p.path().parent().unwrap().to_path_buf(),
    ] {
        let mut q = Project::at(p.path().to_path_buf(), Vec::new());
        q.set_env("DLT_LOCAL_DIR", dir.to_str().unwrap());
        let r = q.run(&["workspace", "clean"]);
        assert_eq!(r.code(), 2, "{}: {}", dir.display(), r.all());
        assert!(p.path().join(".dlt/.workspace").exists());
    }
}

/// `profile pin` and `unpin` refuse a `.dlt` that is a link, leaving its
/// target alone.
#[test]
fn pin_and_unpin_refuse_a_linked_settings_dir() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join(".workspace"), "").unwrap();
    let p = Project::classic();
    std::fs::remove_dir_all(p.path().join(".dlt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), p.path().join(".dlt")).unwrap();
    let r = p.run(&["profile", "prod", "pin"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("symbolic link"), "{}", r.stderr());
    assert!(!outside.path().join("profile-name").exists());
    std::fs::write(outside.path().join("profile-name"), "prod\n").unwrap();
    let r = p.run(&["profile", "unpin"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(outside.path().join("profile-name").exists());
}

/// The pin is one plain profile name: a UTF-8 BOM and whitespace are
/// ignored; an invisible or look-alike character, or a file that is not a
/// regular one, is an error naming `.dlt/profile-name`.
#[test]
fn the_pin_is_a_plain_profile_name() {
    let p = Project::workspace();
    for pin in ["\u{feff}prod\n", "  prod  \n", "\u{feff}prod\r\n"] {
        p.write(".dlt/profile-name", pin);
        let j = p.run(&["profile", "--json"]).ok().json();
        assert_eq!(j["current"], "prod", "{pin:?}: {j}");
    }
    for pin in [
        "prod\u{200b}\n",
        "pr\u{43e}d\n",
        "\u{feff}\u{feff}prod\n",
        "prod\u{a0}x\n",
        "../prod\n",
    ] {
        p.write(".dlt/profile-name", pin);
        let r = p.run(&["get", "x"]);
        assert_eq!(r.code(), 2, "{pin:?}: {}", r.all());
        assert!(
            r.stderr().contains("profile-name"),
            "{pin:?}: {}",
            r.stderr()
        );
        assert!(
            r.stderr().contains("invalid profile name"),
            "{}",
            r.stderr()
        );
    }
    std::fs::remove_file(p.path().join(".dlt/profile-name")).unwrap();
    let fifo = p.path().join(".dlt/profile-name");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let r = p.run(&["get", "x"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(r.stderr().contains("profile-name"), "{}", r.stderr());
}

/// python-dotenv reads `export --format dotenv` back byte for byte, or the
/// value is refused naming its key (python-dotenv expands `${...}` in every
/// value and has no escape for it).
#[test]
fn dotenv_output_round_trips_through_python_dotenv() {
    let mut corpus: Vec<String> = [
        "plain",
        "",
        "  lead and trail  ",
        "it's",
        "say \"hi\"",
        "back\\slash",
        "\\\\double",
        "trailing\\",
        "\\n literal",
        "\\'",
        "\\\"",
        "line1\nline2",
        "cr\rhere",
        "crlf\r\nx",
        "tab\there",
        "$HOME",
        "$",
        "${",
        "$ {HOME}",
        "${HOME",
        "#not a comment",
        "a # b",
        "= equals =",
        "export X=1",
        "żółw 🐢",
        "\u{1b}[31mred\u{1b}[0m",
        "\u{7}bell\u{8}",
        "\u{b}\u{c}",
        "\u{85}next line",
        "\u{2028}line sep",
        "'single'",
        "\"\"\"",
        "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
        "{\"json\": [1, \"two\"]}",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    corpus.push("x".repeat(20_000));
    let mut g = Gen::new();
    for _ in 0..24 {
        // generated: printable ASCII and controls mixed
        let len = g.below(24) as usize;
        let s: String = (0..len)
            .map(|_| char::from_u32(g.below(0x80) as u32).unwrap_or('?'))
            .filter(|c| *c != '\0')
            .collect();
        corpus.push(s);
    }
    let expands = [
        "${HOME}",
        "${HOME:-fallback}",
        "pre${A}post",
        "${:-}",
        "${}",
        "${A}${B}",
    ];
    let p = Project::workspace();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    corpus.extend(expands.iter().map(|s| (*s).to_owned()));
    for (i, value) in corpus.iter().enumerate() {
        let lit = toml::Value::String(value.clone()).to_string();
        p.write(".dlt/secrets.toml", &format!("[s]\nk = {lit}\n"));
        let r = p.run(&["export", "--format", "dotenv", "--reveal"]);
        if expands.contains(&value.as_str())
            || (value.contains("${") && value[value.find("${").unwrap()..].contains('}'))
        {
            assert_eq!(r.code(), 2, "{value:?}: {}", r.all());
            assert!(r.stderr().contains("`s.k`"), "{}", r.stderr());
            assert!(r.stderr().contains("python-dotenv"), "{}", r.stderr());
            assert!(!r.stderr().contains(value.as_str()) || value.is_empty());
            continue;
        }
        assert_eq!(r.code(), 0, "{value:?}: {}", r.all());
        let file = dir.path().join(format!("{i}.env"));
        std::fs::write(&file, &r.0.stdout).unwrap();
        files.push((file, value.clone()));
    }
    let script = "import json, sys\nfrom dotenv import dotenv_values\nprint(json.dumps([dotenv_values(f).get('S__K') for f in sys.argv[1:]]))";
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .args(files.iter().map(|(f, _)| f))
        .env("HOME", "/nonexistent-home")
        .env("A", "expanded")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Vec<Option<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read.len(), files.len());
    for ((file, want), got) in files.iter().zip(read) {
        assert_eq!(
            got.as_deref(),
            Some(want.as_str()),
            "{}: {:?}",
            file.display(),
            std::fs::read_to_string(file).unwrap()
        );
    }
}

/// `names`, `explain` and errors show a key from a file with its control
/// characters escaped; `push` would refuse it (see the vault tests).
#[test]
fn keys_with_control_characters_are_shown_escaped() {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[s]\n\"k\\u001b[2Jx\" = \"v\"\n\"a\\rb\" = 1\n",
    );
    for args in [
        vec!["export", "--format", "env"],
        vec!["exec", "--", "true"],
    ] {
        let r = p.run(&args);
        assert_eq!(r.code(), 2, "{}", r.all());
        assert!(!r.stderr().contains('\u{1b}'), "{:?}", r.stderr());
        assert!(!r.stderr().contains('\r'), "{:?}", r.stderr());
        assert!(r.stderr().contains("\\u001B"), "{:?}", r.stderr());
    }
}

/// Where the user's own credentials may go: with ambient credentials
/// (`VAULT_TOKEN`, `~/.vault-token`, the AWS chain, application-default
/// credentials, a managed identity), an endpoint read from a workspace's
/// `config.toml` is refused before any request, naming the file and where
/// to set it instead. The same endpoint from the environment, a secrets
/// file or the global directory is the user's choice, as is any endpoint
/// with credentials given in a secrets file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_endpoint_never_receives_ambient_credentials() {
    use crate::common::run_async;
    use strata_secrets_test_servers::hostile::{Behavior, HostileServer};
    let hostile =
        HostileServer::start(Behavior::json(404, &serde_json::json!({"errors": []}))).await;
    let url = hostile.url();
    // (switch, the endpoint key as TOML, ambient credentials as variables)
    type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "enable_hashicorp_vault",
            format!("[providers.hashicorp_vault]\nurl = {url:?}\n"),
            vec![("VAULT_TOKEN", "canary-vault-token")],
        ),
        (
            "enable_hashicorp_vault",
            format!("[hashicorp_vault]\nurl = {url:?}\n"),
            vec![("VAULT_TOKEN", "canary-vault-token")],
        ),
        (
            "enable_hashicorp_vault",
            format!("[providers.hashicorp_vault]\nurl = {url:?}\n"),
            vec![],
        ),
        (
            "enable_google_secrets",
            format!("[providers.google_secrets]\nendpoint = {url:?}\n"),
            vec![("GOOGLE_CLOUD_PROJECT", "p")],
        ),
        (
            "enable_aws_secrets",
            format!(
                "[providers.aws_secrets.credentials]\nendpoint_url = {url:?}\nregion_name = \"us-east-1\"\n"
            ),
            vec![
                ("AWS_ACCESS_KEY_ID", "AKIDCANARY"),
                ("AWS_SECRET_ACCESS_KEY", "canary-aws-secret"),
            ],
        ),
        (
            "enable_azure_key_vault",
            "[providers.azure_key_vault]\nvault_url = \"https://127.0.0.1:9\"\n".to_owned(),
            vec![("AZURE_CLIENT_SECRET", "canary-azure-secret")],
        ),
    ];
    for (i, (switch, endpoint, ambient)) in cases.iter().enumerate() {
        for file in [".dlt/config.toml", ".dlt/dev.config.toml"] {
            let mut p = Project::workspace();
            std::fs::write(p.path().join("home/.vault-token"), "canary-vault-token").unwrap();
            p.write(file, &format!("[providers]\n{switch} = true\n{endpoint}"));
            for (k, v) in ambient {
                p.set_env(k, v);
            }
            let before = hostile.seen().len();
            let r = run_async(&p, &["get", "sources.x.key"]).await;
            let what = format!("case {i} in {file}");
            assert_eq!(r.code(), 2, "{what}: {}", r.all());
            assert_eq!(hostile.seen().len(), before, "{what}: a request went out");
            let err = r.stderr();
            assert!(err.contains("a file of the workspace"), "{what}: {err}");
            assert!(
                err.contains(file.trim_start_matches(".dlt/")),
                "{what}: {err}"
            );
            assert!(err.contains("PROVIDERS__"), "{what}: {err}");
            assert!(!r.all().contains("canary"), "{what}: {}", r.all());
        }
    }
    // the user's choice: the same address from a secrets file, the
    // environment or the global directory is used
    for (place, var) in [
        (".dlt/secrets.toml", None),
        ("global/config.toml", None),
        ("", Some(("PROVIDERS__HASHICORP_VAULT__URL", url.as_str()))),
    ] {
        let mut p = Project::workspace();
        p.write(
            ".dlt/config.toml",
            "[providers]\nenable_hashicorp_vault = true\n",
        );
        if !place.is_empty() {
            p.write(
                place,
                &format!("[providers.hashicorp_vault]\nurl = {url:?}\n"),
            );
        }
        if let Some((k, v)) = var {
            p.set_env(k, v);
        }
        p.set_env("VAULT_TOKEN", "canary-vault-token");
        let before = hostile.seen().len();
        let r = run_async(&p, &["get", "sources.x.key"]).await;
        assert!(
            hostile.seen().len() > before,
            "{place}: no request: {}",
            r.all()
        );
        assert!(
            !r.stderr().contains("a file of the workspace"),
            "{place}: {}",
            r.stderr()
        );
    }
    // explicit credentials in a secrets file go where the files say
    let p = Project::workspace();
    p.write(
        ".dlt/config.toml",
        &format!("[providers]\nenable_hashicorp_vault = true\n[providers.hashicorp_vault]\nurl = {url:?}\n"),
    );
    p.write(
        ".dlt/secrets.toml",
        "[providers.hashicorp_vault]\ntoken = \"from-the-secrets-file\"\n",
    );
    let before = hostile.seen().len();
    let r = run_async(&p, &["get", "sources.x.key"]).await;
    assert!(hostile.seen().len() > before, "{}", r.all());
    assert_eq!(
        hostile
            .seen()
            .last()
            .and_then(|s| s.header("x-vault-token").map(str::to_owned)),
        Some("from-the-secrets-file".to_owned())
    );
}

/// A value longer than one variable may hold is an error naming its key and
/// pointing to `--files`, never the system's "Argument list too long"; one
/// just under the limit is handed on whole.
#[test]
fn a_value_too_long_for_a_variable_names_its_key() {
    let p = Project::workspace();
    let limit = strata_secrets_cli::MAX_VARIABLE_LEN;
    let name = "SOURCES__BIG__KEY";
    for (len, ok) in [
        (limit - name.len() - 2, true),
        (limit - name.len() - 1, false),
        (200 * 1024, false),
    ] {
        p.write(
            ".dlt/secrets.toml",
            &format!("[sources.big]\nkey = \"{}\"\n", "x".repeat(len)),
        );
        let r = p.run(&[
            "exec",
            "--",
            "sh",
            "-c",
            "printf %s \"$SOURCES__BIG__KEY\" | wc -c",
        ]);
        if ok {
            assert_eq!(r.ok().stdout().trim(), len.to_string());
        } else {
            assert_eq!(r.code(), 2, "{len}: {}", r.stderr());
            assert!(r.stderr().contains("`sources.big.key`"), "{}", r.stderr());
            assert!(r.stderr().contains("--files"), "{}", r.stderr());
            assert!(
                !r.stderr().contains("Argument list too long"),
                "{}",
                r.stderr()
            );
        }
    }
}

/// Whether `.dlt` is writable is tried, as dlt does, not read off its mode
/// bits: the state and data dirs stay under `.dlt` when a write there
/// works (root ignores the bits), and move to the temporary dir when it
/// does not.
#[test]
fn a_read_only_settings_dir_is_judged_by_trying() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::workspace();
    let dlt = p.path().join(".dlt");
    std::fs::set_permissions(&dlt, std::fs::Permissions::from_mode(0o555)).unwrap();
    let writable = std::fs::write(dlt.join("probe"), "x").is_ok();
    let _ = std::fs::remove_file(dlt.join("probe"));
    let j = p.run(&["workspace", "info", "--json"]).ok().json();
    std::fs::set_permissions(&dlt, std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = j["data_dir"].as_str().unwrap().to_owned();
    if writable {
        assert!(data.starts_with(&dlt.display().to_string()), "{data}");
    } else {
        assert!(
            data.starts_with(&std::env::temp_dir().display().to_string()),
            "{data}"
        );
    }
}

/// A large secrets.toml (150,000 keys, 5 MB): `export` and `exec` hold each
/// value, not each lookup's trace, so their peak memory stays within twice
/// `get`'s on the same file (peak RSS, measured with /usr/bin/time).
#[test]
fn export_memory_stays_within_twice_a_get() {
    let p = Project::workspace();
    let mut text = String::with_capacity(6 << 20);
    for s in 0..15_000 {
        text.push_str(&format!("[sources.src{s}]\n"));
        for k in 0..10 {
            text.push_str(&format!("key_{k} = \"value-{s}-{k}-abcdefghij\"\n"));
        }
    }
    p.write(".dlt/secrets.toml", &text);
    let peak = |args: &[&str]| -> u64 {
        let out = std::process::Command::new("/usr/bin/time")
            .args([
                "-f",
                "PEAK-RSS-KIB %M",
                env!("CARGO_BIN_EXE_strata"),
                "--workspace",
            ])
            .arg(p.path())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", p.path().join("home"))
            .env("STRATA_GLOBAL_DIR", p.path().join("global"))
            .env("STRATA_SECRETS_DIR", p.path().join("run-secrets"))
            .stdout(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .find_map(|l| l.strip_prefix("PEAK-RSS-KIB "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap()
    };
    let get = peak(&["get", "sources.src5.key_3"]);
    for args in [
        vec!["export", "--reveal"],
        vec!["export", "--format", "env", "--reveal"],
        vec!["export", "--format", "dotenv", "--reveal"],
    ] {
        let export = peak(&args);
        assert!(
            export < 2 * get,
            "{args:?}: {export} KiB against get's {get} KiB"
        );
    }
}

/// More variables than a command may start with: an error that says so
/// and what to do, not the system's "Argument list too long".
#[test]
fn an_environment_too_large_for_a_command_says_so() {
    let p = Project::workspace();
    let mut text = String::from("[sources.many]\n");
    for k in 0..40_000 {
        text.push_str(&format!("key_{k} = \"value-{k}-abcdefghijklmnop\"\n"));
    }
    p.write(".dlt/secrets.toml", &text);
    let r = p.run(&["exec", "--", "true"]);
    assert_eq!(r.code(), 2, "{}", r.all());
    assert!(
        r.stderr().contains("40000 variables") || r.stderr().contains("variables)"),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("--files"), "{}", r.stderr());
    assert!(
        !r.stderr().contains("Argument list too long"),
        "{}",
        r.stderr()
    );
}

/// Files never choose how a program runs: the `command` backend's `fetch`
/// and `list` name a program, so a workspace's `config.toml` (any profile's,
/// any of the ways to write the table) may not set them; the same settings
/// from the environment, a secrets file or the global directory run the
/// helper. The refused program is never run.
#[test]
fn a_committed_command_line_runs_nothing() {
    let helper = |marker: &std::path::Path| {
        format!(
            "[\"sh\", \"-c\", \"touch {}; case $0 in */api_key) echo value-of-$0;; *) exit 1;; esac\", \"{{name}}\"]\nnot_found_status = 1",
            marker.display()
        )
    };
    let tables = |line: &str| {
        vec![
            format!("[providers]\nenable_command = true\n[providers.command]\nfetch = {line}\n"),
            format!(
                "[providers]\nenable_command = true\n[providers.command]\nlist = [\"true\"]\nfetch = {line}\n"
            ),
            format!(
                "[providers]\nenable_command = true\n[providers.command]\nfetch = [\"true\", \"{{name}}\"]\nlist = {line}\n"
            ),
            // dlt's section walk also reads `[command]` for `[providers.command]`
            format!("[providers]\nenable_command = true\n[command]\nfetch = {line}\n"),
        ]
    };
    for file in [".dlt/config.toml", ".dlt/dev.config.toml"] {
        let p = Project::workspace();
        let marker = p.path().join("ran");
        for table in tables(&helper(&marker)) {
            p.write(file, &table);
            let r = p.run(&["get", "sources.pipedrive.api_key"]);
            assert_eq!(r.code(), 2, "{file}: {table}: {}", r.all());
            let err = r.stderr();
            assert!(err.contains("names a program"), "{err}");
            assert!(err.contains(file.trim_start_matches(".dlt/")), "{err}");
            assert!(err.contains("PROVIDERS__COMMAND__"), "{err}");
            assert!(!marker.exists(), "{file}: the committed program ran");
            std::fs::remove_file(p.path().join(file)).unwrap();
        }
    }
    // the user's own places run it
    let p = Project::workspace();
    let marker = p.path().join("ran");
    let line = helper(&marker);
    p.write(
        ".dlt/secrets.toml",
        &format!("[providers]\nenable_command = true\n[providers.command]\nfetch = {line}\nonly_toml_fragments = false\n"),
    );
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.ok().stdout(), "value-of-sources/pipedrive/api_key");
    assert!(marker.exists());
    std::fs::remove_file(p.path().join(".dlt/secrets.toml")).unwrap();
    p.write(
        "global/config.toml",
        &format!("[providers]\nenable_command = true\n[providers.command]\nfetch = {line}\nonly_toml_fragments = false\n"),
    );
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.ok().stdout(), "value-of-sources/pipedrive/api_key");
    std::fs::remove_file(p.path().join("global/config.toml")).unwrap();
    let mut p = Project::at(p.path().to_path_buf(), Vec::new());
    p.set_env("PROVIDERS__ENABLE_COMMAND", "true")
        .set_env(
            "PROVIDERS__COMMAND__FETCH",
            "[\"sh\", \"-c\", \"case $0 in */api_key) echo env-$0;; *) exit 1;; esac\", \"{name}\"]",
        )
        .set_env("PROVIDERS__COMMAND__NOT_FOUND_STATUS", "1")
        .set_env("PROVIDERS__COMMAND__ONLY_TOML_FRAGMENTS", "false");
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.ok().stdout(), "env-sources/pipedrive/api_key");
}
