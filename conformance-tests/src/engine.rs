//! The vault engine's own cases: the fetch plan, the options, the cache,
//! single flight, retries and deadlines. They are properties of the engine,
//! not of a backend, so they run once, against the in-memory vault.

use crate::CaseResult;
use crate::vault::{Ctx, VaultSetup, chain, open, path, text};
use futures::FutureExt;
use futures::future::BoxFuture;
use std::time::Duration;
use strata_secrets_core::vault::VaultOptions;
use strata_secrets_core::{ErrorKind, Lookup, Outcome, Provider, ProviderExt, Value};

/// One engine case.
pub(crate) struct EngineCase {
    /// The case's name (an identifier).
    pub(crate) name: &'static str,
    /// The check.
    pub(crate) run: for<'a> fn(&'a Ctx<'a>) -> BoxFuture<'a, CaseResult>,
}

/// The engine cases, in the order they run.
pub(crate) static CASES: &[EngineCase] = &[
    EngineCase {
        name: "dlt_secrets_toml_answers",
        run: secrets_toml_answers,
    },
    EngineCase {
        name: "dlt_secrets_toml_wins_over_fragments",
        run: secrets_toml_wins,
    },
    EngineCase {
        name: "fragments_merge_in_plan_order",
        run: fragment_order,
    },
    EngineCase {
        name: "pipeline_scoping",
        run: pipeline_scoping,
    },
    EngineCase {
        name: "only_toml_fragments_skips_single_values",
        run: only_fragments,
    },
    EngineCase {
        name: "prefetch_single_values_fetches_a_walk_at_once",
        run: prefetch_single_values,
    },
    EngineCase {
        name: "only_secrets",
        run: only_secrets,
    },
    EngineCase {
        name: "every_fetch_is_cached",
        run: cached,
    },
    EngineCase {
        name: "max_age_serves_a_rotated_secret_once_the_cached_one_is_that_old",
        run: max_age,
    },
    EngineCase {
        name: "max_requests_stops_a_lookup_loop_with_an_error_naming_vault_and_budget",
        run: max_requests,
    },
    EngineCase {
        name: "single_flight_under_100_concurrent_lookups",
        run: single_flight,
    },
    EngineCase {
        name: "answers_depend_only_on_the_paths_plan",
        run: order_independent,
    },
    EngineCase {
        name: "dlt_secrets_toml_that_is_not_toml_is_an_error",
        run: bad_secrets_toml,
    },
    EngineCase {
        name: "passing_failures_are_retried_within_the_deadline",
        run: retries,
    },
    EngineCase {
        name: "a_call_that_hangs_times_out",
        run: timeout,
    },
];

const CREDS_TOML: &str = "[destination.bigquery.credentials]\nproject_id = \"from-toml\"\nprivate_key = \"pk-from-toml\"\n";

fn secrets_toml_answers<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let doc = "[sources.pipedrive]\napi_key = \"pd\"\n\n[destination.bigquery.credentials]\nproject_id = \"p\"\nport = 5\n";
        let (p, _) = c.provider(&VaultSetup::with(&[(&c.name("dlt_secrets_toml"), doc)]), VaultOptions::default()).await;
        let r = chain(p);
        if text(&r, "sources.pipedrive.api_key", &Lookup::secret()).await?.as_deref() != Some("pd") {
            return Err("a value in dlt_secrets_toml was not found".into());
        }
        let creds = r
            .get(&path("destination.bigquery.credentials"), &Lookup::secret())
            .await
            .map_err(|e| e.to_string())?;
        let port = creds.expose().to_table().and_then(|t| t.get("port").cloned());
        if port != Some(Value::Integer(5)) {
            return Err("a table in dlt_secrets_toml did not keep its typed values".into());
        }
        if creds.provenance().name != c.name("dlt_secrets_toml") {
            return Err(format!("provenance names {}", creds.provenance().name));
        }
        Ok(())
    }
    .boxed()
}

fn secrets_toml_wins<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let fragment = "[destination.bigquery.credentials]\nproject_id = \"from-fragment\"\nclient_email = \"frag@example.com\"\n";
        let setup = VaultSetup::with(&[
            (&c.name("dlt_secrets_toml"), CREDS_TOML),
            (&c.name("destination.bigquery"), fragment),
        ]);
        let (p, _) = c.provider(&setup, VaultOptions::default()).await;
        let r = chain(p);
        let got = text(&r, "destination.bigquery.credentials.project_id", &Lookup::secret()).await?;
        if got.as_deref() != Some("from-toml") {
            return Err(format!("dlt_secrets_toml must win, got {got:?}"));
        }
        let got = text(&r, "destination.bigquery.credentials.client_email", &Lookup::secret()).await?;
        if got.as_deref() != Some("frag@example.com") {
            return Err("a key only in the fragment was not found".into());
        }
        Ok(())
    }
    .boxed()
}

fn fragment_order<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let setup = VaultSetup::with(&[
            (&c.name("sources"), "[sources.pipedrive]\napi_key = \"short\"\nonly_short = \"s\"\n[sources.other]\nk = \"o\"\n"),
            (&c.name("sources.pipedrive"), "[sources.pipedrive]\napi_key = \"long\"\n"),
            (&c.name("destination"), "[destination.postgres.credentials]\nhost = \"h\"\n"),
        ]);
        let (p, _) = c.provider(&setup, VaultOptions::default()).await;
        let r = chain(p);
        let want = [
            ("sources.pipedrive.api_key", Some("long")),
            ("sources.pipedrive.only_short", Some("s")),
            ("sources.other.k", Some("o")),
            ("destination.postgres.credentials.host", Some("h")),
            ("sources.pipedrive.missing", None),
        ];
        for (at, expected) in want {
            let got = text(&r, at, &Lookup::secret()).await?;
            if got.as_deref() != expected {
                return Err(format!("`{at}`: got {got:?}, want {expected:?}"));
            }
        }
        let got = r.get(&path("sources.pipedrive.api_key"), &Lookup::secret()).await.map_err(|e| e.to_string())?;
        if got.provenance().name != c.name("sources.pipedrive") {
            return Err(format!("answered by {}, want the longer fragment", got.provenance().name));
        }
        Ok(())
    }
    .boxed()
}

fn pipeline_scoping<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let setup = VaultSetup::with(&[
            (
                &c.name("sources.pipedrive"),
                "[sources.pipedrive]\napi_key = \"unscoped\"\n",
            ),
            (
                &c.name("my_pipe.sources"),
                "[my_pipe.sources.pipedrive]\napi_key = \"scoped-short\"\ntoken = \"t\"\n",
            ),
            (
                &c.name("my_pipe.sources.pipedrive"),
                "[my_pipe.sources.pipedrive]\napi_key = \"scoped\"\n",
            ),
            (
                &c.name("my_pipe.dlt_secrets_toml"),
                "[my_pipe.destination.x]\nk = \"pipe-toml\"\n",
            ),
        ]);
        let (p, _) = c.provider(&setup, VaultOptions::default()).await;
        let r = chain(p);
        let scoped = Lookup::secret().pipeline("my_pipe");
        let cases = [
            ("sources.pipedrive.api_key", &scoped, Some("scoped")),
            ("sources.pipedrive.token", &scoped, Some("t")),
            ("destination.x.k", &scoped, Some("pipe-toml")),
            (
                "sources.pipedrive.api_key",
                &Lookup::secret(),
                Some("unscoped"),
            ),
            ("sources.pipedrive.token", &Lookup::secret(), None),
        ];
        for (at, lookup, expected) in cases {
            let got = text(&r, at, lookup).await?;
            if got.as_deref() != expected {
                return Err(format!(
                    "`{at}` ({:?}): got {got:?}, want {expected:?}",
                    lookup.pipeline
                ));
            }
        }
        Ok(())
    }
    .boxed()
}

fn only_fragments<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let single = c.name("sources.pipedrive.api_key");
        let setup = VaultSetup::with(&[(&single, "single-value")]);
        let (p, counts) = c.provider(&setup, VaultOptions::default()).await;
        if text(&chain(p), "sources.pipedrive.api_key", &Lookup::secret())
            .await?
            .is_some()
        {
            return Err("only_toml_fragments must not read single values".into());
        }
        if counts.fetches_of(&single) != 0 {
            return Err("only_toml_fragments fetched a single value".into());
        }
        let (p, _) = c.provider(&setup, open()).await;
        let got = text(&chain(p), "sources.pipedrive.api_key", &Lookup::secret()).await?;
        if got.as_deref() != Some("single-value") {
            return Err(format!("a single value was not read: {got:?}"));
        }
        Ok(())
    }
    .boxed()
}

fn prefetch_single_values<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let token = c.name("sources.crm.credentials.token");
        let user = c.name("sources.crm.credentials.user");
        let setup = VaultSetup::with(&[(&token, "tok"), (&user, "u")]);
        let walk = [
            "sources.crm.credentials",
            "sources.credentials",
            "credentials",
            "sources.crm.credentials.token",
            "sources.crm.credentials.user",
        ]
        .map(path);
        let queries: Vec<strata_secrets_core::Query<'_>> = walk
            .iter()
            .map(|p| strata_secrets_core::Query {
                path: p,
                pipeline: None,
                secret: true,
            })
            .collect();
        // off (the default): fetching ahead fetches nothing
        let (p, counts) = c.provider(&setup, open()).await;
        p.prefetch(&queries).await;
        if counts.fetches() != 0 {
            return Err(format!("{} fetches ahead while off", counts.fetches()));
        }
        let options = VaultOptions {
            prefetch_single_values: true,
            ..open()
        };
        let (p, counts) = c.provider(&setup, options).await;
        p.prefetch(&queries).await;
        let ahead = counts.fetches();
        for at in &walk {
            let name = c.name(&at.to_string());
            if counts.fetches_of(&name) != 1 {
                return Err(format!(
                    "`{name}` fetched {} times ahead, want once",
                    counts.fetches_of(&name)
                ));
            }
        }
        // the lookups that follow are answered from the cache
        let r = chain(p);
        for (at, want) in [
            ("sources.crm.credentials", None),
            ("credentials", None),
            ("sources.crm.credentials.token", Some("tok")),
            ("sources.crm.credentials.user", Some("u")),
        ] {
            if text(&r, at, &Lookup::secret()).await?.as_deref() != want {
                return Err(format!("`{at}` after fetching ahead"));
            }
        }
        if counts.fetches() != ahead {
            return Err(format!(
                "{} more fetches after fetching ahead",
                counts.fetches() - ahead
            ));
        }
        Ok(())
    }
    .boxed()
}

fn only_secrets<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let setup = VaultSetup::with(&[(
            &c.name("dlt_secrets_toml"),
            "[runtime]\nlog_level = \"INFO\"\n",
        )]);
        let (p, counts) = c.provider(&setup, VaultOptions::default()).await;
        let r = chain(p.clone());
        if text(&r, "runtime.log_level", &Lookup::config())
            .await?
            .is_some()
        {
            return Err("only_secrets answered a configuration lookup".into());
        }
        if counts.fetches() != 0 {
            return Err(format!(
                "only_secrets made {} requests for a configuration lookup",
                counts.fetches()
            ));
        }
        let err = r
            .get(&path("runtime.log_level"), &Lookup::config())
            .await
            .err()
            .ok_or("found")?;
        let skipped = err.missing_report().is_some_and(|m| {
            m.trace
                .entries
                .iter()
                .any(|e| matches!(e.outcome, Outcome::Skipped(_)))
        });
        if !skipped {
            return Err("the trace does not say the vault was skipped".into());
        }
        if text(&r, "runtime.log_level", &Lookup::secret())
            .await?
            .as_deref()
            != Some("INFO")
        {
            return Err("a secret lookup was not answered".into());
        }
        let (p, _) = c
            .provider(
                &setup,
                VaultOptions {
                    only_secrets: false,
                    ..VaultOptions::default()
                },
            )
            .await;
        if text(&chain(p), "runtime.log_level", &Lookup::config())
            .await?
            .as_deref()
            != Some("INFO")
        {
            return Err("with only_secrets off a configuration lookup was not answered".into());
        }
        Ok(())
    }
    .boxed()
}

fn cached<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let setup = VaultSetup::with(&[(&c.name("sources"), "[sources.a]\nk = \"v\"\n")]);
        let (p, counts) = c.provider(&setup, open()).await;
        let r = chain(p);
        for _ in 0..3 {
            text(&r, "sources.a.k", &Lookup::secret()).await?;
            text(&r, "sources.a.missing", &Lookup::secret()).await?;
        }
        let multi: Vec<(String, usize)> = counts
            .names()
            .into_iter()
            .map(|n| (n.clone(), counts.fetches_of(&n)))
            .filter(|(_, k)| *k != 1)
            .collect();
        if !multi.is_empty() {
            return Err(format!("names fetched more than once: {multi:?}"));
        }
        Ok(())
    }
    .boxed()
}

fn single_flight<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let setup = VaultSetup::with(&[
            (&c.name("dlt_secrets_toml"), CREDS_TOML),
            (
                &c.name("destination.bigquery"),
                "[destination.bigquery]\nlocation = \"EU\"\n",
            ),
        ]);
        let (p, counts) = c.provider(&setup, open()).await;
        let lookups = (0..100).map(|n| {
            let p = p.clone();
            async move {
                let at = [
                    "destination.bigquery.location",
                    "destination.bigquery.credentials.project_id",
                    "destination.bigquery.nothing",
                ][n % 3];
                p.get(&path(at), true)
                    .await
                    .map(|a| a.found().map(|f| f.value.to_text()))
            }
        });
        let results = futures::future::join_all(lookups).await;
        for (n, r) in results.into_iter().enumerate() {
            let got = r.map_err(|e| e.to_string())?;
            let want = [Some("EU"), Some("from-toml"), None][n % 3];
            if got.as_deref() != want {
                return Err(format!("lookup {n} got {got:?}"));
            }
        }
        let multi: Vec<String> = counts
            .names()
            .into_iter()
            .filter(|n| counts.fetches_of(n) != 1)
            .collect();
        if !multi.is_empty() {
            return Err(format!(
                "names fetched more than once under concurrency: {multi:?}"
            ));
        }
        Ok(())
    }
    .boxed()
}

fn order_independent<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let setup = VaultSetup::with(&[
            (
                &c.name("sources"),
                "[sources.a]\nk = \"from-sources\"\n[my_pipe.sources.a]\nk = \"misplaced\"\n",
            ),
            (
                &c.name("my_pipe.sources"),
                "[my_pipe.sources.a]\nk = \"scoped\"\n[sources.a]\nk = \"leaked\"\n",
            ),
            (&c.name("sources.a"), "[sources.a]\nj = \"from-a\"\n"),
        ]);
        let queries: Vec<(&str, Option<&str>)> = vec![
            ("sources.a.k", Some("my_pipe")),
            ("sources.a.k", None),
            ("sources.a.j", None),
            ("sources.a.j", Some("my_pipe")),
            ("sources.b.k", None),
        ];
        let mut fresh = Vec::new();
        for (at, pipe) in &queries {
            let (p, _) = c.provider(&setup, open()).await;
            let mut lookup = Lookup::secret();
            lookup.pipeline = pipe.map(str::to_owned);
            fresh.push(text(&chain(p), at, &lookup).await?);
        }
        for order in [
            vec![0, 1, 2, 3, 4],
            vec![4, 3, 2, 1, 0],
            vec![1, 0, 3, 2, 4],
        ] {
            let (p, _) = c.provider(&setup, open()).await;
            let r = chain(p);
            for i in order {
                let (at, pipe) = queries[i];
                let mut lookup = Lookup::secret();
                lookup.pipeline = pipe.map(str::to_owned);
                let got = text(&r, at, &lookup).await?;
                if got != fresh[i] {
                    return Err(format!(
                        "`{at}` ({pipe:?}) gave {got:?} after other lookups, {:?} fresh",
                        fresh[i]
                    ));
                }
            }
        }
        Ok(())
    }
    .boxed()
}

fn bad_secrets_toml<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let setup = VaultSetup::with(&[(&c.name("dlt_secrets_toml"), "canary-not-toml = = \"x")]);
        let (p, _) = c.provider(&setup, VaultOptions::default()).await;
        match chain(p).get(&path("sources.a.k"), &Lookup::secret()).await {
            Err(e) if e.kind() == ErrorKind::Parse => {
                let text = format!("{e} {e:?}");
                if text.contains("canary") {
                    return Err(format!("the error prints the secret: {text}"));
                }
                if !text.contains(&c.name("dlt_secrets_toml")) {
                    return Err(format!("the error does not name the secret: {text}"));
                }
                Ok(())
            }
            Err(e) => Err(format!("wrong error: {e}")),
            Ok(_) => Err("a dlt_secrets_toml that is not TOML was accepted".into()),
        }
    }
    .boxed()
}

fn retries<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        // two passing failures, then an answer: retried
        let setup = VaultSetup {
            fail_next: 2,
            ..VaultSetup::with(&[(&c.name("dlt_secrets_toml"), "[a]\nk = 1\n")])
        };
        let (p, counts) = c.provider(&setup, VaultOptions::default()).await;
        if text(&chain(p), "a.k", &Lookup::secret()).await?.as_deref() != Some("1") {
            return Err("not answered after two passing failures".into());
        }
        if counts.fetches() != 3 {
            return Err(format!("{} fetches, want 3", counts.fetches()));
        }
        // failing for good: not retried
        let setup = VaultSetup {
            fault: Some(crate::Fault::Unauthenticated),
            ..VaultSetup::default()
        };
        let (p, counts) = c.provider(&setup, VaultOptions::default()).await;
        match chain(p).get(&path("a.k"), &Lookup::secret()).await {
            Err(e) if e.kind() == ErrorKind::Unauthenticated => {}
            other => return Err(format!("refused credentials gave {other:?}")),
        }
        if counts.fetches() != 1 {
            return Err(format!(
                "refused credentials were tried {} times",
                counts.fetches()
            ));
        }
        // failing on every try: given up at the deadline, saying how often
        let setup = VaultSetup {
            fault: Some(crate::Fault::Unavailable),
            ..VaultSetup::default()
        };
        let options = VaultOptions {
            deadline: Duration::from_millis(700),
            ..VaultOptions::default()
        };
        let (p, counts) = c.provider(&setup, options).await;
        let started = std::time::Instant::now();
        let err = match chain(p).get(&path("a.k"), &Lookup::secret()).await {
            Err(e) if e.kind() == ErrorKind::Unavailable => e,
            other => return Err(format!("a failing vault gave {other:?}")),
        };
        if started.elapsed() > Duration::from_secs(5) {
            return Err(format!("the 0.7 s deadline took {:?}", started.elapsed()));
        }
        let tries = counts.fetches();
        if tries < 2 {
            return Err(format!("{tries} tries within the deadline"));
        }
        if !err
            .to_string()
            .contains(&format!("gave up after {tries} tries"))
        {
            return Err(format!("the error does not say how many tries: {err}"));
        }
        Ok(())
    }
    .boxed()
}

fn timeout<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let setup = VaultSetup {
            fault: Some(crate::Fault::Timeout),
            ..VaultSetup::default()
        };
        let options = VaultOptions {
            timeout: Duration::from_millis(200),
            deadline: Duration::from_millis(400),
            ..VaultOptions::default()
        };
        let (p, _) = c.provider(&setup, options).await;
        let started = std::time::Instant::now();
        match p.get(&path("a.k"), true).await {
            Err(e)
                if e.kind() == ErrorKind::Unavailable
                    && e.to_string().contains("no answer within") => {}
            other => return Err(format!("a hung call gave {other:?}")),
        }
        if started.elapsed() > Duration::from_secs(2) {
            return Err(format!("a 0.2 s timeout took {:?}", started.elapsed()));
        }
        Ok(())
    }
    .boxed()
}

/// Runs `f` on a runtime of its own whose clock is paused: time moves only
/// when the case advances it (or every task waits on a timer), so a case
/// about minutes takes milliseconds and counts exactly.
fn paused<F>(f: F) -> CaseResult
where
    F: std::future::Future<Output = CaseResult> + Send + 'static,
{
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .map_err(|e| format!("no paused runtime: {e}"))?;
        runtime.block_on(f)
    })
    .join()
    .map_err(|_| "the paused case panicked".to_owned())?
}

fn max_age<'a>(_: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        paused(async {
            let vault = std::sync::Arc::new(crate::TestVault::new());
            vault.insert("dlt_secrets_toml", "[sources.a]\nkey = \"one\"\n");
            let options = VaultOptions {
                max_age: Some(Duration::from_secs(30)),
                ..VaultOptions::default()
            };
            let p = std::sync::Arc::new(vault.provider(options));
            let r = chain(p.clone());
            let read = |r| async move { text(r, "sources.a.key", &Lookup::secret()).await };
            if read(&r).await? != Some("one".into()) {
                return Err("the first value".into());
            }
            // rotated in the vault
            vault.insert("dlt_secrets_toml", "[sources.a]\nkey = \"two\"\n");
            tokio::time::advance(Duration::from_secs(29)).await;
            if read(&r).await? != Some("one".into()) || vault.total_fetches() != 1 {
                return Err(format!(
                    "younger than max_age: the cached value, no fetch ({} fetches)",
                    vault.total_fetches()
                ));
            }
            tokio::time::advance(Duration::from_secs(1)).await;
            // stale: every lookup at once shares one fetch
            let all = futures::future::join_all((0..20).map(|_| read(&r))).await;
            if all
                .iter()
                .any(|v| v.as_ref().ok() != Some(&Some("two".into())))
            {
                return Err(format!("after max_age: the rotated value for all: {all:?}"));
            }
            if vault.total_fetches() != 2 {
                return Err(format!(
                    "one fetch for the 20 lookups, not {}",
                    vault.total_fetches() - 1
                ));
            }
            // without max_age: read once for the process's life
            let once = std::sync::Arc::new(crate::TestVault::new());
            once.insert("dlt_secrets_toml", "[sources.a]\nkey = \"one\"\n");
            let r = chain(std::sync::Arc::new(once.provider(VaultOptions::default())));
            read(&r).await?;
            once.insert("dlt_secrets_toml", "[sources.a]\nkey = \"two\"\n");
            tokio::time::advance(Duration::from_secs(10 * 24 * 3600)).await;
            if read(&r).await? != Some("one".into()) || once.total_fetches() != 1 {
                return Err("without max_age a value is read once".into());
            }
            Ok(())
        })
    }
    .boxed()
}

fn max_requests<'a>(_: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        paused(async {
            let vault = std::sync::Arc::new(crate::TestVault::new());
            let options = VaultOptions {
                max_requests: Some(5),
                ..open()
            };
            let p = std::sync::Arc::new(vault.provider(options));
            let r = chain(p);
            // a loop over paths the vault does not hold: each misses after
            // dlt_secrets_toml (cached) and its own single value
            let mut error = None;
            for i in 0..50 {
                match r
                    .get(&crate::path(&format!("x{i}.key")), &Lookup::secret())
                    .await
                {
                    Ok(_) => return Err("nothing is stored".into()),
                    Err(e) if e.is_missing() => {}
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            let Some(e) = error else {
                return Err("50 lookups of 2 names each stayed within a budget of 5".into());
            };
            if e.kind() != ErrorKind::RateLimited {
                return Err(format!("over budget is rate limited: {e}"));
            }
            let text = e.to_string();
            if !text.contains("memory_vault")
                || !text.contains("max_requests")
                || !text.contains('5')
            {
                return Err(format!("the error names the vault and the budget: {text}"));
            }
            if vault.total_fetches() != 5 {
                return Err(format!(
                    "the vault got {} requests, not the budget's 5",
                    vault.total_fetches()
                ));
            }
            // a minute later the budget is there again
            tokio::time::advance(Duration::from_secs(60)).await;
            match r.get(&crate::path("y.key"), &Lookup::secret()).await {
                Err(e) if e.is_missing() => {}
                other => return Err(format!("a minute later: {:?}", other.map(|_| ()))),
            }
            Ok(())
        })
    }
    .boxed()
}
