//! The vault backend cases, the harness a backend supplies, and the
//! in-memory reference harness.

use crate::counting::Counting;
use crate::{Capabilities, CaseResult, Harness, Stored};
use futures::FutureExt;
use futures::future::BoxFuture;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;
use strata_secrets_core::naming::{NamingRule, VaultNaming};
use strata_secrets_core::vault::{
    Capabilities as VaultCapabilities, Descriptor, MEMORY_DESCRIPTOR, MemoryVault, VaultBackend,
    VaultOptions, VaultProvider,
};
use strata_secrets_core::{ErrorKind, Lookup, MemoryProvider, Path, Provider, Resolver, Value};

/// A failure a harness can make its vault produce on every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Credentials refused (401).
    Unauthenticated,
    /// Throttled (429), on every try.
    RateLimited,
    /// Server errors (5xx), on every try.
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

/// What a harness's server can be made to do: the only facts the harness
/// states itself (everything else comes from the backend's descriptor).
#[derive(Debug, Clone, Default)]
pub struct ServerFaults {
    /// Fetching chosen names can be denied.
    pub forbid: bool,
    /// Listing can be denied.
    pub forbid_list: bool,
    /// The faults every call can fail with.
    pub faults: Vec<Fault>,
    /// The next calls can fail with a passing server error, then succeed.
    pub fail_next: bool,
}

/// What a vault must hold, and how it must misbehave.
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
    /// How many calls fail with a passing server error (503) before the
    /// server answers again.
    pub fail_next: usize,
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
    /// The backend's descriptor: its naming rule, limits and capabilities.
    fn descriptor(&self) -> &'static Descriptor;
    /// What the harness's server can be made to do.
    fn server(&self) -> ServerFaults;
    /// A fresh backend over a vault set up as asked.
    async fn make(&self, setup: &VaultSetup) -> Arc<dyn VaultBackend>;
    /// Whether the cases must run one at a time (one shared server that
    /// each `make` resets).
    fn serial(&self) -> bool {
        false
    }
    /// The name the cases are listed under: the descriptor's section,
    /// unless one binary runs the suite over several setups of one backend
    /// (the `command` backend over `pass` and over a script).
    fn label(&self) -> &str {
        self.descriptor().section
    }
}

/// The timeout of one call in the vault cases.
pub const SUITE_TIMEOUT: Duration = Duration::from_secs(1);
/// The deadline of one call (retries included) in the vault cases.
pub const SUITE_DEADLINE: Duration = Duration::from_millis(1500);

/// One vault case.
pub(crate) struct VaultCase {
    /// The case's name (an identifier).
    pub(crate) name: &'static str,
    /// Whether it applies to this backend (its capabilities, read back from
    /// it, and its naming rule) and server.
    pub(crate) applies: fn(&VaultCapabilities, &VaultNaming, &ServerFaults) -> bool,
    /// The check.
    pub(crate) run: for<'a> fn(&'a Ctx<'a>) -> BoxFuture<'a, CaseResult>,
}

/// Everything a vault case needs.
pub(crate) struct Ctx<'a> {
    pub(crate) harness: &'a dyn VaultHarness,
    pub(crate) naming: VaultNaming,
    pub(crate) server: ServerFaults,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(harness: &'a dyn VaultHarness) -> Self {
        Self {
            harness,
            naming: harness.descriptor().naming.clone(),
            server: harness.server(),
        }
    }

    pub(crate) fn section(&self) -> &'static str {
        self.harness.descriptor().section
    }

    pub(crate) fn name(&self, path: &str) -> String {
        self.naming.name(&crate::path(path)).unwrap_or_default()
    }

    /// A provider over a fresh vault, with the backend's call counter. The
    /// suite's timing applies: a failing call gives up within
    /// [`SUITE_DEADLINE`].
    pub(crate) async fn provider(
        &self,
        setup: &VaultSetup,
        options: VaultOptions,
    ) -> (Arc<VaultProvider>, Arc<Counting>) {
        let counting = Arc::new(Counting::new(self.harness.make(setup).await));
        let options = VaultOptions {
            timeout: options.timeout.min(SUITE_TIMEOUT),
            deadline: options.deadline.min(SUITE_DEADLINE),
            ..options
        };
        let provider = Arc::new(VaultProvider::new(
            self.section(),
            self.naming.clone(),
            counting.clone(),
            options,
        ));
        (provider, counting)
    }

    async fn harness_hint(&self) -> String {
        self.harness
            .make(&VaultSetup::default())
            .await
            .access_hint()
    }
}

/// Options that read everything: single values included, every lookup.
pub(crate) fn open() -> VaultOptions {
    VaultOptions {
        only_secrets: false,
        only_toml_fragments: false,
        list_secrets: false,
        prefetch_single_values: false,
        ..VaultOptions::default()
    }
}

pub(crate) fn path(s: &str) -> Path {
    crate::path(s)
}

pub(crate) async fn text(
    resolver: &Resolver,
    at: &str,
    lookup: &Lookup,
) -> Result<Option<String>, String> {
    match resolver.get(&path(at), lookup).await {
        Ok(r) => Ok(Some(r.expose().to_text())),
        Err(e) if e.is_missing() => Ok(None),
        Err(e) => Err(format!("`{at}`: {e}")),
    }
}

pub(crate) fn chain(p: Arc<VaultProvider>) -> Resolver {
    Resolver::new().with_provider(p)
}

/// The in-memory vault as a harness: the reference every case is written
/// against, and the backend of the engine cases.
pub struct MemoryHarness;

#[async_trait::async_trait]
impl VaultHarness for MemoryHarness {
    fn descriptor(&self) -> &'static Descriptor {
        &MEMORY_DESCRIPTOR
    }

    fn server(&self) -> ServerFaults {
        ServerFaults {
            forbid: true,
            forbid_list: true,
            faults: Fault::ALL.to_vec(),
            fail_next: true,
        }
    }

    async fn make(&self, setup: &VaultSetup) -> Arc<dyn VaultBackend> {
        let memory = MemoryVault::new();
        for (name, bytes) in &setup.secrets {
            memory.insert_bytes(name, bytes);
        }
        let vault = crate::Faulty::new(Arc::new(memory));
        for name in &setup.forbidden {
            vault.forbid(name);
        }
        if setup.forbid_list {
            vault.forbid_list();
        }
        match setup.fault {
            Some(Fault::Timeout) => vault.set_latency(SUITE_TIMEOUT * 3),
            Some(fault) => vault.set_fault(Some(fault.kind())),
            None => {}
        }
        vault.fail_next(setup.fail_next, ErrorKind::Unavailable);
        Arc::new(vault)
    }
}

/// The backend cases, in the order they run.
pub(crate) static CASES: &[VaultCase] = &[
    VaultCase {
        name: "values_round_trip",
        applies: |_, _, _| true,
        run: single_values,
    },
    VaultCase {
        name: "the_backend_is_what_its_descriptor_and_capabilities_say",
        applies: |_, _, _| true,
        run: can_list_agrees,
    },
    VaultCase {
        name: "payloads_up_to_the_size_limit",
        applies: |_, _, _| true,
        run: huge_payload,
    },
    VaultCase {
        name: "non_utf8_payloads_are_errors",
        applies: |c, _, _| c.binary_values,
        run: non_utf8,
    },
    VaultCase {
        name: "list_secrets_never_fetches_unlisted_names",
        applies: |c, _, _| c.list,
        run: list_secrets,
    },
    VaultCase {
        name: "access_denied_is_nothing_plus_a_warning",
        applies: |_, _, s| s.forbid,
        run: denied,
    },
    VaultCase {
        name: "listing_denied_is_an_error",
        applies: |c, _, s| c.list && s.forbid_list,
        run: list_denied,
    },
    VaultCase {
        name: "faults_fail_the_lookup_and_never_fall_through",
        applies: |_, _, s| !s.faults.is_empty(),
        run: faults,
    },
    VaultCase {
        name: "passing_failures_are_retried",
        applies: |_, _, s| s.fail_next,
        run: retried,
    },
    VaultCase {
        name: "a_store_is_a_new_version_a_lookup_sees",
        applies: |c, _, _| c.store,
        run: stores,
    },
    VaultCase {
        name: "versions_are_listed_read_and_checked_before_a_store",
        applies: |c, _, _| c.store && c.versions,
        run: versions,
    },
    VaultCase {
        name: "names_compare_without_case",
        applies: |c, n, _| n.case_insensitive && c.list,
        run: case_insensitive,
    },
    VaultCase {
        name: "request_counts_per_layout",
        applies: |c, _, _| c.list,
        run: request_counts,
    },
];

fn single_values<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
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

fn huge_payload<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let big: String = "x".repeat(c.naming.max_value_len);
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

fn non_utf8<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
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

fn list_secrets<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
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

fn denied<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
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

fn list_denied<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
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

fn faults<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        for fault in c.server.faults.clone() {
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
                    if e.provider() != Some(c.section()) {
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

fn can_list_agrees<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let backend = c.harness.make(&VaultSetup::default()).await;
        // what it says it can do, it does; what it cannot, it says so
        let listed = backend.list().await;
        match (backend.capabilities().list, &listed) {
            (true, Err(e)) => return Err(format!("it says it can list, and listing failed: {e}")),
            (false, Ok(_)) => return Err("it says it cannot list, and listing worked".into()),
            (false, Err(e)) if e.kind() != ErrorKind::Unsupported => {
                return Err(format!(
                    "it cannot list, and says so as {:?}: {e}",
                    e.kind()
                ));
            }
            _ => {}
        }
        Ok(())
    }
    .boxed()
}

fn retried<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let setup = VaultSetup {
            fail_next: 2,
            ..VaultSetup::with(&[(&c.name("sources.a.k"), "v")])
        };
        let (p, counts) = c.provider(&setup, open()).await;
        let got = text(&chain(p), "sources.a.k", &Lookup::secret()).await?;
        if got.as_deref() != Some("v") {
            return Err(format!("after two passing failures got {got:?}"));
        }
        let names = counts.names().len();
        if counts.fetches() != names + 2 {
            return Err(format!(
                "{} fetches of {names} names: want each once and the two failures tried again",
                counts.fetches()
            ));
        }
        Ok(())
    }
    .boxed()
}

fn stores<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let (p, counts) = c.provider(&VaultSetup::default(), open()).await;
        let at = path("dlt_secrets_toml");
        let mut versions = Vec::new();
        for value in ["one", "two"] {
            let doc = SecretString::from(format!("[sources.a]\nk = \"{value}\"\n"));
            let (name, version) = p.store(&at, &doc).await.map_err(|e| e.to_string())?;
            if name != c.name("dlt_secrets_toml") {
                return Err(format!("stored under {name}"));
            }
            versions.push(version);
            let got = text(&chain(p.clone()), "sources.a.k", &Lookup::secret()).await?;
            if got.as_deref() != Some(value) {
                return Err(format!("after storing {value:?} a lookup gave {got:?}"));
            }
        }
        if versions[0] == versions[1] {
            return Err(format!("two stores gave one version id {:?}", versions[0]));
        }
        // a value over the vault's limit is refused before any request
        let big = SecretString::from("x".repeat(c.naming.max_value_len + 1));
        let before = counts.stores();
        match p.store(&path("sources.big"), &big).await {
            Err(e) if e.kind() == ErrorKind::InvalidName => {}
            Err(e) => return Err(format!("an oversized value gave {e}")),
            Ok(_) => return Err("an oversized value was stored".into()),
        }
        if counts.stores() != before {
            return Err("an oversized value reached the vault".into());
        }
        Ok(())
    }
    .boxed()
}

/// A vault that compares names without case: a secret stored in another
/// case is fetched under the rule's name, and `list_secrets` lets it
/// through.
fn case_insensitive<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let name = c.name("sources.pipedrive");
        let stored: String = name
            .chars()
            .enumerate()
            .map(|(i, ch)| {
                if i % 2 == 0 {
                    ch.to_ascii_uppercase()
                } else {
                    ch
                }
            })
            .collect();
        if stored == name {
            return Err(format!("`{name}` has no letter to change the case of"));
        }
        let setup = VaultSetup::with(&[(&stored, "[sources.pipedrive]\napi_key = \"k\"\n")]);
        for list in [false, true] {
            let options = VaultOptions {
                list_secrets: list,
                ..open()
            };
            let (p, _) = c.provider(&setup, options).await;
            let got = text(&chain(p), "sources.pipedrive.api_key", &Lookup::secret()).await?;
            if got.as_deref() != Some("k") {
                return Err(format!(
                    "stored as `{stored}`, list_secrets = {list}: got {got:?}"
                ));
            }
        }
        Ok(())
    }
    .boxed()
}

/// A versioned sync: each store is a new version, listed oldest first and
/// readable by number; a store that follows a version that is no longer
/// the latest is refused before anything is written.
fn versions<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let (p, counts) = c.provider(&VaultSetup::default(), open()).await;
        let at = path("dlt_secrets_toml");
        if !p.versions(&at).await.map_err(|e| e.to_string())?.is_empty() {
            return Err("a secret never stored has versions".into());
        }
        let doc = |v: &str| SecretString::from(format!("[sources.a]\nk = \"{v}\"\n"));
        let (_, first) = p
            .store_after(&at, &doc("one"), None)
            .await
            .map_err(|e| e.to_string())?;
        let listed = p.versions(&at).await.map_err(|e| e.to_string())?;
        if listed.len() != 1 || listed[0].id != first {
            return Err(format!("after one store: {listed:?}, stored {first}"));
        }
        let (_, second) = p
            .store_after(&at, &doc("two"), Some(&first))
            .await
            .map_err(|e| e.to_string())?;
        let listed = p.versions(&at).await.map_err(|e| e.to_string())?;
        let ids: Vec<&str> = listed.iter().map(|v| v.id.as_str()).collect();
        if ids.last() != Some(&second.as_str()) || !ids.contains(&first.as_str()) {
            return Err(format!("versions {ids:?}, stored {first} then {second}"));
        }
        for (which, want) in [("1", "one"), (second.as_str(), "two")] {
            let (_, text) = p.version(&at, which).await.map_err(|e| e.to_string())?;
            let text = text.ok_or(format!("version {which} has no text"))?;
            if !secrecy::ExposeSecret::expose_secret(&text).contains(want) {
                return Err(format!("version {which} is not the {want:?} store"));
            }
        }
        // a push prepared against the first version is refused now
        let before = counts.stores();
        match p.store_after(&at, &doc("three"), Some(&first)).await {
            Err(e) if e.to_string().contains("changed") => {}
            other => return Err(format!("a stale push gave {other:?}")),
        }
        if counts.stores() != before {
            return Err("a stale push reached the vault".into());
        }
        Ok(())
    }
    .boxed()
}

const FIELDS: [&str; 5] = [
    "project_id",
    "client_email",
    "private_key",
    "private_key_id",
    "token_uri",
];

/// Resolves the five fields of a credentials table the way a typed
/// configuration does without prefetching: the table first, then each
/// field.
async fn resolve_credentials(resolver: &Resolver) -> Result<Vec<Option<String>>, String> {
    let table_path = path("destination.bigquery.credentials");
    if let Ok(r) = resolver.get(&table_path, &Lookup::secret()).await
        && let Some(t) = r.expose().to_table()
    {
        return Ok(FIELDS
            .iter()
            .map(|f| t.get(*f).map(Value::to_text))
            .collect());
    }
    let mut out = Vec::new();
    for f in FIELDS {
        out.push(
            text(
                resolver,
                &format!("destination.bigquery.credentials.{f}"),
                &Lookup::secret(),
            )
            .await?,
        );
    }
    Ok(out)
}

/// A layout: its name, its secrets, and the fetches without and with
/// `list_secrets`.
type Layout = (&'static str, Vec<(String, String)>, [usize; 2]);

/// The documented request counts ([docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html)) of a five-field
/// credentials table stored three ways, with and without `list_secrets`:
/// each backend answers every layout with exactly these fetches and lists.
fn request_counts<'a>(c: &'a Ctx<'a>) -> BoxFuture<'a, CaseResult> {
    async move {
        let toml = || {
            let mut s = "[destination.bigquery.credentials]\n".to_owned();
            for f in FIELDS {
                s.push_str(&format!("{f} = \"{f}-value\"\n"));
            }
            s
        };
        let layouts: [Layout; 3] = [
            (
                "dlt_secrets_toml",
                vec![(c.name("dlt_secrets_toml"), toml())],
                [1, 1],
            ),
            (
                "fragment",
                vec![(c.name("destination.bigquery.credentials"), toml())],
                [4, 1],
            ),
            (
                "single values",
                FIELDS
                    .iter()
                    .map(|f| {
                        (
                            c.name(&format!("destination.bigquery.credentials.{f}")),
                            format!("{f}-value"),
                        )
                    })
                    .collect(),
                [9, 5],
            ),
        ];
        for (layout, secrets, [without_list, with_list]) in layouts {
            for list in [false, true] {
                let pairs: Vec<(&str, &str)> = secrets
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                let options = VaultOptions {
                    only_secrets: true,
                    only_toml_fragments: false,
                    list_secrets: list,
                    ..VaultOptions::default()
                };
                let (p, counts) = c.provider(&VaultSetup::with(&pairs), options).await;
                let r = chain(p);
                let got = resolve_credentials(&r).await?;
                for (f, v) in FIELDS.iter().zip(&got) {
                    if v.as_deref() != Some(format!("{f}-value").as_str()) {
                        return Err(format!("{layout}: `{f}` gave {v:?}"));
                    }
                }
                // a second resolution is answered from the cache
                resolve_credentials(&r).await?;
                let want = if list { with_list } else { without_list };
                if counts.fetches() != want {
                    return Err(format!(
                        "{layout}, list_secrets = {list}: {} fetches, want {want}",
                        counts.fetches()
                    ));
                }
                if counts.lists() != usize::from(list) {
                    return Err(format!("{layout}: listed {} times", counts.lists()));
                }
            }
        }
        Ok(())
    }
    .boxed()
}

/// The provider cases over a backend: each value stored as one secret,
/// read through the vault engine.
pub(crate) struct AsProvider {
    harness: Arc<dyn VaultHarness>,
    vault: VaultCapabilities,
}

impl AsProvider {
    /// Over `harness`, whose backends can do what `vault` says.
    pub(crate) fn new(harness: Arc<dyn VaultHarness>, vault: VaultCapabilities) -> Self {
        Self { harness, vault }
    }
}

#[async_trait::async_trait]
impl Harness for AsProvider {
    /// Named after the harness's label, as the vault cases are.
    #[allow(clippy::misnamed_getters)]
    fn name(&self) -> &str {
        self.harness.label()
    }

    fn capabilities(&self) -> Capabilities {
        let d = self.harness.descriptor();
        Capabilities {
            may_hold_secrets: true,
            supports_sections: true,
            naming: NamingRule::Vault(d.naming.clone()),
            typed_values: false,
            empty_values: self.vault.empty_values,
        }
    }

    async fn make(&self, values: &[Stored]) -> Arc<dyn Provider> {
        let naming = &self.harness.descriptor().naming;
        let mut setup = VaultSetup::default();
        for s in values {
            let Ok(name) = naming.name(&s.path) else {
                continue;
            };
            let text = match &s.value {
                Value::Table(_) => {
                    let doc = Value::Table(placed(&s.path, s.value.clone()));
                    toml::to_string(&doc.to_toml()).unwrap_or_default()
                }
                other => other.to_text(),
            };
            setup.secrets.push((name, text.into_bytes()));
        }
        let backend = self.harness.make(&setup).await;
        let options = VaultOptions {
            timeout: SUITE_TIMEOUT,
            deadline: SUITE_DEADLINE,
            ..open()
        };
        let d = self.harness.descriptor();
        Arc::new(VaultProvider::new(
            d.section,
            d.naming.clone(),
            backend,
            options,
        ))
    }
}

/// `value` placed at `path` in an otherwise empty document.
fn placed(path: &Path, value: Value) -> strata_secrets_core::Table {
    let mut m = MemoryProvider::new("doc", true);
    m.insert(path, value);
    m.document()
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default()
}
