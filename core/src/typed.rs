//! Typed configurations: a struct whose fields are resolved by section walks
//! (SPEC §3), the way dlt resolves a configuration spec. Usually derived with
//! `#[derive(Configuration)]` from the `strata` crate.
//!
//! Every field is resolved before anything is reported, so one error lists
//! every missing field with every (provider, name) tried, the fields that did
//! resolve, the active profile and the files read; no value is printed.

use crate::error::{Error, ErrorKind};
use crate::provider::{Location, Provenance};
use crate::resolver::{Lookup, Resolver};
use crate::trace::Trace;
use crate::value::Value;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Where a configuration's fields are looked up: its sections and, for an
/// embedded configuration, its own key kept in every path.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The sections, popped from the end during a walk.
    pub sections: Vec<String>,
    /// The embedded configuration's key (`credentials`), kept in every path.
    pub config_section: Option<String>,
}

impl Scope {
    /// The scope of a configuration embedded under `key`.
    pub fn embedded(&self, key: &str) -> Scope {
        let mut sections = self.sections.clone();
        sections.extend(self.config_section.clone());
        Scope {
            sections,
            config_section: Some(key.to_owned()),
        }
    }

    fn path_of(&self, key: &str) -> String {
        let mut parts = self.sections.clone();
        parts.extend(self.config_section.clone());
        parts.push(key.to_owned());
        parts.join(".")
    }
}

/// A struct resolved field by field from the chain.
#[async_trait::async_trait]
pub trait Configuration: Sized + Send {
    /// Resolves every field in `scope`, recording what is missing or wrong
    /// in `ctx`; `None` when a required field could not be resolved.
    async fn resolve_under(ctx: &ResolveContext<'_>, scope: &Scope) -> Option<Self>;

    /// Reads the whole configuration from one value (a connection string, a
    /// JSON object), when the configuration has such a native form.
    fn from_native(value: &Value) -> Option<Result<Self, String>> {
        let _ = value;
        None
    }
}

/// Whether a field may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Absent is an error.
    Required,
    /// Absent is `None` (an `Option` field, or one with a default).
    Optional,
}

/// A field that no provider holds.
#[derive(Debug, Clone)]
pub struct MissingField {
    /// Its path (sections and key).
    pub path: String,
    /// Whether it is a secret.
    pub secret: bool,
    /// Every (provider, name) tried.
    pub trace: Trace,
}

/// A field that resolved, and where from.
#[derive(Debug, Clone)]
pub struct ResolvedField {
    /// Its path.
    pub path: String,
    /// Where the value came from.
    pub provenance: Provenance,
}

#[derive(Default)]
struct State {
    missing: Vec<MissingField>,
    errors: Vec<Error>,
    resolved: Vec<ResolvedField>,
    locations: Vec<Location>,
}

/// The state of one typed resolution.
pub struct ResolveContext<'a> {
    resolver: &'a Resolver,
    pipeline: Option<String>,
    state: Mutex<State>,
}

impl<'a> ResolveContext<'a> {
    /// A context over `resolver`, scoped by `pipeline`.
    pub fn new(resolver: &'a Resolver, pipeline: Option<&str>) -> Self {
        Self {
            resolver,
            pipeline: pipeline.map(str::to_owned),
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn lookup(&self, secret: bool) -> Lookup {
        Lookup {
            secret,
            pipeline: self.pipeline.clone(),
        }
    }

    async fn walk(
        &self,
        scope: &Scope,
        key: &str,
        secret: bool,
        presence: Presence,
    ) -> Option<crate::Resolved> {
        let lookup = self.lookup(secret);
        match self
            .resolver
            .walk_in(
                &scope.sections,
                scope.config_section.as_deref(),
                key,
                &lookup,
            )
            .await
        {
            Ok(r) => {
                self.state().resolved.push(ResolvedField {
                    path: scope.path_of(key),
                    provenance: r.provenance().clone(),
                });
                Some(r)
            }
            Err(e) if e.is_missing() => {
                let mut st = self.state();
                if let Some(report) = e.missing_report() {
                    if st.locations.is_empty() {
                        st.locations = report.locations.clone();
                    }
                    if presence == Presence::Required {
                        st.missing.push(MissingField {
                            path: scope.path_of(key),
                            secret,
                            trace: report.trace.clone(),
                        });
                    }
                }
                None
            }
            Err(e) => {
                self.state().errors.push(e);
                None
            }
        }
    }

    /// A field read as `T` (text converted on request).
    pub async fn field<T: DeserializeOwned>(
        &self,
        scope: &Scope,
        key: &str,
        secret: bool,
        presence: Presence,
    ) -> Option<T> {
        let r = self.walk(scope, key, secret, presence).await?;
        match r.deserialize::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.state().errors.push(e);
                None
            }
        }
    }

    /// A secret field read as a `SecretString`.
    pub async fn secret_string(
        &self,
        scope: &Scope,
        key: &str,
        presence: Presence,
    ) -> Option<SecretString> {
        let r = self.walk(scope, key, true, presence).await?;
        match r.secret_string() {
            Ok(v) => Some(v),
            Err(e) => {
                self.state().errors.push(e);
                None
            }
        }
    }

    /// A nested configuration under `sections.key`: its native form first
    /// (one value at `key`, as dlt looks up an embedded configuration), else
    /// its own fields under that section.
    pub async fn nested<T: Configuration>(
        &self,
        scope: &Scope,
        key: &str,
        secret: bool,
        presence: Presence,
    ) -> Option<T> {
        let lookup = self.lookup(secret);
        let probe = self
            .resolver
            .walk_in(
                &scope.sections,
                scope.config_section.as_deref(),
                key,
                &lookup,
            )
            .await;
        if let Ok(r) = &probe
            && let Some(parsed) = T::from_native(r.expose())
        {
            return match parsed {
                Ok(v) => {
                    self.state().resolved.push(ResolvedField {
                        path: scope.path_of(key),
                        provenance: r.provenance().clone(),
                    });
                    Some(v)
                }
                Err(why) => {
                    self.state().errors.push(Error::new(
                        ErrorKind::Conversion,
                        format!(
                            "`{}` from {} is not a valid {}: {why}",
                            scope.path_of(key),
                            r.provenance(),
                            std::any::type_name::<T>()
                        ),
                    ));
                    None
                }
            };
        }
        let inner = scope.embedded(key);
        let before = self.state().missing.len();
        let value = T::resolve_under(self, &inner).await;
        if value.is_none() && presence == Presence::Optional {
            // an optional nested configuration that did not resolve is absent
            self.state().missing.truncate(before);
        }
        value
    }

    fn report(&self, what: &str) -> Error {
        let st = self.state();
        if st.missing.is_empty() && st.errors.len() == 1 {
            let e = &st.errors[0];
            return Error::new(e.kind(), e.to_string());
        }
        let mut text = String::new();
        let _ = writeln!(
            text,
            "configuration `{what}` could not be resolved: {} missing field(s), {} error(s)",
            st.missing.len(),
            st.errors.len()
        );
        match self.resolver.profile() {
            Some(p) => {
                let _ = writeln!(text, "  profile: {p}");
            }
            None => {
                let _ = writeln!(text, "  profile: none (classic project)");
            }
        }
        for m in &st.missing {
            let kind = if m.secret { "secret" } else { "value" };
            let _ = writeln!(text, "  missing {kind} `{}`, looked up:", m.path);
            for e in &m.trace.entries {
                let _ = writeln!(text, "      {}  {}  {}", e.provider, e.name, e.outcome);
            }
            for w in &m.trace.warnings {
                let _ = writeln!(text, "      warning: {w}");
            }
        }
        for e in &st.errors {
            let _ = writeln!(text, "  error: {e}");
        }
        if !st.resolved.is_empty() {
            let _ = writeln!(text, "  resolved:");
            for r in &st.resolved {
                let _ = writeln!(text, "    `{}` from {}", r.path, r.provenance);
            }
        }
        if !st.locations.is_empty() {
            let _ = writeln!(text, "  files:");
            for l in &st.locations {
                let state = if l.present { "read   " } else { "missing" };
                let _ = writeln!(text, "    {state} {}", l.location);
            }
        }
        let kind = if st.errors.is_empty() {
            ErrorKind::Missing
        } else {
            st.errors[0].kind()
        };
        Error::new(kind, text.trim_end().to_owned())
    }

    /// Fields that are missing so far.
    pub fn missing(&self) -> Vec<MissingField> {
        self.state().missing.clone()
    }

    /// Fields that resolved so far.
    pub fn resolved(&self) -> Vec<ResolvedField> {
        self.state().resolved.clone()
    }
}

/// Resolves configuration `T` under `sections` (e.g. `["destination",
/// "postgres"]`), scoped by `pipeline`.
pub async fn resolve<T: Configuration>(
    resolver: &Resolver,
    sections: &[&str],
    pipeline: Option<&str>,
) -> Result<T, Error> {
    let ctx = ResolveContext::new(resolver, pipeline);
    let sections: Vec<String> = sections.iter().map(|s| (*s).to_owned()).collect();
    let scope = Scope {
        sections: sections.clone(),
        config_section: None,
    };
    let value = T::resolve_under(&ctx, &scope).await;
    let clean = {
        let st = ctx.state();
        st.missing.is_empty() && st.errors.is_empty()
    };
    match value {
        Some(v) if clean => Ok(v),
        _ => Err(ctx.report(&sections.join("."))),
    }
}
