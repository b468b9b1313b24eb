//! The settings every vault reads from `[providers.<section>]` ([docs/vaults.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/vaults/index.html)), as
//! a typed configuration that each backend's own settings flatten into
//! theirs: a backend's keys are its settings struct's fields, nothing else.

use super::VaultOptions;
use crate::error::{Error, ErrorKind};
use crate::memory_provider::MemoryProvider;
use crate::path::Path;
use crate::resolver::Resolver;
use crate::typed::{self, Configuration};
use crate::value::{Table, Value};
use std::sync::Arc;
use std::time::Duration;

/// The longest timeout a setting may ask for, in seconds (one day).
pub const MAX_SECONDS: f64 = 86_400.0;

/// The options shared by every vault, with dlt's defaults.
#[derive(Configuration, Debug, Clone, PartialEq)]
#[config(crate = "crate")]
pub struct CommonSettings {
    /// Answer only secret lookups.
    #[config(default = true)]
    pub only_secrets: bool,
    /// Fetch only `dlt_secrets_toml` and the section fragments.
    #[config(default = true)]
    pub only_toml_fragments: bool,
    /// List every name once, then fetch only listed names.
    #[config(default = false)]
    pub list_secrets: bool,
    /// Fetch a typed configuration's single values in one round (see
    /// [`VaultOptions::prefetch_single_values`]).
    #[config(default = false)]
    pub prefetch_single_values: bool,
    /// Seconds one network step (a request, a token exchange) may take.
    pub timeout: Option<f64>,
    /// Seconds one call may take with its retries.
    pub deadline: Option<f64>,
    /// Seconds a fetched value (or miss) may be served from the cache;
    /// unset: the provider's life, as dlt.
    pub max_age: Option<f64>,
    /// Requests a minute this vault may be sent; more is an error.
    pub max_requests: Option<u32>,
}

/// The common settings are a backend's whole settings when it has no
/// others (the memory vault).
impl AsRef<CommonSettings> for CommonSettings {
    fn as_ref(&self) -> &CommonSettings {
        self
    }
}

impl CommonSettings {
    /// The engine's options, with `section`'s settings checked (a timeout
    /// of `default_timeout` when none is set).
    pub fn options(&self, section: &str, default_timeout: Duration) -> Result<VaultOptions, Error> {
        let timeout = self.timeout(section, default_timeout)?;
        let deadline = match self.deadline {
            None => super::DEFAULT_DEADLINE.max(timeout),
            Some(secs) => seconds(section, "deadline", secs)?,
        };
        let max_age = match self.max_age {
            None => None,
            Some(secs) => Some(seconds(section, "max_age", secs)?),
        };
        let max_requests = match self.max_requests {
            None => None,
            Some(0) => {
                return Err(Error::new(
                    ErrorKind::ConfigInvalid,
                    format!("`providers.{section}.max_requests` must be at least 1 (a minute's requests)"),
                )
                .with_path(format!("providers.{section}.max_requests"))
                .with_provider(section.to_owned()));
            }
            Some(n) => Some(n),
        };
        Ok(VaultOptions {
            only_secrets: self.only_secrets,
            only_toml_fragments: self.only_toml_fragments,
            list_secrets: self.list_secrets,
            prefetch_single_values: self.prefetch_single_values,
            timeout,
            deadline,
            max_age,
            max_requests,
        })
    }

    /// The timeout of one network step: the setting, else `default`. A value
    /// that is not a positive number of seconds up to [`MAX_SECONDS`] is an
    /// error naming `providers.<section>.timeout`.
    pub fn timeout(&self, section: &str, default: Duration) -> Result<Duration, Error> {
        match self.timeout {
            None => Ok(default),
            Some(secs) => seconds(section, "timeout", secs),
        }
    }
}

/// `secs` as a duration when it is a positive, finite number of seconds up
/// to [`MAX_SECONDS`]; otherwise an error naming `providers.<section>.<key>`.
pub fn seconds(section: &str, key: &str, secs: f64) -> Result<Duration, Error> {
    if secs.is_finite() && secs > 0.0 && secs <= MAX_SECONDS {
        return Ok(Duration::from_secs_f64(secs));
    }
    Err(Error::new(
        ErrorKind::ConfigInvalid,
        format!(
            "`providers.{section}.{key}` must be a number of seconds above 0 and at most {MAX_SECONDS}"
        ),
    )
    .with_path(format!("providers.{section}.{key}"))
    .with_provider(section.to_owned()))
}

/// Resolves settings `T` from one table, as if it were `[providers.<section>]`
/// and nothing else were set: for tests, and for programs that hold the
/// table themselves.
pub async fn settings_from_table<T: Configuration>(
    section: &str,
    table: &Table,
) -> Result<T, Error> {
    let mut doc = MemoryProvider::new("settings", true);
    let path = Path::from_segments(["providers", section])?;
    doc.insert(&path, Value::Table(table.clone()));
    let resolver = Resolver::new().with_provider(Arc::new(doc));
    typed::resolve_embedded::<T>(&resolver, &["providers"], section, None).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn table(text: &str) -> Table {
        Value::from(text)
            .to_table()
            .map(|c| c.into_owned())
            .unwrap_or_default()
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn defaults_are_dlts_and_text_converts() {
        let s: CommonSettings = block(settings_from_table("acme", &Table::default())).unwrap();
        assert_eq!(
            s.options("acme", super::super::DEFAULT_TIMEOUT).unwrap(),
            VaultOptions::default()
        );
        assert_eq!(
            s.timeout("acme", Duration::from_secs(7)).unwrap(),
            Duration::from_secs(7)
        );
        let s: CommonSettings = block(settings_from_table(
            "acme",
            &table("list_secrets = \"true\"\ntimeout = 2.5\nonly_secrets = false\ndeadline = 4"),
        ))
        .unwrap();
        let o = s.options("acme", Duration::from_secs(7)).unwrap();
        assert!(o.list_secrets && !o.only_secrets);
        assert_eq!(o.deadline, Duration::from_secs(4));
        assert_eq!(
            s.timeout("acme", Duration::from_secs(7)).unwrap(),
            Duration::from_millis(2500)
        );
    }

    #[test]
    fn bad_values_name_the_key_never_the_value() {
        let e = block(settings_from_table::<CommonSettings>(
            "acme",
            &table("list_secrets = \"maybe-canary\""),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("list_secrets"), "{e}");
        assert!(!e.to_string().contains("canary"), "{e}");
        for (bad, key) in [
            ("timeout = -1", "timeout"),
            ("timeout = 1e20", "timeout"),
            ("timeout = nan", "timeout"),
            ("timeout = 0", "timeout"),
            ("deadline = inf", "deadline"),
        ] {
            let s: CommonSettings = block(settings_from_table("acme", &table(bad))).unwrap();
            let e = s.options("acme", Duration::from_secs(1)).unwrap_err();
            assert!(
                e.to_string().contains(&format!("providers.acme.{key}")),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn the_keys_are_the_fields() {
        let keys: Vec<String> = typed::keys::<CommonSettings>()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            [
                "only_secrets",
                "only_toml_fragments",
                "list_secrets",
                "prefetch_single_values",
                "timeout",
                "deadline",
                "max_age",
                "max_requests"
            ]
        );
    }
}
