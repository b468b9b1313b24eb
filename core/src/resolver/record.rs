//! What a lookup asked, recorded without allocating when providers answer
//! at once, and written out as a [`Trace`] only when someone reads it.

use super::candidates::{Asked, Candidates};
use crate::path::Path;
use crate::provider::Provider;
use crate::trace::{Outcome, Trace, TraceEntry};
use std::sync::Arc;

/// One question, or a warning met on the way.
#[derive(Debug)]
pub(crate) enum RawEntry {
    /// Answered at once: which provider, which path, what came of it.
    Quick {
        provider: u16,
        asked: Asked,
        outcome: Quick,
    },
    /// Answered by a full lookup, with its details.
    Full(TraceEntry),
    /// A warning (a denied secret, say).
    Warning(String),
}

/// The outcome of a question answered at once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Quick {
    Found,
    NotFound,
    CannotHoldSecrets,
}

/// What a lookup asked, kept so its trace and paths can be written out later.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) providers: Arc<[Arc<dyn Provider>]>,
    /// The most specific path's segments, joined by U+001F.
    pub(crate) input: String,
    pub(crate) walk: bool,
    pub(crate) config_section: bool,
    pub(crate) pipeline: Option<String>,
    pub(crate) raw: Vec<RawEntry>,
}

impl Record {
    /// The candidates again, rebuilt from the most specific path.
    pub(crate) fn with_candidates<T>(&self, f: impl FnOnce(&Candidates<'_>) -> T) -> T {
        let segments: Vec<&str> = self.input.split('\u{1f}').collect();
        if !self.walk {
            return f(&Candidates::exact(segments));
        }
        let (front, key) = segments.split_at(segments.len() - 1);
        let (sections, config_section) = if self.config_section {
            let (s, c) = front.split_at(front.len() - 1);
            (s, Some(c[0]))
        } else {
            (front, None)
        };
        f(&Candidates::walk(sections, config_section, key[0]))
    }

    /// The path one question asked.
    pub(crate) fn path(&self, asked: Asked) -> Path {
        self.with_candidates(|c| c.path_of(self.pipeline.as_deref(), asked))
    }

    /// The most specific path, without the pipeline.
    pub(crate) fn most_specific(&self) -> Path {
        self.with_candidates(|c| {
            Path::from_valid(c.get(0).iter().map(|s| (*s).to_owned()).collect())
        })
    }

    /// The warnings met, in order, without writing out the trace.
    pub(crate) fn warnings(&self) -> impl Iterator<Item = &str> {
        self.raw.iter().filter_map(|e| match e {
            RawEntry::Warning(w) => Some(w.as_str()),
            _ => None,
        })
    }

    /// Every question, in the order it was asked.
    pub(crate) fn trace(&self) -> Trace {
        self.with_candidates(|candidates| {
            let mut trace = Trace::default();
            for entry in &self.raw {
                match entry {
                    RawEntry::Quick {
                        provider,
                        asked,
                        outcome,
                    } => {
                        let Some(p) = self.providers.get(usize::from(*provider)) else {
                            continue;
                        };
                        let path = candidates.path_of(self.pipeline.as_deref(), *asked);
                        let name = p.native_name(&path).unwrap_or_default();
                        let outcome = match outcome {
                            Quick::Found => Outcome::Found,
                            Quick::NotFound => Outcome::NotFound,
                            Quick::CannotHoldSecrets => {
                                Outcome::Skipped("may not hold secrets".into())
                            }
                        };
                        trace.push(p.name(), &path, name, outcome);
                    }
                    RawEntry::Full(e) => trace.entries.push(e.clone()),
                    RawEntry::Warning(w) => trace.warn(w.clone()),
                }
            }
            trace
        })
    }
}
