//! The vault document provider: the fetch plan, the cache and the error
//! mapping every backend shares.

use super::layers::{self, FetchCache};
use super::leases::LeaseProvider;
use super::{Fetched, KNOWN_SECTIONS, SECRETS_TOML_KEY, VaultBackend, VaultOptions, Version};
use crate::error::{Error, ErrorKind};
use crate::naming::{NameError, NamingRule, VaultNaming};
use crate::path::Path;
use crate::provider::{Answer, Detail, Found, Location, Provenance, Provider, Query};
use crate::trace::Outcome;
use crate::value::{Table, Value, parse_table_text};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroize;

/// A fetched secret, parsed once.
struct Secret {
    text: SecretString,
    /// The text read as a TOML document or a JSON object, if it is one.
    doc: Option<Table>,
    /// Fetched as a table ([`Fetched::Table`]): a table at its path.
    structured: bool,
}

impl Drop for Secret {
    fn drop(&mut self) {
        if let Some(doc) = &mut self.doc {
            for v in doc.values_mut() {
                v.zeroize();
            }
        }
    }
}

#[derive(Clone)]
enum Cached {
    Missing,
    Withheld(String),
    Found(Arc<Secret>),
}

/// One name of a fetch plan: the path it stands for and its secret name.
#[derive(Debug, Clone)]
struct Item {
    path: Path,
    name: String,
}

/// The three stages of the plan for one lookup.
#[derive(Debug, Default)]
struct Plan {
    global: Option<Item>,
    fragments: Vec<Item>,
    exact: Option<Item>,
}

/// Rebuilds a `secrets.toml`-like document from a vault's secrets.
///
/// The policies (the timeout, retries within the deadline, the request
/// budget) are layers around the backend ([`layers::stack`]); the cache
/// (with `max_age`) is a layer over the fetch step ([`FetchCache`]). What is
/// here is the plan and the merge.
pub struct VaultProvider {
    /// The vault's name: its settings section, in traces and errors.
    name: String,
    /// The rule that turns a path into a secret name, as the vault was
    /// configured (a prefix setting, say).
    naming: VaultNaming,
    /// The backend as given: its capabilities and location.
    given: Arc<dyn VaultBackend>,
    /// The backend with the policies around it: every call goes here.
    backend: Arc<dyn VaultBackend>,
    options: VaultOptions,
    cache: FetchCache<Cached>,
    listing: FetchCache<Arc<HashSet<String>>>,
    /// The vault's leased credentials, when its settings map paths to
    /// roles: a provider of its own, placed before this one in the chain.
    leases: Option<LeaseProvider>,
}

impl fmt::Debug for VaultProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultProvider")
            .field("backend", &self.backend)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn place(path: &Path, value: Value) -> Table {
    let mut node = value;
    for segment in path.segments().iter().rev() {
        let mut t = Table::default();
        t.insert(segment.clone(), node);
        node = Value::Table(t);
    }
    match node {
        Value::Table(t) => t,
        _ => Table::default(),
    }
}

/// Reads text as a document: empty text is an empty document.
fn parse_document(text: &str) -> Option<Table> {
    if text.trim().is_empty() {
        return Some(Table::default());
    }
    parse_table_text(text)
}

impl VaultProvider {
    /// A provider named `name` (the vault's settings section) over
    /// `backend`, whose secrets are named by `naming`, with `options`.
    pub fn new(
        name: &str,
        naming: VaultNaming,
        backend: Arc<dyn VaultBackend>,
        options: VaultOptions,
    ) -> Self {
        Self {
            name: name.to_owned(),
            naming,
            backend: layers::stack(name, backend.clone(), &options),
            given: backend,
            options,
            cache: FetchCache::new(options.max_age),
            listing: FetchCache::new(options.max_age),
            leases: None,
        }
    }

    /// This provider with leased credentials beside it.
    pub fn with_leases(mut self, leases: LeaseProvider) -> Self {
        self.leases = Some(leases);
        self
    }

    /// The vault's leased credentials, if its settings map any.
    pub fn leases(&self) -> Option<&LeaseProvider> {
        self.leases.as_ref()
    }

    /// The backend as it was given, without the policies.
    pub fn given_backend(&self) -> &Arc<dyn VaultBackend> {
        &self.given
    }

    /// The options.
    pub fn options(&self) -> VaultOptions {
        self.options
    }

    fn item(&self, path: Path, details: &mut Vec<Detail>) -> Option<Item> {
        match self.naming.name(&path) {
            Ok(name) => Some(Item { path, name }),
            Err(e) => {
                details.push(Detail {
                    name: path.to_string(),
                    outcome: Outcome::Skipped(e.to_string()),
                });
                None
            }
        }
    }

    fn plan(&self, query: &Query<'_>, full: &Path, details: &mut Vec<Detail>) -> Plan {
        let mut plan = Plan {
            global: self.item(Path::from_valid(vec![SECRETS_TOML_KEY.into()]), details),
            ..Plan::default()
        };
        let mut seen: HashSet<String> = plan.global.iter().map(|i| i.name.clone()).collect();
        let mut fragments: Vec<Path> = Vec::new();
        if let Some(p) = query.pipeline {
            fragments.push(Path::from_valid(vec![p.into(), SECRETS_TOML_KEY.into()]));
        }
        for known in KNOWN_SECTIONS {
            let mut scopes = vec![None];
            if query.pipeline.is_some() {
                scopes.push(query.pipeline);
            }
            for scope in scopes {
                let mut segs: Vec<String> = Vec::new();
                if let Some(p) = scope {
                    segs.push(p.to_owned());
                }
                segs.extend(query.path.segments().iter().cloned());
                if let Some(idx) = segs.iter().position(|s| s == known) {
                    fragments.push(Path::from_valid(segs[..=idx].to_vec()));
                    if segs.len() - 1 > idx {
                        fragments.push(Path::from_valid(segs[..=idx + 1].to_vec()));
                    }
                }
            }
        }
        for path in fragments {
            if let Some(item) = self.item(path, details)
                && seen.insert(item.name.clone())
            {
                plan.fragments.push(item);
            }
        }
        if self.options.only_toml_fragments {
            // traced when the lookup gets that far (see `lookup`)
        } else if let Some(item) = self.item(full.clone(), details)
            && !seen.contains(&item.name)
        {
            plan.exact = Some(item);
        }
        plan
    }

    /// The name of the exact path as a single value, checked: a path whose
    /// name is longer than the vault allows, or that normalizes to nothing,
    /// is an error before any request ([docs/naming.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/naming/index.html)).
    fn check_exact(&self, full: &Path) -> Result<(), Error> {
        if self.options.only_toml_fragments {
            return Ok(());
        }
        match self.naming.name(full) {
            Err(e @ (NameError::TooLong { .. } | NameError::Empty { .. })) => {
                Err(Error::from(e).with_provider(self.name.clone()))
            }
            _ => Ok(()),
        }
    }

    async fn listing(&self) -> Result<Arc<HashSet<String>>, Error> {
        self.listing
            .get_or_fetch("", || async {
                let names = self
                    .backend
                    .list()
                    .await
                    .map_err(|e| e.with_provider(self.name.clone()))?;
                let naming = &self.naming;
                Ok::<_, Error>(Arc::new(
                    names.iter().map(|n| naming.comparable(n)).collect(),
                ))
            })
            .await
            .map(|(names, _)| names)
    }

    /// Fetches one name through the cache; one request per name even when
    /// many lookups ask at once.
    async fn fetch(&self, name: &str) -> Result<(Cached, Outcome), Error> {
        let listed_as = self.naming.comparable(name);
        if self.options.list_secrets && !self.listing().await?.contains(&listed_as) {
            return Ok((Cached::Missing, Outcome::Skipped("not listed".into())));
        }
        let (cached, was_cached) = self
            .cache
            .get_or_fetch(name, || async {
                match self.backend.fetch(name).await {
                    Ok(Fetched::Found(text)) => {
                        let doc = parse_document(text.expose_secret());
                        Ok(Cached::Found(Arc::new(Secret {
                            text,
                            doc,
                            structured: false,
                        })))
                    }
                    Ok(Fetched::Table(table)) => Ok(Cached::Found(Arc::new(Secret {
                        text: SecretString::from(Value::Table(table.clone()).to_json().to_string()),
                        doc: Some(table),
                        structured: true,
                    }))),
                    Ok(Fetched::NotFound) => Ok(Cached::Missing),
                    Ok(Fetched::Withheld(why)) => Ok(Cached::Withheld(format!(
                        "{}: reading `{name}` gave nothing: {why}",
                        self.name.as_str()
                    ))),
                    Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                        let hint = self.backend.access_hint();
                        let why = e.message();
                        Ok(Cached::Withheld(if why.contains(&hint) {
                            format!("{}: reading `{name}` was denied: {why}", self.name.as_str())
                        } else {
                            format!(
                                "{}: reading `{name}` was denied: {why}; grant {hint}",
                                self.name.as_str()
                            )
                        }))
                    }
                    Err(e) => Err(e.with_provider(self.name.clone())),
                }
            })
            .await?;
        let outcome = match (&cached, was_cached) {
            (Cached::Withheld(w), _) => Outcome::Withheld(w.clone()),
            (c, true) => Outcome::Cached(matches!(c, Cached::Found(_))),
            (Cached::Found(_), false) => Outcome::Found,
            (Cached::Missing, false) => Outcome::NotFound,
        };
        Ok((cached, outcome))
    }

    /// Fetches items concurrently; results and details in plan order.
    async fn fetch_all(
        &self,
        items: &[Item],
        details: &mut Vec<Detail>,
    ) -> Result<Vec<Cached>, Error> {
        let results = futures::future::join_all(items.iter().map(|i| self.fetch(&i.name))).await;
        let mut out = Vec::with_capacity(items.len());
        for (item, result) in items.iter().zip(results) {
            let (cached, outcome) = result?;
            details.push(Detail {
                name: item.name.clone(),
                outcome,
            });
            out.push(cached);
        }
        Ok(out)
    }

    /// What one fetched secret contributes to the document.
    fn contribution(&self, item: &Item, secret: &Secret) -> Result<Table, Error> {
        if item.path.key() == SECRETS_TOML_KEY {
            return secret.doc.clone().ok_or_else(|| {
                Error::new(
                    ErrorKind::Parse,
                    format!("the secret `{}` is not a TOML document", item.name),
                )
                .with_provider(self.name.clone())
            });
        }
        if secret.structured
            && let Some(doc) = &secret.doc
        {
            return Ok(place(&item.path, Value::Table(doc.clone())));
        }
        let first = &item.path.segments()[0];
        match &secret.doc {
            Some(doc) if doc.contains_key(first.as_str()) => Ok(doc.clone()),
            _ => Ok(place(
                &item.path,
                Value::String(secret.text.expose_secret().to_owned()),
            )),
        }
    }

    fn found(&self, value: &Value, name: &str) -> Answer {
        Answer::Found(Found {
            value: value.clone(),
            provenance: Provenance {
                provider: self.name.clone(),
                name: name.to_owned(),
                file: None,
                line: None,
            },
        })
    }

    /// Stages 1 and 2 of `plan`: the answer when `dlt_secrets_toml` or a
    /// fragment holds `full`.
    async fn documents(
        &self,
        plan: &Plan,
        full: &Path,
        details: &mut Vec<Detail>,
    ) -> Result<Option<Answer>, Error> {
        // stage 1: the whole secrets.toml
        if let Some(global) = &plan.global {
            let fetched = self
                .fetch_all(std::slice::from_ref(global), details)
                .await?;
            if let Some(Cached::Found(secret)) = fetched.first() {
                let doc = Value::Table(self.contribution(global, secret)?);
                if let Some(v) = doc.get_path(full.segments()) {
                    return Ok(Some(self.found(v, &global.name)));
                }
            }
        }
        // stage 2: fragments, fetched concurrently, merged in plan order
        let fetched = self.fetch_all(&plan.fragments, details).await?;
        let mut merged = Value::Table(Table::default());
        let mut contributions: Vec<(&Item, Value)> = Vec::new();
        for (item, cached) in plan.fragments.iter().zip(&fetched) {
            if let Cached::Found(secret) = cached {
                let mut upper = Value::Table(self.contribution(item, secret)?);
                contributions.push((item, upper.clone()));
                upper.merge_under(merged);
                merged = upper;
            }
        }
        if let Some(v) = merged.get_path(full.segments()) {
            let name = contributions
                .iter()
                .rev()
                .find(|(_, c)| c.get_path(full.segments()).is_some())
                .map(|(i, _)| i.name.clone())
                .unwrap_or_default();
            return Ok(Some(self.found(v, &name)));
        }
        Ok(None)
    }

    /// Whether this vault fetches single values ahead (see
    /// [`VaultOptions::prefetch_single_values`]).
    fn prefetches(&self) -> bool {
        let o = self.options;
        o.prefetch_single_values && !o.only_toml_fragments && !o.list_secrets
    }

    /// The name of `path` in this vault.
    pub fn name_of(&self, path: &Path) -> Result<String, Error> {
        Ok(self.naming.name(path)?)
    }

    /// Every version of the secret at `path`, oldest first.
    pub async fn versions(&self, path: &Path) -> Result<Vec<Version>, Error> {
        let name = self.name_of(path)?;
        self.backend
            .versions(&name)
            .await
            .map_err(|e| e.with_provider(self.name.clone()))
    }

    /// Version `which` of the secret at `path` (its 1-based number in the
    /// order the versions were made, or the vault's own id), and its text
    /// when it can be read.
    pub async fn version(
        &self,
        path: &Path,
        which: &str,
    ) -> Result<(Version, Option<SecretString>), Error> {
        let name = self.name_of(path)?;
        let versions = self.versions(path).await?;
        let found = which
            .parse::<usize>()
            .ok()
            .and_then(|n| versions.get(n.checked_sub(1)?))
            .or_else(|| versions.iter().find(|v| v.id == which))
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Missing,
                    format!(
                        "`{name}` has no version {which} ({} version(s): numbers 1 to {0}, or the vault's ids)",
                        versions.len()
                    ),
                )
                .with_provider(self.name.clone())
            })?;
        let text = match self
            .backend
            .fetch_version(&name, &found.id)
            .await
            .map_err(|e| e.with_provider(self.name.clone()))?
        {
            Fetched::Found(text) => Some(text),
            Fetched::Table(table) => Some(SecretString::from(
                Value::Table(table).to_json().to_string(),
            )),
            Fetched::NotFound | Fetched::Withheld(_) => None,
        };
        Ok((found, text))
    }

    /// Stores `value` at `path` as a new version that follows version
    /// `base` (`None`: the secret has no version yet), for a versioned sync:
    /// refused, before anything is written, when another version was made
    /// since `base` was read (a backend that can also check it atomically
    /// does). The value is checked against the vault's size limit first.
    pub async fn store_after(
        &self,
        path: &Path,
        value: &SecretString,
        base: Option<&str>,
    ) -> Result<(String, String), Error> {
        let naming = &self.naming;
        let name = naming.name(path)?;
        naming
            .check_value_size(&name, value.expose_secret().len())
            .map_err(Error::from)?;
        let latest = self.versions(path).await?.last().map(|v| v.id.clone());
        if latest.as_deref() != base {
            return Err(Error::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "`{name}` changed while this push was prepared: its latest version is {}, not {}; run the push again to see the changes against it",
                    latest.as_deref().unwrap_or("none"),
                    base.unwrap_or("none")
                ),
            )
            .with_provider(self.name.clone()));
        }
        // one attempt (the retry layer repeats no store): a store that
        // timed out may still have been made
        let version = self
            .backend
            .store_after(&name, value, base)
            .await
            .map_err(|e| e.with_provider(self.name.clone()))?;
        self.cache.forget(&name);
        Ok((name, version))
    }

    /// A dry run: reach the vault and authenticate, then list the names
    /// (with `list_secrets`) or read `dlt_secrets_toml`, within the timeout
    /// and deadline. What was done and seen, never a value; an error says
    /// which step failed.
    pub async fn probe(&self) -> Result<String, Error> {
        let where_ = self.backend.location();
        let tag = |e: Error| e.with_provider(self.name.clone());
        if self.options.list_secrets {
            let names = self.backend.list().await.map_err(tag)?;
            return Ok(format!(
                "reached {where_}, authenticated, listed {} secret(s)",
                names.len()
            ));
        }
        let name = self
            .naming
            .name(&Path::from_valid(vec![SECRETS_TOML_KEY.into()]))?;
        let seen = match self.backend.fetch(&name).await.map_err(tag)? {
            Fetched::Found(_) | Fetched::Table(_) => "found".to_owned(),
            Fetched::NotFound => {
                "not found (fragments and single values may still answer)".to_owned()
            }
            Fetched::Withheld(why) => format!("not shown: {why}"),
        };
        Ok(format!("reached {where_}, authenticated, `{name}` {seen}"))
    }

    /// The paths the vault's documents hold, for commands that hand every
    /// value on (`export`, `exec`): the leaves of `dlt_secrets_toml` (and of
    /// `<pipeline>.dlt_secrets_toml` when a pipeline is given), and, with
    /// `list_secrets`, the leaves of every listed secret whose text is a
    /// document. A single value's path cannot be recovered from its name,
    /// so single values are not listed. Each path is then looked up as any
    /// other, so what it answers is what `get` answers.
    pub async fn document_paths(&self, pipeline: Option<&str>) -> Result<Vec<Path>, Error> {
        let mut names = vec![Path::from_valid(vec![SECRETS_TOML_KEY.into()])];
        if let Some(p) = pipeline {
            names.push(Path::from_valid(vec![
                p.to_owned(),
                SECRETS_TOML_KEY.into(),
            ]));
        }
        let mut wanted: Vec<String> = Vec::new();
        for path in &names {
            if let Ok(name) = self.naming.name(path) {
                wanted.push(name);
            }
        }
        if self.options.list_secrets {
            let listed = self
                .backend
                .list()
                .await
                .map_err(|e| e.with_provider(self.name.clone()))?;
            for name in listed {
                if !wanted.contains(&name) {
                    wanted.push(name);
                }
            }
        }
        let mut out = Vec::new();
        let fetched = futures::future::join_all(wanted.iter().map(|n| self.fetch(n))).await;
        for (name, result) in wanted.iter().zip(fetched) {
            let (cached, _) = result?;
            let Cached::Found(secret) = cached else {
                continue;
            };
            let Some(doc) = &secret.doc else { continue };
            // a structured secret holds its fields: under its own path
            let mut doc = Value::Table(doc.clone());
            if secret.structured
                && let Some(path) = self.naming.path_of(name)
                && path.key() != SECRETS_TOML_KEY
            {
                doc = Value::Table(place(&path, doc));
            }
            doc.for_each_leaf(&mut |segments, _| {
                if let Ok(p) = Path::from_segments(segments.iter().copied()) {
                    out.push(p);
                }
            });
        }
        Ok(out)
    }

    /// Stores `value` under the name of `path` (see [`VaultBackend::store`]).
    pub async fn store(
        &self,
        path: &Path,
        value: &SecretString,
    ) -> Result<(String, String), Error> {
        let naming = &self.naming;
        let name = naming.name(path)?;
        naming
            .check_value_size(&name, value.expose_secret().len())
            .map_err(Error::from)?;
        // one attempt (the retry layer repeats no store): a store that
        // timed out may still have been made, and a second one would add
        // another version
        let version = self
            .backend
            .store(&name, value)
            .await
            .map_err(|e| e.with_provider(self.name.clone()))?;
        // a later lookup must see the new value
        self.cache.forget(&name);
        Ok((name, version))
    }
}

#[async_trait]
impl Provider for VaultProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn may_hold_secrets(&self) -> bool {
        true
    }

    fn naming(&self) -> NamingRule {
        NamingRule::Vault(self.naming.clone())
    }

    async fn lookup(&self, query: &Query<'_>, details: &mut Vec<Detail>) -> Result<Answer, Error> {
        if self.options.only_secrets && !query.secret {
            return Ok(Answer::Skipped(
                "answers secret lookups only (only_secrets)".into(),
            ));
        }
        let full = query.full_path()?;
        self.check_exact(&full)?;
        let plan = self.plan(query, &full, details);
        if let Some(answer) = self.documents(&plan, &full, details).await? {
            return Ok(answer);
        }
        // stage 3: the exact path as a single value
        if self.options.only_toml_fragments
            && let Ok(name) = self.naming.name(&full)
            && !plan
                .fragments
                .iter()
                .chain(&plan.global)
                .any(|i| i.name == name)
        {
            details.push(Detail {
                name,
                outcome: Outcome::Skipped(
                    "single values are not read (only_toml_fragments)".into(),
                ),
            });
        }
        if let Some(exact) = &plan.exact {
            let fetched = self.fetch_all(std::slice::from_ref(exact), details).await?;
            if let Some(Cached::Found(secret)) = fetched.first() {
                let doc = Value::Table(self.contribution(exact, secret)?);
                if let Some(v) = doc.get_path(full.segments()) {
                    return Ok(self.found(v, &exact.name));
                }
            }
        }
        Ok(Answer::NotFound)
    }

    fn prefetches(&self) -> bool {
        VaultProvider::prefetches(self)
    }

    async fn prefetch(&self, queries: &[Query<'_>]) {
        if !VaultProvider::prefetches(self) {
            return;
        }
        // the first query as its lookup runs it: stages 1 and 2 (names the
        // walk asks in any case); when they answer, the walk stops there
        let mut asked = queries
            .iter()
            .filter(|q| q.secret || !self.options.only_secrets)
            .filter_map(|q| {
                let full = q.full_path().ok()?;
                let plan = self.plan(q, &full, &mut Vec::new());
                Some((full, plan))
            });
        let Some((full, first)) = asked.next() else {
            return;
        };
        if !matches!(
            self.documents(&first, &full, &mut Vec::new()).await,
            Ok(None)
        ) {
            return;
        }
        // then, in one round, its single value and each later query (its
        // stages 1 and 2, the names of which are mostly fetched already,
        // then its single value): what the walk asks if nothing before
        // answers
        let later: Vec<(Path, Plan)> = asked.collect();
        let paths = 1 + later.len();
        tracing::debug!(vault = self.name.as_str(), paths, "fetching a walk ahead");
        let first = async {
            if let Some(item) = &first.exact {
                let _ = self.fetch(&item.name).await;
            }
        };
        let rest = futures::future::join_all(later.iter().map(|(full, plan)| async move {
            if matches!(self.documents(plan, full, &mut Vec::new()).await, Ok(None))
                && let Some(item) = &plan.exact
            {
                // a failure is the lookup's to report, when it asks again
                let _ = self.fetch(&item.name).await;
            }
        }));
        futures::join!(first, rest);
    }

    fn locations(&self) -> Vec<Location> {
        vec![Location {
            location: format!("{} ({})", self.backend.location(), self.name.as_str()),
            present: true,
        }]
    }
}
