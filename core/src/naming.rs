//! The naming conventions of SPEC §1: one function per provider kind.
//!
//! Every provider turns a [`Path`] into the name it stores the value under.
//! All of those rules live here, next to their tests, so that the providers,
//! the CLI's `names` command and the conformance suite share one definition.

use crate::path::Path;
use std::fmt;

/// A remote vault with its own naming rule and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vault {
    /// Google Secret Manager.
    Google,
    /// AWS Secrets Manager.
    Aws,
    /// Azure Key Vault.
    Azure,
}

impl Vault {
    /// All vaults, in default chain order (google, aws, azure).
    pub const ALL: [Vault; 3] = [Vault::Google, Vault::Aws, Vault::Azure];

    /// Longest secret name the vault accepts, in characters.
    pub fn max_name_len(self) -> usize {
        match self {
            Vault::Google => 255,
            Vault::Aws => 512,
            Vault::Azure => 127,
        }
    }

    /// Largest value the vault stores, in bytes.
    pub fn max_value_len(self) -> usize {
        match self {
            Vault::Google => 64 * 1024,
            Vault::Aws => 64 * 1024,
            Vault::Azure => 25 * 1000,
        }
    }

    /// Human name, as used in messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Vault::Google => "Google Secret Manager",
            Vault::Aws => "AWS Secrets Manager",
            Vault::Azure => "Azure Key Vault",
        }
    }

    fn allows(self, c: char) -> bool {
        match self {
            Vault::Google => c.is_ascii_alphanumeric() || c == '-' || c == '_',
            Vault::Aws => c.is_ascii_alphanumeric() || "/_+=.@-".contains(c),
            Vault::Azure => c.is_ascii_alphanumeric() || c == '-',
        }
    }
}

impl fmt::Display for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// Why a path has no name in a vault, or a value does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Every segment normalized to nothing.
    #[error(
        "the path `{path}` has no name in {vault}: every segment is empty once punctuation and whitespace are dropped"
    )]
    Empty {
        /// The vault.
        vault: Vault,
        /// The path, dotted.
        path: String,
    },
    /// The name is longer than the vault allows.
    #[error("the path `{path}` gives a {len}-character name in {vault}, over its limit of {max}")]
    TooLong {
        /// The vault.
        vault: Vault,
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
        /// The vault.
        vault: Vault,
        /// The path, dotted.
        path: String,
        /// The first rejected character.
        character: char,
    },
    /// A value larger than the vault stores.
    #[error("the value for `{path}` is {len} bytes, over {vault}'s limit of {max} bytes")]
    ValueTooLarge {
        /// The vault.
        vault: Vault,
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
                c => quoted.push(c),
            }
        }
        quoted.push('"');
        quoted
    }
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

fn normalized_segments(path: &Path) -> Vec<String> {
    path.segments()
        .iter()
        .map(|s| normalize_vault_segment(s))
        .filter(|s| !s.is_empty())
        .collect()
}

fn checked(vault: Vault, path: &Path, name: String, body_empty: bool) -> Result<String, NameError> {
    if body_empty {
        return Err(NameError::Empty {
            vault,
            path: path.to_string(),
        });
    }
    if let Some(character) = name.chars().find(|c| !vault.allows(*c)) {
        return Err(NameError::InvalidCharacter {
            vault,
            path: path.to_string(),
            character,
        });
    }
    let len = name.chars().count();
    if len > vault.max_name_len() {
        return Err(NameError::TooLong {
            vault,
            path: path.to_string(),
            len,
            max: vault.max_name_len(),
        });
    }
    Ok(name)
}

/// The Google Secret Manager name: normalized segments joined with `-`.
///
/// `sources.pipedrive.pipedrive_api_key` -> `sources-pipedrive-pipedrive_api_key`.
pub fn google_secret_name(path: &Path) -> Result<String, NameError> {
    let segments = normalized_segments(path);
    let empty = segments.is_empty();
    checked(Vault::Google, path, segments.join("-"), empty)
}

/// The default AWS Secrets Manager name prefix, as in dlt's AWS provider.
pub const DEFAULT_AWS_PREFIX: &str = "dlt/";

/// The AWS Secrets Manager name: `prefix` (verbatim) followed by the
/// normalized segments joined with `/`.
///
/// `destination.bigquery.credentials.project_id` with prefix `dlt/` ->
/// `dlt/destination/bigquery/credentials/project_id`.
pub fn aws_secret_name(path: &Path, prefix: &str) -> Result<String, NameError> {
    let segments = normalized_segments(path);
    let empty = segments.is_empty();
    checked(
        Vault::Aws,
        path,
        format!("{prefix}{}", segments.join("/")),
        empty,
    )
}

/// The Azure Key Vault name: normalized segments with `_` turned into `-`,
/// joined with `--`.
///
/// Key Vault names are case-insensitive and allow only letters, digits and
/// `-`, so `api_key` and `api-key` (and `API_KEY`) meet in one name.
pub fn azure_secret_name(path: &Path) -> Result<String, NameError> {
    let segments: Vec<String> = normalized_segments(path)
        .into_iter()
        .map(|s| s.replace('_', "-"))
        .collect();
    let empty = segments.is_empty();
    checked(Vault::Azure, path, segments.join("--"), empty)
}

/// The name a vault stores `path` under (AWS with the default prefix).
pub fn vault_secret_name(vault: Vault, path: &Path) -> Result<String, NameError> {
    match vault {
        Vault::Google => google_secret_name(path),
        Vault::Aws => aws_secret_name(path, DEFAULT_AWS_PREFIX),
        Vault::Azure => azure_secret_name(path),
    }
}

/// Errors when a value of `len` bytes is over `vault`'s limit.
pub fn check_value_size(vault: Vault, path: &str, len: usize) -> Result<(), NameError> {
    if len > vault.max_value_len() {
        return Err(NameError::ValueTooLarge {
            vault,
            path: path.to_owned(),
            len,
            max: vault.max_value_len(),
        });
    }
    Ok(())
}

/// A naming rule: what a provider declares so that its names can be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamingRule {
    /// Nested tables of a TOML (or in-memory) document: [`toml_key`].
    Toml,
    /// Environment variables: [`env_var_name`].
    Env,
    /// A vault's rule ([`vault_secret_name`]); AWS carries its prefix.
    Vault(Vault),
    /// AWS with a custom prefix.
    AwsPrefixed(String),
}

impl NamingRule {
    /// The name of `path` under this rule.
    pub fn name(&self, path: &Path) -> Result<String, NameError> {
        match self {
            NamingRule::Toml => Ok(toml_key(path)),
            NamingRule::Env => Ok(env_var_name(path)),
            NamingRule::Vault(v) => vault_secret_name(*v, path),
            NamingRule::AwsPrefixed(prefix) => aws_secret_name(path, prefix),
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

    #[test]
    fn spec_table_row_by_row() {
        assert_eq!(toml_key(&p(BQ)), BQ);
        assert_eq!(
            env_var_name(&p(BQ)),
            "DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID"
        );
        assert_eq!(
            google_secret_name(&p(BQ)).unwrap(),
            "destination-bigquery-credentials-project_id"
        );
        assert_eq!(
            aws_secret_name(&p(BQ), DEFAULT_AWS_PREFIX).unwrap(),
            "dlt/destination/bigquery/credentials/project_id"
        );
        assert_eq!(
            azure_secret_name(&p(BQ)).unwrap(),
            "destination--bigquery--credentials--project-id"
        );
    }

    #[test]
    fn spec_normalization_examples() {
        assert_eq!(
            google_secret_name(&p("sources.pipedrive.pipedrive_api_key")).unwrap(),
            "sources-pipedrive-pipedrive_api_key"
        );
        assert_eq!(
            google_secret_name(&p("destination.bigquery")).unwrap(),
            "destination-bigquery"
        );
        assert_eq!(
            google_secret_name(&p("my_pipeline.dlt_secrets_toml")).unwrap(),
            "my_pipeline-dlt_secrets_toml"
        );
        assert_eq!(
            google_secret_name(&p("sources.my source!.key")).unwrap(),
            "sources-mysource-key"
        );
        assert_eq!(normalize_vault_segment("a b\tc!@#-_"), "abc-_");
        assert_eq!(normalize_vault_segment("CamelCase"), "CamelCase");
    }

    #[test]
    fn segments_that_normalize_to_nothing_are_skipped() {
        assert_eq!(
            google_secret_name(&p("sources.!!!.key")).unwrap(),
            "sources-key"
        );
        assert_eq!(
            aws_secret_name(&p("sources. .key"), "dlt/").unwrap(),
            "dlt/sources/key"
        );
        assert_eq!(azure_secret_name(&p("a.?.b_c")).unwrap(), "a--b-c");
    }

    #[test]
    fn a_path_that_normalizes_to_nothing_is_an_error() {
        for vault in Vault::ALL {
            let err = vault_secret_name(vault, &p("!!.??")).unwrap_err();
            assert!(matches!(err, NameError::Empty { .. }), "{vault}: {err}");
            assert!(err.to_string().contains("!!.??"));
        }
    }

    #[test]
    fn names_over_the_limit_are_errors_never_truncated() {
        let long = |n: usize| p(&"a".repeat(n));
        assert_eq!(google_secret_name(&long(255)).unwrap().len(), 255);
        assert!(matches!(
            google_secret_name(&long(256)),
            Err(NameError::TooLong {
                len: 256,
                max: 255,
                ..
            })
        ));
        assert_eq!(aws_secret_name(&long(508), "dlt/").unwrap().len(), 512);
        assert!(matches!(
            aws_secret_name(&long(509), "dlt/"),
            Err(NameError::TooLong {
                len: 513,
                max: 512,
                ..
            })
        ));
        assert_eq!(azure_secret_name(&long(127)).unwrap().len(), 127);
        assert!(matches!(
            azure_secret_name(&long(128)),
            Err(NameError::TooLong {
                len: 128,
                max: 127,
                ..
            })
        ));
    }

    #[test]
    fn characters_a_vault_rejects_are_errors() {
        assert!(matches!(
            google_secret_name(&p("sources.schlüssel")),
            Err(NameError::InvalidCharacter {
                character: 'ü', ..
            })
        ));
        assert!(matches!(
            azure_secret_name(&p("ключ")),
            Err(NameError::InvalidCharacter { .. })
        ));
        // env and TOML names take any character
        assert_eq!(env_var_name(&p("sources.schlüssel")), "SOURCES__SCHLÜSSEL");
        assert_eq!(toml_key(&p("sources.schlüssel")), "sources.\"schlüssel\"");
    }

    #[test]
    fn azure_collisions_are_real() {
        // documented in docs/naming.md: these meet in one case-insensitive name
        let a = azure_secret_name(&p("sources.api_key")).unwrap();
        let b = azure_secret_name(&p("sources.api-key")).unwrap();
        let c = azure_secret_name(&p("SOURCES.API_KEY")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_lowercase(), c.to_lowercase());
    }

    #[test]
    fn aws_prefix_is_verbatim_and_optional() {
        assert_eq!(aws_secret_name(&p("a.b"), "").unwrap(), "a/b");
        assert_eq!(aws_secret_name(&p("a.b"), "team/x-").unwrap(), "team/x-a/b");
        assert!(matches!(
            aws_secret_name(&p("a.b"), "bad prefix "),
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
        assert!(check_value_size(Vault::Google, "k", 64 * 1024).is_ok());
        assert!(check_value_size(Vault::Google, "k", 64 * 1024 + 1).is_err());
        assert!(check_value_size(Vault::Aws, "k", 65_537).is_err());
        assert!(check_value_size(Vault::Azure, "k", 25_000).is_ok());
        let err = check_value_size(Vault::Azure, "k", 25_001).unwrap_err();
        assert!(err.to_string().contains("25000"));
    }

    #[test]
    fn naming_rule_dispatch() {
        let path = p(BQ);
        assert_eq!(NamingRule::Env.name(&path).unwrap(), env_var_name(&path));
        assert_eq!(
            NamingRule::AwsPrefixed("x/".into()).name(&path).unwrap(),
            "x/destination/bigquery/credentials/project_id"
        );
    }
}
