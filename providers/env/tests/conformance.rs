//! The shared conformance suite, run against the environment provider.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use strata_secrets_conformance::{Capabilities, Harness, Stored};
use strata_secrets_core::naming::{NamingRule, env_var_name};
use strata_secrets_core::{Environment, Provider, Value};
use strata_secrets_env::EnvProvider;

struct EnvHarness;

/// The environment holds text only: scalars as their text, tables and
/// arrays as JSON (which reads back as a table, docs/lookups.md).
fn as_env_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_text(),
    }
}

#[strata_secrets_core::async_trait]
impl Harness for EnvHarness {
    fn name(&self) -> &str {
        "environment"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            may_hold_secrets: true,
            supports_sections: true,
            naming: NamingRule::Env,
            typed_values: false,
            empty_values: true,
        }
    }

    async fn make(&self, values: &[Stored]) -> Arc<dyn Provider> {
        let env = Environment::from_pairs(
            values
                .iter()
                .map(|s| (env_var_name(&s.path), as_env_text(&s.value))),
        );
        Arc::new(EnvProvider::new(env).without_secrets_dir())
    }
}

/// The same, with a secrets directory that holds a file of no stored path:
/// the provider then checks its listing on every secret lookup.
struct EnvWithSecretsDirHarness {
    dir: tempfile::TempDir,
}

#[strata_secrets_core::async_trait]
impl Harness for EnvWithSecretsDirHarness {
    fn name(&self) -> &str {
        "environment_with_a_secrets_directory"
    }

    fn capabilities(&self) -> Capabilities {
        EnvHarness.capabilities()
    }

    async fn make(&self, values: &[Stored]) -> Arc<dyn Provider> {
        let env = Environment::from_pairs(
            values
                .iter()
                .map(|s| (env_var_name(&s.path), as_env_text(&s.value))),
        );
        Arc::new(EnvProvider::new(env).with_secrets_dir(self.dir.path()))
    }
}

fn main() -> std::process::ExitCode {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("unrelated--file"), "x").unwrap();
    strata_secrets_conformance::Suite::new()
        .provider(EnvHarness)
        .provider(EnvWithSecretsDirHarness { dir })
        .run()
}
