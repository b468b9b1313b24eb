//! The resolver: exact gets and section walks over a chain of providers
//! (SPEC §2 and §3).

use crate::error::{Error, ErrorKind, MissingValue};
use crate::path::Path;
use crate::provider::{Answer, Found, Location, Provenance, Provider, Query};
use crate::trace::{Outcome, Trace};
use crate::value::Value;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;

/// How to look a value up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    /// A secret lookup: only providers that may hold secrets answer.
    pub secret: bool,
    /// The pipeline name that scopes the lookup (tried first, then unscoped).
    pub pipeline: Option<String>,
}

impl Lookup {
    /// A secret lookup (like `dlt.secrets`).
    pub fn secret() -> Self {
        Self {
            secret: true,
            pipeline: None,
        }
    }

    /// A configuration lookup over every provider (like `dlt.config`).
    pub fn config() -> Self {
        Self::default()
    }

    /// Scopes the lookup by a pipeline name.
    pub fn pipeline(mut self, name: impl Into<String>) -> Self {
        self.pipeline = Some(name.into());
        self
    }
}

/// A resolved value with its provenance and the trace of its lookup.
/// The value is held as a secret: `Debug` prints a redaction, it is zeroized
/// on drop and read only through [`Resolved::expose`].
pub struct Resolved {
    value: SecretBox<Value>,
    provenance: Provenance,
    from_secret_provider: bool,
    path: Path,
    trace: Trace,
}

impl Resolved {
    /// The value. Every read of a resolved value goes through here.
    pub fn expose(&self) -> &Value {
        self.value.expose_secret()
    }

    /// Where the value came from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// True when the answering provider may hold secrets: reports mask such
    /// values.
    pub fn from_secret_provider(&self) -> bool {
        self.from_secret_provider
    }

    /// The path that answered (with the pipeline prefix, if any).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The questions asked until the value was found.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Reads the value as `T`, converting text on request. The error names
    /// the path, the provider and the type, never the value.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.expose().deserialize::<T>().map_err(|e| {
            Error::new(
                ErrorKind::Conversion,
                format!(
                    "`{}` from {} cannot be read as {}: {e}",
                    self.path,
                    self.provenance,
                    std::any::type_name::<T>()
                ),
            )
            .with_path(&self.path)
            .with_provider(self.provenance.provider.clone())
        })
    }

    /// The value as a secret string (scalars as their text; a table or array
    /// is an error).
    pub fn secret_string(&self) -> Result<SecretString, Error> {
        match self.expose() {
            Value::Table(_) | Value::Array(_) => Err(Error::new(
                ErrorKind::Conversion,
                format!(
                    "`{}` from {} is a {}, not a string",
                    self.path,
                    self.provenance,
                    self.expose().kind()
                ),
            )),
            v => Ok(SecretString::from(v.to_text())),
        }
    }
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolved")
            .field("value", &self.value)
            .field("provenance", &self.provenance)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The ordered paths of a section walk for `sections` and `key` (SPEC §3):
/// most specific first, down to the bare key, with the compact `sources`
/// layout inserted third.
pub fn walk_paths(sections: &[String], key: &str) -> Vec<Path> {
    walk_paths_in(sections, None, key)
}

/// The walk for a field of an embedded configuration: `config_section`
/// (the embedded configuration's key, e.g. `credentials`) stays in every
/// path while the sections before it are popped, as dlt does:
/// `destination.postgres.credentials.password`,
/// `destination.credentials.password`, `credentials.password`.
pub fn walk_paths_in(sections: &[String], config_section: Option<&str>, key: &str) -> Vec<Path> {
    let tail: Vec<String> = config_section
        .map(str::to_owned)
        .into_iter()
        .chain(std::iter::once(key.to_owned()))
        .collect();
    let mut out: Vec<Vec<String>> = Vec::with_capacity(sections.len() + 2);
    for n in (0..=sections.len()).rev() {
        let mut segs = sections[..n].to_vec();
        segs.extend(tail.iter().cloned());
        out.push(segs);
    }
    if sections.len() >= 3 && sections[0] == "sources" && sections[1] != sections[2] {
        let mut compact = vec![sections[0].clone(), sections[2].clone()];
        compact.extend(sections[3..].iter().cloned());
        compact.extend(tail.iter().cloned());
        if !out.contains(&compact) {
            out.insert(2, compact);
        }
    }
    out.into_iter().map(Path::from_valid).collect()
}

/// A chain of providers, asked in order; the first answer wins.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    providers: Vec<Arc<dyn Provider>>,
    profile: Option<String>,
}

enum Step {
    Found(Found, Path),
    Continue,
}

impl Resolver {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a provider at the end of the chain.
    pub fn push(&mut self, provider: Arc<dyn Provider>) {
        self.providers.push(provider);
    }

    /// Adds a provider at the end of the chain (builder form).
    pub fn with_provider(mut self, provider: Arc<dyn Provider>) -> Self {
        self.push(provider);
        self
    }

    /// Sets the active profile named in reports.
    pub fn set_profile(&mut self, profile: Option<String>) {
        self.profile = profile;
    }

    /// The active profile named in reports.
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    /// The providers, in chain order.
    pub fn providers(&self) -> &[Arc<dyn Provider>] {
        &self.providers
    }

    /// Every location of every provider, in chain order.
    pub fn locations(&self) -> Vec<Location> {
        self.providers.iter().flat_map(|p| p.locations()).collect()
    }

    async fn ask(
        provider: &dyn Provider,
        path: &Path,
        pipeline: Option<&str>,
        secret: bool,
        trace: &mut Trace,
    ) -> Result<Option<Found>, Error> {
        let full = Self::scoped(path, pipeline)?;
        let name = match provider.native_name(&full) {
            Ok(name) => name,
            Err(e) => {
                trace.push(
                    provider.name(),
                    &full,
                    String::new(),
                    Outcome::Skipped(e.to_string()),
                );
                return Ok(None);
            }
        };
        let query = Query {
            path,
            pipeline,
            secret,
        };
        let mut details = Vec::new();
        let answer = provider
            .lookup(&query, &mut details)
            .await
            .map_err(|e| e.with_provider(provider.name()).with_path(&full))?;
        for d in details {
            if let Outcome::Withheld(w) = &d.outcome {
                trace.warn(w.clone());
            }
            trace.push(provider.name(), &full, d.name, d.outcome);
        }
        match answer {
            Answer::Found(found) => {
                trace.push(provider.name(), &full, name, Outcome::Found);
                Ok(Some(found))
            }
            Answer::NotFound => {
                trace.push(provider.name(), &full, name, Outcome::NotFound);
                Ok(None)
            }
            Answer::Withheld { warning } => {
                trace.push(
                    provider.name(),
                    &full,
                    name,
                    Outcome::Withheld(warning.clone()),
                );
                trace.warn(warning);
                Ok(None)
            }
            Answer::Skipped(why) => {
                trace.push(provider.name(), &full, name, Outcome::Skipped(why));
                Ok(None)
            }
        }
    }

    fn passes(lookup: &Lookup) -> Vec<Option<&str>> {
        match &lookup.pipeline {
            Some(p) => vec![Some(p.as_str()), None],
            None => vec![None],
        }
    }

    fn scoped(path: &Path, pipeline: Option<&str>) -> Result<Path, Error> {
        match pipeline {
            Some(p) => Ok(path.prefixed(p)?),
            None => Ok(path.clone()),
        }
    }

    /// Exact get: every provider is asked for exactly `path` (first scoped by
    /// the pipeline, if any, then unscoped). A secret lookup skips providers
    /// that may not hold secrets.
    pub async fn get(&self, path: &Path, lookup: &Lookup) -> Result<Resolved, Error> {
        let mut trace = Trace::default();
        for pipeline in Self::passes(lookup) {
            for provider in &self.providers {
                if lookup.secret && !provider.may_hold_secrets() {
                    if pipeline.is_none() {
                        trace.push(
                            provider.name(),
                            path,
                            provider.native_name(path).unwrap_or_default(),
                            Outcome::Skipped("may not hold secrets".into()),
                        );
                    }
                    continue;
                }
                let asked = if provider.supports_sections() {
                    path.clone()
                } else if pipeline.is_some() {
                    continue;
                } else {
                    Path::from_valid(vec![path.key().to_owned()])
                };
                if let Some(found) = Self::ask(
                    provider.as_ref(),
                    &asked,
                    pipeline,
                    lookup.secret,
                    &mut trace,
                )
                .await?
                {
                    let answered = Self::scoped(&asked, pipeline)?;
                    return Ok(self.resolved(found, provider.may_hold_secrets(), answered, trace));
                }
            }
        }
        Err(self.missing(path, lookup, trace).await)
    }

    /// Section walk for a field: for each provider in chain order, every
    /// path of [`walk_paths`]; the pipeline-scoped pass runs over all
    /// providers before the unscoped one. A secret found in a provider that
    /// may not hold secrets is an [`ErrorKind::ValueNotSecret`] error.
    pub async fn walk(
        &self,
        sections: &[String],
        key: &str,
        lookup: &Lookup,
    ) -> Result<Resolved, Error> {
        self.walk_in(sections, None, key, lookup).await
    }

    /// Section walk for a field of an embedded configuration (see
    /// [`walk_paths_in`]).
    pub async fn walk_in(
        &self,
        sections: &[String],
        config_section: Option<&str>,
        key: &str,
        lookup: &Lookup,
    ) -> Result<Resolved, Error> {
        let mut segments = sections.to_vec();
        segments.extend(config_section.map(str::to_owned));
        segments.push(key.to_owned());
        let full = Path::from_segments(segments)?;
        for s in sections {
            Path::from_segments([s.as_str()])?;
        }
        let paths = walk_paths_in(sections, config_section, key);
        let bare = Path::from_valid(vec![full.key().to_owned()]);
        let mut trace = Trace::default();
        for pipeline in Self::passes(lookup) {
            for provider in &self.providers {
                let candidates: &[Path] = if provider.supports_sections() {
                    &paths
                } else if pipeline.is_some() {
                    continue;
                } else {
                    std::slice::from_ref(&bare)
                };
                match self
                    .walk_provider(provider.as_ref(), candidates, pipeline, lookup, &mut trace)
                    .await?
                {
                    Step::Found(found, path) => {
                        return Ok(self.resolved(found, provider.may_hold_secrets(), path, trace));
                    }
                    Step::Continue => {}
                }
            }
        }
        Err(self.missing(&full, lookup, trace).await)
    }

    async fn walk_provider(
        &self,
        provider: &dyn Provider,
        candidates: &[Path],
        pipeline: Option<&str>,
        lookup: &Lookup,
        trace: &mut Trace,
    ) -> Result<Step, Error> {
        let cant_hold = lookup.secret && !provider.may_hold_secrets();
        for unscoped in candidates {
            if let Some(found) =
                Self::ask(provider, unscoped, pipeline, lookup.secret, trace).await?
            {
                let path = &Self::scoped(unscoped, pipeline)?;
                if cant_hold {
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
                    .with_path(path);
                    if let Some(f) = &found.provenance.file {
                        err = err.with_file(f);
                    }
                    return Err(err);
                }
                return Ok(Step::Found(found, path.clone()));
            }
        }
        Ok(Step::Continue)
    }

    fn resolved(
        &self,
        found: Found,
        from_secret_provider: bool,
        path: Path,
        trace: Trace,
    ) -> Resolved {
        Resolved {
            value: SecretBox::new(Box::new(found.value)),
            provenance: found.provenance,
            from_secret_provider,
            path,
            trace,
        }
    }

    async fn missing(&self, path: &Path, lookup: &Lookup, trace: Trace) -> Error {
        let mut notes = Vec::new();
        if lookup.secret {
            for provider in self.providers.iter().filter(|p| !p.may_hold_secrets()) {
                if let Ok(Answer::Found(found)) = provider.get(path, false).await {
                    let place = found
                        .provenance
                        .file
                        .as_ref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_else(|| provider.name().to_owned());
                    notes.push(format!(
                        "{place} holds a value at `{path}`, but {} may not hold secrets: move it to secrets.toml",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(paths: &[Path]) -> Vec<String> {
        paths.iter().map(ToString::to_string).collect()
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn walk_goes_from_most_specific_to_bare_key() {
        assert_eq!(
            names(&walk_paths(&s(&["destination", "postgres"]), "credentials")),
            [
                "destination.postgres.credentials",
                "destination.credentials",
                "credentials"
            ]
        );
        assert_eq!(names(&walk_paths(&[], "k")), ["k"]);
    }

    #[test]
    fn embedded_configurations_keep_their_section() {
        assert_eq!(
            names(&walk_paths_in(
                &s(&["destination", "postgres"]),
                Some("credentials"),
                "password"
            )),
            [
                "destination.postgres.credentials.password",
                "destination.credentials.password",
                "credentials.password"
            ]
        );
    }

    #[test]
    fn compact_sources_layout_is_inserted_third() {
        assert_eq!(
            names(&walk_paths(&s(&["sources", "mod", "src"]), "k")),
            [
                "sources.mod.src.k",
                "sources.mod.k",
                "sources.src.k",
                "sources.k",
                "k"
            ]
        );
        // same module and source name: no compact path
        assert_eq!(
            names(&walk_paths(&s(&["sources", "x", "x"]), "k")),
            ["sources.x.x.k", "sources.x.k", "sources.k", "k"]
        );
        // only for `sources`
        assert_eq!(
            names(&walk_paths(&s(&["destination", "a", "b"]), "k")).len(),
            4
        );
        // embedded sections follow the source name, as in dlt
        assert_eq!(
            names(&walk_paths(
                &s(&["sources", "mod", "src", "credentials"]),
                "password"
            ))[..3],
            [
                "sources.mod.src.credentials.password",
                "sources.mod.src.password",
                "sources.src.credentials.password"
            ]
        );
    }
}
