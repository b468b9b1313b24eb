//! The shared conformance suite, run against TOML files on disk, for both
//! kinds of file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use strata_secrets_conformance::{Capabilities, Harness, Stored};
use strata_secrets_core::Provider;
use strata_secrets_core::naming::NamingRule;
use strata_secrets_core::workspace::FileKind;
use strata_secrets_core::workspace::{Candidate, FileRole};
use strata_secrets_toml::{TomlProvider, set_value_in_file};

struct TomlHarness {
    kind: FileKind,
    dirs: std::sync::Mutex<Vec<tempfile::TempDir>>,
}

#[strata_secrets_core::async_trait]
impl Harness for TomlHarness {
    fn name(&self) -> &str {
        self.kind.file_name()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            may_hold_secrets: self.kind.may_hold_secrets(),
            supports_sections: true,
            naming: NamingRule::Toml,
            typed_values: true,
            empty_values: true,
        }
    }

    async fn make(&self, values: &[Stored]) -> Arc<dyn Provider> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(self.kind.file_name());
        std::fs::write(&file, "# written by the conformance harness\n").unwrap();
        for s in values {
            set_value_in_file(&file, &s.path, &s.value, true).unwrap();
        }
        let candidates = [Candidate {
            path: file,
            role: FileRole::Base,
        }];
        let provider = TomlProvider::from_candidates(self.kind, &candidates).unwrap();
        self.dirs.lock().unwrap().push(dir);
        Arc::new(provider)
    }
}

fn main() -> std::process::ExitCode {
    strata_secrets_conformance::Suite::new()
        .provider(TomlHarness {
            kind: FileKind::Secrets,
            dirs: Default::default(),
        })
        .provider(TomlHarness {
            kind: FileKind::Config,
            dirs: Default::default(),
        })
        .run()
}
