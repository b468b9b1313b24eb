//! Typed configurations: `#[derive(Configuration)]` resolved with section
//! walks, native values, secrets, and one report listing every missing field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Project;
use strata::credentials::ConnectionStringCredentials;
use strata::secrecy::{ExposeSecret, SecretString};
use strata::{Configuration, Environment, ErrorKind, Options, Strata};

#[derive(Configuration, Debug)]
struct PgCredentials {
    host: String,
    #[config(default = 5432)]
    port: u16,
    database: String,
    username: String,
    password: SecretString,
}

#[derive(Configuration, Debug)]
struct Destination {
    #[config(nested)]
    credentials: PgCredentials,
    dataset_name: Option<String>,
    #[config(rename = "schema", default = "public".to_owned())]
    schema_name: String,
    #[config(secret)]
    api_token: Option<String>,
}

#[derive(Configuration, Debug)]
struct WithNative {
    #[config(nested)]
    credentials: ConnectionStringCredentials,
}

fn open(p: &Project, env: &[(&str, &str)]) -> Strata {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(Strata::open(Options {
        run_dir: Some(p.path().to_path_buf()),
        global_dir: Some(p.path().join("global")),
        env: Some(Environment::from_pairs(env.iter().copied())),
        secrets_dir: Some(p.path().join("run-secrets")),
        ..Default::default()
    }))
    .unwrap()
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn fields_resolve_by_section_walk_with_defaults_renames_and_options() {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\nhost = \"db\"\ndatabase = \"dwh\"\npassword = \"pw\"\n[destination.credentials]\nusername = \"walked-up\"\n",
    );
    p.write(
        ".dlt/config.toml",
        "[destination.postgres]\nschema = \"analytics\"\n",
    );
    let s = open(&p, &[("DESTINATION__POSTGRES__CREDENTIALS__PORT", "6543")]);
    let d: Destination = block(s.resolve(&["destination", "postgres"], None)).unwrap();
    assert_eq!(d.credentials.host, "db");
    assert_eq!(d.credentials.port, 6543, "env text converted to u16");
    assert_eq!(d.credentials.username, "walked-up", "found one section up");
    assert_eq!(d.credentials.password.expose_secret(), "pw");
    assert_eq!(d.dataset_name, None);
    assert_eq!(d.schema_name, "analytics");
    assert!(d.api_token.is_none());
    assert!(!format!("{d:?}").contains("\"pw\""), "{d:?}");
    // defaults apply when nothing holds the field
    let s = open(&p, &[]);
    let d: Destination = block(s.resolve(&["destination", "postgres"], None)).unwrap();
    assert_eq!(d.credentials.port, 5432);
}

#[test]
fn every_missing_field_is_reported_at_once_without_values() {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\nhost = \"canary-host\"\n",
    );
    let s = open(&p, &[]);
    let err = block(s.resolve::<Destination>(&["destination", "postgres"], None)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Missing);
    let text = err.to_string();
    for needle in [
        "3 missing field(s)",
        "missing value `destination.postgres.credentials.database`",
        "missing value `destination.postgres.credentials.username`",
        "missing secret `destination.postgres.credentials.password`",
        "DESTINATION__POSTGRES__CREDENTIALS__PASSWORD",
        "`destination.postgres.credentials.host` from secrets.toml",
        "profile: dev",
        "dev.secrets.toml",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains("canary-host"), "{text}");
    // optional fields are not reported
    assert!(!text.contains("dataset_name"), "{text}");
}

#[test]
fn a_secret_in_config_toml_and_a_bad_conversion_are_errors_naming_the_field() {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\nhost = \"h\"\ndatabase = \"d\"\nusername = \"u\"\n",
    );
    p.write(
        ".dlt/config.toml",
        "[destination.postgres.credentials]\npassword = \"canary-pw\"\n",
    );
    let s = open(&p, &[]);
    let err = block(s.resolve::<Destination>(&["destination", "postgres"], None)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ValueNotSecret, "{err}");
    assert!(err.to_string().contains("config.toml"), "{err}");
    assert!(!err.to_string().contains("canary"), "{err}");
    let s = open(
        &p,
        &[
            (
                "DESTINATION__POSTGRES__CREDENTIALS__PORT",
                "canary-not-a-port",
            ),
            ("DESTINATION__POSTGRES__CREDENTIALS__PASSWORD", "pw"),
        ],
    );
    let err = block(s.resolve::<Destination>(&["destination", "postgres"], None)).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Conversion, "{text}");
    assert!(
        text.contains("destination.postgres.credentials.port"),
        "{text}"
    );
    assert!(
        text.contains("u16") && text.contains("environment"),
        "{text}"
    );
    assert!(!text.contains("canary"), "{text}");
}

#[test]
fn a_whole_configuration_as_one_native_value() {
    let p = Project::workspace();
    let s = open(
        &p,
        &[(
            "DESTINATION__POSTGRES__CREDENTIALS",
            "postgresql://loader:p%40ss@db.local:5432/dwh",
        )],
    );
    let w: WithNative = block(s.resolve(&["destination", "postgres"], None)).unwrap();
    let c = w.credentials;
    assert_eq!(
        (c.drivername.as_str(), c.username.as_str(), c.host.as_str()),
        ("postgresql", "loader", "db.local")
    );
    assert_eq!((c.port, c.database.as_str()), (Some(5432), "dwh"));
    assert_eq!(c.password.unwrap().expose_secret(), "p@ss");
    // a broken connection string is an error that does not print it
    let s = open(
        &p,
        &[(
            "DESTINATION__POSTGRES__CREDENTIALS",
            "postgresql://canary@host:notaport/x",
        )],
    );
    let err = block(s.resolve::<WithNative>(&["destination", "postgres"], None)).unwrap_err();
    assert!(err.to_string().contains("port is not a number"), "{err}");
    assert!(!err.to_string().contains("canary"), "{err}");
    // the same fields one by one
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\ndrivername = \"postgresql\"\nusername = \"u\"\nhost = \"h\"\ndatabase = \"d\"\n",
    );
    let s = open(&p, &[]);
    let w: WithNative = block(s.resolve(&["destination", "postgres"], None)).unwrap();
    assert_eq!(w.credentials.host, "h");
    assert!(w.credentials.password.is_none());
}

#[test]
fn pipeline_scoped_values_win() {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\nhost = \"shared\"\ndatabase = \"d\"\nusername = \"u\"\npassword = \"p\"\n[my_pipe.destination.postgres.credentials]\nhost = \"scoped\"\n",
    );
    let s = open(&p, &[]);
    let d: Destination = block(s.resolve(&["destination", "postgres"], Some("my_pipe"))).unwrap();
    assert_eq!(d.credentials.host, "scoped");
    assert_eq!(d.credentials.database, "d");
    let d: Destination = block(s.resolve(&["destination", "postgres"], None)).unwrap();
    assert_eq!(d.credentials.host, "shared");
}

#[derive(Configuration, Debug)]
struct WithOptionalNested {
    name: String,
    #[config(nested)]
    credentials: Option<PgCredentials>,
}

#[test]
fn an_optional_nested_configuration_that_is_absent_is_none_and_not_reported() {
    let p = Project::workspace();
    p.write(".dlt/config.toml", "[destination.x]\nname = \"n\"\n");
    let s = open(&p, &[]);
    let w: WithOptionalNested = block(s.resolve(&["destination", "x"], None)).unwrap();
    assert_eq!(w.name, "n");
    assert!(w.credentials.is_none());
    // present: resolved under its own section
    p.write(
        ".dlt/secrets.toml",
        "[destination.x.credentials]\nhost = \"h\"\ndatabase = \"d\"\nusername = \"u\"\npassword = \"p\"\n",
    );
    let s = open(&p, &[]);
    let w: WithOptionalNested = block(s.resolve(&["destination", "x"], None)).unwrap();
    assert_eq!(w.credentials.unwrap().host, "h");
}
