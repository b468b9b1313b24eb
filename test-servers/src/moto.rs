//! moto's server (PyPI `moto[server]`), a third-party implementation of the
//! AWS APIs, started on a free loopback port for a test.
//!
//! The binary is `$MOTO_SERVER`, else `moto_server` on `PATH`, else the one
//! in the workspace's `.venv` (which `.ci/setup` installs). A test that
//! cannot start it fails with a message saying how to install it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server; killed on drop.
pub struct MotoServer {
    child: Child,
    port: u16,
}

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("moto_server")
}

impl MotoServer {
    /// Starts moto on a free loopback port and waits until it answers.
    ///
    /// # Panics
    /// When moto cannot be started or does not answer within 60 s.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free loopback port for moto: {e}"));
        let bin = binary();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start moto's server ({}): {e}; install it with `bash .ci/setup` (pip install 'moto[server]' into .venv) or set MOTO_SERVER",
                    bin.display()
                )
            });
        let mut server = Self { child, port };
        let started = Instant::now();
        loop {
            if server.request("GET", "/moto-api/").is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("moto's server exited at start ({status})");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto's server did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Forgets every resource (moto's reset API).
    ///
    /// # Panics
    /// When moto does not answer.
    pub fn reset(&self) {
        if let Err(e) = self.request("POST", "/moto-api/reset") {
            panic!("moto reset failed: {e}");
        }
    }

    fn request(&self, method: &str, path: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )?;
        let mut out = String::new();
        stream.read_to_string(&mut out)?;
        if out.starts_with("HTTP/1.1 2") || out.starts_with("HTTP/1.0 2") {
            Ok(out)
        } else {
            Err(std::io::Error::other(format!(
                "unexpected answer: {}",
                out.lines().next().unwrap_or("")
            )))
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
