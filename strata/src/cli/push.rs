//! push, versions and `get --vault-version`: the vault's `dlt_secrets_toml`
//! as a versioned document. A push is a sync: it shows the keys it adds,
//! removes and changes against the latest version (never a value), needs
//! `--yes` to remove keys, refuses to push nothing, pushes the workspace's
//! own secrets files only (never the global directory's personal ones), and
//! stores a new version only if nobody stored one since it looked.

use super::ctx::{CmdResult, Ctx, usage};
use super::output::Out;
use super::output::print_value;
use crate::document::BOOTSTRAP_SECTION;
use indexmap::IndexMap;
use serde_json::json;
use std::process::ExitCode;
use strata_secrets::naming::{normalize_vault_segment, shown};
use strata_secrets::secrecy::{ExposeSecret, SecretString};
use strata_secrets::vault::SECRETS_TOML_KEY;
use strata_secrets::vaults::EnabledVault;
use strata_secrets::workspace::FileKind;
use strata_secrets::workspace::FileRole;
use strata_secrets::{Error, ErrorKind, Path, Strata, Table, TomlProvider, Value};

/// The enabled vault `--vault` names, or the only one enabled.
fn target<'s>(strata: &'s Strata, vault: Option<&str>) -> Result<&'s EnabledVault, Error> {
    let enabled = strata.vaults();
    match vault {
        Some(v) => {
            let Some(known) = strata_secrets::vaults::find(v) else {
                return Err(usage(format!(
                    "unknown vault `{v}`: the vaults are {}",
                    strata_secrets::vaults::known_names()
                )));
            };
            enabled
                .iter()
                .find(|e| std::ptr::eq(e.descriptor, known))
                .ok_or_else(|| {
                    usage(format!(
                        "the vault `{v}` is not enabled: set `[providers] {} = true` and its settings under [providers.{}]",
                        known.switch(),
                        known.section
                    ))
                })
        }
        None => match enabled {
            [one] => Ok(one),
            [] => Err(usage(format!(
                "no vault is enabled: set `[providers] enable_<vault> = true` and its settings (vaults: {})",
                strata_secrets::vaults::known_names()
            ))),
            _ => Err(usage("several vaults are enabled: choose one with --vault")),
        },
    }
}

/// The document's path in the vault: `dlt_secrets_toml`, or the
/// pipeline's own. A pipeline name the vault would change (`my pipe` is
/// `mypipe`, which another pipeline may be) is refused.
fn document_path(pipeline: Option<&str>) -> Result<Path, Error> {
    match pipeline {
        None => Ok(Path::parse(SECRETS_TOML_KEY)?),
        Some(p) => {
            if normalize_vault_segment(p) != p {
                return Err(usage(format!(
                    "the pipeline name {p:?} has characters a vault name drops (it would be {:?}, which another pipeline may also be): use letters, digits, `-` and `_`",
                    normalize_vault_segment(p)
                )));
            }
            Ok(Path::from_segments([p, SECRETS_TOML_KEY])?)
        }
    }
}

/// Every leaf of a document, by dotted path.
fn leaves(doc: &Value) -> IndexMap<String, Value> {
    let mut out = IndexMap::new();
    doc.for_each_leaf(&mut |segments, v| {
        out.insert(strata_secrets::naming::toml_key_of(segments), v.clone());
    });
    out
}

/// A key holding a control character (ESC, CR, LF, ...) is refused: the
/// vault would store it, and every tool that lists it would print it raw.
fn refuse_control_keys(files: &TomlProvider, doc: &Table) -> Result<(), Error> {
    let mut bad: Option<Vec<String>> = None;
    Value::Table(doc.clone()).for_each_leaf(&mut |segments, _| {
        if bad.is_none() && segments.iter().any(|s| s.chars().any(char::is_control)) {
            bad = Some(segments.iter().map(|s| (*s).to_owned()).collect());
        }
    });
    let Some(segments) = bad else {
        return Ok(());
    };
    let key = strata_secrets::naming::toml_key_of(&segments);
    let at = Path::from_segments(segments)
        .ok()
        .and_then(|p| files.defined_at(&p))
        .map(|(f, line)| format!(" ({}:{line})", f.display()))
        .unwrap_or_default();
    Err(usage(format!(
        "the key {key}{at} holds a control character: rename it before pushing"
    )))
}

fn parse_document(text: &SecretString, name: &str) -> Result<Value, Error> {
    if text.expose_secret().trim().is_empty() {
        return Ok(Value::Table(Table::default()));
    }
    Value::from(text.expose_secret())
        .to_table()
        .map(|t| Value::Table(t.into_owned()))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Parse,
                format!("the stored `{name}` is not a TOML document"),
            )
        })
}

pub(crate) async fn push(
    ctx: &Ctx,
    out: &mut Out,
    vault: Option<String>,
    pipeline: Option<String>,
    dry_run: bool,
    yes: bool,
) -> CmdResult {
    let strata = ctx.open().await?;
    strata.workspace().ensure_writable("push secrets")?;
    let target = target(&strata, vault.as_deref())?;
    let path = document_path(pipeline.as_deref())?;
    let (doc, files) = local_document(&strata, pipeline.as_deref())?;
    let provider = &target.provider;
    let name = provider.name_of(&path)?;
    // what the vault holds now
    let versions = provider.versions(&path).await?;
    let base = versions.last().cloned();
    let current = match &base {
        Some(v) => match provider.version(&path, &v.id).await?.1 {
            Some(text) => parse_document(&text, &name)?,
            None => Value::Table(Table::default()),
        },
        None => Value::Table(Table::default()),
    };
    let mut plan = Plan {
        section: target.descriptor.section,
        name: &name,
        base: base.as_ref(),
        diff: Diff::between(&current, &doc),
        stored: None,
        dry_run,
        files: &files,
    };
    if !plan.diff.is_empty() && !dry_run {
        if !plan.diff.removed.is_empty() && !yes {
            plan.report(out, ctx.json);
            return Err(usage(format!(
                "this push removes {} key(s) that version {} of `{name}` holds: check the list above, then run it again with --yes",
                plan.diff.removed.len(),
                base.as_ref().map(|v| v.id.as_str()).unwrap_or("?")
            )));
        }
        let text = toml::to_string(&doc.to_toml())
            .map_err(|e| Error::new(ErrorKind::Other, format!("cannot render TOML: {e}")))?;
        let (_, version) = provider
            .store_after(
                &path,
                &SecretString::from(text),
                base.as_ref().map(|v| v.id.as_str()),
            )
            .await?;
        plan.stored = Some(version);
    }
    plan.report(out, ctx.json);
    Ok(ExitCode::SUCCESS)
}

/// The document a push stores: the workspace's own secrets files (never
/// the global directory's), without the `[providers]` bootstrap settings,
/// under the pipeline's name when one is given; and the files' names.
/// Nothing to push is an error naming the files.
fn local_document(strata: &Strata, pipeline: Option<&str>) -> Result<(Value, Vec<String>), Error> {
    let candidates: Vec<_> = strata
        .workspace()
        .candidates(FileKind::Secrets)
        .into_iter()
        .filter(|c| {
            matches!(
                c.role,
                FileRole::Profile | FileRole::ProfileAlias | FileRole::Base
            )
        })
        .collect();
    let files = TomlProvider::from_candidates(FileKind::Secrets, &candidates)?;
    let mut doc = strata_secrets::Provider::document(&files)
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default();
    doc.shift_remove(BOOTSTRAP_SECTION);
    refuse_control_keys(&files, &doc)?;
    let file_names: Vec<String> = files
        .files()
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    if leaves(&Value::Table(doc.clone())).is_empty() {
        return Err(usage(format!(
            "nothing to push: the profile's secrets files ({}) hold no value besides the [providers] bootstrap settings",
            if file_names.is_empty() {
                "none exists".to_owned()
            } else {
                file_names.join(", ")
            }
        )));
    }
    let doc = match pipeline {
        Some(p) => {
            let mut wrapped = Table::default();
            wrapped.insert(p.to_owned(), Value::Table(doc));
            Value::Table(wrapped)
        }
        None => Value::Table(doc),
    };
    Ok((doc, file_names))
}

/// The keys a push adds, removes and changes (dotted, never a value).
struct Diff {
    added: Vec<String>,
    removed: Vec<String>,
    changed: Vec<String>,
}

impl Diff {
    fn between(current: &Value, doc: &Value) -> Self {
        let (old, new) = (leaves(current), leaves(doc));
        Self {
            added: new
                .keys()
                .filter(|k| !old.contains_key(*k))
                .cloned()
                .collect(),
            removed: old
                .keys()
                .filter(|k| !new.contains_key(*k))
                .cloned()
                .collect(),
            changed: new
                .iter()
                .filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v))
                .map(|(k, _)| k.clone())
                .collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// What a push did or would do, as it reports it.
struct Plan<'a> {
    section: &'a str,
    name: &'a str,
    base: Option<&'a strata_secrets::vault::Version>,
    diff: Diff,
    stored: Option<String>,
    dry_run: bool,
    files: &'a [String],
}

impl Plan<'_> {
    fn report(&self, out: &mut Out, json: bool) {
        let Diff {
            added,
            removed,
            changed,
        } = &self.diff;
        let (section, name) = (self.section, self.name);
        if json {
            out.json(&json!({
                "vault": section,
                "secret": name,
                "files": self.files,
                "base_version": self.base.map(|v| v.id.clone()),
                "added": added,
                "removed": removed,
                "changed": changed,
                "dry_run": self.dry_run,
                "version": self.stored,
            }));
            return;
        }
        out.line(format!(
            "{section} `{name}`: {} -> the files ({})",
            match self.base {
                Some(v) => format!("version {}", v.id),
                None => "no version yet".to_owned(),
            },
            self.files.join(", ")
        ));
        for (mark, keys) in [("+", added), ("-", removed), ("~", changed)] {
            for k in keys {
                out.line(format!("  {mark} {k}"));
            }
        }
        let counts = format!(
            "{} added, {} removed, {} changed",
            added.len(),
            removed.len(),
            changed.len()
        );
        if self.diff.is_empty() {
            out.line("nothing changed: nothing stored");
        } else if self.dry_run {
            out.line(format!("dry run: {counts}; nothing stored"));
        } else if let Some(v) = &self.stored {
            out.line(format!("stored version {v}: {counts}"));
        }
    }
}

pub(crate) async fn versions(
    ctx: &Ctx,
    out: &mut Out,
    vault: Option<String>,
    pipeline: Option<String>,
) -> CmdResult {
    let strata = ctx.open().await?;
    let target = target(&strata, vault.as_deref())?;
    let path = document_path(pipeline.as_deref())?;
    let provider = &target.provider;
    let name = provider.name_of(&path)?;
    let versions = provider.versions(&path).await?;
    let mut rows = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let keys: Vec<String> = match provider.version(&path, &v.id).await?.1 {
            Some(text) => match parse_document(&text, &name) {
                Ok(doc) => leaves(&doc).into_keys().collect(),
                Err(_) => vec!["(not a TOML document)".to_owned()],
            },
            None => Vec::new(),
        };
        rows.push((i + 1, v, keys));
    }
    if ctx.json {
        out.json(&json!({
            "vault": target.descriptor.section,
            "secret": name,
            "versions": rows.iter().map(|(n, v, keys)| json!({
                "number": n,
                "id": v.id,
                "created": v.created,
                "state": v.state,
                "keys": keys,
            })).collect::<Vec<_>>(),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        out.line(format!(
            "{} `{name}` has no version yet (`strata push` stores one)",
            target.descriptor.section
        ));
        return Ok(ExitCode::SUCCESS);
    }
    out.line(format!("{} `{name}`:", target.descriptor.section));
    for (n, v, keys) in &rows {
        let id = if v.id == n.to_string() {
            String::new()
        } else {
            format!(" ({})", v.id)
        };
        out.line(format!(
            "  {n}{}  {}  {}  {} key(s)",
            shown(&id),
            shown(v.created.as_deref().unwrap_or("-")),
            shown(&v.state),
            keys.len()
        ));
        for k in keys {
            out.line(format!("      {k}"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn get_version(
    ctx: &Ctx,
    out: &mut Out,
    at: &str,
    pipeline: Option<String>,
    version: &str,
    vault: Option<String>,
) -> CmdResult {
    let strata = ctx.open().await?;
    let target = target(&strata, vault.as_deref())?;
    let doc_path = document_path(pipeline.as_deref())?;
    let provider = &target.provider;
    let name = provider.name_of(&doc_path)?;
    let (v, text) = provider.version(&doc_path, version).await?;
    let Some(text) = text else {
        return Err(Error::new(
            ErrorKind::Other,
            format!("version {} of `{name}` cannot be read ({})", v.id, v.state),
        ));
    };
    let doc = parse_document(&text, &name)?;
    let mut segments: Vec<String> = pipeline.into_iter().collect();
    segments.extend(Path::parse(at)?.segments().iter().cloned());
    match doc.get_path(&segments) {
        Some(value) => {
            print_value(out, value, ctx.json);
            Ok(ExitCode::SUCCESS)
        }
        None => Err(Error::new(
            ErrorKind::Missing,
            format!("version {} of `{name}` holds nothing at `{at}`", v.id),
        )),
    }
}
