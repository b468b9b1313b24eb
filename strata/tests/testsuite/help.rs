//! `--help` and the user-facing error texts, pinned so that docs/cli.md and
//! the code cannot drift apart silently.

use crate::common::Project;

fn help(args: &[&str]) -> String {
    let p = Project::classic();
    let r = p.run(args);
    assert_eq!(r.code(), 0, "{}", r.all());
    r.stdout()
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!(help(&["--help"]));
}

#[test]
fn subcommand_help() {
    for cmd in commands() {
        insta::assert_snapshot!(format!("help_{cmd}"), help(&[&cmd, "--help"]));
    }
}

/// The commands `--help` lists (but `help`): what the binary has, not a
/// list kept by hand.
fn commands() -> Vec<String> {
    let top = help(&["--help"]);
    top.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect()
}

#[test]
fn every_documented_command_exists() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cli.md")).unwrap();
    let top = help(&["--help"]);
    let commands = commands();
    assert!(commands.len() >= 11, "{commands:?}");
    for cmd in commands {
        assert!(
            doc.contains(&format!("| `{cmd}")),
            "docs/cli.md does not document `{cmd}`"
        );
        assert!(
            top.contains(&format!("  {cmd} ")),
            "--help does not list `{cmd}`"
        );
    }
}

#[test]
fn missing_value_error_text() {
    let p = Project::workspace();
    p.write(".dlt/secrets.toml", "[sources.pipedrive]\nother = 1\n");
    p.write(
        ".dlt/config.toml",
        "[sources.pipedrive]\napi_key = \"in-config\"\n",
    );
    let r = p.run(&["get", "sources.pipedrive.api_key"]);
    assert_eq!(r.code(), 1);
    let text = r.stderr().replace(&p.path().display().to_string(), "[WS]");
    insta::assert_snapshot!(text);
}

#[test]
fn parse_error_text() {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[db]\nuser = \"u\"\npassword = \"unterminated\n",
    );
    let r = p.run(&["get", "db.user"]);
    assert_eq!(r.code(), 2);
    let text = r.stderr().replace(&p.path().display().to_string(), "[WS]");
    insta::assert_snapshot!(text);
}
