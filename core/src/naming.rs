//! The naming conventions of [docs/naming.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/naming/index.html): the machinery that turns a [`Path`]
//! into the name a provider stores it under.
//!
//! The TOML and environment rules are fixed and live here. A vault's rule is
//! data its backend crate declares ([`VaultNaming`]: prefix, separator,
//! character map, allowed characters, limits); the machinery that applies it
//! (segment normalization, joining, checks) lives here, tested once, so core
//! names no vault.

use crate::path::Path;
use std::borrow::Cow;

/// Why a path has no name in a vault, or a value does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Every segment normalized to nothing.
    #[error(
        "the path `{path}` has no name in {vault}: every segment is empty once punctuation and whitespace are dropped"
    )]
    Empty {
        /// The vault (its display name).
        vault: &'static str,
        /// The path, dotted.
        path: String,
    },
    /// The name is longer than the vault allows.
    #[error("the path `{path}` gives a {len}-character name in {vault}, over its limit of {max}")]
    TooLong {
        /// The vault (its display name).
        vault: &'static str,
        /// The path, dotted.
        path: String,
        /// Length of the name.
        len: usize,
        /// The vault's limit.
        max: usize,
    },
    /// The normalized name still holds a character the vault rejects.
    #[error(
        "the path `{path}` gives a name with the character {character:?}, which {vault} does not allow"
    )]
    InvalidCharacter {
        /// The vault (its display name).
        vault: &'static str,
        /// The path, dotted.
        path: String,
        /// The first rejected character.
        character: char,
    },
    /// A value larger than the vault stores.
    #[error("the value for `{path}` is {len} bytes, over {vault}'s limit of {max} bytes")]
    ValueTooLarge {
        /// The vault (its display name).
        vault: &'static str,
        /// The path (or secret name) the value is for.
        path: String,
        /// Size of the value in bytes.
        len: usize,
        /// The vault's limit.
        max: usize,
    },
}

/// The name of `path` in a TOML document: its segments as a dotted key,
/// each quoted the TOML way when it is not a bare key.
pub fn toml_key(path: &Path) -> String {
    toml_key_of(path.segments())
}

/// [`toml_key`] of a path given as segments (at least one, none empty).
pub fn toml_key_of<S: AsRef<str>>(segments: &[S]) -> String {
    let mut out = String::with_capacity(segments.iter().map(|s| s.as_ref().len() + 1).sum());
    for (i, s) in segments.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        let s = s.as_ref();
        if is_bare_key(s) {
            out.push_str(s);
        } else {
            out.push_str(&toml_key_segment(s));
        }
    }
    out
}

fn is_bare_key(segment: &str) -> bool {
    // no early exit, so the loop vectorizes
    segment.bytes().fold(true, |ok, b| {
        ok & (b.is_ascii_alphanumeric() | (b == b'_') | (b == b'-'))
    })
}

fn toml_key_segment(segment: &str) -> String {
    let bare = segment
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        segment.to_owned()
    } else {
        let mut quoted = String::with_capacity(segment.len() + 2);
        quoted.push('"');
        for c in segment.chars() {
            match c {
                '"' => quoted.push_str("\\\""),
                '\\' => quoted.push_str("\\\\"),
                c if c.is_control() => push_escaped_control(&mut quoted, c),
                c => quoted.push(c),
            }
        }
        quoted.push('"');
        quoted
    }
}

/// Writes a control character as a TOML basic string escapes it.
fn push_escaped_control(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        c => out.push_str(&format!("\\u{:04X}", u32::from(c))),
    }
}

/// `text` for a person's terminal: control characters (ESC, CR, LF, ...)
/// escaped as TOML escapes them, so a name or key from a file or a vault
/// server cannot move the cursor, rewrite a line or forge output.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            push_escaped_control(&mut out, c);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The environment variable for `path`: segments joined with `__`, upper-cased.
///
/// `destination.bigquery.credentials.project_id` ->
/// `DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID`.
pub fn env_var_name(path: &Path) -> String {
    path.segments().join("__").to_uppercase()
}

/// The file name under the secrets directory (`/run/secrets`) for `path`:
/// the environment variable name lower-cased, with `_` turned into `-`.
pub fn run_secrets_file_name(path: &Path) -> String {
    run_secrets_file_name_of_var(&env_var_name(path))
}

/// [`env_var_name`] of a path given as segments, written into `out`
/// (cleared first) without allocating once `out` has room. Only for ASCII
/// paths: returns false, leaving `out` unspecified, when a segment is not
/// ASCII (Unicode upper-casing applies then: use [`env_var_name`]).
pub fn env_var_name_ascii_into(segments: &[&str], out: &mut String) -> bool {
    out.clear();
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            out.push_str("__");
        }
        out.push_str(segment);
    }
    if !out.is_ascii() {
        return false;
    }
    out.make_ascii_uppercase();
    true
}

/// [`run_secrets_file_name`] of an environment variable name: lower-cased,
/// `_` turned into `-`.
pub fn run_secrets_file_name_of_var(var: &str) -> String {
    var.to_lowercase().replace('_', "-")
}

/// Normalizes one vault name segment: drops ASCII punctuation except `-`
/// and `_`, drops all whitespace, keeps case.
pub fn normalize_vault_segment(segment: &str) -> String {
    segment
        .chars()
        .filter(|c| !(c.is_whitespace() || (c.is_ascii_punctuation() && *c != '-' && *c != '_')))
        .collect()
}

/// A vault's naming rule, declared as data by its backend crate ([docs/naming.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/naming/index.html)):
/// each path segment is normalized ([`normalize_vault_segment`]), segments
/// that end up empty are skipped, `replace` maps characters inside a
/// segment, and the segments are joined with `separator` after `prefix`.
/// The name must then hold only ASCII letters, digits and `extra_chars`, and
/// be at most `max_name_len` characters long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultNaming {
    /// The vault's name in messages (`Acme Vault`).
    pub vault: &'static str,
    /// Prepended verbatim to every name (a configurable setting of some
    /// vaults; see [`VaultNaming::with_prefix`]).
    pub prefix: Cow<'static, str>,
    /// Put between segments.
    pub separator: &'static str,
    /// Characters replaced inside a normalized segment, `(from, to)`.
    pub replace: &'static [(char, char)],
    /// Characters allowed besides ASCII letters and digits.
    pub extra_chars: &'static str,
    /// Longest name, in characters.
    pub max_name_len: usize,
    /// Largest value, in bytes.
    pub max_value_len: usize,
    /// Whether the vault compares names without case (listed names are
    /// then compared lower-cased).
    pub case_insensitive: bool,
}

impl VaultNaming {
    /// The same rule with another prefix.
    pub fn with_prefix(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn allows(&self, c: char) -> bool {
        c.is_ascii_alphanumeric() || self.extra_chars.contains(c)
    }

    /// The name of `path` under this rule.
    pub fn name(&self, path: &Path) -> Result<String, NameError> {
        let mut name = String::with_capacity(
            self.prefix.len() + path.segments().iter().map(|s| s.len() + 2).sum::<usize>(),
        );
        name.push_str(&self.prefix);
        let mut any = false;
        for segment in path.segments() {
            let mut normalized = normalize_vault_segment(segment);
            if normalized.is_empty() {
                continue;
            }
            for (from, to) in self.replace {
                if normalized.contains(*from) {
                    normalized = normalized.replace(*from, &to.to_string());
                }
            }
            if any {
                name.push_str(self.separator);
            }
            name.push_str(&normalized);
            any = true;
        }
        if !any {
            return Err(NameError::Empty {
                vault: self.vault,
                path: path.to_string(),
            });
        }
        if let Some(character) = name.chars().find(|c| !self.allows(*c)) {
            return Err(NameError::InvalidCharacter {
                vault: self.vault,
                path: path.to_string(),
                character,
            });
        }
        let len = name.chars().count();
        if len > self.max_name_len {
            return Err(NameError::TooLong {
                vault: self.vault,
                path: path.to_string(),
                len,
                max: self.max_name_len,
            });
        }
        Ok(name)
    }

    /// The path a listed `name` stands for: the prefix taken off, the rest
    /// split at the separator (`None`: not under the prefix). A segment that
    /// holds the separator cannot be told apart; this is the path a
    /// structured secret ([`crate::vault::Fetched::Table`]) is placed at.
    pub fn path_of(&self, name: &str) -> Option<Path> {
        let rest = name.strip_prefix(self.prefix.as_ref())?;
        Path::from_segments(rest.split(self.separator).filter(|s| !s.is_empty())).ok()
    }

    /// Errors when a value of `len` bytes for `what` (a path or a secret
    /// name) is over the vault's limit.
    pub fn check_value_size(&self, what: &str, len: usize) -> Result<(), NameError> {
        if len > self.max_value_len {
            return Err(NameError::ValueTooLarge {
                vault: self.vault,
                path: what.to_owned(),
                len,
                max: self.max_value_len,
            });
        }
        Ok(())
    }

    /// `name` as the vault compares it (lower-cased when it ignores case).
    pub fn comparable(&self, name: &str) -> String {
        if self.case_insensitive {
            name.to_lowercase()
        } else {
            name.to_owned()
        }
    }
}

/// A naming rule: what a provider declares so that its names can be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamingRule {
    /// Nested tables of a TOML (or in-memory) document: [`toml_key`].
    Toml,
    /// Environment variables: [`env_var_name`].
    Env,
    /// A vault's rule, as its backend declares it.
    Vault(VaultNaming),
}

impl NamingRule {
    /// The name of `path` under this rule.
    pub fn name(&self, path: &Path) -> Result<String, NameError> {
        match self {
            NamingRule::Toml => Ok(toml_key(path)),
            NamingRule::Env => Ok(env_var_name(path)),
            NamingRule::Vault(v) => v.name(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Path {
        Path::parse(s).unwrap()
    }

    const BQ: &str = "destination.bigquery.credentials.project_id";

    /// Three made-up rules of the shapes vault backends declare.
    const DASHES: VaultNaming = VaultNaming {
        vault: "Dash Vault",
        prefix: Cow::Borrowed(""),
        separator: "-",
        replace: &[],
        extra_chars: "-_",
        max_name_len: 255,
        max_value_len: 64 * 1024,
        case_insensitive: false,
    };
    const SLASHES: VaultNaming = VaultNaming {
        vault: "Slash Vault",
        prefix: Cow::Borrowed("dlt/"),
        separator: "/",
        replace: &[],
        extra_chars: "/_+=.@-",
        max_name_len: 512,
        max_value_len: 64 * 1024,
        case_insensitive: false,
    };
    const DOUBLE: VaultNaming = VaultNaming {
        vault: "Double Vault",
        prefix: Cow::Borrowed(""),
        separator: "--",
        replace: &[('_', '-')],
        extra_chars: "-",
        max_name_len: 127,
        max_value_len: 25_000,
        case_insensitive: true,
    };

    #[test]
    fn toml_and_env_rows() {
        assert_eq!(toml_key(&p(BQ)), BQ);
        assert_eq!(
            env_var_name(&p(BQ)),
            "DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID"
        );
    }

    #[test]
    fn vault_rules_apply_prefix_separator_and_character_map() {
        assert_eq!(
            DASHES.name(&p(BQ)).unwrap(),
            "destination-bigquery-credentials-project_id"
        );
        assert_eq!(
            SLASHES.name(&p(BQ)).unwrap(),
            "dlt/destination/bigquery/credentials/project_id"
        );
        assert_eq!(
            DOUBLE.name(&p(BQ)).unwrap(),
            "destination--bigquery--credentials--project-id"
        );
    }

    #[test]
    fn spec_normalization_examples() {
        assert_eq!(
            DASHES
                .name(&p("sources.pipedrive.pipedrive_api_key"))
                .unwrap(),
            "sources-pipedrive-pipedrive_api_key"
        );
        assert_eq!(
            DASHES.name(&p("destination.bigquery")).unwrap(),
            "destination-bigquery"
        );
        assert_eq!(
            DASHES.name(&p("my_pipeline.dlt_secrets_toml")).unwrap(),
            "my_pipeline-dlt_secrets_toml"
        );
        assert_eq!(
            DASHES.name(&p("sources.my source!.key")).unwrap(),
            "sources-mysource-key"
        );
        assert_eq!(normalize_vault_segment("a b\tc!@#-_"), "abc-_");
        assert_eq!(normalize_vault_segment("CamelCase"), "CamelCase");
    }

    #[test]
    fn segments_that_normalize_to_nothing_are_skipped() {
        assert_eq!(DASHES.name(&p("sources.!!!.key")).unwrap(), "sources-key");
        assert_eq!(
            SLASHES.name(&p("sources. .key")).unwrap(),
            "dlt/sources/key"
        );
        assert_eq!(DOUBLE.name(&p("a.?.b_c")).unwrap(), "a--b-c");
    }

    #[test]
    fn a_path_that_normalizes_to_nothing_is_an_error() {
        for rule in [&DASHES, &SLASHES, &DOUBLE] {
            let err = rule.name(&p("!!.??")).unwrap_err();
            assert!(matches!(err, NameError::Empty { .. }), "{err}");
            assert!(err.to_string().contains("!!.??"));
            assert!(err.to_string().contains(rule.vault));
        }
    }

    #[test]
    fn names_over_the_limit_are_errors_never_truncated() {
        let long = |n: usize| p(&"a".repeat(n));
        assert_eq!(DASHES.name(&long(255)).unwrap().len(), 255);
        assert!(matches!(
            DASHES.name(&long(256)),
            Err(NameError::TooLong {
                len: 256,
                max: 255,
                ..
            })
        ));
        // the prefix counts
        assert_eq!(SLASHES.name(&long(508)).unwrap().len(), 512);
        assert!(matches!(
            SLASHES.name(&long(509)),
            Err(NameError::TooLong {
                len: 513,
                max: 512,
                ..
            })
        ));
    }

    #[test]
    fn characters_a_vault_rejects_are_errors() {
        assert!(matches!(
            DASHES.name(&p("sources.schlüssel")),
            Err(NameError::InvalidCharacter {
                character: 'ü', ..
            })
        ));
        assert!(matches!(
            DOUBLE.name(&p("ключ")),
            Err(NameError::InvalidCharacter { .. })
        ));
        // env and TOML names take any character
        assert_eq!(env_var_name(&p("sources.schlüssel")), "SOURCES__SCHLÜSSEL");
        assert_eq!(toml_key(&p("sources.schlüssel")), "sources.\"schlüssel\"");
    }

    #[test]
    fn case_insensitive_rules_compare_lower_cased() {
        let a = DOUBLE.name(&p("sources.api_key")).unwrap();
        let b = DOUBLE.name(&p("sources.api-key")).unwrap();
        let c = DOUBLE.name(&p("SOURCES.API_KEY")).unwrap();
        assert_eq!(a, b);
        assert_eq!(DOUBLE.comparable(&a), DOUBLE.comparable(&c));
        assert_ne!(DASHES.comparable("A"), DASHES.comparable("a"));
    }

    #[test]
    fn the_prefix_is_verbatim_and_checked() {
        assert_eq!(
            SLASHES.clone().with_prefix("").name(&p("a.b")).unwrap(),
            "a/b"
        );
        assert_eq!(
            SLASHES
                .clone()
                .with_prefix("team/x-")
                .name(&p("a.b"))
                .unwrap(),
            "team/x-a/b"
        );
        assert!(matches!(
            SLASHES.clone().with_prefix("bad prefix ").name(&p("a.b")),
            Err(NameError::InvalidCharacter { character: ' ', .. })
        ));
    }

    #[test]
    fn the_ascii_env_name_agrees_with_the_rule() {
        let mut out = String::new();
        for text in [
            "key",
            "sources.pipedrive.api_key",
            "a.B_c-d.E",
            "my_pipeline.sources.x.y",
        ] {
            let path = p(text);
            let segments: Vec<&str> = path.segments().iter().map(String::as_str).collect();
            assert!(env_var_name_ascii_into(&segments, &mut out), "{text}");
            assert_eq!(out, env_var_name(&path), "{text}");
            assert_eq!(
                run_secrets_file_name_of_var(&out),
                run_secrets_file_name(&path)
            );
        }
        // beyond ASCII the rule upper-cases by Unicode: the caller uses it
        assert!(!env_var_name_ascii_into(
            &["sources", "schlüssel"],
            &mut out
        ));
    }

    #[test]
    fn run_secrets_and_toml_names() {
        assert_eq!(
            run_secrets_file_name(&p("sources.pipedrive.api_key")),
            "sources--pipedrive--api-key"
        );
        assert_eq!(
            toml_key(&p("sources.my source!.key")),
            "sources.\"my source!\".key"
        );
        assert_eq!(toml_key(&p("a.b\"c")), "a.\"b\\\"c\"");
        assert_eq!(
            env_var_name(&p("my_pipe.sources.x.k")),
            "MY_PIPE__SOURCES__X__K"
        );
    }

    #[test]
    fn value_size_limits() {
        assert!(DASHES.check_value_size("k", 64 * 1024).is_ok());
        assert!(DASHES.check_value_size("k", 64 * 1024 + 1).is_err());
        assert!(DOUBLE.check_value_size("k", 25_000).is_ok());
        let err = DOUBLE.check_value_size("k", 25_001).unwrap_err();
        assert!(err.to_string().contains("25000"));
    }

    #[test]
    fn naming_rule_dispatch() {
        let path = p(BQ);
        assert_eq!(NamingRule::Env.name(&path).unwrap(), env_var_name(&path));
        assert_eq!(
            NamingRule::Vault(SLASHES.clone().with_prefix("x/"))
                .name(&path)
                .unwrap(),
            "x/destination/bigquery/credentials/project_id"
        );
    }
}
