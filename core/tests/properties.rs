//! Properties of the inputs a stranger controls (paths, key names, naming
//! rules), over generated input, run for a bounded number of cases: no
//! panic, and what the input becomes is what the rules say.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::borrow::Cow;
use strata_secrets_core::naming::{VaultNaming, env_var_name, normalize_vault_segment, toml_key};
use strata_secrets_core::{MAX_PATH_BYTES, MAX_SEGMENTS, Path, Value};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(2_000)
}

const RULES: [VaultNaming; 2] = [
    VaultNaming {
        vault: "dashes",
        prefix: Cow::Borrowed(""),
        separator: "-",
        replace: &[],
        extra_chars: "-_",
        max_name_len: 255,
        max_value_len: 65_536,
        case_insensitive: false,
    },
    VaultNaming {
        vault: "double",
        prefix: Cow::Borrowed("p/"),
        separator: "--",
        replace: &[('_', '-')],
        extra_chars: "-/",
        max_name_len: 127,
        max_value_len: 25_000,
        case_insensitive: true,
    },
];

/// Text of the kind a hostile file holds: dots, quotes, controls,
/// non-ASCII, shell metacharacters.
fn hostile() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "[a-zA-Z0-9_.\\-$()`'\" \\t\\n\\x00\\x1f\\x7f\\u{85}éü🐢=;|&*]{0,80}",
    )
    .unwrap()
}

proptest! {
    #![proptest_config(config())]

    /// Parsing never panics; a parsed path has valid segments within the
    /// limits and prints back as it was written.
    #[test]
    fn paths_parse_or_refuse(text in hostile()) {
        if let Ok(p) = Path::parse(&text) {
            prop_assert_eq!(p.to_string(), text.clone());
            prop_assert!(p.len() <= MAX_SEGMENTS);
            prop_assert!(text.len() <= MAX_PATH_BYTES);
            // each segment is a path of its own
            for s in p.segments() {
                prop_assert_eq!(Path::parse(s).map(|q| q.len()).ok(), Some(1));
            }
        }
    }

    /// Every rule names a valid path or refuses it, and never panics; a
    /// vault name holds only what its rule allows, within its limit.
    #[test]
    fn names_follow_their_rules(segments in proptest::collection::vec(hostile(), 1..6)) {
        let Ok(path) = Path::from_segments(segments) else {
            return Ok(());
        };
        let env = env_var_name(&path);
        prop_assert_eq!(env.matches("__").count() >= path.len() - 1, true);
        let _ = toml_key(&path);
        for rule in &RULES {
            if let Ok(name) = rule.name(&path) {
                prop_assert!(name.starts_with(rule.prefix.as_ref()));
                prop_assert!(name.chars().count() <= rule.max_name_len);
                prop_assert!(name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || rule.extra_chars.contains(c)));
            }
        }
        for s in path.segments() {
            let n = normalize_vault_segment(s);
            prop_assert!(!n.chars().any(char::is_whitespace));
        }
    }

    /// Any text read as a table (a vault's fragment, an environment
    /// variable) is a table or nothing, never a panic.
    #[test]
    fn text_reads_as_a_table_or_nothing(text in hostile()) {
        let _ = Value::from(text.as_str()).to_table();
    }
}
