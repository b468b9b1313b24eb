//! The shared conformance suite every strata provider runs.
//!
//! A backend supplies a [`Harness`]: it makes a provider holding given
//! values and says which [`Capabilities`] it has. [`run`] then executes every
//! case of the suite that applies and panics with the list of failures, or
//! when no case ran at all. A new case added to [`CASES`] reaches every
//! backend without editing any of them.
//!
//! ```text
//! // providers/<name>/tests/conformance.rs
//! #[tokio::test]
//! async fn conformance() {
//!     strata_conformance::run(&MyHarness::new()).await;
//! }
//! ```
#![warn(missing_docs)]

use futures::FutureExt;
use futures::future::BoxFuture;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use strata_core::naming::NamingRule;
use strata_core::{Answer, Lookup, Path, Provider, Resolver, Table, Value};

pub mod azure;
mod cases;
pub mod google;
mod http;
pub mod moto;
pub mod proxy;
pub mod vault;

pub use vault::{Fault, VaultCapabilities, VaultHarness, VaultSetup, run_vault};

/// What a provider can do; cases that do not apply are not run.
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
    /// The provider can hold an empty string (AWS cannot store an empty
    /// secret string).
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
        #[allow(clippy::expect_used)]
        let path = Path::parse(path).expect("the suite passes valid paths");
        Self {
            path,
            value: value.into(),
        }
    }
}

/// What a backend supplies to run the suite.
#[async_trait::async_trait]
pub trait Harness: Send + Sync {
    /// The backend's name, for the report.
    fn name(&self) -> &str;
    /// What the provider can do.
    fn capabilities(&self) -> Capabilities;
    /// A fresh provider holding exactly `values`.
    async fn make(&self, values: &[Stored]) -> Arc<dyn Provider>;
}

/// The outcome of one case.
pub type CaseResult = Result<(), String>;

/// One check of the suite.
pub struct Case {
    /// The case's name.
    pub name: &'static str,
    /// Whether it applies to a provider with these capabilities.
    pub applies: fn(&Capabilities) -> bool,
    /// The check.
    pub run: for<'a> fn(&'a dyn Harness) -> BoxFuture<'a, CaseResult>,
}

pub use cases::CASES;

/// What [`run_cases`] did.
#[derive(Debug, Default)]
pub struct Report {
    /// Cases that ran and passed.
    pub passed: Vec<&'static str>,
    /// Cases that ran and failed, with why.
    pub failed: Vec<(&'static str, String)>,
    /// Cases that do not apply to this provider.
    pub not_applicable: Vec<&'static str>,
}

/// Runs every applicable case and reports, without panicking.
pub async fn run_cases(harness: &dyn Harness) -> Report {
    let caps = harness.capabilities();
    let mut report = Report::default();
    for case in CASES {
        if !(case.applies)(&caps) {
            report.not_applicable.push(case.name);
            continue;
        }
        let outcome = AssertUnwindSafe((case.run)(harness)).catch_unwind().await;
        match outcome {
            Ok(Ok(())) => report.passed.push(case.name),
            Ok(Err(why)) => report.failed.push((case.name, why)),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "panicked".to_owned());
                report.failed.push((case.name, format!("panicked: {why}")));
            }
        }
    }
    report
}

/// Runs the suite and panics when a case fails or when none ran.
///
/// # Panics
/// On any failure, listing every failed case.
pub async fn run(harness: &dyn Harness) -> Report {
    let report = run_cases(harness).await;
    finish(harness.name(), report)
}

/// Prints the counts and panics when a case failed or none ran.
pub(crate) fn finish(name: &str, report: Report) -> Report {
    eprintln!(
        "conformance[{name}]: {} passed, {} failed, {} not applicable",
        report.passed.len(),
        report.failed.len(),
        report.not_applicable.len()
    );
    if !report.failed.is_empty() {
        let list: Vec<String> = report
            .failed
            .iter()
            .map(|(case, why)| format!("  - {case}: {why}"))
            .collect();
        panic!("conformance[{name}] failed:\n{}", list.join("\n"));
    }
    assert!(
        !report.passed.is_empty(),
        "conformance[{name}]: no case ran, which is a failure"
    );
    report
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
