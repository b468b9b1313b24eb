//! The local checks of [docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html): secrets files tracked by git or not
//! ignored, readable by other users, placeholders left from a template, and
//! production profiles that keep secrets in files while a vault is enabled.

use std::path::{Path as FsPath, PathBuf};
use std::process::{Command, Stdio};
use strata_secrets::Strata;
use strata_secrets::{Path, Provider, Value};

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which check: `git`, `permissions`, `placeholder`, `vault`.
    pub check: &'static str,
    /// The file concerned, when there is one.
    pub file: Option<PathBuf>,
    /// What is wrong and what to do; never a value.
    pub message: String,
}

/// Values dlt's templates write where the user must put a real one.
pub const PLACEHOLDERS: &[&str] = &["<configure me>"];
const PLACEHOLDER_DATE: &str = "1768-07-21";

fn is_secrets_file_name(name: &str) -> bool {
    name == "secrets.toml"
        || (name.ends_with(".secrets.toml") && name.len() > ".secrets.toml".len())
        || (name.starts_with("secrets.")
            && name.ends_with(".toml")
            && name.len() > "secrets..toml".len())
}

/// Every secrets file of the project: the settings directory's files named
/// like secrets files, and the active profile's files that exist.
pub fn secrets_files(strata: &Strata) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(strata.workspace().settings_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_secrets_file_name(&name) && entry.path().is_file() {
                files.push(entry.path());
            }
        }
    }
    for f in strata.secrets_files().files() {
        if !files.iter().any(|x| x == f) {
            files.push(f.to_path_buf());
        }
    }
    files.sort();
    files
}

/// Runs every local check.
pub async fn run_local_checks(strata: &Strata) -> Vec<Finding> {
    let files = secrets_files(strata);
    let mut findings = git_findings(strata.workspace().run_dir(), &files);
    findings.extend(permission_findings(
        strata.workspace().settings_dir(),
        &files,
    ));
    findings.extend(placeholder_findings(strata));
    findings.extend(vault_scope_findings(strata).await);
    findings
}

fn git(run_dir: &FsPath, args: &[&str]) -> Option<bool> {
    Command::new("git")
        .arg("-C")
        .arg(run_dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()
        .map(|s| s.success())
}

fn git_findings(run_dir: &FsPath, files: &[PathBuf]) -> Vec<Finding> {
    let mut out = Vec::new();
    let in_repo = git(run_dir, &["rev-parse", "--is-inside-work-tree"]) == Some(true);
    for file in files {
        let shown = file.display().to_string();
        if in_repo {
            if git(run_dir, &["ls-files", "--error-unmatch", "--", &shown]) == Some(true) {
                out.push(Finding {
                    check: "git",
                    file: Some(file.clone()),
                    message: format!(
                        "{shown} is tracked by git: remove it from the index (`git rm --cached`) and ignore it"
                    ),
                });
                continue;
            }
            if git(run_dir, &["check-ignore", "-q", "--", &shown]) != Some(true) {
                out.push(Finding {
                    check: "git",
                    file: Some(file.clone()),
                    message: format!(
                        "{shown} is not ignored by .gitignore: add `.dlt/*secrets*.toml` to it"
                    ),
                });
            }
        } else if !ignored_without_git(run_dir, file) {
            out.push(Finding {
                check: "git",
                file: Some(file.clone()),
                message: format!(
                    "{shown} is not ignored by .gitignore: add `.dlt/*secrets*.toml` to it"
                ),
            });
        }
    }
    out
}

/// Outside a git repository: whether the `.gitignore` files of the run
/// directory and of `.dlt` ignore `file`, matched as git does (the `ignore`
/// crate's gitignore matcher: anchoring, `**`, negation, directories).
fn ignored_without_git(run_dir: &FsPath, file: &FsPath) -> bool {
    for dir in [run_dir.to_path_buf(), run_dir.join(".dlt")] {
        let path = dir.join(".gitignore");
        // only a regular file is read (and up to the size cap)
        if let Ok(Some(bytes)) = strata_secrets_core::fs::read_regular(&path) {
            let text = String::from_utf8_lossy(&bytes);
            let mut sub = ignore::gitignore::GitignoreBuilder::new(&dir);
            for line in text.lines() {
                let _ = sub.add_line(Some(path.clone()), line);
            }
            if let Ok(matcher) = sub.build()
                && matcher.matched_path_or_any_parents(file, false).is_ignore()
            {
                return true;
            }
        }
    }
    false
}

/// The user this process runs as (the owner of `/proc/self`).
#[cfg(unix)]
fn current_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// Other local users are not trusted ([docs/security.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/security/index.html)): a secrets file, or
/// `.dlt`, that another user can change or own is a finding, as is a
/// secrets file others can read.
#[cfg(unix)]
fn permission_findings(settings_dir: &FsPath, files: &[PathBuf]) -> Vec<Finding> {
    use std::os::unix::fs::MetadataExt;
    let me = current_uid();
    let mut out = Vec::new();
    let mut check = |path: &FsPath, is_file: bool| {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let mode = meta.mode() & 0o777;
        let shown = path.display();
        let fix = if is_file { "600" } else { "700" };
        let mut problems: Vec<String> = Vec::new();
        match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (_, true) => problems.push("writable by every user of this machine".to_owned()),
            (true, false) => problems.push("writable by its group".to_owned()),
            _ => {}
        }
        if is_file {
            match (mode & 0o040 != 0, mode & 0o004 != 0) {
                (_, true) => problems.push("readable by every user of this machine".to_owned()),
                (true, false) => problems.push("readable by its group".to_owned()),
                _ => {}
            }
        }
        if !problems.is_empty() {
            out.push(Finding {
                check: "permissions",
                file: Some(path.to_path_buf()),
                message: format!(
                    "{shown} is {} (mode {mode:o}): run `chmod {fix} {shown}`",
                    problems.join(" and ")
                ),
            });
        }
        if let Some(me) = me
            && meta.uid() != me
        {
            out.push(Finding {
                check: "permissions",
                file: Some(path.to_path_buf()),
                message: format!(
                    "{shown} is owned by another user (uid {}), who can change what strata reads: make it yours (`chown`) or check where it came from",
                    meta.uid()
                ),
            });
        }
    };
    check(settings_dir, false);
    for f in files {
        check(f, true);
    }
    out
}

#[cfg(not(unix))]
fn permission_findings(_settings_dir: &FsPath, _files: &[PathBuf]) -> Vec<Finding> {
    Vec::new()
}

fn placeholder_findings(strata: &Strata) -> Vec<Finding> {
    let mut out = Vec::new();
    for provider in [strata.secrets_files(), strata.config_files()] {
        let Some(doc) = provider.document() else {
            continue;
        };
        let mut hits: Vec<Vec<String>> = Vec::new();
        doc.for_each_leaf(&mut |segments, value| {
            let is_placeholder = match value {
                Value::String(s) => {
                    PLACEHOLDERS.contains(&s.as_str()) || s.starts_with(PLACEHOLDER_DATE)
                }
                Value::Datetime(d) => d.to_string().starts_with(PLACEHOLDER_DATE),
                _ => false,
            };
            if is_placeholder {
                hits.push(segments.iter().map(|s| (*s).to_owned()).collect());
            }
        });
        for segments in hits {
            let Ok(path) = Path::from_segments(segments) else {
                continue;
            };
            let (file, place) = match provider.defined_at(&path) {
                Some((f, line)) => (Some(f.to_path_buf()), format!("{}:{line}", f.display())),
                None => (None, provider.name().to_owned()),
            };
            out.push(Finding {
                check: "placeholder",
                file,
                message: format!(
                    "`{path}` in {place} still holds a template placeholder: set a real value"
                ),
            });
        }
    }
    out
}

async fn vault_scope_findings(strata: &Strata) -> Vec<Finding> {
    let Some(profile) = strata.workspace().profile() else {
        return Vec::new();
    };
    if !matches!(profile.as_str(), "prod" | "access") {
        return Vec::new();
    }
    let mut enabled = false;
    for (_, section) in strata_secrets::backends::KNOWN {
        enabled |= strata_secrets::vaults::enabled(strata.resolver(), section)
            .await
            .unwrap_or(false);
    }
    if !enabled {
        return Vec::new();
    }
    let Some(doc) = strata.secrets_files().document() else {
        return Vec::new();
    };
    let mut extra: Vec<String> = Vec::new();
    doc.for_each_leaf(&mut |segments, _| {
        if segments.first() != Some(&"providers") {
            extra.push(segments.join("."));
        }
    });
    if extra.is_empty() {
        return Vec::new();
    }
    let shown: Vec<&str> = extra.iter().take(10).map(String::as_str).collect();
    vec![Finding {
        check: "vault",
        file: strata
            .secrets_files()
            .files()
            .first()
            .map(|f| f.to_path_buf()),
        message: format!(
            "profile `{profile}` enables a vault but its secrets files still hold {} value(s) besides the vault bootstrap credentials ({}{}): move them to the vault",
            extra.len(),
            shown.join(", "),
            if extra.len() > shown.len() {
                ", ..."
            } else {
                ""
            }
        ),
    }]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn gitignore_patterns_match_as_git_does() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        std::fs::create_dir_all(dir.join(".dlt")).unwrap();
        let secrets = dir.join(".dlt/prod.secrets.toml");
        std::fs::write(&secrets, "").unwrap();
        let case = |rules: &str| {
            std::fs::write(dir.join(".gitignore"), rules).unwrap();
            ignored_without_git(dir, &secrets)
        };
        assert!(case(".dlt/*secrets*.toml\n"));
        assert!(case("*.secrets.toml\n"));
        assert!(case("**/prod.secrets.toml\n"));
        assert!(case(".dlt/\n"));
        assert!(!case("secrets.toml\n"));
        assert!(!case("*.secrets.toml\n!prod.secrets.toml\n"));
        assert!(!case("/prod.secrets.toml\n"));
        // a pattern that made the hand-written matcher exponential
        let hostile = format!("{}x\n", "*".repeat(60));
        assert!(!case(&hostile));
    }

    #[test]
    fn secrets_file_names() {
        for yes in ["secrets.toml", "prod.secrets.toml", "secrets.prod.toml"] {
            assert!(is_secrets_file_name(yes), "{yes}");
        }
        for no in [
            "config.toml",
            ".secrets.toml",
            "secrets..toml",
            "mysecrets.toml.bak",
        ] {
            assert!(!is_secrets_file_name(no), "{no}");
        }
    }
}

/// What a dry run of one enabled vault found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultStatus {
    /// The vault's section (`[providers.<section>]`).
    pub vault: &'static str,
    /// True when it was reached and answered.
    pub ok: bool,
    /// What was done and seen, or what to fix. Never a value.
    pub message: String,
}

/// A dry run of every enabled vault: build it from its bootstrap settings,
/// reach it, authenticate, then list (with `list_secrets`) or fetch
/// `dlt_secrets_toml`.
pub async fn vault_dry_runs(strata: &Strata) -> Result<Vec<VaultStatus>, strata_secrets::Error> {
    let mut out = Vec::new();
    for descriptor in strata_secrets::vaults::enabled_backends(strata.resolver()).await? {
        let status = async {
            let provider =
                strata_secrets::vaults::build(descriptor, strata.resolver(), strata.workspace())
                    .await?;
            provider.probe().await
        }
        .await;
        out.push(match status {
            Ok(message) => VaultStatus {
                vault: descriptor.section,
                ok: true,
                message,
            },
            Err(e) => VaultStatus {
                vault: descriptor.section,
                ok: false,
                message: format!("{}: {e}", e.kind()),
            },
        });
    }
    Ok(out)
}
