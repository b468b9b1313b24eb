//! Reading a vault's bootstrap section (`[providers.<vault>]`): the shared
//! options and typed fields, with errors that name the full key, never a
//! value. Every backend's `config.rs` builds on this.

use super::VaultOptions;
use crate::error::{Error, ErrorKind};
use crate::value::{Table, Value};
use std::time::Duration;

/// A view of one settings table, `providers.<section>[.<sub>]`.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    provider: &'a str,
    prefix: &'a str,
    table: &'a Table,
}

impl<'a> Settings<'a> {
    /// The table of `providers.<provider>`; `prefix` is the sub-table's key
    /// path inside it (`""` or `"credentials."`), used in messages.
    pub fn new(provider: &'a str, prefix: &'a str, table: &'a Table) -> Self {
        Self {
            provider,
            prefix,
            table,
        }
    }

    /// The full key of `key`, as a user writes it.
    pub fn key(&self, key: &str) -> String {
        format!("providers.{}.{}{key}", self.provider, self.prefix)
    }

    /// A configuration error for this provider.
    pub fn invalid(&self, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::ConfigInvalid, message).with_provider(self.provider.to_owned())
    }

    /// A boolean, `default` when absent.
    pub fn flag(&self, key: &str, default: bool) -> Result<bool, Error> {
        match self.table.get(key) {
            None => Ok(default),
            Some(v) => v.deserialize::<bool>().map_err(|e| {
                self.invalid(format!("`{}` must be true or false: {e}", self.key(key)))
            }),
        }
    }

    /// Text; absent or empty is `None`.
    pub fn text(&self, key: &str) -> Result<Option<String>, Error> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(v) => v
                .deserialize::<String>()
                .map(Some)
                .map_err(|e| self.invalid(format!("`{}` must be text: {e}", self.key(key)))),
        }
    }

    /// Text that must be present.
    pub fn required(&self, key: &str, why: &str) -> Result<String, Error> {
        self.text(key)?
            .ok_or_else(|| self.invalid(format!("`{}` is missing ({why})", self.key(key))))
    }

    /// A positive number of seconds.
    pub fn seconds(&self, key: &str) -> Result<Option<Duration>, Error> {
        let Some(v) = self.table.get(key) else {
            return Ok(None);
        };
        let secs = v
            .deserialize::<f64>()
            .map_err(|e| self.invalid(format!("`{}` must be seconds: {e}", self.key(key))))?;
        if !(secs > 0.0 && secs.is_finite()) {
            return Err(self.invalid(format!(
                "`{}` must be a positive number of seconds",
                self.key(key)
            )));
        }
        Ok(Some(Duration::from_secs_f64(secs)))
    }

    /// `only_secrets`, `only_toml_fragments`, `list_secrets` (dlt's
    /// defaults) and `prefetch_single_values` (off).
    pub fn vault_options(&self) -> Result<VaultOptions, Error> {
        let d = VaultOptions::default();
        Ok(VaultOptions {
            only_secrets: self.flag("only_secrets", d.only_secrets)?,
            only_toml_fragments: self.flag("only_toml_fragments", d.only_toml_fragments)?,
            list_secrets: self.flag("list_secrets", d.list_secrets)?,
            prefetch_single_values: self
                .flag("prefetch_single_values", d.prefetch_single_values)?,
        })
    }

    /// The `credentials` sub-table (a table, or text holding a JSON object
    /// or TOML document); `None` when absent.
    pub fn credentials(&self) -> Result<Option<Table>, Error> {
        match self.table.get("credentials") {
            None => Ok(None),
            Some(v) => v.to_table().map(|t| Some(t.into_owned())).ok_or_else(|| {
                self.invalid(format!(
                    "`{}` must be a table (or a JSON object in one string)",
                    self.key("credentials")
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        Value::from(text)
            .to_table()
            .map(|c| c.into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn typed_fields_and_messages() {
        let t = table(
            "list_secrets = \"true\"\ntimeout = 2.5\nname = \"n\"\nempty = \"\"\nbad = \"maybe\"\n[credentials]\nx = 1\n",
        );
        let s = Settings::new("my_vault", "", &t);
        assert!(s.vault_options().unwrap().list_secrets);
        assert!(!s.vault_options().unwrap().prefetch_single_values);
        assert!(s.vault_options().unwrap().only_secrets);
        assert_eq!(
            s.seconds("timeout").unwrap(),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(s.text("name").unwrap().as_deref(), Some("n"));
        assert_eq!(s.text("empty").unwrap(), None);
        let e = s.flag("bad", false).unwrap_err();
        assert!(e.to_string().contains("providers.my_vault.bad"), "{e}");
        assert!(!e.to_string().contains("maybe"), "{e}");
        let e = s.required("missing", "needed").unwrap_err();
        assert!(e.to_string().contains("providers.my_vault.missing"), "{e}");
        assert!(s.credentials().unwrap().unwrap().contains_key("x"));
        let on = table("prefetch_single_values = true");
        assert!(
            Settings::new("v", "", &on)
                .vault_options()
                .unwrap()
                .prefetch_single_values
        );
        let c = table("credentials = '{\"a\": \"b\"}'");
        assert!(
            Settings::new("v", "", &c)
                .credentials()
                .unwrap()
                .unwrap()
                .contains_key("a")
        );
        assert!(
            Settings::new("v", "", &table("timeout = -1"))
                .seconds("timeout")
                .is_err()
        );
    }
}
