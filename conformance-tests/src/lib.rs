//! The shared conformance suite every strata provider and vault backend
//! runs, as a library.
//!
//! A provider supplies a [`Harness`] (make a provider holding these values;
//! what it can do). A vault backend supplies a [`VaultHarness`] (make a
//! backend over a vault set up as asked; which faults its server can
//! inject) and the suite reads everything else from the backend's own
//! [`Descriptor`](strata_secrets_core::vault::Descriptor): its naming rule, limits
//! and capabilities. Every case is its own test (a libtest-mimic trial)
//! named `<harness>::<group>::<case>`, so one case can be run by name and a
//! failure names the case with its message. A case is registered only when
//! it applies; a new case reaches every backend without editing any.
//!
//! Three groups:
//! - `provider`: the [`Provider`] contract, one case per bullet of its
//!   documentation; vault backends run it through the vault engine;
//! - `vault`: what a backend must do (names round-trip, limits, denied and
//!   failing calls, listing, storing, request counts per layout);
//! - `engine`: the vault engine's own behaviour (fetch plan, cache, single
//!   flight, options, retries and deadlines), run once, against the
//!   in-memory vault ([`Suite::engine`]).
//!
//! ```text
//! # providers/<name>/Cargo.toml
//! [[test]]
//! name = "conformance"
//! harness = false
//!
//! // providers/<name>/tests/conformance.rs
//! fn main() -> std::process::ExitCode {
//!     let suite = strata_secrets_conformance::Suite::new();
//!     let harness = suite.block_on(MyHarness::start());
//!     suite.vault(harness).run()
//! }
//! ```
//!
//! A run in which no case passed (and none was filtered out) is a failure.
#![warn(missing_docs)]

mod counting;
mod engine;
mod faulty;
mod provider;
mod vault;

/// A settings table written as TOML text (an empty table when the text is
/// not TOML), for a backend's tests of its settings.
pub fn settings_table(text: &str) -> strata_secrets_core::Table {
    Value::from(text)
        .to_table()
        .map(|c| c.into_owned())
        .unwrap_or_default()
}

/// Runs `f` to its end on a new single-thread runtime, for a synchronous
/// test of an async call.
pub fn block_on<F: Future>(f: F) -> F::Output {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => panic!("no runtime for the test: {e}"),
    }
}

pub use counting::Counting;
pub use faulty::{Faulty, TestVault};
pub use vault::{
    Fault, MemoryHarness as MemoryVaultHarness, SUITE_DEADLINE, SUITE_TIMEOUT, ServerFaults,
    VaultHarness, VaultSetup,
};

use futures::FutureExt;
use futures::future::BoxFuture;
use libtest_mimic::{Arguments, Failed, Trial};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::sync::Arc;
use strata_secrets_core::naming::NamingRule;
use strata_secrets_core::{Answer, Lookup, Path, Provider, ProviderExt, Resolver, Table, Value};

/// What a provider can do; cases that do not apply are not registered.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// The provider may hold secrets.
    pub may_hold_secrets: bool,
    /// The provider understands sections.
    pub supports_sections: bool,
    /// The naming rule it stores paths under.
    pub naming: NamingRule,
    /// The provider returns typed values (integers, tables) rather than text
    /// that converts on request.
    pub typed_values: bool,
    /// The provider can hold an empty string.
    pub empty_values: bool,
}

/// One value a harness must store.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Where.
    pub path: Path,
    /// What.
    pub value: Value,
}

impl Stored {
    /// A value at a dotted path.
    ///
    /// # Panics
    /// When `path` does not parse; the suite only passes valid paths.
    pub fn new(path: &str, value: impl Into<Value>) -> Self {
        Self {
            path: crate::path(path),
            value: value.into(),
        }
    }
}

/// What a provider supplies to run the suite.
#[async_trait::async_trait]
pub trait Harness: Send + Sync {
    /// The provider's name, the first part of every case's name.
    fn name(&self) -> &str;
    /// What the provider can do.
    fn capabilities(&self) -> Capabilities;
    /// A fresh provider holding exactly `values`.
    async fn make(&self, values: &[Stored]) -> Arc<dyn Provider>;
}

/// The outcome of one case.
pub type CaseResult = Result<(), String>;

/// The trials of one test binary, and the runtime they run on.
pub struct Suite {
    runtime: Arc<tokio::runtime::Runtime>,
    trials: Vec<Trial>,
    serial: bool,
}

impl Default for Suite {
    fn default() -> Self {
        Self::new()
    }
}

impl Suite {
    /// An empty suite with a multi-threaded runtime (the local servers run
    /// on it while a case waits).
    ///
    /// # Panics
    /// When no runtime can be started.
    pub fn new() -> Self {
        #[allow(clippy::expect_used)]
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Self {
            runtime: Arc::new(runtime),
            trials: Vec::new(),
            serial: false,
        }
    }

    /// Runs `f` to completion on the suite's runtime (to start servers).
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Registers the provider cases that apply to `harness`.
    pub fn provider<H: Harness + 'static>(mut self, harness: H) -> Self {
        let harness: Arc<dyn Harness> = Arc::new(harness);
        self.add_provider_cases(harness);
        self
    }

    fn add_provider_cases(&mut self, harness: Arc<dyn Harness>) {
        let caps = harness.capabilities();
        let prefix = harness.name().to_owned();
        for case in provider::CASES {
            if !(case.applies)(&caps) {
                continue;
            }
            let harness = harness.clone();
            let run = case.run;
            self.add(format!("{prefix}::provider::{}", case.name), async move {
                run(harness.as_ref()).await
            });
        }
    }

    /// Registers the vault cases that apply to `harness`'s backend, and the
    /// provider cases run through the vault engine over it.
    pub fn vault<H: VaultHarness + 'static>(mut self, harness: H) -> Self {
        let harness: Arc<dyn VaultHarness> = Arc::new(harness);
        self.serial |= harness.serial();
        // what the backend can do, read back from a backend it makes
        let capabilities = self
            .block_on(harness.make(&vault::VaultSetup::default()))
            .capabilities();
        self.add_provider_cases(Arc::new(vault::AsProvider::new(
            harness.clone(),
            capabilities,
        )));
        let prefix = harness.label().to_owned();
        for case in vault::CASES {
            if !(case.applies)(
                &capabilities,
                &harness.descriptor().naming,
                &harness.server(),
            ) {
                continue;
            }
            let harness = harness.clone();
            let run = case.run;
            self.add(format!("{prefix}::vault::{}", case.name), async move {
                run(&vault::Ctx::new(harness.as_ref())).await
            });
        }
        self
    }

    /// Registers the vault engine's cases, run against the in-memory vault.
    pub fn engine(mut self) -> Self {
        for case in engine::CASES {
            let run = case.run;
            self.add(format!("engine::{}", case.name), async move {
                run(&vault::Ctx::new(&vault::MemoryHarness)).await
            });
        }
        self
    }

    /// Registers one more test of the binary's own, run on the suite's
    /// runtime: a check that applies to one backend only.
    pub fn test<F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = CaseResult> + Send + 'static,
    {
        self.add(name.to_owned(), async move { f().await });
        self
    }

    /// Runs one case at a time (a harness whose cases share one server
    /// that each resets).
    pub fn serial(mut self) -> Self {
        self.serial = true;
        self
    }

    fn add(&mut self, name: String, case: impl Future<Output = CaseResult> + Send + 'static) {
        let runtime = self.runtime.clone();
        let case = case.boxed();
        self.trials.push(Trial::test(name, move || {
            run_case(&runtime, case).map_err(Failed::from)
        }));
    }

    /// Runs the trials the command line selects and returns the exit code:
    /// a failure when a case failed, or when none passed and none was
    /// filtered out (a run that tested nothing).
    pub fn run(self) -> ExitCode {
        let mut args = Arguments::from_args();
        if self.serial && args.test_threads.is_none() {
            args.test_threads = Some(1);
        }
        let total = self.trials.len();
        let conclusion = libtest_mimic::run(&args, self.trials);
        if conclusion.has_failed() {
            return ExitCode::FAILURE;
        }
        let listing = args.list;
        if !listing && conclusion.num_passed == 0 && conclusion.num_filtered_out == 0 {
            eprintln!("no case ran ({total} registered): that is a failure");
            return ExitCode::FAILURE;
        }
        ExitCode::SUCCESS
    }
}

/// Runs every provider case that applies to `harness` and returns each
/// outcome, without the test runner: for checking that the suite itself
/// catches a broken provider.
pub async fn provider_outcomes(harness: &dyn Harness) -> Vec<(&'static str, CaseResult)> {
    let caps = harness.capabilities();
    let mut out = Vec::new();
    for case in provider::CASES {
        if (case.applies)(&caps) {
            out.push((case.name, (case.run)(harness).await));
        }
    }
    out
}

/// Runs one case, keeping a panic's message as the failure.
fn run_case(runtime: &tokio::runtime::Runtime, case: BoxFuture<'static, CaseResult>) -> CaseResult {
    match runtime.block_on(AssertUnwindSafe(case).catch_unwind()) {
        Ok(result) => result,
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(format!("panicked: {why}"))
        }
    }
}

// ---- helpers shared by the cases ----

pub(crate) fn path(text: &str) -> Path {
    #[allow(clippy::expect_used)]
    Path::parse(text).expect("the suite uses valid paths")
}

pub(crate) async fn fetch(
    provider: &dyn Provider,
    at: &str,
    secret: bool,
) -> Result<Option<Value>, String> {
    match provider.get(&path(at), secret).await {
        Ok(Answer::Found(f)) => Ok(Some(f.value)),
        Ok(_) => Ok(None),
        Err(e) => Err(format!("get `{at}` failed: {e}")),
    }
}

/// Whether `got` is `expected`, allowing text that converts to it when the
/// provider stores text only.
pub(crate) fn same(expected: &Value, got: &Value, typed: bool) -> bool {
    if typed {
        return expected == got;
    }
    match expected {
        Value::String(s) => got.as_str() == Some(s.as_str()),
        Value::Integer(i) => got.deserialize::<i64>().ok() == Some(*i),
        Value::Float(f) => got.deserialize::<f64>().ok() == Some(*f),
        Value::Boolean(b) => got.deserialize::<bool>().ok() == Some(*b),
        Value::Datetime(d) => got.to_text() == d.to_string(),
        Value::Array(items) => match got.deserialize::<Vec<serde_json::Value>>() {
            Ok(got_items) => {
                got_items.len() == items.len()
                    && items
                        .iter()
                        .zip(got_items)
                        .all(|(e, g)| same(e, &Value::from(g), false))
            }
            Err(_) => false,
        },
        Value::Table(t) => match got.to_table() {
            Some(got_table) => tables_same(t, &got_table),
            None => false,
        },
    }
}

fn tables_same(expected: &Table, got: &Table) -> bool {
    expected.len() == got.len()
        && expected
            .iter()
            .all(|(k, v)| got.get(k).is_some_and(|g| same(v, g, false) || v == g))
}

pub(crate) fn resolver_with(provider: Arc<dyn Provider>) -> Resolver {
    Resolver::new().with_provider(provider)
}

pub(crate) fn secret_lookup() -> Lookup {
    Lookup::secret()
}
