//! The in-memory reference provider: a document held in memory.
//!
//! Programs register it for values they compute; the conformance suite runs
//! against it as the reference every other provider is held to.

use crate::error::Error;
use crate::naming::{NamingRule, toml_key};
use crate::path::Path;
use crate::provider::{Answer, Detail, Found, Provenance, Provider, Query};
use crate::value::{Table, Value};
use async_trait::async_trait;
use std::fmt;
use zeroize::Zeroize;

/// A document held in memory, answering by nested tables.
pub struct MemoryProvider {
    name: String,
    secrets: bool,
    sections: bool,
    doc: Value,
}

impl MemoryProvider {
    /// An empty document named `name`; `may_hold_secrets` as given.
    pub fn new(name: impl Into<String>, may_hold_secrets: bool) -> Self {
        Self {
            name: name.into(),
            secrets: may_hold_secrets,
            sections: true,
            doc: Value::Table(Table::default()),
        }
    }

    /// Makes the provider answer bare keys only (no sections).
    pub fn without_sections(mut self) -> Self {
        self.sections = false;
        self
    }

    /// Stores `value` at `path`, creating tables on the way (replacing any
    /// non-table value in the way).
    pub fn insert(&mut self, path: &Path, value: Value) {
        let mut node = &mut self.doc;
        for segment in path.sections() {
            if node.as_table().is_none() {
                *node = Value::Table(Table::default());
            }
            let Some(table) = node.as_table_mut() else {
                return;
            };
            node = table
                .entry(segment.clone())
                .or_insert_with(|| Value::Table(Table::default()));
        }
        if node.as_table().is_none() {
            *node = Value::Table(Table::default());
        }
        if let Some(table) = node.as_table_mut() {
            table.insert(path.key().to_owned(), value);
        }
    }

    /// Builder form of [`MemoryProvider::insert`].
    pub fn with(mut self, path: &Path, value: Value) -> Self {
        self.insert(path, value);
        self
    }
}

impl fmt::Debug for MemoryProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryProvider")
            .field("name", &self.name)
            .field("may_hold_secrets", &self.secrets)
            .field("supports_sections", &self.sections)
            .finish_non_exhaustive()
    }
}

impl Drop for MemoryProvider {
    fn drop(&mut self) {
        self.doc.zeroize();
    }
}

#[async_trait]
impl Provider for MemoryProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn may_hold_secrets(&self) -> bool {
        self.secrets
    }

    fn supports_sections(&self) -> bool {
        self.sections
    }

    fn naming(&self) -> NamingRule {
        NamingRule::Toml
    }

    fn peek(&self, segments: &[&str], _secret: bool) -> crate::provider::Peek<'_> {
        match self.doc.get_path(segments) {
            Some(v) => crate::provider::Peek::Found(crate::provider::ValueRef::Value(v)),
            None => crate::provider::Peek::NotFound,
        }
    }

    async fn lookup(&self, query: &Query<'_>, _: &mut Vec<Detail>) -> Result<Answer, Error> {
        let path = query.full_path()?;
        Ok(match self.doc.get_path(path.segments()) {
            Some(value) => Answer::Found(Found {
                value: value.clone(),
                provenance: Provenance {
                    provider: self.name.clone(),
                    name: toml_key(&path),
                    file: None,
                    line: None,
                },
            }),
            None => Answer::NotFound,
        })
    }

    fn document(&self) -> Option<&Value> {
        Some(&self.doc)
    }
}
