//! A PostgreSQL server (Debian's `postgresql` package, which `.ci/setup`
//! installs) started for a test on a free loopback port, with password
//! (SCRAM) authentication, so that credentials OpenBao's database secrets
//! engine makes can be tried for real: they log in, a renewal moves their
//! `VALID UNTIL`, a revocation drops the role.
//!
//! The binaries are in `$STRATA_PG_BIN`, else the newest
//! `/usr/lib/postgresql/*/bin`, else on `PATH`. As root, the server runs as
//! the `postgres` user (`runuser`), since PostgreSQL refuses root. A test
//! that cannot start it fails, saying how to install it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The superuser's name.
pub const SUPERUSER: &str = "postgres";

/// A running PostgreSQL; stopped (and its data removed) on drop.
pub struct Postgres {
    child: Child,
    port: u16,
    password: String,
    dir: PathBuf,
    bin: PathBuf,
}

/// The directory of PostgreSQL's server binaries.
pub fn bin_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("STRATA_PG_BIN") {
        return PathBuf::from(p);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b).unwrap_or_default()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// `program args` as the server's user: `postgres` when we are root.
fn as_server_user(program: &Path, args: &[&str]) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", SUPERUSER, "--"]).arg(program).args(args);
        cmd
    } else {
        let mut cmd = Command::new(program);
        cmd.args(args);
        cmd
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port for PostgreSQL: {e}"))
}

fn advice() -> &'static str {
    "install it with `bash .ci/setup` (Debian's postgresql package) or set STRATA_PG_BIN to its bin directory"
}

impl Postgres {
    /// Makes a new cluster in a temporary directory and starts it on a free
    /// loopback port; waits until it takes connections.
    ///
    /// # Panics
    /// When the server cannot be made or started, or does not answer within
    /// 60 s.
    pub fn start() -> Self {
        let bin = bin_dir();
        let initdb = bin.join("initdb");
        assert!(
            initdb.exists(),
            "PostgreSQL's initdb is not at {}: {}",
            initdb.display(),
            advice()
        );
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("strata-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot make {}: {e}", dir.display()));
        let password = format!("pg-root-{port}");
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, &password).unwrap_or_else(|e| panic!("cannot write: {e}"));
        if is_root() {
            let chown = Command::new("chown")
                .args(["-R", &format!("{SUPERUSER}:")])
                .arg(&dir)
                .status();
            assert!(
                chown.is_ok_and(|s| s.success()),
                "cannot give {} to the {SUPERUSER} user: {}",
                dir.display(),
                advice()
            );
        }
        let data = dir.join("data");
        let out = as_server_user(
            &initdb,
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                SUPERUSER,
                &format!("--pwfile={}", pwfile.display()),
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {}", initdb.display(), advice()));
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let child = as_server_user(
            &bin.join("postgres"),
            &[
                "-D",
                &data.display().to_string(),
                "-p",
                &port.to_string(),
                "-k",
                &dir.display().to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start PostgreSQL: {e}; {}", advice()));
        let mut server = Postgres {
            child,
            port,
            password,
            dir,
            bin,
        };
        let started = Instant::now();
        loop {
            if server
                .psql(SUPERUSER, &server.password.clone(), "select 1")
                .is_ok_and(|o| o.status.success())
            {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("PostgreSQL exited at start ({status})");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "PostgreSQL did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The superuser's password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// A connection URL template for OpenBao's database engine
    /// (`{{username}}` and `{{password}}` left for it to fill).
    pub fn vault_connection_url(&self) -> String {
        format!(
            "postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// Runs `sql` with `psql` as `user` with `password` over TCP.
    ///
    /// # Errors
    /// When `psql` cannot be run.
    pub fn psql(&self, user: &str, password: &str, sql: &str) -> std::io::Result<Output> {
        let psql = if self.bin.join("psql").exists() {
            self.bin.join("psql")
        } else {
            PathBuf::from("psql")
        };
        Command::new(psql)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                user,
                "-d",
                "postgres",
                "-tA",
                "-w",
                "-c",
                sql,
            ])
            .env("PGPASSWORD", password)
            .env("PGCONNECT_TIMEOUT", "5")
            .env_remove("PGSERVICE")
            .stdin(Stdio::null())
            .output()
    }

    /// Whether `user` with `password` can log in.
    pub fn logs_in(&self, user: &str, password: &str) -> bool {
        self.psql(user, password, "select current_user")
            .is_ok_and(|o| o.status.success() && o.stdout.trim_ascii() == user.as_bytes())
    }

    /// `sql` as the superuser; its output, trimmed.
    ///
    /// # Panics
    /// When it fails.
    pub fn query(&self, sql: &str) -> String {
        let out = self
            .psql(SUPERUSER, &self.password, sql)
            .unwrap_or_else(|e| panic!("psql: {e}"));
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // pg_ctl as the server's user: the postmaster itself is stopped
        // (as root the child is `runuser`, which does not pass signals on)
        let data = self.dir.join("data").display().to_string();
        let _ = as_server_user(
            &self.bin.join("pg_ctl"),
            &["stop", "-D", &data, "-m", "immediate", "-w", "-t", "10"],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
