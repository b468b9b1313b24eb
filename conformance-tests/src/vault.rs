//! The vault cases: every vault backend runs them through
//! [`run_vault`], which also runs the provider cases of [`crate::CASES`]
//! against a [`VaultProvider`] over the backend.

use crate::{Capabilities, Harness, Report, Stored};
use futures::FutureExt;
use futures::future::BoxFuture;
use secrecy::SecretString;
use std::collections::HashMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use strata_core::naming::{NamingRule, VaultNaming};
use strata_core::vault::{Fetched, VaultBackend, VaultOptions, VaultProvider};
use strata_core::{
    Error, ErrorKind, Lookup, MemoryProvider, Outcome, Path, Provider, Resolver, Value,
};

/// A failure a harness can make its vault produce on every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Credentials refused (401).
    Unauthenticated,
    /// Throttled (429), after the client's retries.
    RateLimited,
    /// Server errors (503), after the client's retries.
    Unavailable,
    /// No answer in time.
    Timeout,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 4] = [
        Fault::Unauthenticated,
        Fault::RateLimited,
        Fault::Unavailable,
        Fault::Timeout,
    ];

    /// The error kind a lookup must fail with.
    pub fn kind(self) -> ErrorKind {
        match self {
            Fault::Unauthenticated => ErrorKind::Unauthenticated,
            Fault::RateLimited => ErrorKind::RateLimited,
            Fault::Unavailable | Fault::Timeout => ErrorKind::Unavailable,
        }
    }
}

/// What a vault harness can do.
#[derive(Debug, Clone)]
pub struct VaultCapabilities {
    /// The backend's naming rule.
    pub naming: VaultNaming,
    /// The backend can list secrets.
    pub can_list: bool,
    /// The harness can make fetching a secret fail with access denied.
    pub can_forbid: bool,
    /// The harness can make listing fail with access denied.
    pub forbid_list: bool,
    /// The faults the harness can inject.
    pub faults: Vec<Fault>,
    /// The vault's value size limit in bytes.
    pub max_value_len: usize,
    /// The vault can store an empty value.
    pub empty_values: bool,
    /// The vault can store bytes that are not UTF-8 text.
    pub binary_values: bool,
}

/// What a vault must hold.
#[derive(Debug, Clone, Default)]
pub struct VaultSetup {
    /// Secret name and payload (bytes, which may not be UTF-8).
    pub secrets: Vec<(String, Vec<u8>)>,
    /// Names whose fetch is denied.
    pub forbidden: Vec<String>,
    /// Listing is denied.
    pub forbid_list: bool,
    /// A fault every call fails with.
    pub fault: Option<Fault>,
}

impl VaultSetup {
    /// A vault holding these texts.
    pub fn with(secrets: &[(&str, &str)]) -> Self {
        Self {
            secrets: secrets
                .iter()
                .map(|(n, t)| ((*n).to_owned(), t.as_bytes().to_vec()))
                .collect(),
            ..Self::default()
        }
    }
}

/// What a vault backend supplies to run the suite.
#[async_trait::async_trait]
pub trait VaultHarness: Send + Sync {
    /// The backend's name, for the report.
    fn name(&self) -> &str;
    /// What it can do.
    fn capabilities(&self) -> VaultCapabilities;
    /// A fresh backend over a vault set up as asked.
    async fn make(&self, setup: &VaultSetup) -> Arc<dyn VaultBackend>;
}

/// Counts the calls that reach a backend.
pub struct Counting {
    inner: Arc<dyn VaultBackend>,
    fetches: Mutex<HashMap<String, usize>>,
    lists: AtomicUsize,
}

impl Counting {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn VaultBackend>) -> Self {
        Self {
            inner,
            fetches: Mutex::new(HashMap::new()),
            lists: AtomicUsize::new(0),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        match self.fetches.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Fetches of `name`.
    pub fn fetches_of(&self, name: &str) -> usize {
        self.map().get(name).copied().unwrap_or(0)
    }

    /// All fetches.
    pub fn fetches(&self) -> usize {
        self.map().values().sum()
    }

    /// The names fetched.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.map().keys().cloned().collect();
        v.sort();
        v
    }

    /// List calls.
    pub fn lists(&self) -> usize {
        self.lists.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for Counting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counting")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl VaultBackend for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn naming(&self) -> &VaultNaming {
        self.inner.naming()
    }
    async fn fetch(&self, name: &str) -> Result<Fetched, Error> {
        *self.map().entry(name.to_owned()).or_default() += 1;
        self.inner.fetch(name).await
    }
    fn can_list(&self) -> bool {
        self.inner.can_list()
    }
    async fn list(&self) -> Result<Vec<String>, Error> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        self.inner.list().await
    }
    async fn store(&self, name: &str, value: &SecretString) -> Result<String, Error> {
        self.inner.store(name, value).await
    }
    fn access_hint(&self) -> String {
        self.inner.access_hint()
    }
    fn location(&self) -> String {
        self.inner.location()
    }
}

/// The timeout of one call in the vault cases.
pub const SUITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);
/// The deadline of one call (retries included) in the vault cases.
pub const SUITE_DEADLINE: std::time::Duration = std::time::Duration::from_millis(1500);

/// Everything a vault case needs.
pub struct Ctx<'a> {
    harness: &'a dyn VaultHarness,
    caps: VaultCapabilities,
}

impl Ctx<'_> {
    fn name(&self, path: &str) -> String {
        #[allow(clippy::expect_used)]
        let p = Path::parse(path).expect("valid path");
        self.caps.naming.name(&p).unwrap_or_default()
    }

    /// A provider over a fresh vault, with the backend's call counter.
    async fn provider(
        &self,
        setup: &VaultSetup,
        options: VaultOptions,
    ) -> (Arc<VaultProvider>, Arc<Counting>) {
        let counting = Arc::new(Counting::new(self.harness.make(setup).await));
        // the suite's timing: faults give up within a second and a half
        let options = VaultOptions {
            timeout: options.timeout.min(SUITE_TIMEOUT),
            deadline: options.deadline.min(SUITE_DEADLINE),
            ..options
        };
        let provider = Arc::new(VaultProvider::new(counting.clone(), options));
        (provider, counting)
    }
}

fn open() -> VaultOptions {
    VaultOptions {
        only_secrets: false,
        only_toml_fragments: false,
        list_secrets: false,
        prefetch_single_values: false,
        ..VaultOptions::default()
    }
}

fn path(s: &str) -> Path {
    crate::path(s)
}

async fn text(resolver: &Resolver, at: &str, lookup: &Lookup) -> Result<Option<String>, String> {
    match resolver.get(&path(at), lookup).await {
        Ok(r) => Ok(Some(r.expose().to_text())),
        Err(e) if e.is_missing() => Ok(None),
        Err(e) => Err(format!("`{at}`: {e}")),
    }
}

fn chain(p: Arc<VaultProvider>) -> Resolver {
    Resolver::new().with_provider(p)
}

type VaultCase = for<'a> fn(&'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>>;
type Applies = fn(&VaultCapabilities) -> bool;

/// The vault cases: (name, applies, run).
pub static VAULT_CASES: &[(&str, Applies, VaultCase)] = &[
    ("dlt_secrets_toml answers", |_| true, secrets_toml_answers),
    (
        "dlt_secrets_toml wins over fragments",
        |_| true,
        secrets_toml_wins,
    ),
    ("fragment order and override", |_| true, fragment_order),
    ("pipeline scoping", |_| true, pipeline_scoping),
    (
        "prefetch_single_values fetches a walk at once",
        |_| true,
        prefetch_single_values,
    ),
    (
        "only_toml_fragments skips single values",
        |_| true,
        only_fragments,
    ),
    (
        "single values stay values, JSON keys read as tables",
        |_| true,
        single_values,
    ),
    ("only_secrets", |_| true, only_secrets),
    (
        "list_secrets never fetches unlisted names",
        |c| c.can_list,
        list_secrets,
    ),
    ("every fetch is cached", |_| true, cached),
    (
        "single flight under 100 concurrent lookups",
        |_| true,
        single_flight,
    ),
    (
        "answers depend only on the path's plan",
        |_| true,
        order_independent,
    ),
    (
        "access denied is nothing plus a warning",
        |c| c.can_forbid,
        denied,
    ),
    ("listing denied is an error", |c| c.forbid_list, list_denied),
    (
        "faults fail the lookup and never fall through",
        |c| !c.faults.is_empty(),
        faults,
    ),
    (
        "non-UTF-8 payloads are errors",
        |c| c.binary_values,
        non_utf8,
    ),
    ("payloads up to the size limit", |_| true, huge_payload),
    (
        "dlt_secrets_toml that is not TOML is an error without its content",
        |_| true,
        bad_secrets_toml,
    ),
];

const CREDS_TOML: &str = "[destination.bigquery.credentials]\nproject_id = \"from-toml\"\nprivate_key = \"pk-from-toml\"\n";

fn secrets_toml_answers<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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

fn secrets_toml_wins<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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

fn fragment_order<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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

fn pipeline_scoping<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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

fn only_fragments<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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

fn single_values<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
    async move {
        let key_json = r#"{"type": "service_account", "project_id": "p1", "client_email": "a@p1.iam.gserviceaccount.com"}"#;
        let setup = VaultSetup::with(&[
            (&c.name("destination.bigquery.credentials"), key_json),
            (&c.name("sources.x.password"), "a = \"b\""),
            (&c.name("sources.x.multi"), "line1\nline2\n"),
        ]);
        let (p, _) = c.provider(&setup, open()).await;
        let r = chain(p);
        let creds = r
            .get(&path("destination.bigquery.credentials"), &Lookup::secret())
            .await
            .map_err(|e| e.to_string())?;
        let project = creds.expose().to_table().and_then(|t| t.get("project_id").cloned());
        if project != Some(Value::from("p1")) {
            return Err("a JSON key stored as one value does not read as a table".into());
        }
        if text(&r, "sources.x.password", &Lookup::secret()).await?.as_deref() != Some("a = \"b\"") {
            return Err("a password that looks like TOML did not stay a password".into());
        }
        if text(&r, "sources.x.multi", &Lookup::secret()).await?.as_deref() != Some("line1\nline2\n") {
            return Err("a multi-line value changed".into());
        }
        Ok(())
    }
    .boxed()
}

fn only_secrets<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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

fn list_secrets<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
    async move {
        let stored = [
            c.name("sources.pipedrive"),
            c.name("sources.pipedrive.token"),
        ];
        let setup = VaultSetup::with(&[
            (&stored[0], "[sources.pipedrive]\napi_key = \"k\"\n"),
            (&stored[1], "tok"),
        ]);
        let options = VaultOptions {
            list_secrets: true,
            ..open()
        };
        let (p, counts) = c.provider(&setup, options).await;
        let r = chain(p);
        for (at, want) in [
            ("sources.pipedrive.api_key", Some("k")),
            ("sources.pipedrive.token", Some("tok")),
            ("sources.pipedrive.nothing", None),
            ("destination.x.y", None),
        ] {
            if text(&r, at, &Lookup::secret()).await?.as_deref() != want {
                return Err(format!("`{at}` with list_secrets"));
            }
        }
        if counts.lists() != 1 {
            return Err(format!("listed {} times, want once", counts.lists()));
        }
        let fetched = counts.names();
        if let Some(n) = fetched.iter().find(|n| !stored.contains(n)) {
            return Err(format!("fetched the unlisted name {n}"));
        }
        if counts.fetches() != 2 {
            return Err(format!(
                "{} fetches, want 2 (each listed name once)",
                counts.fetches()
            ));
        }
        Ok(())
    }
    .boxed()
}

fn prefetch_single_values<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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
        let queries: Vec<strata_core::Query<'_>> = walk
            .iter()
            .map(|p| strata_core::Query {
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

fn cached<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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

fn single_flight<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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

fn order_independent<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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

fn denied<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
    async move {
        let forbidden = c.name("sources.pipedrive");
        let mut setup = VaultSetup::with(&[
            (&forbidden, "[sources.pipedrive]\napi_key = \"hidden\"\n"),
            (&c.name("sources.pipedrive.token"), "tok"),
        ]);
        setup.forbidden.push(forbidden.clone());
        let (p, _) = c.provider(&setup, open()).await;
        let r = chain(p);
        // a denied fragment does not stop the exact value from answering
        if text(&r, "sources.pipedrive.token", &Lookup::secret())
            .await?
            .as_deref()
            != Some("tok")
        {
            return Err("a value outside the denied secret was not found".into());
        }
        let err = r
            .get(&path("sources.pipedrive.api_key"), &Lookup::secret())
            .await
            .err()
            .ok_or("a value in a denied secret was found")?;
        let report = err
            .missing_report()
            .ok_or_else(|| format!("not a missing value: {err}"))?;
        let hint = c.harness_hint().await;
        if !report
            .trace
            .warnings
            .iter()
            .any(|w| w.contains(&forbidden) && w.contains(&hint))
        {
            return Err(format!(
                "no warning naming {forbidden} and `{hint}`: {:?}",
                report.trace.warnings
            ));
        }
        if !err.to_string().contains(&hint) {
            return Err("the missing-value error does not repeat the warning".into());
        }
        Ok(())
    }
    .boxed()
}

impl Ctx<'_> {
    async fn harness_hint(&self) -> String {
        self.harness
            .make(&VaultSetup::default())
            .await
            .access_hint()
    }
}

fn list_denied<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
    async move {
        let mut setup = VaultSetup::with(&[(&c.name("sources"), "[sources.a]\nk = \"v\"\n")]);
        setup.forbid_list = true;
        let (p, _) = c
            .provider(
                &setup,
                VaultOptions {
                    list_secrets: true,
                    ..open()
                },
            )
            .await;
        match chain(p).get(&path("sources.a.k"), &Lookup::secret()).await {
            Err(e) if e.kind() == ErrorKind::PermissionDenied => Ok(()),
            Err(e) => Err(format!("listing denied gave another error: {e}")),
            Ok(_) => Err("listing denied was silently ignored".into()),
        }
    }
    .boxed()
}

fn faults<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
    async move {
        for fault in c.caps.faults.clone() {
            let setup = VaultSetup {
                fault: Some(fault),
                ..VaultSetup::with(&[(&c.name("sources"), "[sources.a]\nk = \"vault\"\n")])
            };
            let (p, _) = c.provider(&setup, open()).await;
            // a later provider holds the same path: it must not answer
            let fallback = MemoryProvider::new("fallback", true)
                .with(&path("sources.a.k"), Value::from("fallback"));
            let r = chain(p).with_provider(Arc::new(fallback));
            match r.get(&path("sources.a.k"), &Lookup::secret()).await {
                Err(e) if e.kind() == fault.kind() => {
                    if e.provider() != Some(c.harness.name()) && e.provider().is_none() {
                        return Err(format!("{fault:?}: the error does not name the provider"));
                    }
                }
                Err(e) => return Err(format!("{fault:?}: wrong error kind {:?}: {e}", e.kind())),
                Ok(v) => {
                    return Err(format!(
                        "{fault:?}: resolved to {}",
                        v.provenance().provider
                    ));
                }
            }
        }
        Ok(())
    }
    .boxed()
}

fn non_utf8<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
    async move {
        let setup = VaultSetup {
            secrets: vec![(c.name("sources.a.k"), vec![0xff, 0xfe, b'x'])],
            ..VaultSetup::default()
        };
        let (p, _) = c.provider(&setup, open()).await;
        match chain(p).get(&path("sources.a.k"), &Lookup::secret()).await {
            Err(e) if !e.is_missing() => Ok(()),
            Err(_) => Err("a non-UTF-8 payload was treated as missing".into()),
            Ok(_) => Err("a non-UTF-8 payload was accepted".into()),
        }
    }
    .boxed()
}

fn huge_payload<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
    async move {
        let big: String = "x".repeat(c.caps.max_value_len);
        let setup = VaultSetup::with(&[(&c.name("sources.a.big"), &big)]);
        let (p, _) = c.provider(&setup, open()).await;
        let got = text(&chain(p), "sources.a.big", &Lookup::secret()).await?;
        if got.as_deref() != Some(big.as_str()) {
            return Err(format!(
                "a {}-byte payload did not come back whole",
                big.len()
            ));
        }
        Ok(())
    }
    .boxed()
}

fn bad_secrets_toml<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, Result<(), String>> {
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

/// Stores provider-suite values as single secrets.
struct AsProvider<'a> {
    harness: &'a dyn VaultHarness,
    caps: VaultCapabilities,
}

#[async_trait::async_trait]
impl Harness for AsProvider<'_> {
    fn name(&self) -> &str {
        self.harness.name()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            may_hold_secrets: true,
            supports_sections: true,
            naming: NamingRule::Vault(self.caps.naming.clone()),
            typed_values: false,
            empty_values: self.caps.empty_values,
        }
    }

    async fn make(&self, values: &[Stored]) -> Arc<dyn Provider> {
        let mut setup = VaultSetup::default();
        for s in values {
            let Ok(name) = self.caps.naming.name(&s.path) else {
                continue;
            };
            let text = match &s.value {
                Value::Table(_) => {
                    let doc = Value::Table(crate_place(&s.path, s.value.clone()));
                    toml::to_string(&doc.to_toml()).unwrap_or_default()
                }
                other => other.to_text(),
            };
            setup.secrets.push((name, text.into_bytes()));
        }
        let backend = self.harness.make(&setup).await;
        Arc::new(VaultProvider::new(backend, open()))
    }
}

fn crate_place(path: &Path, value: Value) -> strata_core::Table {
    let mut m = MemoryProvider::new("doc", true);
    m.insert(path, value);
    m.document()
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default()
}

/// Runs the vault cases and the provider cases over a [`VaultProvider`],
/// and panics when a case fails or none ran.
///
/// # Panics
/// On any failure, listing every failed case.
pub async fn run_vault(harness: &dyn VaultHarness) -> Report {
    let caps = harness.capabilities();
    let mut report = crate::run_cases(&AsProvider {
        harness,
        caps: caps.clone(),
    })
    .await;
    let ctx = Ctx {
        harness,
        caps: caps.clone(),
    };
    for (name, applies, run) in VAULT_CASES {
        if !applies(&caps) {
            report.not_applicable.push(name);
            continue;
        }
        match AssertUnwindSafe(run(&ctx)).catch_unwind().await {
            Ok(Ok(())) => report.passed.push(name),
            Ok(Err(why)) => report.failed.push((name, why)),
            Err(_) => report.failed.push((name, "panicked".into())),
        }
    }
    crate::finish(harness.name(), report)
}
