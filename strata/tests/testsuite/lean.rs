//! A pipeline that uses the library without vaults links none of their
//! clients: the facade's vaults are opt-in cargo features.

use std::process::Command;

/// The crates `strata-secrets` depends on (normal edges), with `features`.
fn dependencies(features: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "tree",
        "-p",
        "strata-secrets",
        "-e",
        "normal",
        "--prefix",
        "none",
    ])
    .args(["--format", "{p}", "--locked", "--offline"])
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let out = cmd.output().expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    names
}

const VAULT_CLIENTS: &[(&str, &str)] = &[
    ("aws", "aws-sdk-secretsmanager"),
    ("google", "google-cloud-secretmanager-v1"),
    ("azure", "azure_security_keyvault_secrets"),
    ("hashicorp", "vaultrs"),
];

#[test]
fn the_library_links_no_vault_client_unless_a_feature_asks_for_it() {
    let lean = dependencies(&[]);
    for (_, client) in VAULT_CLIENTS {
        assert!(!lean.iter().any(|n| n == client), "{client} in {lean:?}");
    }
    assert!(!lean.iter().any(|n| n == "strata-secrets-command"));
    // far fewer crates than with every vault
    let all = dependencies(&["aws", "google", "azure", "hashicorp", "command"]);
    assert!(
        lean.len() * 3 < all.len(),
        "{} vs {}",
        lean.len(),
        all.len()
    );
    // each feature brings its own client and no other
    for (feature, client) in VAULT_CLIENTS {
        let with = dependencies(&[feature]);
        assert!(with.iter().any(|n| n == client), "{feature}: no {client}");
        for (_, other) in VAULT_CLIENTS.iter().filter(|(f, _)| f != feature) {
            assert!(!with.iter().any(|n| n == other), "{feature} brings {other}");
        }
    }
}
