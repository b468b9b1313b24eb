//! The resolved document, for `export`, `exec` and `get` of a table: every
//! key the profile's TOML files and the enabled vaults' documents hold, each
//! answered exactly as `get` answers it (environment variables and
//! `/run/secrets` files override, a vault's document answers), so every
//! command hands on the same values.

use indexmap::IndexMap;
use strata_secrets::Strata;
use strata_secrets::naming::{env_var_name, toml_key, toml_key_of};
use strata_secrets::secrecy::{ExposeSecret, SecretBox};
pub use strata_secrets::vaults::{BOOTSTRAP_PREFIX, BOOTSTRAP_SECTION};
use strata_secrets::{Error, ErrorKind, Lookup, Path, Provider, Resolved, Table, Value};

/// The text that replaces a masked value.
pub const MASK: &str = "***";

/// One resolved key: its value as `get` answers it, without the lookup's
/// trace (a document of 400,000 keys holds 400,000 of these).
#[derive(Debug)]
pub struct Entry {
    /// The path, as the document spells it.
    pub path: Path,
    /// Looked up as a secret (a key of a secrets file or a vault document)
    /// or as configuration (a key of a `config.toml` only).
    pub secret: bool,
    /// Where the key is written: a file and its line, or a vault.
    pub origin: String,
    /// What the chain gives for it.
    value: SecretBox<Value>,
    /// Whether the answering provider may hold secrets (reports mask it).
    from_secret_provider: bool,
}

impl Entry {
    /// The value. Every read of it goes through here.
    pub fn expose(&self) -> &Value {
        self.value.expose_secret()
    }

    /// Whether the answering provider may hold secrets.
    pub fn is_secret_source(&self) -> bool {
        self.from_secret_provider
    }
}

/// The resolved document and the warnings its lookups met.
#[derive(Debug, Default)]
pub struct Document {
    /// Every key, in document order (secrets files, vault documents, then
    /// configuration files).
    pub entries: Vec<Entry>,
    /// Warnings of the lookups (a denied vault secret), each once.
    pub warnings: Vec<String>,
}

/// What goes in the document.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Also the `[providers]` bootstrap settings (vault credentials).
    pub with_bootstrap: bool,
    /// Also the pipeline's own vault document (`<pipeline>.dlt_secrets_toml`).
    pub pipeline: Option<String>,
}

/// Every leaf path of `doc`, with its segments.
fn leaves(doc: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    doc.for_each_leaf(&mut |segments, _| {
        out.push(segments.iter().map(|s| (*s).to_owned()).collect());
    });
    out
}

/// Resolves every key of the profile's files and enabled vaults' documents.
pub async fn resolve_document(strata: &Strata, scope: &Scope) -> Result<Document, Error> {
    // the keys, each once, in order: (path, secret, origin)
    let mut keys: IndexMap<Path, (bool, String)> = IndexMap::new();
    let mut add = |segments: Vec<String>, secret: bool, origin: String| -> Result<(), Error> {
        if !scope.with_bootstrap && segments.first().map(String::as_str) == Some(BOOTSTRAP_SECTION)
        {
            return Ok(());
        }
        let path = Path::from_segments(segments)?;
        let entry = keys.entry(path).or_insert((secret, origin));
        entry.0 |= secret;
        Ok(())
    };
    let files = [strata.secrets_files(), strata.config_files()];
    for (i, file) in files.iter().enumerate() {
        let Some(doc) = file.document() else {
            continue;
        };
        for segments in leaves(doc) {
            let origin = origin_in(file, &segments)?;
            add(segments, i == 0, origin)?;
        }
        if i == 0 {
            // the vaults' documents come after the secrets files
            for vault in strata.vaults() {
                let paths = vault
                    .provider
                    .document_paths(scope.pipeline.as_deref())
                    .await?;
                let origin = vault.provider.given_backend().location();
                for path in paths {
                    add(path.segments().to_vec(), true, origin.clone())?;
                }
                if let Some(leases) = &vault.leases {
                    for path in leases.paths().await? {
                        add(path.segments().to_vec(), true, format!("{origin}, leased"))?;
                    }
                }
            }
        }
    }
    let mut doc = Document::default();
    for (path, (secret, origin)) in keys {
        let lookup = Lookup {
            secret,
            pipeline: None,
        };
        let resolved = strata.resolver().get(&path, &lookup).await?;
        for w in resolved.warnings() {
            if !doc.warnings.iter().any(|seen| seen == w) {
                doc.warnings.push(w.to_owned());
            }
        }
        let from_secret_provider = resolved.from_secret_provider();
        doc.entries.push(Entry {
            path,
            secret,
            origin,
            value: resolved.into_value(),
            from_secret_provider,
        });
    }
    Ok(doc)
}

/// Where the key at `segments` of `file` is written (file:line), or an
/// error naming the key when it cannot be a path.
fn origin_in(file: &strata_secrets::TomlProvider, segments: &[String]) -> Result<String, Error> {
    let path = Path::from_segments(segments.to_vec()).map_err(|e| {
        let files: Vec<String> = file
            .files()
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        Error::new(
            ErrorKind::ConfigInvalid,
            format!(
                "the key {} in {} cannot be handed on: {e}; rename it",
                toml_key_of(segments),
                files.join(", ")
            ),
        )
    })?;
    Ok(match file.defined_at(&path) {
        Some((f, line)) => format!("{}:{line}", f.display()),
        None => file.name().to_owned(),
    })
}

/// A trace as JSON: each question's provider, path, name and outcome
/// (never a value).
pub fn trace_json(trace: &strata_secrets::Trace) -> serde_json::Value {
    serde_json::Value::Array(
        trace
            .entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "provider": e.provider,
                    "path": e.path.to_string(),
                    "name": e.name,
                    "outcome": e.outcome.to_string(),
                })
            })
            .collect(),
    )
}

/// What `explain --json` prints for a section walk of `path` that found
/// `answer` (or missed it, with its report): where it was answered and
/// every (provider, name) asked, values masked. The Python package's
/// `explain` returns the same.
pub fn explained_json(
    path: &str,
    lookup: &Lookup,
    profile: Option<&str>,
    answer: Result<&Resolved, &strata_secrets::MissingValue>,
) -> serde_json::Value {
    let kind = if lookup.secret {
        "secret"
    } else {
        "configuration"
    };
    match answer {
        Ok(resolved) => {
            let p = resolved.provenance();
            serde_json::json!({
                "path": path,
                "lookup": kind,
                "pipeline": lookup.pipeline,
                "profile": profile,
                "found": true,
                "answered_at": resolved.path().to_string(),
                "provider": p.provider,
                "name": p.name,
                "file": p.file.as_ref().map(|f| f.display().to_string()),
                "line": p.line,
                "kind": resolved.expose().kind(),
                "trace": trace_json(resolved.trace()),
                "warnings": resolved.trace().warnings,
            })
        }
        Err(report) => serde_json::json!({
            "path": path,
            "lookup": kind,
            "pipeline": lookup.pipeline,
            "profile": profile,
            "found": false,
            "trace": trace_json(&report.trace),
            "warnings": report.trace.warnings,
            "notes": report.notes,
            "files": report.locations.iter().map(|l| serde_json::json!({"location": l.location, "present": l.present})).collect::<Vec<_>>(),
        }),
    }
}

/// The value of a table `resolved` at `path`, each of its leaves answered
/// as `get` answers that leaf's own path (an environment variable or a
/// `/run/secrets` file of one field overrides the table's), and the
/// warnings met.
pub async fn resolve_table(
    strata: &Strata,
    path: &Path,
    lookup: &Lookup,
    resolved: &Resolved,
) -> Result<(Value, Vec<String>), Error> {
    let mut value = resolved.expose().clone();
    let mut warnings = Vec::new();
    for segments in leaves(resolved.expose()) {
        let mut full = path.segments().to_vec();
        full.extend(segments.iter().cloned());
        let Ok(leaf) = Path::from_segments(full) else {
            continue;
        };
        let answer = strata.resolver().get(&leaf, lookup).await?;
        for w in &answer.trace().warnings {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
        set_at(&mut value, &segments, answer.expose().clone());
    }
    Ok((value, warnings))
}

fn set_at(doc: &mut Value, segments: &[String], leaf: Value) {
    let Some((key, sections)) = segments.split_last() else {
        return;
    };
    let mut node = doc;
    for s in sections {
        let Some(next) = node.as_table_mut().and_then(|t| t.get_mut(s)) else {
            return;
        };
        node = next;
    }
    if let Some(t) = node.as_table_mut() {
        t.insert(key.clone(), leaf);
    }
}

/// The entries as one table; values from providers that may hold secrets
/// are replaced by [`MASK`] unless `reveal`.
pub fn to_table(doc: &Document, reveal: bool) -> Value {
    let mut root = Value::Table(Table::default());
    for e in &doc.entries {
        let v = if reveal || !e.is_secret_source() {
            e.expose().clone()
        } else {
            Value::from(MASK)
        };
        let segments: Vec<String> = e.path.segments().to_vec();
        insert_at(&mut root, &segments, v);
    }
    root
}

fn insert_at(doc: &mut Value, segments: &[String], leaf: Value) {
    let Some((key, sections)) = segments.split_last() else {
        return;
    };
    let mut node = doc;
    for s in sections {
        let Some(t) = node.as_table_mut() else {
            return;
        };
        node = t
            .entry(s.clone())
            .or_insert_with(|| Value::Table(Table::default()));
    }
    if let Some(t) = node.as_table_mut() {
        t.insert(key.clone(), leaf);
    }
}

/// Environment variables no key may set, a second wall behind the rule that
/// only keys under a section become variables (their names hold `__`, and
/// none of these does): each changes how the command itself runs (its
/// programs, libraries, interpreters, shell start-up, network routes).
pub const PROTECTED_VARIABLES: &[&str] = &[
    "PATH",
    "HOME",
    "SHELL",
    "USER",
    "LOGNAME",
    "IFS",
    "ENV",
    "BASH_ENV",
    "PS4",
    "PROMPT_COMMAND",
    "CDPATH",
    "TMPDIR",
    "BROWSER",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "GCONV_PATH",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "LOCPATH",
    "NLSPATH",
    "MALLOC_CHECK_",
    "RESOLV_HOST_CONF",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONWARNINGS",
    "PYTHONINSPECT",
    "PYTHONBREAKPOINT",
    "PYTHONUSERBASE",
    "NODE_OPTIONS",
    "NODE_PATH",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "CLASSPATH",
    "PERL5LIB",
    "PERL5OPT",
    "PERLLIB",
    "RUBYOPT",
    "RUBYLIB",
    "GEM_PATH",
    "GEM_HOME",
    "LUA_PATH",
    "LUA_CPATH",
    "TCLLIBPATH",
    "R_PROFILE",
    "R_PROFILE_USER",
    "R_ENVIRON",
    "R_ENVIRON_USER",
    "PHPRC",
    "PHP_INI_SCAN_DIR",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_EXEC_PATH",
    "GIT_PROXY_COMMAND",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_COUNT",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CONFIG_DIRS",
    "XDG_DATA_DIRS",
];

/// Prefixes of variables no key may set (the dynamic loaders', and the
/// shell's exported functions).
pub const PROTECTED_PREFIXES: &[&str] = &["LD_", "DYLD_", "BASH_FUNC_"];

/// Whether `name` is a variable name strata hands on: `[A-Z][A-Z0-9_]*`
/// (portable, and not one of the `_`-led names shells and tools reserve).
pub fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'A'..=b'Z'))
        && bytes.all(|b| matches!(b, b'A'..=b'Z' | b'0'..=b'9' | b'_'))
}

/// Whether `name` is protected ([`PROTECTED_VARIABLES`],
/// [`PROTECTED_PREFIXES`]).
pub fn is_protected(name: &str) -> bool {
    PROTECTED_VARIABLES.contains(&name) || PROTECTED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The most one variable may hold on this system, `NAME=value` and its
/// terminating NUL included (Linux: `MAX_ARG_STRLEN`, 32 pages).
pub const MAX_VARIABLE_LEN: usize = 32 * 4096;

/// The most a command's arguments and environment may hold together, with
/// their terminating NULs (Linux: a quarter of the default 8 MiB stack).
pub const MAX_COMMAND_LEN: usize = 2 * 1024 * 1024;

/// An error when the child's arguments and environment (`NAME=value`
/// pairs) are more than [`MAX_COMMAND_LEN`]: the system would refuse to
/// start it ("Argument list too long") without saying why.
pub fn check_command_size<'a>(
    args: impl IntoIterator<Item = &'a std::ffi::OsStr>,
    env: impl IntoIterator<Item = (&'a std::ffi::OsStr, &'a std::ffi::OsStr)>,
) -> Result<(), Error> {
    let args: usize = args.into_iter().map(|a| a.len() + 1).sum();
    let (mut count, mut vars) = (0usize, 0usize);
    for (k, v) in env {
        count += 1;
        vars += k.len() + v.len() + 2;
    }
    if args + vars <= MAX_COMMAND_LEN {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::ConfigInvalid,
        format!(
            "the command's environment would be {} KiB ({count} variables) and its arguments {} KiB, more than the {} KiB the system lets a command start with: hand the values on as files (`strata exec --files`) or choose sections (`--only`)",
            vars / 1024,
            args / 1024,
            MAX_COMMAND_LEN / 1024
        ),
    ))
}

fn refused(path: &Path, origin: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::ConfigInvalid,
        format!("the key `{}` ({origin}) {why}", toml_key(path)),
    )
    .with_path(path)
}

/// What the variables are for: which limits apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableUse {
    /// Lines for a shell (`export --format env`).
    Shell,
    /// A dotenv file that python-dotenv reads back (`export --format dotenv`).
    Dotenv,
    /// A child's environment (`exec`): one variable at most
    /// [`MAX_VARIABLE_LEN`] bytes.
    Child,
    /// A child's environment where long values go to files (`exec
    /// --files`): no length limit here, the hand-off decides.
    ChildWithFiles,
}

/// Which variables to make, and how.
#[derive(Debug, Clone, Copy)]
pub struct VariableOptions<'a> {
    /// Values under `pipeline.` are also given under their unscoped names.
    pub pipeline: Option<&'a str>,
    /// Secrets as they are (else masked).
    pub reveal: bool,
    /// What the variables are for.
    pub used: VariableUse,
    /// Only keys under these sections (after the pipeline's are unscoped);
    /// empty: every key.
    pub only: &'a [Path],
}

impl Default for VariableOptions<'_> {
    fn default() -> Self {
        VariableOptions {
            pipeline: None,
            reveal: false,
            used: VariableUse::Shell,
            only: &[],
        }
    }
}

/// One variable: its key, the entry that holds its value, and the text.
#[derive(Debug)]
pub struct Variable<'d> {
    /// The path the variable is named for (unscoped for a pipeline's).
    pub path: Path,
    /// The document entry it comes from.
    pub entry: &'d Entry,
    /// The value as text (masked unless revealed).
    pub text: String,
}

/// The variables of a document, and the keys left out.
#[derive(Debug, Default)]
pub struct Variables<'d> {
    /// By name, in document order.
    pub vars: IndexMap<String, Variable<'d>>,
    /// A warning for each key that makes no variable (a top-level key).
    pub skipped: Vec<String>,
}

impl Variables<'_> {
    /// Each name with its text.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.text.as_str()))
    }
}

/// Whether `path` is `section` or under it.
fn under(path: &Path, section: &Path) -> bool {
    path.segments().starts_with(section.segments())
}

/// The one rule for which keys become environment variables and under which
/// names ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html), "Files never choose how a program runs"), for
/// `export --format env|dotenv` and `exec`:
/// - only a key under at least one section makes a variable (its name holds
///   `__`); a top-level key is left out with a warning naming it and its
///   file:line, and stays readable through `get`;
/// - the name is `[A-Z][A-Z0-9_]*` and not protected ([`is_protected`]),
///   else an error naming the key;
/// - two keys that make the same name (case, `a__b` against `a.b`) are an
///   error naming both and where each is written;
/// - a value holding a NUL, one too long for a variable (`Child`), or one
///   python-dotenv cannot read back (`Dotenv`) is an error naming the key.
///
/// Each value is what `get` answers for its key. With a pipeline, values
/// under `pipeline.` are also given under their unscoped names, overriding
/// (as dlt's pipeline-scoped lookups do). Secrets are masked unless
/// revealed. With `only`, keys outside those sections make no variable
/// (and are not checked).
pub fn variables<'d>(
    doc: &'d Document,
    opts: &VariableOptions<'_>,
) -> Result<Variables<'d>, Error> {
    let mut out = Variables::default();
    let mut from: IndexMap<String, (&Path, &str)> = IndexMap::with_capacity(doc.entries.len());
    let mut overridden: IndexMap<String, (&Path, &str)> = IndexMap::new();
    for (path, e, scoped) in candidates(doc, opts) {
        if path.len() < 2 {
            if !scoped {
                out.skipped.push(format!(
                    "the top-level key `{}` ({}) makes no environment variable: only keys under a section do (read it with `strata get`)",
                    toml_key(&path),
                    e.origin
                ));
            }
            continue;
        }
        let name = env_var_name(&path);
        check_name(&path, e, &name)?;
        let seen = if scoped { &mut overridden } else { &mut from };
        if let Some((other, other_origin)) = seen.get(&name) {
            return Err(Error::new(
                ErrorKind::ConfigInvalid,
                format!(
                    "the keys `{}` ({other_origin}) and `{}` ({}) both make the variable {name}: rename one of them",
                    toml_key(other),
                    toml_key(&e.path),
                    e.origin
                ),
            )
            .with_path(&e.path));
        }
        seen.insert(name.clone(), (&e.path, &e.origin));
        let text = if opts.reveal || !e.is_secret_source() {
            e.expose().to_text()
        } else {
            MASK.to_owned()
        };
        check_value(e, &name, &text, opts.used)?;
        out.vars.insert(
            name,
            Variable {
                path,
                entry: e,
                text,
            },
        );
    }
    Ok(out)
}

/// The keys that may make variables, in document order: (the path the
/// variable is named for, the entry it holds, whether it is a pipeline's
/// scoped value given under its unscoped name), within `only`.
fn candidates<'d>(doc: &'d Document, opts: &VariableOptions<'_>) -> Vec<(Path, &'d Entry, bool)> {
    let mut candidates: Vec<(Path, &Entry, bool)> = Vec::with_capacity(doc.entries.len());
    for e in &doc.entries {
        candidates.push((e.path.clone(), e, false));
    }
    if let Some(p) = opts.pipeline {
        for e in doc
            .entries
            .iter()
            .filter(|e| e.path.len() > 1 && e.path.segments()[0] == p)
        {
            if let Ok(unscoped) = Path::from_segments(e.path.segments()[1..].to_vec()) {
                candidates.push((unscoped, e, true));
            }
        }
    }
    if !opts.only.is_empty() {
        candidates.retain(|(path, _, _)| opts.only.iter().any(|s| under(path, s)));
    }
    candidates
}

/// The variable `name` that `path` makes is portable and not protected.
fn check_name(path: &Path, e: &Entry, name: &str) -> Result<(), Error> {
    if !is_env_name(name) {
        return Err(refused(
            path,
            &e.origin,
            &format!(
                "has no portable environment variable name (it would be `{}`; names are [A-Z][A-Z0-9_]*): rename the key, or read it with `strata get`",
                name.escape_debug()
            ),
        ));
    }
    if is_protected(name) {
        return Err(refused(
            path,
            &e.origin,
            &format!("would set {name}, which changes how the command runs: rename the key"),
        ));
    }
    Ok(())
}

/// The value `text` of variable `name` can be carried as `used` requires.
fn check_value(e: &Entry, name: &str, text: &str, used: VariableUse) -> Result<(), Error> {
    if text.contains('\0') {
        return Err(refused(
            &e.path,
            &e.origin,
            "holds a NUL character, which no environment variable can carry",
        ));
    }
    match used {
        VariableUse::Child if name.len() + text.len() + 2 > MAX_VARIABLE_LEN => Err(refused(
            &e.path,
            &e.origin,
            &format!(
                "is {} bytes, more than one environment variable can hold ({MAX_VARIABLE_LEN} bytes with its name): hand it on as a file (`strata exec --files`)",
                text.len()
            ),
        )),
        VariableUse::Dotenv if dotenv_expands(text) => Err(refused(
            &e.path,
            &e.origin,
            "holds `${...}`, which python-dotenv expands when it reads a dotenv file (it has no escape for it): use `--format env` or `--format json`",
        )),
        _ => Ok(()),
    }
}

/// Whether python-dotenv would expand part of `text` as a variable: it
/// matches `${NAME}` and `${NAME:-default}` (NAME without `}` and `:`) in
/// every value, quoted or not.
pub fn dotenv_expands(text: &str) -> bool {
    let b = text.as_bytes();
    text.match_indices("${").any(|(at, _)| {
        let mut j = at + 2;
        while j < b.len() && b[j] != b'}' && b[j] != b':' {
            j += 1;
        }
        match b.get(j) {
            Some(b'}') => true,
            Some(b':') => b.get(j + 1) == Some(&b'-') && b[j + 2..].contains(&b'}'),
            _ => false,
        }
    })
}

/// Quotes a value for a dotenv file so that python-dotenv reads it back
/// byte for byte: double quotes, with `\`, `"`, CR and LF escaped (a CR in
/// the file would be read as a line break).
pub fn dotenv_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The one filter between strata's own environment and `exec`'s child
/// ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)): unless the user asks (`--with-bootstrap`), the child
/// gets neither the vault bootstrap (`PROVIDERS__*`) nor the ambient
/// credentials the enabled vaults may have used (`VAULT_TOKEN`, ...).
#[derive(Debug, Clone)]
pub struct ChildEnvironment {
    withheld: Vec<&'static str>,
    with_bootstrap: bool,
}

impl ChildEnvironment {
    /// The filter for the vaults `strata` enabled.
    pub fn new(strata: &Strata, with_bootstrap: bool) -> Self {
        let mut withheld: Vec<&'static str> = Vec::new();
        for v in strata.vaults() {
            withheld.extend(v.descriptor.ambient_variables.iter().copied());
        }
        Self {
            withheld,
            with_bootstrap,
        }
    }

    /// Whether the child gets strata's own variable `name`.
    pub fn keeps(&self, name: &std::ffi::OsStr) -> bool {
        if self.with_bootstrap {
            return true;
        }
        let Some(name) = name.to_str() else {
            return true;
        };
        let bootstrap = name.len() >= BOOTSTRAP_PREFIX.len()
            && name.as_bytes()[..BOOTSTRAP_PREFIX.len()]
                .eq_ignore_ascii_case(BOOTSTRAP_PREFIX.as_bytes());
        !bootstrap && !self.withheld.contains(&name)
    }
}

/// Quotes a value for a POSIX shell: single quotes, with `'` written as
/// `'\''`. Everything else, newlines included, is literal inside.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        for ok in ["A", "A_B2", "SOURCES__P__API_KEY"] {
            assert!(is_env_name(ok), "{ok}");
        }
        for bad in [
            "",
            "_",
            "_A",
            "1A",
            "a",
            "A-B",
            "A=B",
            "X$(id)",
            "SCHLÜSSEL",
            "A B",
            "A\0",
        ] {
            assert!(!is_env_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn shell_quoting_survives_every_byte() {
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$(id)`x`\n\\"), "'$(id)`x`\n\\'");
    }
}
