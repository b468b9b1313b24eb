use super::*;
use strata_secrets_core::workspace::WorkspaceOptions;
use strata_secrets_core::{Environment, Provider, ProviderExt};

fn ws(dir: &FsPath, profile: Option<&str>) -> Workspace {
    Workspace::open(WorkspaceOptions {
        run_dir: Some(dir.to_path_buf()),
        profile: profile.map(str::to_owned),
        global_dir: Some(dir.join("global")),
        env: Environment::default(),
    })
    .unwrap()
}

fn workspace() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join(".dlt")).unwrap();
    std::fs::create_dir_all(d.path().join("global")).unwrap();
    std::fs::write(d.path().join(".dlt/.workspace"), "").unwrap();
    d
}

fn write(dir: &FsPath, rel: &str, text: &str) {
    std::fs::write(dir.join(rel), text).unwrap();
}

async fn get(p: &TomlProvider, path: &str) -> Option<Found> {
    p.get(&Path::parse(path).unwrap(), true)
        .await
        .unwrap()
        .found()
}

#[tokio::test]
async fn most_specific_file_wins_and_tables_merge() {
    let d = workspace();
    write(
        d.path(),
        ".dlt/prod.secrets.toml",
        "[db]\npassword = \"prod-pw\"\n",
    );
    write(
        d.path(),
        ".dlt/secrets.toml",
        "[db]\npassword = \"base-pw\"\nuser = \"base-user\"\n",
    );
    write(d.path(), "global/prod.secrets.toml", "[db]\nport = 1\n");
    write(
        d.path(),
        "global/secrets.toml",
        "[db]\nhost = \"global-host\"\nport = 2\n",
    );
    let p = TomlProvider::load(&ws(d.path(), Some("prod")), FileKind::Secrets).unwrap();
    let db = get(&p, "db").await.unwrap().value;
    let t = db.as_table().unwrap();
    assert_eq!(t["password"], Value::from("prod-pw"));
    assert_eq!(t["user"], Value::from("base-user"));
    assert_eq!(t["port"], Value::Integer(1));
    assert_eq!(t["host"], Value::from("global-host"));
    let found = get(&p, "db.user").await.unwrap();
    assert!(
        found
            .provenance
            .file
            .unwrap()
            .ends_with(".dlt/secrets.toml")
    );
    assert_eq!(found.provenance.line, Some(3));
    assert_eq!(p.files().len(), 4);
    // the alias was probed and is missing
    assert!(
        p.locations()
            .iter()
            .any(|l| !l.present && l.location.ends_with("secrets.prod.toml"))
    );
}

#[tokio::test]
async fn an_earlier_scalar_beats_a_later_table_and_vice_versa() {
    let d = workspace();
    write(
        d.path(),
        ".dlt/dev.secrets.toml",
        "a = \"scalar\"\n[b]\nx = 1\n",
    );
    write(
        d.path(),
        ".dlt/secrets.toml",
        "b = \"scalar\"\n[a]\nx = 1\n",
    );
    let p = TomlProvider::load(&ws(d.path(), None), FileKind::Secrets).unwrap();
    assert_eq!(get(&p, "a").await.unwrap().value, Value::from("scalar"));
    assert!(get(&p, "a.x").await.is_none());
    assert_eq!(get(&p, "b.x").await.unwrap().value, Value::Integer(1));
}

#[tokio::test]
async fn the_alias_file_is_read_and_may_not_conflict() {
    let d = workspace();
    write(
        d.path(),
        ".dlt/secrets.prod.toml",
        "[db]\npassword = \"alias\"\nextra = 1\n",
    );
    let p = TomlProvider::load(&ws(d.path(), Some("prod")), FileKind::Secrets).unwrap();
    assert_eq!(
        get(&p, "db.password").await.unwrap().value,
        Value::from("alias")
    );
    // same value in both: fine
    write(
        d.path(),
        ".dlt/prod.secrets.toml",
        "[db]\npassword = \"alias\"\n",
    );
    assert!(TomlProvider::load(&ws(d.path(), Some("prod")), FileKind::Secrets).is_ok());
    // a different value: an error naming both files, not the values
    write(
        d.path(),
        ".dlt/prod.secrets.toml",
        "[db]\npassword = \"canonical-secret\"\n",
    );
    let err = TomlProvider::load(&ws(d.path(), Some("prod")), FileKind::Secrets).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::ConfigInvalid);
    assert!(
        text.contains("prod.secrets.toml") && text.contains("secrets.prod.toml"),
        "{text}"
    );
    assert!(text.contains("db.password"), "{text}");
    assert!(
        !text.contains("canonical-secret") && !text.contains("alias\""),
        "{text}"
    );
}

#[test]
fn parse_errors_name_file_line_and_column_never_the_text() {
    let d = workspace();
    let cases = [
        "[db]\npassword = \"hunter2-secret\n",
        "[db]\npassword = hunter2-secret\n",
        "a = 1\na = \"hunter2-secret\"\n",
        "[db\npassword=\"hunter2-secret\"",
        "password = 'hunter2-secret' trailing-hunter2-secret\n",
        "x = [\"hunter2-secret\",\n",
        "[db]\npassword = \"hunter2-secret\"\nport = 99999999999999999999\n",
        "[db]\npassword = \"hunter2-secret\"\nratio = 1e999\n",
    ];
    for text in cases {
        write(d.path(), ".dlt/secrets.toml", text);
        let err = TomlProvider::load(&ws(d.path(), None), FileKind::Secrets).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert_eq!(err.kind(), ErrorKind::Parse, "{shown}");
        assert!(shown.contains("secrets.toml"), "{shown}");
        assert!(shown.contains("line "), "{shown}");
        assert!(shown.contains("column "), "{shown}");
        assert!(!shown.contains("hunter2"), "leak for {text:?}: {shown}");
    }
    write(d.path(), ".dlt/secrets.toml", "ok = 1\n\nbad = \"x\n");
    let err = TomlProvider::load(&ws(d.path(), None), FileKind::Secrets).unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
    // a number that does not fit is an error at its line, not a zero
    write(
        d.path(),
        ".dlt/secrets.toml",
        "ok = 1\nbig = 99999999999999999999\n",
    );
    let err = TomlProvider::load(&ws(d.path(), None), FileKind::Secrets).unwrap_err();
    assert!(err.to_string().contains("line 2, column 7"), "{err}");
}

#[test]
fn non_utf8_files_are_parse_errors() {
    let d = workspace();
    std::fs::write(
        d.path().join(".dlt/secrets.toml"),
        [b'a', b'=', b'"', 0xff, b'"'],
    )
    .unwrap();
    let err = TomlProvider::load(&ws(d.path(), None), FileKind::Secrets).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.to_string().contains("not UTF-8"));
}

#[tokio::test]
async fn dotted_keys_inline_tables_and_arrays_of_tables() {
    let p = TomlProvider::from_text(
        FileKind::Secrets,
        "inline.toml",
        "a.b.c = 1\n[x]\ny = { z = \"w\", n = { m = true } }\n[[items]]\nname = \"one\"\n[[items]]\nname = \"two\"\n",
    )
    .unwrap();
    assert_eq!(get(&p, "a.b.c").await.unwrap().value, Value::Integer(1));
    assert_eq!(get(&p, "x.y.z").await.unwrap().value, Value::from("w"));
    assert_eq!(
        get(&p, "x.y.n.m").await.unwrap().value,
        Value::Boolean(true)
    );
    let items = get(&p, "items").await.unwrap().value;
    assert!(matches!(items, Value::Array(ref a) if a.len() == 2));
    assert_eq!(get(&p, "x.y.z").await.unwrap().provenance.line, Some(3));
}

#[tokio::test]
async fn set_value_keeps_comments_and_goes_to_the_most_specific_file() {
    let d = workspace();
    write(
        d.path(),
        ".dlt/secrets.toml",
        "# base\n[db]\nuser = \"u\" # inline comment\n",
    );
    let w = ws(d.path(), Some("prod"));
    let target = set_value(
        &w,
        FileKind::Secrets,
        &Path::parse("db.password").unwrap(),
        &Value::from("pw"),
    )
    .unwrap();
    assert!(target.ends_with(".dlt/prod.secrets.toml"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // classic-style write into an existing file keeps its comments
    let base = d.path().join(".dlt/secrets.toml");
    set_value_in_file(
        &base,
        &Path::parse("db.port").unwrap(),
        &Value::Integer(5432),
        true,
    )
    .unwrap();
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(
        text.contains("# base") && text.contains("# inline comment"),
        "{text}"
    );
    let p = TomlProvider::load(&w, FileKind::Secrets).unwrap();
    assert_eq!(
        get(&p, "db.password").await.unwrap().value,
        Value::from("pw")
    );
    assert_eq!(
        get(&p, "db.port").await.unwrap().value,
        Value::Integer(5432)
    );
    assert_eq!(get(&p, "db.user").await.unwrap().value, Value::from("u"));
    // writing below a scalar is an error, not a silent overwrite
    let err = set_value_in_file(
        &base,
        &Path::parse("db.user.x").unwrap(),
        &Value::Integer(1),
        true,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConfigInvalid);
}

#[test]
fn writes_are_refused_under_access() {
    let d = workspace();
    let w = ws(d.path(), Some("access"));
    let err = set_value(
        &w,
        FileKind::Config,
        &Path::parse("a").unwrap(),
        &Value::Integer(1),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReadOnly);
    assert!(!d.path().join(".dlt/access.config.toml").exists());
    assert!(!d.path().join(".dlt/prod.config.toml").exists());
}

#[test]
fn debug_prints_no_values() {
    let p = TomlProvider::from_text(FileKind::Secrets, "x.toml", "password = \"hunter2\"").unwrap();
    assert!(!format!("{p:?}").contains("hunter2"));
}

#[test]
fn a_file_that_is_not_regular_is_an_error_naming_it() {
    let d = workspace();
    std::fs::create_dir_all(d.path().join(".dlt/secrets.toml")).unwrap();
    let e = TomlProvider::load(&ws(d.path(), None), FileKind::Secrets).unwrap_err();
    assert!(e.to_string().contains("secrets.toml"), "{e}");
    assert!(e.to_string().contains("directory"), "{e}");
    #[cfg(unix)]
    {
        std::fs::remove_dir(d.path().join(".dlt/secrets.toml")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", d.path().join(".dlt/secrets.toml")).unwrap();
        let e = TomlProvider::load(&ws(d.path(), None), FileKind::Secrets).unwrap_err();
        assert!(e.to_string().contains("device"), "{e}");
    }
}

#[tokio::test]
async fn set_value_refuses_a_symlinked_file_and_leaves_its_target_alone() {
    let d = workspace();
    let outside = d.path().join("outside.toml");
    std::fs::write(&outside, "keep = 1\n").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&outside, d.path().join(".dlt/dev.secrets.toml")).unwrap();
        let e = set_value(
            &ws(d.path(), None),
            FileKind::Secrets,
            &Path::parse("a.b").unwrap(),
            &Value::from("x"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep = 1\n");
    }
}
