//! TOML loading over generated text, for a bounded number of cases: a file
//! parses or is an error naming the file, never a panic, and an error never
//! quotes the file (the values in it are secrets).

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use strata_secrets_core::Provider;
use strata_secrets_core::workspace::FileKind;
use strata_secrets_toml::TomlProvider;

/// Lines of the kind a secrets file holds, broken or not; every value
/// holds the canary.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[sources.pipedrive]".to_owned()),
        Just("[[arr]]".to_owned()),
        Just("[a.\"b.c\"]".to_owned()),
        Just("[unterminated".to_owned()),
        Just("key = \"canary-value\"".to_owned()),
        Just("key = 'canary-literal'".to_owned()),
        Just("n = 99999999999999999999999".to_owned()),
        Just("f = 1e400".to_owned()),
        Just("d = 1979-05-27T07:32:00Z".to_owned()),
        Just("inline = { k = \"canary-inline\", n = 1 }".to_owned()),
        Just("multi = \"\"\"canary\nline\"\"\"".to_owned()),
        Just("broken = \"canary-unterminated".to_owned()),
        Just("= \"canary-no-key\"".to_owned()),
        Just("a.b.c = \"canary-dotted\"".to_owned()),
        Just("dup = 1".to_owned()),
        "[a-z]{1,5} = \"canary-[a-z]{0,5}\"",
        "[ -~]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn a_file_parses_or_is_an_error_that_names_it_without_its_text(
        lines in proptest::collection::vec(line(), 0..12)
    ) {
        let text = lines.join("\n");
        match TomlProvider::from_text(FileKind::Secrets, "secrets.toml", &text) {
            Ok(p) => {
                let doc = p.document().unwrap();
                prop_assert!(doc.as_table().is_some());
                let debug = format!("{:?}", p);
                prop_assert!(!debug.contains("canary"));
            }
            Err(e) => {
                let shown = format!("{e} {e:?}");
                prop_assert!(shown.contains("secrets.toml"), "{}", shown);
                prop_assert!(!shown.contains("canary"), "{}", shown);
            }
        }
    }
}
