//! One lookup in progress: the chain asked in order ([docs/lookups.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/lookups/index.html)), each
//! provider at once when it can tell ([`ProviderExt::answer_now`]), else
//! through its full lookup, every question recorded for the trace.

use super::Lookup;
use super::candidates::{Asked, Candidates, range_for};
use super::record::{Quick, RawEntry, Record};
use super::resolved::Resolved;
use crate::error::{Error, ErrorKind, MissingValue};
use crate::path::Path;
use crate::provider::{Answer, Found, Provider, ProviderExt, Query};
use crate::resolver::Resolver;
use crate::trace::{Outcome, TraceEntry};

/// An exact get or a section walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every provider is asked for the one path; a secret lookup skips the
    /// providers that may not hold secrets (as `dlt.secrets` does).
    Exact,
    /// Every provider is asked for every path of the walk; a secret found
    /// in a provider that may not hold secrets is an error.
    Walk {
        /// The last section is an embedded configuration's key.
        config_section: bool,
        /// A provider that fetches ahead fetches the walk's paths at once.
        prefetch: bool,
    },
}

/// One lookup in progress.
pub(crate) struct Run<'a> {
    resolver: &'a Resolver,
    candidates: Candidates<'a>,
    lookup: &'a Lookup,
    mode: Mode,
    raw: Vec<RawEntry>,
    /// Reused for each question: the pipeline prefix and the candidate.
    scratch: Vec<&'a str>,
}

impl<'a> Run<'a> {
    pub(crate) fn new(
        resolver: &'a Resolver,
        candidates: Candidates<'a>,
        lookup: &'a Lookup,
        mode: Mode,
    ) -> Self {
        let passes = if lookup.pipeline.is_some() { 2 } else { 1 };
        let questions = resolver.providers.len() * candidates.len() * passes;
        Self {
            resolver,
            candidates,
            lookup,
            mode,
            raw: Vec::with_capacity(questions),
            scratch: Vec::new(),
        }
    }

    /// Asks the chain, pass by pass (scoped by the pipeline first, when the
    /// lookup has one), provider by provider, path by path.
    pub(crate) async fn resolve(mut self) -> Result<Resolved, Error> {
        let providers = self.resolver.providers.clone();
        let scoped_pass = self.lookup.pipeline.is_some();
        for scoped in [scoped_pass, false]
            .into_iter()
            .take(1 + usize::from(scoped_pass))
        {
            for (index, provider) in providers.iter().enumerate() {
                let provider = provider.as_ref();
                let cant_hold = self.lookup.secret && !provider.may_hold_secrets();
                if cant_hold && self.mode == Mode::Exact {
                    if !scoped {
                        self.raw.push(RawEntry::Quick {
                            provider: provider_index(index),
                            asked: Asked::new(0, false),
                            outcome: Quick::CannotHoldSecrets,
                        });
                    }
                    continue;
                }
                let Some(range) = range_for(&self.candidates, provider.supports_sections(), scoped)
                else {
                    continue;
                };
                if let Mode::Walk { prefetch: true, .. } = self.mode
                    && !cant_hold
                    && provider.prefetches()
                {
                    self.prefetch(provider, range.clone(), scoped).await;
                }
                for i in range {
                    let asked = Asked::new(i, scoped);
                    let Some(found) = self.ask(index, provider, asked).await? else {
                        continue;
                    };
                    if cant_hold {
                        let err = self.not_secret(provider, asked, &found);
                        return Err(err.with_trace(self.record().trace()));
                    }
                    let record = self.record();
                    return Ok(Resolved::new(
                        found,
                        provider.may_hold_secrets(),
                        asked,
                        record,
                    ));
                }
            }
        }
        let lookup = self.lookup;
        let resolver = self.resolver;
        Err(resolver.missing(self.record(), lookup).await)
    }

    fn pipeline(&self, asked: Asked) -> Option<&'a str> {
        if asked.scoped {
            self.lookup.pipeline.as_deref()
        } else {
            None
        }
    }

    fn path(&self, asked: Asked) -> Path {
        self.candidates
            .path_of(self.lookup.pipeline.as_deref(), asked)
    }

    /// Lets `provider` fetch every path of this pass at once; the questions
    /// that follow are then answered from its cache.
    async fn prefetch(&self, provider: &dyn Provider, range: std::ops::Range<usize>, scoped: bool) {
        let paths: Vec<Path> = range.map(|i| self.path(Asked::new(i, false))).collect();
        let pipeline = self.pipeline(Asked::new(0, scoped));
        let queries: Vec<Query<'_>> = paths
            .iter()
            .map(|path| Query {
                path,
                pipeline,
                secret: self.lookup.secret,
            })
            .collect();
        provider.prefetch(&queries).await;
    }

    /// Asks one provider one question: at once when it can tell, else
    /// through its full lookup.
    async fn ask(
        &mut self,
        index: usize,
        provider: &dyn Provider,
        asked: Asked,
    ) -> Result<Option<Found>, Error> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend(self.pipeline(asked));
        scratch.extend_from_slice(self.candidates.segments_of(asked));
        let quick = provider.answer_now(&scratch, self.lookup.secret);
        self.scratch = scratch;
        match quick {
            Some(Answer::NotFound) => {
                self.raw.push(RawEntry::Quick {
                    provider: provider_index(index),
                    asked,
                    outcome: Quick::NotFound,
                });
                Ok(None)
            }
            Some(Answer::Found(found)) => {
                self.raw.push(RawEntry::Quick {
                    provider: provider_index(index),
                    asked,
                    outcome: Quick::Found,
                });
                Ok(Some(found))
            }
            // anything else: the full question, with every detail traced
            Some(_) | None => self.ask_in_full(provider, asked).await,
        }
    }

    async fn ask_in_full(
        &mut self,
        provider: &dyn Provider,
        asked: Asked,
    ) -> Result<Option<Found>, Error> {
        let full = self.path(asked);
        let unscoped = Path::from_valid(
            self.candidates
                .segments_of(asked)
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        );
        // a path the provider has no name for is still asked: the provider
        // says whether that is an error (a vault name over its limit) or
        // a name it cannot hold (traced as skipped)
        let name = provider.native_name(&full);
        let query = Query {
            path: &unscoped,
            pipeline: self.pipeline(asked),
            secret: self.lookup.secret,
        };
        let mut details = Vec::new();
        let answer = provider
            .lookup(&query, &mut details)
            .await
            .map_err(|e| e.with_provider(provider.name()).with_path(&full))?;
        // a provider that says which names it read (a vault) is traced by
        // those names alone: what it asked, what answered, what it skipped
        let detailed = !details.is_empty();
        for d in details {
            if let Outcome::Withheld(w) = &d.outcome {
                self.raw.push(RawEntry::Warning(w.clone()));
            }
            self.traced(provider, &full, d.name, d.outcome);
        }
        let outcome = match &answer {
            Answer::Found(_) => Outcome::Found,
            Answer::NotFound => Outcome::NotFound,
            Answer::Withheld { warning } => {
                self.raw.push(RawEntry::Warning(warning.clone()));
                Outcome::Withheld(warning.clone())
            }
            Answer::Skipped(why) => Outcome::Skipped(why.clone()),
        };
        if !detailed {
            match name {
                Ok(name) => self.traced(provider, &full, name, outcome),
                Err(e) if matches!(answer, Answer::NotFound) => {
                    self.traced(
                        provider,
                        &full,
                        String::new(),
                        Outcome::Skipped(e.to_string()),
                    );
                }
                Err(_) => self.traced(provider, &full, String::new(), outcome),
            }
        }
        Ok(answer.found())
    }

    fn traced(&mut self, provider: &dyn Provider, path: &Path, name: String, outcome: Outcome) {
        self.raw.push(RawEntry::Full(TraceEntry {
            provider: provider.name().to_owned(),
            path: path.clone(),
            name,
            outcome,
        }));
    }

    /// dlt's "value not secret": a secret found where secrets may not be kept.
    fn not_secret(&self, provider: &dyn Provider, asked: Asked, found: &Found) -> Error {
        let path = self.path(asked);
        let file = found
            .provenance
            .file
            .as_ref()
            .map(|f| format!(" in {}", f.display()))
            .unwrap_or_default();
        let mut err = Error::new(
            ErrorKind::ValueNotSecret,
            format!(
                "`{path}` is a secret but its value was found{file}, which may not hold secrets; move it to secrets.toml or to an environment variable"
            ),
        )
        .with_provider(provider.name())
        .with_path(&path);
        if let Some(f) = &found.provenance.file {
            err = err.with_file(f);
        }
        err
    }

    fn record(self) -> Record {
        let first = self.candidates.get(0);
        let mut input = String::with_capacity(first.iter().map(|s| s.len() + 1).sum());
        for (i, s) in first.iter().enumerate() {
            if i > 0 {
                input.push('\u{1f}');
            }
            input.push_str(s);
        }
        let (walk, config_section) = match self.mode {
            Mode::Exact => (false, false),
            Mode::Walk { config_section, .. } => (true, config_section),
        };
        Record {
            providers: self.resolver.providers.clone(),
            input,
            walk,
            config_section,
            pipeline: self.lookup.pipeline.clone(),
            raw: self.raw,
        }
    }
}

fn provider_index(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}

impl Resolver {
    /// The missing-value error of a lookup that found nothing: every
    /// question, the files, and a note when a provider that may not hold
    /// secrets holds the path.
    pub(crate) async fn missing(&self, record: Record, lookup: &Lookup) -> Error {
        let path = record.most_specific();
        let trace = record.trace();
        let mut notes = Vec::new();
        if lookup.secret {
            for provider in self.providers.iter().filter(|p| !p.may_hold_secrets()) {
                if let Ok(Answer::Found(found)) = provider.get(&path, false).await {
                    let place = found
                        .provenance
                        .file
                        .as_ref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_else(|| provider.name().to_owned());
                    notes.push(format!(
                        "{place} holds a value at `{path}`, but {} may not hold secrets: if it is not a secret, read it as configuration (`strata get --config`, dlt.config); if it is one, move it to secrets.toml",
                        provider.name()
                    ));
                }
            }
        }
        Error::missing(MissingValue {
            path: path.to_string(),
            secret: lookup.secret,
            pipeline: lookup.pipeline.clone(),
            profile: self.profile.clone(),
            trace,
            locations: self.locations(),
            notes,
        })
    }
}
