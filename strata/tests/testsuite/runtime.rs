//! Run time (docs/runtime.md): a long-running pipeline sees a rotated
//! secret through `Strata::watch`, polled within `max_age` and the request
//! budget. On a paused clock, with request counts.

use crate::common::Project;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use strata_secrets::vault::VaultOptions;
use strata_secrets::{Lookup, Strata, Value};
use strata_secrets_conformance::TestVault;

fn watched(
    max_age: Option<Duration>,
    max_requests: Option<u32>,
) -> (Project, Strata, Arc<TestVault>) {
    let p = Project::workspace();
    let vault = Arc::new(TestVault::new());
    vault.insert(
        "dlt_secrets_toml",
        "[destination.pg.credentials]\npassword = \"one\"\n",
    );
    let mut s = Strata::open_local(p.options(&[])).unwrap();
    s.register(Arc::new(vault.provider(VaultOptions {
        max_age,
        max_requests,
        ..VaultOptions::default()
    })));
    (p, s, vault)
}

#[tokio::test(start_paused = true)]
async fn a_rotated_secret_reaches_the_watcher_once_max_age_has_passed() {
    let (_p, s, vault) = watched(Some(Duration::from_secs(60)), None);
    let started = tokio::time::Instant::now();
    // the pipeline read its password at start
    s.get("destination.pg.credentials.password", &Lookup::secret())
        .await
        .unwrap();
    let mut changes = s.watch(
        &["destination.pg.credentials.password", "sources.nothing.key"],
        &Lookup::secret(),
        Duration::from_secs(10),
    );
    // rotated in the vault right away: the cached value is served until
    // it is a minute old, then the next poll sees the new one
    vault.insert(
        "dlt_secrets_toml",
        "[destination.pg.credentials]\npassword = \"two\"\n",
    );
    // bounded: a watcher that never sees the change fails the test
    let change = tokio::time::timeout(Duration::from_secs(600), changes.next())
        .await
        .expect("the change within ten minutes")
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(change.path, "destination.pg.credentials.password");
    assert_eq!(change.expose(), Some(&Value::from("two")));
    assert!(!format!("{change:?}").contains("two"), "{change:?}");
    assert!(
        took >= Duration::from_secs(60) && took < Duration::from_secs(75),
        "{took:?}"
    );
    // polls every ten seconds, the vault asked once a minute at most:
    // the first read, and one after max_age
    assert_eq!(vault.fetch_count("dlt_secrets_toml"), 2);
    // nothing else changes: no change in the next minutes, and still
    // one fetch a minute
    let quiet = tokio::time::timeout(Duration::from_secs(185), changes.next()).await;
    assert!(
        quiet.is_err(),
        "no change: {:?}",
        quiet.map(|c| c.map(|c| c.map(|c| c.path)))
    );
    let fetches = vault.fetch_count("dlt_secrets_toml");
    assert!((4..=6).contains(&fetches), "{fetches}");
}

#[tokio::test(start_paused = true)]
async fn a_watcher_polling_past_the_budget_gets_the_error_and_goes_on() {
    // no cache expiry would help: max_age shorter than the poll, and a
    // budget of three requests a minute
    let (_p, s, vault) = watched(Some(Duration::from_secs(1)), Some(3));
    let mut changes = s.watch(
        &["destination.pg.credentials.password"],
        &Lookup::secret(),
        Duration::from_secs(5),
    );
    let mut errors = 0;
    for _ in 0..6 {
        match tokio::time::timeout(Duration::from_secs(20), changes.next()).await {
            Ok(Some(Err(e))) => {
                assert!(e.to_string().contains("max_requests"), "{e}");
                errors += 1;
            }
            Ok(Some(Ok(c))) => panic!("nothing changed: {c:?}"),
            Ok(None) => panic!("the stream ended"),
            Err(_) => {}
        }
    }
    assert!(errors > 0);
    // never more than three requests in any minute
    assert!(
        vault.fetch_count("dlt_secrets_toml") <= 3 * 2,
        "{}",
        vault.fetch_count("dlt_secrets_toml")
    );
}
