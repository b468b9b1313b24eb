//! The in-memory reference provider runs the whole conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use strata_conformance::{Capabilities, Harness, Stored};
use strata_core::naming::NamingRule;
use strata_core::{MemoryProvider, Provider};

struct MemoryHarness {
    secrets: bool,
    sections: bool,
}

#[strata_core::async_trait]
impl Harness for MemoryHarness {
    fn name(&self) -> &str {
        "memory"
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

#[tokio::test]
async fn memory_provider_passes_the_conformance_suite() {
    strata_conformance::run(&MemoryHarness {
        secrets: true,
        sections: true,
    })
    .await;
}

#[tokio::test]
async fn memory_provider_without_secrets_passes_too() {
    strata_conformance::run(&MemoryHarness {
        secrets: false,
        sections: true,
    })
    .await;
}

#[tokio::test]
async fn memory_provider_without_sections_passes_too() {
    let report = strata_conformance::run(&MemoryHarness {
        secrets: true,
        sections: false,
    })
    .await;
    assert!(report.not_applicable.contains(&"pipeline-scoped paths"));
}

/// The suite must be able to fail: a provider that answers every path with
/// one fixed value is caught.
#[tokio::test]
async fn the_suite_catches_a_broken_provider() {
    #[derive(Debug)]
    struct AlwaysSame;
    #[strata_core::async_trait]
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
        async fn get(
            &self,
            path: &strata_core::Path,
            _: bool,
        ) -> Result<strata_core::Answer, strata_core::Error> {
            Ok(strata_core::Answer::Found(strata_core::Found {
                value: "same".into(),
                provenance: strata_core::Provenance {
                    provider: "broken".into(),
                    name: path.to_string(),
                    file: None,
                    line: None,
                },
            }))
        }
    }
    struct BrokenHarness;
    #[strata_core::async_trait]
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
    let report = strata_conformance::run_cases(&BrokenHarness).await;
    let failed: Vec<&str> = report.failed.iter().map(|(n, _)| *n).collect();
    assert!(failed.contains(&"exact get"), "{failed:?}");
    assert!(failed.contains(&"missing is nothing"), "{failed:?}");
}

/// The in-memory vault backend runs the vault cases as the reference.
struct MemoryVaultHarness;

#[strata_core::async_trait]
impl strata_conformance::VaultHarness for MemoryVaultHarness {
    fn name(&self) -> &str {
        "memory_vault"
    }

    fn capabilities(&self) -> strata_conformance::VaultCapabilities {
        strata_conformance::VaultCapabilities {
            naming: strata_core::vault::MEMORY_NAMING,
            can_list: true,
            can_forbid: true,
            forbid_list: true,
            faults: strata_conformance::Fault::ALL.to_vec(),
            max_value_len: strata_core::vault::MEMORY_NAMING.max_value_len,
            empty_values: true,
            binary_values: true,
        }
    }

    async fn make(
        &self,
        setup: &strata_conformance::VaultSetup,
    ) -> Arc<dyn strata_core::VaultBackend> {
        let vault = strata_core::MemoryVault::new();
        for (name, bytes) in &setup.secrets {
            vault.insert_bytes(name, bytes);
        }
        for name in &setup.forbidden {
            vault.forbid(name);
        }
        if setup.forbid_list {
            vault.forbid_list();
        }
        vault.set_fault(setup.fault.map(|f| f.kind()));
        Arc::new(vault)
    }
}

#[tokio::test]
async fn memory_vault_passes_the_vault_suite() {
    strata_conformance::run_vault(&MemoryVaultHarness).await;
}
