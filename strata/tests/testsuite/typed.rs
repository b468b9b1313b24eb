//! Typed configurations: `#[derive(Configuration)]` resolved with section
//! walks, native values, secrets, and one report listing every missing field.

use crate::common::Project;
use strata_secrets::credentials::ConnectionStringCredentials;
use strata_secrets::secrecy::{ExposeSecret, SecretString};
use strata_secrets::{Configuration, ErrorKind, Strata};

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
    rt.block_on(Strata::open(p.options(env))).unwrap()
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

/// The error of a configuration that did not resolve carries a structured
/// report: each missing field with the names tried, each error whole (its
/// kind, path and file), what resolved; a single error is that error.
#[test]
fn the_report_is_structured_and_keeps_each_error_whole() {
    let p = Project::workspace();
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\nhost = \"h\"\n",
    );
    p.write(
        ".dlt/config.toml",
        "[destination.postgres.credentials]\npassword = \"canary-pw\"\n",
    );
    let s = open(
        &p,
        &[("DESTINATION__POSTGRES__CREDENTIALS__PORT", "not-a-port")],
    );
    let err = block(s.resolve::<Destination>(&["destination", "postgres"], None)).unwrap_err();
    let report = err.config_report().expect("a structured report");
    assert_eq!(report.configuration, "destination.postgres");
    let missing: Vec<&str> = report.missing.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(
        missing,
        [
            "destination.postgres.credentials.database",
            "destination.postgres.credentials.username"
        ]
    );
    assert!(
        report.missing[0]
            .trace
            .entries
            .iter()
            .any(|e| e.name == "DESTINATION__POSTGRES__CREDENTIALS__DATABASE"),
        "{:?}",
        report.missing[0].trace
    );
    let kinds: Vec<ErrorKind> = report.errors.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, [ErrorKind::Conversion, ErrorKind::ValueNotSecret]);
    assert!(
        report.errors[1]
            .file()
            .is_some_and(|f| f.ends_with("config.toml")),
        "{:?}",
        report.errors[1]
    );
    assert_eq!(
        report.resolved[0].path,
        "destination.postgres.credentials.host"
    );
    assert_eq!(err.kind(), ErrorKind::Conversion);
    assert!(!format!("{err} {err:?}").contains("canary"));
    // one error alone is returned as it was raised, with its file
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\nhost = \"h\"\ndatabase = \"d\"\nusername = \"u\"\n",
    );
    let s = open(&p, &[]);
    let err = block(s.resolve::<Destination>(&["destination", "postgres"], None)).unwrap_err();
    assert!(err.config_report().is_none());
    assert_eq!(err.kind(), ErrorKind::ValueNotSecret);
    assert!(
        err.file().is_some_and(|f| f.ends_with("config.toml")),
        "{err:?}"
    );
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

#[derive(Configuration, Debug)]
#[config(credentials)]
struct WarehouseCredentials {
    #[config(secret)]
    host: String,
    #[config(secret)]
    port: u16,
    #[config(secret)]
    database: String,
    #[config(secret)]
    username: String,
    password: SecretString,
}

#[derive(Configuration, Debug)]
struct Warehouse {
    #[config(nested)]
    credentials: WarehouseCredentials,
}

const FIELDS: [(&str, &str); 5] = [
    ("host", "db.internal"),
    ("port", "5433"),
    ("database", "dwh"),
    ("username", "loader"),
    ("password", "canary-pw"),
];

/// A chain of env (empty) and TOML (none) plus a memory vault with
/// `latency` per request.
fn with_vault(
    vault: &std::sync::Arc<strata_secrets_conformance::TestVault>,
    options: strata_secrets::vault::VaultOptions,
) -> (Project, Strata) {
    let p = Project::workspace();
    let mut s = Strata::open_local(p.options(&[])).unwrap();
    s.register(std::sync::Arc::new(vault.provider(options)));
    (p, s)
}

fn check_warehouse(w: &Warehouse) {
    let c = &w.credentials;
    assert_eq!((c.host.as_str(), c.port), ("db.internal", 5433));
    assert_eq!(
        (c.database.as_str(), c.username.as_str()),
        ("dwh", "loader")
    );
    assert_eq!(c.password.expose_secret(), "canary-pw");
}

const LATENCY: std::time::Duration = std::time::Duration::from_millis(20);

/// Resolves the warehouse and returns how many vault round trips it took
/// (the clock is paused: time advances only by the vault's latency).
async fn rounds(s: &Strata) -> u32 {
    let start = tokio::time::Instant::now();
    let w: Warehouse = s
        .resolve(&["destination", "warehouse"], None)
        .await
        .unwrap();
    check_warehouse(&w);
    let elapsed = start.elapsed();
    assert_eq!(elapsed.as_nanos() % LATENCY.as_nanos(), 0, "{elapsed:?}");
    (elapsed.as_nanos() / LATENCY.as_nanos()) as u32
}

/// The names dlt asks, one request at a time, for the single-values layout:
/// dlt_secrets_toml, the fragments `destination` and
/// `destination-warehouse`, the native value of `credentials` at its three
/// walk paths, then the five fields: 11, sorted.
fn dlt_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "dlt_secrets_toml",
        "destination",
        "destination-warehouse",
        "destination-warehouse-credentials",
        "destination-credentials",
        "credentials",
    ]
    .map(str::to_owned)
    .to_vec();
    names.extend(FIELDS.map(|(k, _)| format!("destination-warehouse-credentials-{k}")));
    names.sort();
    names
}

#[tokio::test(start_paused = true)]
async fn vault_fields_are_fetched_together_and_never_more_names_than_dlt_asks() {
    // single values, as dlt's provider asks for them with
    // only_toml_fragments = false
    let vault = single_values_vault();
    let options = strata_secrets::vault::VaultOptions {
        only_toml_fragments: false,
        ..Default::default()
    };
    let (_p, s) = with_vault(&vault, options);
    let n = rounds(&s).await;
    // dlt asks, one request at a time: dlt_secrets_toml, the fragments
    // `destination` and `destination-warehouse`, the native value of
    // `credentials` at its three walk paths, then the five fields: 11
    let expected = dlt_names();
    let fetched = vault.fetched_names();
    assert_eq!(
        fetched,
        expected.iter().map(|n| (n.clone(), 1)).collect::<Vec<_>>()
    );
    // the five fields go out in one round: 6 round trips, where fields
    // resolved one after the other would take 10 and dlt takes 11
    assert_eq!(n, 6);
    // a second resolution is answered from the cache
    assert_eq!(rounds(&s).await, 0);
    assert_eq!(vault.total_fetches(), 11);

    // with list_secrets, names that are not listed are never fetched: one
    // list, then the five fields in one round
    let vault = single_values_vault();
    let options = strata_secrets::vault::VaultOptions {
        only_toml_fragments: false,
        list_secrets: true,
        ..Default::default()
    };
    let (_p, s) = with_vault(&vault, options);
    assert_eq!(rounds(&s).await, 2);
    assert_eq!((vault.list_count(), vault.total_fetches()), (1, 5));
}

fn single_values_vault() -> std::sync::Arc<strata_secrets_conformance::TestVault> {
    let vault = std::sync::Arc::new(strata_secrets_conformance::TestVault::new());
    for (k, v) in FIELDS {
        vault.insert(&format!("destination-warehouse-credentials-{k}"), v);
    }
    vault.set_latency(LATENCY);
    vault
}

fn prefetch_options() -> strata_secrets::vault::VaultOptions {
    strata_secrets::vault::VaultOptions {
        only_secrets: true,
        only_toml_fragments: false,
        list_secrets: false,
        prefetch_single_values: true,
        ..strata_secrets::vault::VaultOptions::default()
    }
}

#[tokio::test(start_paused = true)]
async fn prefetching_single_values_takes_three_rounds_for_the_names_dlt_asks() {
    let vault = single_values_vault();
    let (_p, s) = with_vault(&vault, prefetch_options());
    // dlt_secrets_toml, then the fragments, then the native value's three
    // walk paths and the five fields together
    assert_eq!(rounds(&s).await, 3);
    // the same eleven names as without prefetching, each fetched once
    let expected = dlt_names();
    assert_eq!(
        vault.fetched_names(),
        expected.iter().map(|n| (n.clone(), 1)).collect::<Vec<_>>()
    );
    assert_eq!(rounds(&s).await, 0);

    // with list_secrets the listing is exact already: nothing is fetched
    // ahead (one list, then the five fields)
    let vault = single_values_vault();
    let options = strata_secrets::vault::VaultOptions {
        list_secrets: true,
        ..prefetch_options()
    };
    let (_p, s) = with_vault(&vault, options);
    assert_eq!(rounds(&s).await, 2);
    assert_eq!((vault.list_count(), vault.total_fetches()), (1, 5));
}

#[tokio::test(start_paused = true)]
async fn prefetching_asks_nothing_more_when_a_document_answers() {
    let doc: String = FIELDS
        .iter()
        .map(|(k, v)| format!("{k} = \"{v}\"\n"))
        .collect();
    // the configuration in dlt_secrets_toml, or in a fragment: the walk
    // for the native value stops at the table there, and so does the
    // fetching ahead: the same names and rounds as without it
    for (name, rounds_wanted, fetches) in
        [("dlt_secrets_toml", 1, 1), ("destination-warehouse", 2, 3)]
    {
        for prefetch in [false, true] {
            let vault = std::sync::Arc::new(strata_secrets_conformance::TestVault::new());
            vault.insert(name, &format!("[destination.warehouse.credentials]\n{doc}"));
            vault.set_latency(LATENCY);
            let options = strata_secrets::vault::VaultOptions {
                prefetch_single_values: prefetch,
                ..prefetch_options()
            };
            let (_p, s) = with_vault(&vault, options);
            assert_eq!(rounds(&s).await, rounds_wanted, "{name} {prefetch}");
            assert_eq!(
                vault.total_fetches(),
                fetches,
                "{name} {prefetch}: {:?}",
                vault.fetched_names()
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn prefetching_is_skipped_when_the_files_answer_and_costs_names_when_a_native_value_is_found()
{
    // the native value in the environment: the vault is never reached
    let vault = single_values_vault();
    let p = Project::workspace();
    let mut s = Strata::open_local(p.options(&[(
        "DESTINATION__WAREHOUSE__CREDENTIALS",
        "postgresql://loader:canary-pw@db.internal:5433/dwh",
    )]))
    .unwrap();
    s.register(std::sync::Arc::new(vault.provider(prefetch_options())));
    let w: WithNative = s
        .resolve(&["destination", "warehouse"], None)
        .await
        .unwrap();
    assert_eq!(w.credentials.host, "db.internal");
    assert_eq!(vault.total_fetches(), 0);

    // the native value as one vault secret: found in the third round; the
    // fields fetched alongside are the price of prefetching (dlt stops at
    // the native value: four names)
    let native_in_vault = |prefetch: bool| async move {
        let vault = std::sync::Arc::new(strata_secrets_conformance::TestVault::new());
        vault.insert(
            "destination-warehouse-credentials",
            "postgresql://loader:canary-pw@db.internal:5433/dwh",
        );
        vault.set_latency(LATENCY);
        let options = strata_secrets::vault::VaultOptions {
            prefetch_single_values: prefetch,
            ..prefetch_options()
        };
        let (_p, s) = with_vault(&vault, options);
        let start = tokio::time::Instant::now();
        let w: WithNative = s
            .resolve(&["destination", "warehouse"], None)
            .await
            .unwrap();
        assert_eq!(
            (w.credentials.username.as_str(), w.credentials.port),
            ("loader", Some(5433))
        );
        (start.elapsed(), vault)
    };
    let (elapsed, vault) = native_in_vault(true).await;
    assert_eq!(elapsed, LATENCY * 3);
    let fetched: Vec<String> = vault.fetched_names().into_iter().map(|(n, _)| n).collect();
    for name in [
        "destination-credentials",
        "credentials",
        "destination-warehouse-credentials-password",
    ] {
        assert!(fetched.contains(&name.to_owned()), "{fetched:?}");
    }
    // dlt's four, the native value's two other walk paths, and the one
    // field this only_secrets vault is asked for (the password), sent in
    // the same round and abandoned when the native value arrives
    assert_eq!(vault.total_fetches(), 7, "{fetched:?}");
    // without prefetching: exactly dlt's four names, in the same three
    // rounds (dlt_secrets_toml, the fragments, the native value)
    let (elapsed, vault) = native_in_vault(false).await;
    assert_eq!(elapsed, LATENCY * 3);
    assert_eq!(vault.total_fetches(), 4);
}

#[tokio::test(start_paused = true)]
async fn vault_documents_answer_every_field_in_one_or_two_rounds() {
    let doc: String = FIELDS
        .iter()
        .map(|(k, v)| format!("{k} = \"{v}\"\n"))
        .collect();
    // the whole secrets.toml in one secret: one request
    let vault = std::sync::Arc::new(strata_secrets_conformance::TestVault::new());
    vault.insert(
        "dlt_secrets_toml",
        &format!("[destination.warehouse.credentials]\n{doc}"),
    );
    vault.set_latency(LATENCY);
    let (_p, s) = with_vault(&vault, strata_secrets::vault::VaultOptions::default());
    assert_eq!(rounds(&s).await, 1);
    assert_eq!(vault.total_fetches(), 1);
    // a fragment: dlt_secrets_toml, then both fragments in one round
    let vault = std::sync::Arc::new(strata_secrets_conformance::TestVault::new());
    vault.insert(
        "destination-warehouse",
        &format!("[destination.warehouse.credentials]\n{doc}"),
    );
    vault.set_latency(LATENCY);
    let (_p, s) = with_vault(&vault, strata_secrets::vault::VaultOptions::default());
    assert_eq!(rounds(&s).await, 2);
    assert_eq!(vault.total_fetches(), 3);
}

#[derive(Configuration, Debug)]
struct Mixed {
    #[config(secret)]
    token: String,
    region: Option<String>,
}

#[tokio::test]
async fn an_only_secrets_vault_is_asked_for_secret_fields_only() {
    let vault = std::sync::Arc::new(strata_secrets_conformance::TestVault::new());
    vault.insert("sources-crm-token", "canary-token");
    vault.insert("sources-crm-region", "eu");
    let options = strata_secrets::vault::VaultOptions {
        only_toml_fragments: false,
        ..Default::default()
    };
    let (_p, s) = with_vault(&vault, options);
    let m: Mixed = s.resolve(&["sources", "crm"], None).await.unwrap();
    assert_eq!(m.token, "canary-token");
    assert_eq!(
        m.region, None,
        "a non-secret field is not read from the vault"
    );
    assert_eq!(vault.fetch_count("sources-crm-region"), 0);
    assert_eq!(vault.fetch_count("sources-crm-token"), 1);
    // the same vault without only_secrets answers both
    let options = strata_secrets::vault::VaultOptions {
        only_toml_fragments: false,
        only_secrets: false,
        ..Default::default()
    };
    let (_p, s) = with_vault(&vault, options);
    let m: Mixed = s.resolve(&["sources", "crm"], None).await.unwrap();
    assert_eq!(m.region.as_deref(), Some("eu"));
}

#[derive(Configuration)]
struct Boxed {
    pin: strata_secrets::secrecy::SecretBox<u32>,
    note: Option<strata_secrets::secrecy::SecretBox<String>>,
}

#[test]
fn secret_box_fields_are_secret_lookups_converted_on_request() {
    let p = Project::workspace();
    p.write(".dlt/config.toml", "[app]\npin = 42\n");
    let s = open(&p, &[("APP__NOTE", "canary-note")]);
    // a SecretBox field never takes its value from config.toml
    let err = block(s.resolve::<Boxed>(&["app"], None)).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::ValueNotSecret, "{err}");
    let s = open(&p, &[("APP__PIN", "0123"), ("APP__NOTE", "canary-note")]);
    let b: Boxed = block(s.resolve(&["app"], None)).unwrap();
    assert_eq!(*b.pin.expose_secret(), 123);
    assert_eq!(b.note.unwrap().expose_secret(), "canary-note");
}

#[test]
fn an_optional_nested_configuration_set_in_part_is_an_error() {
    let p = Project::workspace();
    p.write(".dlt/config.toml", "[destination.x]\nname = \"n\"\n");
    p.write(
        ".dlt/secrets.toml",
        "[destination.x.credentials]\nhost = \"h\"\n",
    );
    let s = open(&p, &[]);
    let err = block(s.resolve::<WithOptionalNested>(&["destination", "x"], None)).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Missing, "{text}");
    for field in ["database", "username", "password"] {
        assert!(
            text.contains(&format!("`destination.x.credentials.{field}`")),
            "{text}"
        );
    }
    assert!(
        text.contains("`destination.x.credentials.host` from"),
        "{text}"
    );
}

#[test]
fn missing_fields_are_listed_in_declaration_order() {
    let p = Project::workspace();
    let s = open(&p, &[]);
    let err = block(s.resolve::<Destination>(&["destination", "postgres"], None)).unwrap_err();
    let text = err.to_string();
    let at = |f: &str| text.find(&format!("credentials.{f}`")).unwrap();
    assert!(at("host") < at("database"), "{text}");
    assert!(at("database") < at("username"), "{text}");
    assert!(at("username") < at("password"), "{text}");
}

#[test]
fn a_credentials_configuration_never_takes_its_native_value_from_config_toml() {
    // ConnectionStringCredentials is a credentials configuration: its native
    // value is a secret lookup, so config.toml may not give it (as dlt)
    let p = Project::workspace();
    p.write(
        ".dlt/config.toml",
        "[destination.postgres]\ncredentials = \"postgresql://loader:canary-pw@db/dwh\"\n",
    );
    let s = open(&p, &[]);
    let err = block(s.resolve::<WithNative>(&["destination", "postgres"], None)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ValueNotSecret, "{err}");
    assert!(err.to_string().contains("config.toml"), "{err}");
    assert!(!err.to_string().contains("canary"), "{err}");
    // the same string in secrets.toml is the native value
    p.write(".dlt/config.toml", "");
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres]\ncredentials = \"postgresql://loader:pw@db/dwh\"\n",
    );
    let s = open(&p, &[]);
    let w: WithNative = block(s.resolve(&["destination", "postgres"], None)).unwrap();
    assert_eq!(w.credentials.host, "db");
}

/// The README's credentials example: a table whose keys are spread over
/// config.toml, secrets.toml, the environment and a pipeline's override
/// resolves field by field, with each field's provenance; `walk` of the
/// table answers with one provider's table only, as the README says.
#[test]
fn credentials_spread_over_providers_resolve_field_by_field() {
    #[derive(Configuration)]
    #[config(credentials)]
    struct PostgresCredentials {
        host: String,
        #[config(default = 5432)]
        port: u16,
        username: String,
        password: SecretString,
        database: String,
    }
    let p = Project::workspace();
    p.write(
        ".dlt/config.toml",
        "[destination.postgres.credentials]\nhost = \"db.internal\"\nusername = \"loader\"\ndatabase = \"dwh\"\n\
         [my_pipe.destination.postgres.credentials]\ndatabase = \"dwh_pipe\"\n",
    );
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\npassword = \"pw-from-secrets\"\n",
    );
    let s = open(&p, &[("DESTINATION__POSTGRES__CREDENTIALS__PORT", "6543")]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let c: PostgresCredentials = rt
        .block_on(s.resolve(&["destination", "postgres", "credentials"], Some("my_pipe")))
        .unwrap();
    assert_eq!(c.host, "db.internal");
    assert_eq!(c.port, 6543);
    assert_eq!(c.username, "loader");
    assert_eq!(c.password.expose_secret(), "pw-from-secrets");
    assert_eq!(c.database, "dwh_pipe", "the pipeline's override");
    // a walk of the table: the first provider's table alone
    let walked = rt
        .block_on(s.walk(
            "destination.postgres.credentials",
            &strata_secrets::Lookup::secret(),
        ))
        .unwrap();
    let keys: Vec<&String> = walked.expose().as_table().unwrap().keys().collect();
    assert_eq!(keys, ["password"], "{keys:?}");
}

/// A key one typo away from a missing field is named in the report, with
/// its file and line: "did you mean".
#[test]
fn a_typo_beside_a_missing_field_is_pointed_out() {
    let p = Project::workspace();
    p.write(
        ".dlt/config.toml",
        "[destination.postgres.credentials]\nhost = \"h\"\nusernme = \"loader\"\ndatabase = \"d\"\n",
    );
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\npassword = \"pw\"\n",
    );
    let s = open(&p, &[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let e = rt
        .block_on(s.resolve::<PgCredentials>(&["destination", "postgres", "credentials"], None))
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("missing value `destination.postgres.credentials.username`"),
        "{text}"
    );
    assert!(
        text.contains(
            "config.toml:3 has `destination.postgres.credentials.usernme`: did you mean `username`?"
        ),
        "{text}"
    );
    // a key far from every field is no typo
    assert!(!text.contains("`host`?"), "{text}");
}

/// A connection string keeps its options after `?` as `query` (dlt does),
/// and a string that is no connection string is an error about that value.
#[test]
fn a_connection_string_keeps_its_query_and_a_malformed_one_is_named() {
    let p = Project::workspace();
    let s = open(
        &p,
        &[(
            "DESTINATION__POSTGRES__CREDENTIALS",
            "postgresql://loader:pw@db.local/dwh?sslmode=require&connect_timeout=5",
        )],
    );
    let w: WithNative = block(s.resolve(&["destination", "postgres"], None)).unwrap();
    let q = w.credentials.query.expect("the query is kept");
    assert_eq!(q.get("sslmode").map(String::as_str), Some("require"));
    assert_eq!(q.get("connect_timeout").map(String::as_str), Some("5"));
    assert_eq!(w.credentials.database, "dwh");
    // `://` mistyped: an error about that value and where it is set, never
    // "missing drivername"; the value is not printed
    for bad in [
        "postgresql//canary@db.local/dwh",
        "postgresql:canary@db.local",
    ] {
        let s = open(&p, &[("DESTINATION__POSTGRES__CREDENTIALS", bad)]);
        let e = block(s.resolve::<WithNative>(&["destination", "postgres"], None)).unwrap_err();
        let text = e.to_string();
        assert_eq!(e.kind(), ErrorKind::Conversion, "{text}");
        assert!(text.contains("not a connection string"), "{text}");
        assert!(
            text.contains("DESTINATION__POSTGRES__CREDENTIALS"),
            "{text}"
        );
        assert!(!text.contains("drivername"), "{text}");
        assert!(!text.contains("canary"), "{text}");
    }
}

/// A single value set where a configuration without a native form sits is
/// ignored (as dlt ignores it), but said: a note in the report when the
/// resolution fails, and in the resolution when it succeeds.
#[test]
fn a_single_value_for_a_configuration_without_a_native_form_is_noted() {
    let p = Project::workspace();
    let conn = "postgresql://loader:canary@db.local/dwh";
    let s = open(&p, &[("DESTINATION__POSTGRES__CREDENTIALS", conn)]);
    let e = block(s.resolve::<Destination>(&["destination", "postgres"], None)).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("note: `destination.postgres.credentials` from")
            && text.contains("has no native form")
            && text.contains("host, port, database, username, password"),
        "{text}"
    );
    assert!(!text.contains("canary"), "{text}");
    // the fields set too: it resolves, and the resolution says so
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\nhost = \"h\"\ndatabase = \"d\"\nusername = \"u\"\npassword = \"pw\"\n",
    );
    let s = open(&p, &[("DESTINATION__POSTGRES__CREDENTIALS", conn)]);
    let (d, how) =
        block(s.resolve_explained::<Destination>(&["destination", "postgres"], None)).unwrap();
    assert_eq!(d.credentials.host, "h");
    assert_eq!(how.notes.len(), 1, "{how}");
    assert!(how.to_string().contains("has no native form"), "{how}");
    // a configuration with a native form reads it: nothing to note
    let (_, how) =
        block(s.resolve_explained::<WithNative>(&["destination", "postgres"], None)).unwrap();
    assert!(how.notes.is_empty(), "{how}");
}

/// After a successful resolution, where each field came from: the file and
/// line, the variable, in declaration order; a default is not listed.
#[test]
fn a_successful_resolution_says_where_each_field_came_from() {
    let p = Project::workspace();
    p.write(
        ".dlt/config.toml",
        "[destination.postgres.credentials]\nhost = \"db.internal\"\nusername = \"loader\"\n",
    );
    p.write(
        ".dlt/secrets.toml",
        "[destination.postgres.credentials]\npassword = \"pw-canary\"\n",
    );
    let s = open(
        &p,
        &[("DESTINATION__POSTGRES__CREDENTIALS__DATABASE", "dwh")],
    );
    let (c, how) = block(
        s.resolve_explained::<PgCredentials>(&["destination", "postgres", "credentials"], None),
    )
    .unwrap();
    assert_eq!((c.host.as_str(), c.port), ("db.internal", 5432));
    let paths: Vec<&str> = how.resolved.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "destination.postgres.credentials.host",
            "destination.postgres.credentials.database",
            "destination.postgres.credentials.username",
            "destination.postgres.credentials.password",
        ]
    );
    let text = how.to_string();
    assert!(text.contains("config.toml:2"), "{text}");
    assert!(text.contains("config.toml:3"), "{text}");
    assert!(text.contains("secrets.toml:2"), "{text}");
    assert!(
        text.contains("DESTINATION__POSTGRES__CREDENTIALS__DATABASE"),
        "{text}"
    );
    assert!(
        !text.contains("pw-canary") && !text.contains("db.internal"),
        "{text}"
    );
}
