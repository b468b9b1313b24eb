//! Values read in place: what a lookup would resolve, when every provider
//! asked before the answer can tell at once (no copy, no provenance, no
//! trace). Anything a provider cannot tell at once (a vault, a secret file)
//! sends the caller to the full lookup.

use super::Lookup;
use super::candidates::{Candidates, range_for};
use crate::path::valid_segment;
use crate::provider::{Peek, ValueRef};
use crate::resolver::Resolver;

/// What an in-place read saw.
pub(crate) enum Seen<'a> {
    /// The value the lookup resolves.
    Found(ValueRef<'a>),
    /// A value where the lookup may not take it (a secret in `config.toml`).
    NotSecret,
    /// No provider holds any path.
    NotFound,
    /// A provider must be asked through its full lookup (or the lookup is
    /// not valid).
    Unknown,
}

impl Resolver {
    /// What the lookup of `candidates` sees in place, provider by provider,
    /// path by path, up to the first answer or the first provider that
    /// cannot tell. `exact` skips the providers that may not hold secrets
    /// for a secret lookup (an exact get); a walk reports them.
    pub(crate) fn peek_candidates(
        &self,
        candidates: &Candidates<'_>,
        lookup: &Lookup,
        exact: bool,
    ) -> Seen<'_> {
        if !lookup.pipeline.as_deref().is_none_or(valid_segment) {
            return Seen::Unknown;
        }
        let mut scoped_buf: Vec<&str> = Vec::new();
        let pipeline = lookup.pipeline.as_deref();
        for scoped in [pipeline.is_some(), false]
            .into_iter()
            .take(1 + usize::from(pipeline.is_some()))
        {
            for provider in self.providers.iter() {
                let cant_hold = lookup.secret && !provider.may_hold_secrets();
                if cant_hold && exact {
                    continue;
                }
                let Some(range) = range_for(candidates, provider.supports_sections(), scoped)
                else {
                    continue;
                };
                for i in range {
                    let segments = candidates.segments_of(super::candidates::Asked::new(i, scoped));
                    let asked: &[&str] = match (scoped, pipeline) {
                        (true, Some(p)) => {
                            scoped_buf.clear();
                            scoped_buf.push(p);
                            scoped_buf.extend_from_slice(segments);
                            &scoped_buf
                        }
                        _ => segments,
                    };
                    match provider.peek(asked, lookup.secret) {
                        Peek::Found(_) if cant_hold => return Seen::NotSecret,
                        Peek::Found(v) => return Seen::Found(v),
                        Peek::NotFound => {}
                        Peek::Unknown => return Seen::Unknown,
                    }
                }
            }
        }
        Seen::NotFound
    }
}
