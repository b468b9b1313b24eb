//! Helpers for tests that run the `strata` binary on temporary workspaces.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary project with an isolated global dir, secrets dir and HOME.
pub struct Project {
    _tmp: Option<tempfile::TempDir>,
    root: PathBuf,
    pub env: Vec<(String, String)>,
    /// Variables whose values need not be UTF-8.
    pub os_env: Vec<(String, std::ffi::OsString)>,
}

impl Project {
    /// A classic project (only `.dlt/`).
    pub fn classic() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".dlt")).unwrap();
        std::fs::create_dir_all(dir.path().join("global")).unwrap();
        std::fs::create_dir_all(dir.path().join("run-secrets")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Self {
            root: dir.path().to_path_buf(),
            _tmp: Some(dir),
            env: Vec::new(),
            os_env: Vec::new(),
        }
    }

    /// A handle on a project another `Project` owns.
    pub fn at(root: PathBuf, env: Vec<(String, String)>) -> Self {
        Self {
            _tmp: None,
            root,
            env,
            os_env: Vec::new(),
        }
    }

    /// A workspace (`.dlt/.workspace` present).
    pub fn workspace() -> Self {
        let p = Self::classic();
        p.write(".dlt/.workspace", "");
        p
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Options that open this project in process, with its global and
    /// secrets directories and only the given environment.
    pub fn options(&self, env: &[(&str, &str)]) -> strata_secrets::Options {
        strata_secrets::Options {
            run_dir: Some(self.root.clone()),
            global_dir: Some(self.root.join("global")),
            env: Some(strata_secrets::Environment::from_pairs(env.iter().copied())),
            secrets_dir: Some(self.root.join("run-secrets")),
            ..Default::default()
        }
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn set_env(&mut self, k: &str, v: &str) -> &mut Self {
        self.env.push((k.to_owned(), v.to_owned()));
        self
    }

    /// Runs `strata --workspace <dir> ARGS` with a clean environment.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_bin(Path::new(env!("CARGO_BIN_EXE_strata")), args)
    }

    /// Runs the given executable as [`Project::run`] runs `strata`.
    pub fn run_bin(&self, bin: &Path, args: &[&str]) -> Run {
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path().join("home"))
            .env("STRATA_GLOBAL_DIR", self.path().join("global"))
            .env("STRATA_SECRETS_DIR", self.path().join("run-secrets"))
            .arg("--workspace")
            .arg(self.path())
            .args(args)
            .current_dir(self.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in &self.os_env {
            cmd.env(k, v);
        }
        Run(cmd.output().expect("the strata binary runs"))
    }

    /// Starts `strata ARGS` as [`Project::run`] runs it, with stdout and
    /// stderr piped, and returns at once.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path().join("home"))
            .env("STRATA_GLOBAL_DIR", self.path().join("global"))
            .env("STRATA_SECRETS_DIR", self.path().join("run-secrets"))
            .arg("--workspace")
            .arg(self.path())
            .args(args)
            .current_dir(self.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.spawn().expect("the strata binary runs")
    }

    /// Runs `strata ARGS` as [`Project::run`] does, with its stdout going
    /// to `stdout` (a closed pipe, `/dev/full`).
    pub fn run_to(&self, args: &[&str], stdout: std::process::Stdio) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path().join("home"))
            .env("STRATA_GLOBAL_DIR", self.path().join("global"))
            .env("STRATA_SECRETS_DIR", self.path().join("run-secrets"))
            .arg("--workspace")
            .arg(self.path())
            .args(args)
            .current_dir(self.path())
            .stdout(stdout)
            .stderr(std::process::Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("the strata binary runs");
        Run(child.wait_with_output().expect("it finishes"))
    }
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout(), self.stderr())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.all()))
    }
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code(), 0, "expected success: {}", self.all());
        self
    }
}

/// Runs the binary off the async runtime, so that servers on the runtime
/// keep answering while it runs.
pub async fn run_async(p: &Project, args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let (dir, env) = (p.path().to_path_buf(), p.env.clone());
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        Project::at(dir, env).run(&refs)
    })
    .await
    .unwrap()
}

/// Enables the Google vault through environment variables alone, against
/// the local Secret Manager, with its service account field by field.
pub fn google_env(
    p: &mut Project,
    server: &strata_secrets_test_servers::google::LocalSecretManager,
) {
    let a = server.account();
    p.set_env("PROVIDERS__ENABLE_GOOGLE_SECRETS", "true")
        .set_env("PROVIDERS__GOOGLE_SECRETS__ENDPOINT", &server.endpoint())
        .set_env(
            "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PROJECT_ID",
            &a.project_id,
        )
        .set_env(
            "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__CLIENT_EMAIL",
            &a.client_email,
        )
        .set_env(
            "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__PRIVATE_KEY",
            &a.private_key_pem,
        )
        .set_env(
            "PROVIDERS__GOOGLE_SECRETS__CREDENTIALS__TOKEN_URI",
            &server.token_uri(),
        );
}

/// moto, the AWS fault proxy in front of it (served by the runtime's
/// worker while a test runs `strata`), and the project's environment
/// enabling the AWS vault through the proxy with canary credentials.
pub fn aws_env(
    p: &mut Project,
) -> (
    strata_secrets_test_servers::moto::MotoServer,
    tokio::runtime::Runtime,
    strata_secrets_test_servers::aws_proxy::AwsFaultProxy,
) {
    let moto = strata_secrets_test_servers::moto::MotoServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let proxy =
        rt.block_on(strata_secrets_test_servers::aws_proxy::AwsFaultProxy::start(&moto.endpoint()));
    p.set_env("PROVIDERS__ENABLE_AWS_SECRETS", "true")
        .set_env(
            "PROVIDERS__AWS_SECRETS__CREDENTIALS__AWS_ACCESS_KEY_ID",
            "AKIDTEST",
        )
        .set_env(
            "PROVIDERS__AWS_SECRETS__CREDENTIALS__AWS_SECRET_ACCESS_KEY",
            "canary-secret-access-key",
        )
        .set_env(
            "PROVIDERS__AWS_SECRETS__CREDENTIALS__AWS_SESSION_TOKEN",
            "canary-session-token",
        )
        .set_env(
            "PROVIDERS__AWS_SECRETS__CREDENTIALS__REGION_NAME",
            "us-east-1",
        )
        .set_env(
            "PROVIDERS__AWS_SECRETS__CREDENTIALS__ENDPOINT_URL",
            &proxy.endpoint(),
        );
    (moto, rt, proxy)
}

/// The Python of the test virtual environment (`.ci/setup`: dlt,
/// python-dotenv), or `$STRATA_DLT_PYTHON`; without it a test that needs it
/// fails.
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("STRATA_DLT_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(
        venv.exists(),
        "the test virtual environment is needed: run `bash .ci/setup` (creates .venv with dlt and python-dotenv) or set STRATA_DLT_PYTHON"
    );
    venv
}
