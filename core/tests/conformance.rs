//! The in-memory reference provider and vault run the whole conformance
//! suite, and the vault engine's own cases run against the in-memory vault.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use strata_secrets_conformance::{Capabilities, Harness, Stored};
use strata_secrets_core::naming::NamingRule;
use strata_secrets_core::{MemoryProvider, Provider};

struct MemoryHarness {
    name: &'static str,
    secrets: bool,
    sections: bool,
}

#[strata_secrets_core::async_trait]
impl Harness for MemoryHarness {
    fn name(&self) -> &str {
        self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            may_hold_secrets: self.secrets,
            supports_sections: self.sections,
            naming: NamingRule::Toml,
            typed_values: true,
            empty_values: true,
        }
    }

    async fn make(&self, values: &[Stored]) -> Arc<dyn Provider> {
        let mut p = MemoryProvider::new("memory", self.secrets);
        if !self.sections {
            p = p.without_sections();
        }
        for s in values {
            p.insert(&s.path, s.value.clone());
        }
        Arc::new(p)
    }
}

/// The suite must be able to fail: a provider that answers every path with
/// one fixed value is caught.
async fn the_suite_catches_a_broken_provider() -> Result<(), String> {
    #[derive(Debug)]
    struct AlwaysSame;
    #[strata_secrets_core::async_trait]
    impl Provider for AlwaysSame {
        fn name(&self) -> &str {
            "broken"
        }
        fn may_hold_secrets(&self) -> bool {
            true
        }
        fn naming(&self) -> NamingRule {
            NamingRule::Toml
        }
        async fn lookup(
            &self,
            query: &strata_secrets_core::Query<'_>,
            _: &mut Vec<strata_secrets_core::Detail>,
        ) -> Result<strata_secrets_core::Answer, strata_secrets_core::Error> {
            let path = query.full_path()?;
            Ok(strata_secrets_core::Answer::Found(
                strata_secrets_core::Found {
                    value: "same".into(),
                    provenance: strata_secrets_core::Provenance {
                        provider: "broken".into(),
                        name: path.to_string(),
                        file: None,
                        line: None,
                    },
                },
            ))
        }
    }
    struct BrokenHarness;
    #[strata_secrets_core::async_trait]
    impl Harness for BrokenHarness {
        fn name(&self) -> &str {
            "broken"
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                may_hold_secrets: true,
                supports_sections: true,
                naming: NamingRule::Toml,
                typed_values: true,
                empty_values: true,
            }
        }
        async fn make(&self, _: &[Stored]) -> Arc<dyn Provider> {
            Arc::new(AlwaysSame)
        }
    }
    let outcomes = strata_secrets_conformance::provider_outcomes(&BrokenHarness).await;
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(n, _)| *n)
        .collect();
    for must in ["exact_get", "missing_is_nothing"] {
        if !failed.contains(&must) {
            return Err(format!("`{must}` passed a broken provider: {failed:?}"));
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let mut suite = strata_secrets_conformance::Suite::new();
    for (name, secrets, sections) in [
        ("memory", true, true),
        ("memory_without_secrets", false, true),
        ("memory_without_sections", true, false),
    ] {
        suite = suite.provider(MemoryHarness {
            name,
            secrets,
            sections,
        });
    }
    suite
        .vault(strata_secrets_conformance::MemoryVaultHarness)
        .engine()
        .test("suite::catches_a_broken_provider", || {
            the_suite_catches_a_broken_provider()
        })
        .run()
}
