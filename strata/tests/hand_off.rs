//! `strata` links no vault SDK and hands a command over to `strata-vaults`
//! when the configuration enables a vault.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Project;
use std::path::{Path, PathBuf};

const LIGHT: &str = env!("CARGO_BIN_EXE_strata");
const FULL: &str = env!("CARGO_BIN_EXE_strata-vaults");

fn contains(haystack: &[u8], needle: &str) -> bool {
    memchr::memmem::find(haystack, needle.as_bytes()).is_some()
}

#[test]
fn strata_links_no_vault_sdk_and_strata_vaults_links_all_three() {
    let light = std::fs::read(LIGHT).unwrap();
    let full = std::fs::read(FULL).unwrap();
    // a string each SDK (or our backend on top of it) puts in its requests
    for marker in [
        "secretmanager.googleapis.com",
        "x-amz-target",
        "vault.azure.net",
    ] {
        assert!(contains(&full, marker), "strata-vaults lacks {marker}");
        assert!(
            !contains(&light, marker),
            "strata links code holding {marker}"
        );
    }
}

/// `strata` copied alone into a directory of its own.
fn lone_strata() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("strata");
    std::fs::copy(LIGHT, &bin).unwrap();
    (dir, bin)
}

fn google_enabled() -> Project {
    let p = Project::workspace();
    p.write(
        ".dlt/config.toml",
        "[providers]\nenable_google_secrets = true\n[sources.s]\nurl = \"https://example.com\"\n",
    );
    p.write(
        ".dlt/secrets.toml",
        "[sources.s]\napi_key = \"canary-hand-off-key\"\n",
    );
    p
}

#[test]
fn a_command_with_a_vault_enabled_runs_in_strata_vaults() {
    let p = google_enabled();
    // no project id anywhere: building the Google provider fails, which
    // only strata-vaults can do; both binaries give the same answer
    let handed = p.run(&["get", "sources.s.api_key"]);
    let direct = p.run_bin(Path::new(FULL), &["get", "sources.s.api_key"]);
    assert_eq!(handed.code(), 2, "{}", handed.all());
    assert!(handed.stderr().contains("project_id"), "{}", handed.all());
    assert_eq!(handed.all(), direct.all());
    assert!(!handed.all().contains("canary"), "{}", handed.all());
    // the checks hand over too, before printing anything
    let check = p.run(&["check"]);
    assert_eq!(check.all(), p.run_bin(Path::new(FULL), &["check"]).all());
    assert!(check.stdout().contains("google_secrets"), "{}", check.all());
}

#[test]
fn without_strata_vaults_a_vault_is_an_error_naming_it_and_local_commands_work() {
    let (_dir, lone) = lone_strata();
    let p = google_enabled();
    for args in [
        &["get", "sources.s.api_key"][..],
        &["export", "--reveal"],
        &["check"],
    ] {
        let r = p.run_bin(&lone, args);
        assert_eq!(r.code(), 2, "{args:?}: {}", r.all());
        assert!(r.stderr().contains("strata-vaults"), "{}", r.all());
        assert!(
            r.stderr().contains("providers.enable_google_secrets"),
            "{}",
            r.all()
        );
        assert!(r.stdout().is_empty(), "{}", r.all());
        assert!(!r.all().contains("canary"), "{}", r.all());
    }
    // with no vault enabled, strata answers alone
    p.write(
        ".dlt/config.toml",
        "[sources.s]\nurl = \"https://example.com\"\n",
    );
    let r = p.run_bin(&lone, &["get", "sources.s.api_key"]);
    assert_eq!(r.code(), 0, "{}", r.all());
    assert_eq!(r.stdout(), "canary-hand-off-key");
}

#[test]
fn strata_installed_as_strata_vaults_does_not_hand_over_to_itself() {
    let (dir, lone) = lone_strata();
    let twin = dir.path().join("strata-vaults");
    std::fs::copy(LIGHT, &twin).unwrap();
    let p = google_enabled();
    for bin in [&lone, &twin] {
        // a hand-over loop would never end: give it ten seconds
        let mut cmd = std::process::Command::new(bin);
        cmd.env_clear()
            .env("STRATA_GLOBAL_DIR", p.path().join("global"))
            .env("HOME", p.path().join("home"))
            .args([
                "--workspace",
                p.path().to_str().unwrap(),
                "get",
                "sources.s.api_key",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > std::time::Duration::from_secs(10) {
                let _ = child.kill();
                panic!("{} handed over in a loop", bin.display());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("this same vault-free build"), "{stderr}");
    }
}
