//! README.md's tour runs as written, on a copy of the bundled example.

use std::path::Path;

/// The shell block under "## A tour of the CLI".
fn tour() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split("## A tour of the CLI")
        .nth(1)
        .expect("the README has a tour");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the tour is a sh block");
    block.to_owned()
}

#[test]
fn the_readme_tour_runs_as_written() {
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_strata"), bin.join("strata")).unwrap();
    let copy = work.path().join("strata-tour");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = tour()
        .replace("/tmp/strata-tour", copy.to_str().unwrap())
        .replace(
            "examples/quickstart",
            root.join("examples/quickstart").to_str().unwrap(),
        );
    assert!(script.contains("strata check"), "{script}");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("set -eu\n{script}"))
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", work.path().join("home"))
        .env("STRATA_GLOBAL_DIR", work.path().join("global"))
        .current_dir(work.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the tour failed:\n{text}");
    // what the tour shows: values, the pipeline's settings, a clean check
    assert!(text.contains("example-pipedrive-key"), "{text}");
    assert!(text.contains("SOURCES__PIPEDRIVE__API_KEY: set"), "{text}");
    assert!(text.contains("ok: no problems found"), "{text}");
    assert!(text.contains("answered by"), "{text}");
}
