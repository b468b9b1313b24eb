//! Leased credentials (docs/runtime.md) against OpenBao's database secrets
//! engine and a real PostgreSQL, both started here: the credentials log
//! in, a renewal extends them, a refused renewal brings new ones (which
//! `watch` sees), and they stop working when the `Strata` is closed or
//! dropped, and when `exec`'s command exits or strata is told to stop.

use crate::common::Project;
use futures::StreamExt;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};
use strata_secrets::{Lookup, Strata, Value};
use strata_secrets_test_servers::openbao::OpenBao;
use strata_secrets_test_servers::postgres::Postgres;

const CREDENTIALS: &str = "destination.postgres.credentials";

/// A workspace whose `destination.postgres.credentials` are leased from
/// `role`, with OpenBao enabled through the environment.
fn leased(bao: &OpenBao, role: &str) -> Project {
    let mut p = Project::workspace();
    p.write(
        ".dlt/config.toml",
        &format!(
            "[providers.hashicorp_vault.leases]\n\"{CREDENTIALS}\" = \"database/creds/{role}\"\n"
        ),
    );
    p.set_env("PROVIDERS__ENABLE_HASHICORP_VAULT", "true")
        .set_env("VAULT_ADDR", &bao.address())
        .set_env("VAULT_TOKEN", bao.root_token());
    p
}

async fn open(p: &Project) -> Strata {
    let env: Vec<(&str, &str)> = p
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Strata::open(p.options(&env)).await.unwrap()
}

async fn credentials(s: &Strata) -> (String, String) {
    let r = s.get(CREDENTIALS, &Lookup::secret()).await.unwrap();
    let Value::Table(t) = r.expose() else {
        panic!("not a table: {:?}", r.expose().kind())
    };
    (t["username"].to_text(), t["password"].to_text())
}

fn valid_until(pg: &Postgres, user: &str) -> String {
    pg.query(&format!(
        "select extract(epoch from rolvaliduntil)::bigint from pg_roles where rolname = '{user}'"
    ))
}

/// Waits (at most `within`) until `check` holds.
async fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    check()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leased_credentials_log_in_are_renewed_and_revoked_on_close_and_drop() {
    let pg = Postgres::start();
    let bao = OpenBao::start();
    bao.database_role(&pg, "loader", "6s", "10m");
    let p = leased(&bao, "loader");
    let s = open(&p).await;
    let (user, password) = credentials(&s).await;
    assert!(user.contains("loader"), "{user}");
    assert!(
        pg.logs_in(&user, &password),
        "the leased credentials log in"
    );
    let first = valid_until(&pg, &user);
    // past the first TTL: renewed at two thirds, so they still log in, and
    // PostgreSQL has the later expiry
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(pg.logs_in(&user, &password), "renewed past the first TTL");
    let renewed = valid_until(&pg, &user);
    assert!(
        renewed.parse::<i64>().unwrap() > first.parse::<i64>().unwrap(),
        "VALID UNTIL {first} -> {renewed}"
    );
    // one lease for every lookup of the process
    assert_eq!(credentials(&s).await.0, user);
    // exec's document holds them too
    s.close().await;
    assert!(!pg.logs_in(&user, &password), "revoked by close()");

    // dropping the last Strata revokes in a task on the runtime
    let s = open(&p).await;
    let (user, password) = credentials(&s).await;
    assert!(pg.logs_in(&user, &password));
    drop(s);
    assert!(
        eventually(Duration::from_secs(10), || !pg.logs_in(&user, &password)).await,
        "revoked when dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_renewal_brings_new_credentials_which_watch_sees() {
    let pg = Postgres::start();
    let bao = OpenBao::start();
    bao.database_role(&pg, "short", "6s", "10m");
    let p = leased(&bao, "short");
    let s = open(&p).await;
    let (user, password) = credentials(&s).await;
    let path = format!("{CREDENTIALS}.username");
    let mut changes = s.watch(&[&path], &Lookup::secret(), Duration::from_secs(1));
    // the operator revokes every lease of the role: the next renewal is
    // refused, and strata reads a new lease
    bao.root(
        "POST",
        "/v1/sys/leases/revoke-prefix/database/creds/short",
        None,
    );
    assert!(!pg.logs_in(&user, &password));
    let change = tokio::time::timeout(Duration::from_secs(30), changes.next())
        .await
        .expect("new credentials within 30 s")
        .unwrap()
        .unwrap();
    let new_user = change.expose().unwrap().to_text();
    assert_ne!(new_user, user);
    let (now_user, now_password) = credentials(&s).await;
    assert_eq!(now_user, new_user);
    assert!(
        pg.logs_in(&now_user, &now_password),
        "the new lease logs in"
    );
    s.close().await;
}

#[test]
fn exec_revokes_the_leases_when_the_command_exits_and_when_told_to_stop() {
    let pg = Postgres::start();
    let bao = OpenBao::start();
    bao.database_role(&pg, "runner", "1m", "10m");
    let p = leased(&bao, "runner");
    let print = "echo \"$DESTINATION__POSTGRES__CREDENTIALS__USERNAME $DESTINATION__POSTGRES__CREDENTIALS__PASSWORD\"";
    // the command exits on its own
    let r = p.run(&["exec", "--", "sh", "-c", print]);
    let out = r.ok().stdout();
    let (user, password) = out.trim().split_once(' ').unwrap();
    assert!(user.contains("runner"), "{out}");
    assert!(
        !pg.logs_in(user, password),
        "revoked when the command exited"
    );

    // strata is told to stop while the command runs
    let mut child = p.spawn(&[
        "exec",
        "--",
        "sh",
        "-c",
        &format!("{print}; trap 'exit 0' TERM; while :; do sleep 0.05; done"),
    ]);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let (user, password) = line.trim().split_once(' ').unwrap();
    assert!(pg.logs_in(user, password), "valid while the command runs");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!pg.logs_in(user, password), "revoked on the signal");
    // export shows where they come from, and masks them
    let r = p.run(&["export"]);
    let out = r.ok().stdout();
    assert!(out.contains("[destination.postgres.credentials]"), "{out}");
    assert!(out.contains("password = \"***\""), "{out}");
}
