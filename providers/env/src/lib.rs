//! The environment-variable provider of strata ([docs/lookups.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/lookups/index.html)).
//!
//! A path is looked up as the variable named by
//! [`strata_secrets_core::naming::env_var_name`]
//! (`sources.pipedrive.api_key` -> `SOURCES__PIPEDRIVE__API_KEY`). For a
//! secret lookup it first reads the file `/run/secrets/<name>` (Docker and
//! Kubernetes secrets), `<name>` being the variable name lower-cased with `_`
//! turned into `-`; when that path is a directory, the file of the same name
//! inside it. File contents are returned as read, without trimming.
//!
//! The variables come from an injected [`Environment`] snapshot and the
//! secrets directory is configurable, so tests never touch the process.
#![warn(missing_docs)]

use async_trait::async_trait;
use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use strata_secrets_core::naming::{
    NamingRule, env_var_name, env_var_name_ascii_into, run_secrets_file_name,
    run_secrets_file_name_of_var,
};
use strata_secrets_core::{
    Answer, Detail, Environment, Error, ErrorKind, Found, Location, Path, Peek, Provenance,
    Provider, Query, Value, ValueRef,
};

/// The default directory of Docker and Kubernetes secrets.
pub const DEFAULT_SECRETS_DIR: &str = "/run/secrets";

/// Answers from environment variables and, for secrets, `/run/secrets` files.
///
/// The secrets directory is listed once, at the first secret lookup; a
/// lookup whose file is not in that listing reads nothing from disk. A file
/// that is listed is read at each lookup, so a rotated secret is seen.
#[derive(Clone)]
pub struct EnvProvider {
    env: Environment,
    secrets_dir: Option<PathBuf>,
    listing: Arc<OnceLock<Result<HashSet<String>, String>>>,
}

thread_local! {
    /// Where variable names are built, reused by every lookup on a thread.
    static NAME: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(128));
}

/// Calls `f` with the variable name of `segments`, built in a reused buffer
/// (no allocation); `None` when the path is not ASCII (then the full lookup
/// applies [`env_var_name`]).
fn with_ascii_env_name<T>(segments: &[&str], f: impl FnOnce(&str) -> T) -> Option<T> {
    NAME.with(|cell| {
        let mut name = cell.try_borrow_mut().ok()?;
        env_var_name_ascii_into(segments, &mut name).then(|| f(&name))
    })
}

impl EnvProvider {
    /// Reads `env`, and `/run/secrets` for secret lookups.
    pub fn new(env: Environment) -> Self {
        Self {
            env,
            secrets_dir: Some(PathBuf::from(DEFAULT_SECRETS_DIR)),
            listing: Arc::default(),
        }
    }

    /// Reads secret files from `dir` instead of `/run/secrets`.
    pub fn with_secrets_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.secrets_dir = Some(dir.into());
        self.listing = Arc::default();
        self
    }

    /// Reads no secret files at all.
    pub fn without_secrets_dir(mut self) -> Self {
        self.secrets_dir = None;
        self.listing = Arc::default();
        self
    }

    /// The names in the secrets directory (empty when there is none). A
    /// directory that is there but cannot be listed is an error for every
    /// secret lookup: a secret file it may hold is never silently replaced
    /// by a variable's value.
    fn listing(&self) -> Result<&HashSet<String>, Error> {
        let listing = self.listing.get_or_init(|| {
            let Some(dir) = &self.secrets_dir else {
                return Ok(HashSet::new());
            };
            match std::fs::read_dir(dir) {
                Ok(entries) => Ok(entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
                Err(e) => Err(format!(
                    "cannot list the secrets directory {}: {e}: make it readable, or point STRATA_SECRETS_DIR at another one",
                    dir.display()
                )),
            }
        });
        listing.as_ref().map_err(|message| {
            let mut e = Error::new(ErrorKind::Io, message.clone()).with_provider(self.name());
            if let Some(dir) = &self.secrets_dir {
                e = e.with_file(dir);
            }
            e
        })
    }

    /// The secret file of `path`, when the secrets directory lists it:
    /// read as a regular file of UTF-8 text (see [`strata_secrets_core::fs`]); a
    /// file that cannot be read is an error naming it, never a silent
    /// fall-through to the variable.
    fn secret_file(&self, path: &Path) -> Result<Option<(PathBuf, String)>, Error> {
        let Some(dir) = &self.secrets_dir else {
            return Ok(None);
        };
        let name = run_secrets_file_name(path);
        if !self.listing()?.contains(&name) {
            return Ok(None);
        }
        let mut file = dir.join(&name);
        if file.is_dir() {
            file = file.join(&name);
        }
        Ok(strata_secrets_core::fs::read_text(&file)?.map(|text| (file, text)))
    }
}

impl fmt::Debug for EnvProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvProvider")
            .field("vars", &self.env.len())
            .field("secrets_dir", &self.secrets_dir)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Provider for EnvProvider {
    fn name(&self) -> &str {
        "environment"
    }

    fn may_hold_secrets(&self) -> bool {
        true
    }

    fn naming(&self) -> NamingRule {
        NamingRule::Env
    }

    fn peek(&self, segments: &[&str], secret: bool) -> Peek<'_> {
        let listing = match (secret, self.listing()) {
            (false, _) => None,
            // the full lookup's error says what is wrong
            (true, Err(_)) => return Peek::Unknown,
            (true, Ok(l)) => Some(l).filter(|l| !l.is_empty()),
        };
        let seen = with_ascii_env_name(segments, |var| {
            if listing.is_some_and(|l| l.contains(&run_secrets_file_name_of_var(var))) {
                // a secret file answers: the full lookup reads it
                return Peek::Unknown;
            }
            if self.env.is_not_utf8(var) {
                // the full lookup's error names the variable
                return Peek::Unknown;
            }
            match self.env.get(var) {
                Some(text) => Peek::Found(ValueRef::Text(text)),
                None => Peek::NotFound,
            }
        });
        seen.unwrap_or(Peek::Unknown)
    }

    async fn lookup(&self, query: &Query<'_>, _: &mut Vec<Detail>) -> Result<Answer, Error> {
        let path = query.full_path()?;
        let var = env_var_name(&path);
        if query.secret
            && let Some((file, text)) = self.secret_file(&path)?
        {
            return Ok(Answer::Found(Found {
                value: Value::String(text),
                provenance: Provenance {
                    provider: self.name().to_owned(),
                    name: var,
                    file: Some(file),
                    line: None,
                },
            }));
        }
        Ok(match self.env.get_checked(&var)? {
            Some(text) => Answer::Found(Found {
                value: Value::String(text.to_owned()),
                provenance: Provenance {
                    provider: self.name().to_owned(),
                    name: var,
                    file: None,
                    line: None,
                },
            }),
            None => Answer::NotFound,
        })
    }

    fn locations(&self) -> Vec<Location> {
        self.secrets_dir
            .iter()
            .map(|d| Location {
                location: d.display().to_string(),
                present: d.is_dir(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_secrets_core::{ErrorKind, ProviderExt};

    fn p(s: &str) -> Path {
        Path::parse(s).unwrap()
    }

    async fn text(provider: &EnvProvider, path: &str, secret: bool) -> Option<String> {
        provider
            .get(&p(path), secret)
            .await
            .unwrap()
            .found()
            .map(|f| f.value.as_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn reads_variables_by_env_name() {
        let env = Environment::from_pairs([("SOURCES__PIPEDRIVE__API_KEY", "k"), ("EMPTY", "")]);
        let provider = EnvProvider::new(env).without_secrets_dir();
        assert_eq!(
            text(&provider, "sources.pipedrive.api_key", false)
                .await
                .as_deref(),
            Some("k")
        );
        // an empty variable is a value, as in dlt
        assert_eq!(text(&provider, "empty", false).await.as_deref(), Some(""));
        assert_eq!(text(&provider, "sources.other", false).await, None);
    }

    #[tokio::test]
    async fn secret_files_win_for_secret_lookups_only_and_are_not_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("sources--pipedrive--api-key"),
            "from-file\n",
        )
        .unwrap();
        // Kubernetes layout: a directory holding a file of the same name
        std::fs::create_dir(dir.path().join("db--password")).unwrap();
        std::fs::write(dir.path().join("db--password/db--password"), " pw ").unwrap();
        let env = Environment::from_pairs([("SOURCES__PIPEDRIVE__API_KEY", "from-env")]);
        let provider = EnvProvider::new(env).with_secrets_dir(dir.path());
        assert_eq!(
            text(&provider, "sources.pipedrive.api_key", true)
                .await
                .as_deref(),
            Some("from-file\n")
        );
        assert_eq!(
            text(&provider, "sources.pipedrive.api_key", false)
                .await
                .as_deref(),
            Some("from-env")
        );
        assert_eq!(
            text(&provider, "db.password", true).await.as_deref(),
            Some(" pw ")
        );
        let found = provider
            .get(&p("db.password"), true)
            .await
            .unwrap()
            .found()
            .unwrap();
        assert!(
            found
                .provenance
                .file
                .unwrap()
                .ends_with("db--password/db--password")
        );
    }

    #[tokio::test]
    async fn a_secret_file_that_is_not_utf8_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad"), [0xff, 0xfe, b's']).unwrap();
        let provider = EnvProvider::new(Environment::default()).with_secrets_dir(dir.path());
        let err = provider.get(&p("bad"), true).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Parse);
        assert!(err.to_string().contains("bad"));
    }

    #[test]
    fn the_answers_at_once_leave_listed_secret_files_to_the_full_lookup() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("db--password"), "v1").unwrap();
        let env = Environment::from_pairs([("DB__PASSWORD", "from-env"), ("DB__USER", "u")]);
        let provider = EnvProvider::new(env).with_secrets_dir(dir.path());
        // a listed file: a secret lookup cannot be answered at once
        assert!(provider.answer_now(&["db", "password"], true).is_none());
        assert!(matches!(
            provider.peek(&["db", "password"], true),
            Peek::Unknown
        ));
        // the full lookup reads it, and reads it again after a rotation
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let read = || {
            rt.block_on(provider.get(&p("db.password"), true))
                .unwrap()
                .found()
                .map(|f| f.value.as_str().unwrap().to_owned())
        };
        assert_eq!(read().as_deref(), Some("v1"));
        std::fs::write(dir.path().join("db--password"), "v2").unwrap();
        assert_eq!(read().as_deref(), Some("v2"));
        // a plain lookup, and a secret without a file, answer at once from env
        assert!(matches!(
            provider.peek(&["db", "password"], false),
            Peek::Found(ValueRef::Text("from-env"))
        ));
        assert!(matches!(
            provider.peek(&["db", "user"], true),
            Peek::Found(ValueRef::Text("u"))
        ));
        assert!(matches!(
            provider.answer_now(&["db", "absent"], true),
            Some(Answer::NotFound)
        ));
        // beyond ASCII the full lookup applies Unicode upper-casing
        assert!(provider.answer_now(&["schlüssel"], false).is_none());
    }

    #[tokio::test]
    async fn a_value_that_is_not_utf8_is_an_error_naming_the_variable() {
        use std::os::unix::ffi::OsStringExt;
        let env = Environment::from_os_pairs([
            ("OTHER".into(), "x".into()),
            (
                "SOURCES__P__API_KEY".into(),
                std::ffi::OsString::from_vec(vec![0x78, 0xff]),
            ),
        ]);
        let provider = EnvProvider::new(env).without_secrets_dir();
        assert!(matches!(
            provider.peek(&["sources", "p", "api_key"], true),
            Peek::Unknown
        ));
        let err = provider
            .get(&p("sources.p.api_key"), true)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("SOURCES__P__API_KEY"), "{err}");
        assert_eq!(text(&provider, "other", false).await.as_deref(), Some("x"));
    }

    #[tokio::test]
    async fn a_secret_file_that_is_not_a_regular_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/dev/zero", dir.path().join("db--password")).unwrap();
            let env = Environment::from_pairs([("DB__PASSWORD", "from-env")]);
            let provider = EnvProvider::new(env).with_secrets_dir(dir.path());
            let err = provider.get(&p("db.password"), true).await.unwrap_err();
            assert!(err.to_string().contains("db--password"), "{err}");
        }
    }
}
