//! Typed configurations: a struct whose fields are resolved by section walks
//! ([docs/lookups.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/lookups/index.html)), the way dlt resolves a configuration spec. Usually derived with
//! `#[derive(Configuration)]` from the `strata-secrets` crate.
//!
//! Every field is resolved before anything is reported, so one error lists
//! every missing field with every (provider, name) tried, the fields that did
//! resolve, the active profile and the files read; no value is printed.

pub use crate::error::{ConfigReport, MissingField, ResolvedField};
use crate::error::{Error, ErrorKind};
use crate::provider::Location;
use crate::resolver::{Lookup, Resolver};
use crate::value::Value;
use secrecy::{SecretBox, SecretString};
use serde::de::DeserializeOwned;
use std::sync::Mutex;
use zeroize::Zeroize;

/// `#[derive(Configuration)]` (in a crate that depends on `strata-secrets-core`
/// only, add `#[config(crate = "strata_secrets_core")]`).
pub use strata_secrets_derive::Configuration;

/// Used by `#[derive(Configuration)]`; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use futures::join;
}

/// Where a configuration's fields are looked up: its sections and, for an
/// embedded configuration, its own key kept in every path. Plumbing of
/// `#[derive(Configuration)]`.
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The sections, popped from the end during a walk.
    pub sections: Vec<String>,
    /// The embedded configuration's key (`credentials`), kept in every path.
    pub config_section: Option<String>,
    /// The position of this configuration among its parents' fields, so
    /// reports list fields in declaration order although they resolve
    /// concurrently.
    pub order: Vec<u32>,
}

impl Scope {
    /// The scope of a configuration embedded under `key`, the `index`-th
    /// field of this one.
    pub fn embedded(&self, key: &str, index: u32) -> Scope {
        let mut sections = self.sections.clone();
        sections.extend(self.config_section.clone());
        let mut order = self.order.clone();
        order.push(index);
        Scope {
            sections,
            config_section: Some(key.to_owned()),
            order,
        }
    }

    fn path_of(&self, key: &str) -> String {
        let mut parts = self.sections.clone();
        parts.extend(self.config_section.clone());
        parts.push(key.to_owned());
        parts.join(".")
    }

    fn order_of(&self, index: u32) -> Vec<u32> {
        let mut order = self.order.clone();
        order.push(index);
        order
    }
}

/// One field of a configuration, as the derive macro describes it.
/// Plumbing of `#[derive(Configuration)]`.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    /// Its position among the configuration's fields (declaration order).
    pub index: u32,
    /// The key looked up (the field name, or its `rename`).
    pub key: &'a str,
    /// A secret lookup: never answered by a provider that may not hold
    /// secrets, and the only kind a vault with `only_secrets` answers.
    pub secret: bool,
    /// Whether absence is an error.
    pub presence: Presence,
}

impl<'a> Field<'a> {
    /// A required, non-secret field.
    pub fn new(index: u32, key: &'a str) -> Self {
        Self {
            index,
            key,
            secret: false,
            presence: Presence::Required,
        }
    }

    /// Marks the field secret.
    pub fn secret(mut self, secret: bool) -> Self {
        self.secret = secret;
        self
    }

    /// Marks the field optional (an `Option`, or a field with a default).
    pub fn optional(mut self, optional: bool) -> Self {
        self.presence = if optional {
            Presence::Optional
        } else {
            Presence::Required
        };
        self
    }
}

/// What a plain field of a derived configuration can be: a type read from
/// one value (any `serde::Deserialize` type). A configuration is not one:
/// mark its field `#[config(nested)]` or `#[config(flatten)]`, which the
/// compiler's error says.
#[diagnostic::on_unimplemented(
    message = "a field of type `{Self}` cannot be read from one value",
    label = "a plain field: read from one value",
    note = "if `{Self}` is a configuration (`#[derive(Configuration)]`), mark the field `#[config(nested)]` (its own section) or `#[config(flatten)]` (this section)",
    note = "otherwise `{Self}` needs `serde::Deserialize`"
)]
pub trait FieldValue: DeserializeOwned {}

impl<T: DeserializeOwned> FieldValue for T {}

/// A struct resolved field by field from the chain.
///
/// Implementations (usually `#[derive(Configuration)]`) start every field's
/// lookup at once and await them together, so the fields of one
/// configuration reach a vault in the same round: one request per name,
/// shared by every field that needs it, and never a name that a field
/// resolved one by one would not have asked for.
#[async_trait::async_trait]
pub trait Configuration: Sized + Send {
    /// A credentials configuration: its native value (one string at the
    /// configuration's own key) is looked up as a secret, as dlt does for
    /// its `CredentialsConfiguration`.
    const CREDENTIALS: bool = false;

    /// Whether [`Configuration::from_native`] reads a native form (a
    /// connection string); a single value set for a configuration without
    /// one is ignored, with a warning and a note in the report.
    const NATIVE: bool = false;

    /// The fields, in declaration order: the configuration's keys as data
    /// (see [`keys`]).
    const FIELDS: &'static [FieldSpec] = &[];

    /// Resolves every field in `scope`, recording what is missing or wrong
    /// in `ctx`; `None` when a required field could not be resolved. Written
    /// by `#[derive(Configuration)]`; call [`resolve`] instead.
    #[doc(hidden)]
    async fn resolve_under(ctx: &ResolveContext<'_>, scope: &Scope) -> Option<Self>;

    /// Reads the whole configuration from one value (a connection string, a
    /// JSON object), when the configuration has such a native form.
    fn from_native(value: &Value) -> Option<Result<Self, NativeError>> {
        let _ = value;
        None
    }
}

/// A configuration's native form: the whole configuration as one value, as
/// dlt's credentials read a connection string or a service-account JSON key.
/// `#[derive(Configuration)]` with `#[config(native)]` uses it.
pub trait NativeValue: Sized {
    /// `None` when `value` is not in the native form (then the fields are
    /// resolved one by one); an error says what is wrong, never the value.
    fn from_native(value: &Value) -> Option<Result<Self, NativeError>>;
}

/// What is wrong with a value in a configuration's native form: words
/// about the value, never the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NativeError(std::borrow::Cow<'static, str>);

impl NativeError {
    /// An error saying `what` is wrong.
    pub fn new(what: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Self(what.into())
    }
}

impl From<&'static str> for NativeError {
    fn from(what: &'static str) -> Self {
        Self::new(what)
    }
}

/// One field of a configuration, as data.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The key looked up.
    pub key: &'static str,
    /// Whether it is a secret lookup.
    pub secret: bool,
    /// What it holds.
    pub kind: FieldKind,
}

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum FieldKind {
    /// A value.
    Value,
    /// A configuration under the field's own key.
    Nested(&'static [FieldSpec]),
    /// A configuration whose fields sit beside this one's (no key of its own).
    Flatten(&'static [FieldSpec]),
}

/// Every key of configuration `T`, dotted below its section
/// (`only_secrets`, `credentials`, `credentials.region_name`), with whether
/// it is a secret: what the configuration reads, and nothing else.
pub fn keys<T: Configuration>() -> Vec<(String, bool)> {
    keys_of(T::FIELDS)
}

/// [`keys`] of a field list.
pub fn keys_of(fields: &[FieldSpec]) -> Vec<(String, bool)> {
    fn walk(fields: &[FieldSpec], prefix: &str, out: &mut Vec<(String, bool)>) {
        for f in fields {
            match f.kind {
                FieldKind::Value => out.push((format!("{prefix}{}", f.key), f.secret)),
                FieldKind::Nested(inner) => {
                    out.push((format!("{prefix}{}", f.key), f.secret));
                    walk(inner, &format!("{prefix}{}.", f.key), out);
                }
                FieldKind::Flatten(inner) => walk(inner, prefix, out),
            }
        }
    }
    let mut out = Vec::new();
    walk(fields, "", &mut out);
    out
}

/// Whether a field may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Absent is an error.
    Required,
    /// Absent is `None` (an `Option` field, or one with a default).
    Optional,
}

#[derive(Default)]
struct State {
    missing: Vec<MissingField>,
    errors: Vec<(Vec<u32>, Error)>,
    resolved: Vec<ResolvedField>,
    locations: Vec<Location>,
    /// What a reader should know though nothing failed (a value ignored).
    notes: Vec<String>,
}

impl State {
    /// Declaration order, whatever order the fields finished in.
    fn sort(&mut self) {
        self.missing.sort_by(|a, b| a.order.cmp(&b.order));
        self.resolved.sort_by(|a, b| a.order.cmp(&b.order));
        self.errors.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

/// For each missing field, a key beside it in a provider's document that
/// is one or two edits away (`usernme` for `username`): "did you mean",
/// with where the key is written.
fn typos(resolver: &Resolver, missing: &[MissingField]) -> Vec<String> {
    let mut notes = Vec::new();
    for m in missing {
        let Ok(path) = crate::path::Path::parse(&m.path) else {
            continue;
        };
        let segments = path.segments();
        let Some((key, section)) = segments.split_last() else {
            continue;
        };
        for provider in resolver.providers() {
            let Some(doc) = provider.document() else {
                continue;
            };
            let Some(table) = doc.get_path(section).and_then(Value::as_table) else {
                continue;
            };
            for written in table.keys() {
                if written == key || strsim::damerau_levenshtein(written, key) > 2 {
                    continue;
                }
                // a key that is itself the path of a field is no typo
                if missing
                    .iter()
                    .any(|other| other.path.ends_with(&format!(".{written}")))
                {
                    continue;
                }
                let mut at: Vec<&str> = section.iter().map(String::as_str).collect();
                at.push(written);
                let place = match provider.origin(&at) {
                    Some((file, Some(line))) => format!("{}:{line}", file.display()),
                    Some((file, None)) => file.display().to_string(),
                    None => provider.name().to_owned(),
                };
                notes.push(format!(
                    "`{}` is missing and {place} has `{}`: did you mean `{key}`?",
                    m.path,
                    crate::naming::toml_key_of(&at)
                ));
            }
        }
    }
    notes
}

/// The state of one typed resolution. Plumbing of
/// `#[derive(Configuration)]`: call [`resolve`] instead.
#[doc(hidden)]
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

    /// The section walk for `key` in `scope` (see [`Resolver::walk_in`]).
    async fn walk_key(
        &self,
        scope: &Scope,
        key: &str,
        lookup: &Lookup,
        prefetch: bool,
    ) -> Result<crate::Resolved, Error> {
        self.resolver
            .walk_in_with(
                &scope.sections,
                scope.config_section.as_deref(),
                key,
                lookup,
                prefetch,
            )
            .await
    }

    /// Records where a field's value came from.
    fn found(&self, scope: &Scope, field: &Field<'_>, r: &crate::Resolved) {
        self.state().resolved.push(ResolvedField {
            path: scope.path_of(field.key),
            provenance: r.provenance().clone(),
            order: scope.order_of(field.index),
        });
    }

    fn error(&self, scope: &Scope, field: &Field<'_>, error: Error) {
        self.state()
            .errors
            .push((scope.order_of(field.index), error));
    }

    async fn walk(&self, scope: &Scope, field: &Field<'_>) -> Option<crate::Resolved> {
        let lookup = self.lookup(field.secret);
        match self.walk_key(scope, field.key, &lookup, false).await {
            Ok(r) => {
                self.found(scope, field, &r);
                Some(r)
            }
            Err(e) if e.is_missing() => {
                let mut st = self.state();
                if let Some(report) = e.missing_report() {
                    if st.locations.is_empty() {
                        st.locations = report.locations.clone();
                    }
                    if field.presence == Presence::Required {
                        st.missing.push(MissingField {
                            path: scope.path_of(field.key),
                            secret: field.secret,
                            trace: report.trace.clone(),
                            order: scope.order_of(field.index),
                        });
                    }
                }
                None
            }
            Err(e) => {
                self.error(scope, field, e);
                None
            }
        }
    }

    /// A field read as `T` (text converted on request).
    pub async fn field<T: FieldValue>(&self, scope: &Scope, field: Field<'_>) -> Option<T> {
        let r = self.walk(scope, &field).await?;
        match r.deserialize::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(scope, &field, e);
                None
            }
        }
    }

    /// A secret field read as a `SecretString` (always a secret lookup).
    pub async fn secret_string(&self, scope: &Scope, field: Field<'_>) -> Option<SecretString> {
        let field = field.secret(true);
        let r = self.walk(scope, &field).await?;
        match r.secret_string() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(scope, &field, e);
                None
            }
        }
    }

    /// A secret field read as `T` and kept in a `SecretBox` (always a
    /// secret lookup; the value is zeroized on drop).
    pub async fn secret_box<T>(&self, scope: &Scope, field: Field<'_>) -> Option<SecretBox<T>>
    where
        T: DeserializeOwned + Zeroize,
    {
        let field = field.secret(true);
        let r = self.walk(scope, &field).await?;
        match r.deserialize::<T>() {
            Ok(v) => Some(SecretBox::new(Box::new(v))),
            Err(e) => {
                self.error(scope, &field, e);
                None
            }
        }
    }

    /// A configuration whose fields sit in `scope` itself, beside the
    /// fields of the configuration that holds it (the `index`-th of them).
    pub async fn flatten<T: Configuration>(&self, scope: &Scope, index: u32) -> Option<T> {
        let mut inner = scope.clone();
        inner.order.push(index);
        T::resolve_under(self, &inner).await
    }

    /// A nested configuration under `sections.key`: its native form first
    /// (one value at `key`, as dlt looks up an embedded configuration), else
    /// its own fields under that section. An optional nested configuration
    /// none of whose fields is set is absent; one that is set in part is
    /// reported like a required one.
    ///
    /// When a vault in the chain fetches ahead (`prefetch_single_values`)
    /// and the walk for the native form reaches it, the fields are looked
    /// up while that walk runs (their answers are dropped if the native
    /// form is found), and the vault fetches every path of the walk at
    /// once: the native form and the fields reach it in the same round.
    pub async fn nested<T: Configuration>(&self, scope: &Scope, field: Field<'_>) -> Option<T> {
        let probe_field = field.secret(field.secret || T::CREDENTIALS);
        let lookup = self.lookup(probe_field.secret);
        let inner = scope.embedded(field.key, field.index);
        let speculate = self.resolver.prefetches()
            && self.resolver.walk_reaches_full_lookup(
                &scope.sections,
                scope.config_section.as_deref(),
                field.key,
                &lookup,
            );
        let value = if speculate {
            let fields = ResolveContext::new(self.resolver, self.pipeline.as_deref());
            let probe = std::pin::pin!(self.walk_key(scope, field.key, &lookup, true));
            let resolved = std::pin::pin!(T::resolve_under(&fields, &inner));
            // a native value found first stops the fields' lookups
            let value = match futures::future::select(probe, resolved).await {
                futures::future::Either::Left((probe, resolved)) => {
                    if let Some(native) = self.native::<T>(scope, &field, probe) {
                        return native;
                    }
                    resolved.await
                }
                futures::future::Either::Right((value, probe)) => {
                    if let Some(native) = self.native::<T>(scope, &field, probe.await) {
                        return native;
                    }
                    value
                }
            };
            self.absorb(&fields);
            value
        } else {
            let probe = self.walk_key(scope, field.key, &lookup, false).await;
            if let Some(native) = self.native::<T>(scope, &field, probe) {
                return native;
            }
            T::resolve_under(self, &inner).await
        };
        if value.is_none() && field.presence == Presence::Optional {
            let mut st = self.state();
            let under = |order: &[u32]| order.starts_with(&inner.order);
            let touched = st.resolved.iter().any(|r| under(&r.order))
                || st.errors.iter().any(|(o, _)| under(o));
            if !touched {
                // nothing of it is set: absent, not an error
                st.missing.retain(|m| !under(&m.order));
            }
        }
        value
    }

    /// What the walk for a nested configuration's native form settles:
    /// `Some` when it found a native value (read, or wrong) or failed,
    /// `None` when the fields are to be resolved.
    fn native<T: Configuration>(
        &self,
        scope: &Scope,
        field: &Field<'_>,
        probe: Result<crate::Resolved, Error>,
    ) -> Option<Option<T>> {
        match probe {
            Ok(r) => {
                let Some(parsed) = T::from_native(r.expose()) else {
                    if !T::NATIVE && r.expose().as_table().is_none() {
                        self.ignored::<T>(scope, field, &r);
                    }
                    return None;
                };
                Some(match parsed {
                    Ok(v) => {
                        self.found(scope, field, &r);
                        Some(v)
                    }
                    Err(why) => {
                        let e = Error::new(
                            ErrorKind::Conversion,
                            format!(
                                "`{}` from {} is not a valid {}: {why}",
                                scope.path_of(field.key),
                                r.provenance(),
                                std::any::type_name::<T>()
                            ),
                        );
                        self.error(scope, field, e);
                        None
                    }
                })
            }
            // a value found where secrets may not be kept, or a failing
            // provider: as for any field
            Err(e) if !e.is_missing() => {
                self.error(scope, field, e);
                Some(None)
            }
            Err(_) => None,
        }
    }

    /// A single value set where a configuration without a native form sits:
    /// dlt ignores it too, but silently; here it is a warning and a note.
    fn ignored<T: Configuration>(&self, scope: &Scope, field: &Field<'_>, r: &crate::Resolved) {
        let path = scope.path_of(field.key);
        let what = std::any::type_name::<T>();
        let keys: Vec<&str> = T::FIELDS.iter().map(|f| f.key).collect();
        tracing::warn!(
            path = %path,
            from = %r.provenance(),
            "a single value is set for `{path}`, but {what} has no native form: the value is ignored"
        );
        self.state().notes.push(format!(
            "`{path}` from {} is a single value, but {what} has no native form (such as a connection string): it was ignored; set its fields instead ({})",
            r.provenance(),
            keys.join(", ")
        ));
    }

    /// Takes in what `other` recorded (fields looked up alongside).
    fn absorb(&self, other: &ResolveContext<'_>) {
        let theirs = std::mem::take(&mut *other.state());
        let mut st = self.state();
        st.missing.extend(theirs.missing);
        st.errors.extend(theirs.errors);
        st.resolved.extend(theirs.resolved);
        st.notes.extend(theirs.notes);
        if st.locations.is_empty() {
            st.locations = theirs.locations;
        }
    }

    fn report(&self, what: &str) -> Error {
        let mut st = self.state();
        st.sort();
        if st.missing.is_empty() && st.errors.len() == 1 {
            // one error: that error, whole (its provider, path and file)
            let (_, e) = st.errors.remove(0);
            return e;
        }
        let st = std::mem::take(&mut *st);
        let mut notes = st.notes;
        notes.extend(typos(self.resolver, &st.missing));
        Error::unresolved(ConfigReport {
            configuration: what.to_owned(),
            profile: self.resolver.profile().map(str::to_owned),
            missing: st.missing,
            errors: st.errors.into_iter().map(|(_, e)| e).collect(),
            resolved: st.resolved,
            locations: st.locations,
            notes,
        })
    }

    /// Fields that are missing so far, in declaration order.
    pub fn missing(&self) -> Vec<MissingField> {
        let mut st = self.state();
        st.sort();
        st.missing.clone()
    }

    /// Fields that resolved so far, in declaration order.
    pub fn resolved(&self) -> Vec<ResolvedField> {
        let mut st = self.state();
        st.sort();
        st.resolved.clone()
    }
}

/// Resolves configuration `T` under `sections` (e.g. `["destination",
/// "postgres"]`), scoped by `pipeline`.
pub async fn resolve<T: Configuration>(
    resolver: &Resolver,
    sections: &[&str],
    pipeline: Option<&str>,
) -> Result<T, Error> {
    Ok(resolve_explained(resolver, sections, pipeline).await?.0)
}

/// As [`resolve`], with what the resolution read: each field and where
/// its value came from (file and line, variable or vault), and notes such
/// as a value that was ignored.
pub async fn resolve_explained<T: Configuration>(
    resolver: &Resolver,
    sections: &[&str],
    pipeline: Option<&str>,
) -> Result<(T, Resolution), Error> {
    let scope = Scope {
        sections: sections.iter().map(|s| (*s).to_owned()).collect(),
        ..Scope::default()
    };
    resolve_in(resolver, &scope, pipeline).await
}

/// Resolves configuration `T` embedded under `key` in `sections`, the way
/// dlt resolves a configuration that is a field of another: `key` stays in
/// every path while the sections are popped (`providers.acme.timeout`, then
/// `acme.timeout`), and its own nested configurations walk below it.
pub async fn resolve_embedded<T: Configuration>(
    resolver: &Resolver,
    sections: &[&str],
    key: &str,
    pipeline: Option<&str>,
) -> Result<T, Error> {
    let scope = Scope {
        sections: sections.iter().map(|s| (*s).to_owned()).collect(),
        config_section: Some(key.to_owned()),
        order: Vec::new(),
    };
    Ok(resolve_in(resolver, &scope, pipeline).await?.0)
}

/// What a successful resolution read: every field that resolved and where
/// from, in declaration order, and notes. Its `Display` lists them; it
/// never holds a value.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// The configuration's sections (`destination.postgres`).
    pub configuration: String,
    /// Fields that resolved, and where from (a field left at its default
    /// is not listed).
    pub resolved: Vec<ResolvedField>,
    /// What to know though nothing failed: a value that was ignored.
    pub notes: Vec<String>,
}

impl std::fmt::Display for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "configuration `{}` resolved:", self.configuration)?;
        for r in &self.resolved {
            writeln!(f, "  `{}` from {}", r.path, r.provenance)?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        Ok(())
    }
}

async fn resolve_in<T: Configuration>(
    resolver: &Resolver,
    scope: &Scope,
    pipeline: Option<&str>,
) -> Result<(T, Resolution), Error> {
    let ctx = ResolveContext::new(resolver, pipeline);
    let value = T::resolve_under(&ctx, scope).await;
    let mut what = scope.sections.clone();
    what.extend(scope.config_section.clone());
    let what = what.join(".");
    let clean = {
        let st = ctx.state();
        st.missing.is_empty() && st.errors.is_empty()
    };
    match value {
        Some(v) if clean => {
            let mut st = ctx.state();
            st.sort();
            let st = std::mem::take(&mut *st);
            Ok((
                v,
                Resolution {
                    configuration: what,
                    resolved: st.resolved,
                    notes: st.notes,
                },
            ))
        }
        _ => Err(ctx.report(&what)),
    }
}
