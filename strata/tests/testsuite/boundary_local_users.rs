//! Trust boundary: other users of the machine (docs/security.md). `check`
//! says when another user can change, read or owns what strata reads.

use crate::common::Project;
use std::os::unix::fs::PermissionsExt;

fn project() -> Project {
    let p = Project::workspace();
    p.write(".gitignore", ".dlt/*secrets*.toml\n");
    p.write(".dlt/secrets.toml", "[s]\nk = \"v\"\n");
    std::fs::set_permissions(
        p.path().join(".dlt/secrets.toml"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::set_permissions(
        p.path().join(".dlt"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    p
}

fn permission_findings(p: &Project) -> Vec<String> {
    let r = p.run(&["check", "--json"]);
    let j = r.json();
    j["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{j}"))
        .iter()
        .filter(|f| f["check"] == "permissions")
        .map(|f| f["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every mode of a secrets file that lets another user write or read it is
/// a finding that says who and what to run; 600 and 400 are not.
#[test]
fn check_flags_every_mode_others_can_use() {
    for mode in 0o000..=0o777u32 {
        // the owner's bits do not matter here; check a spread of them
        if mode & 0o700 != 0o600 && mode & 0o700 != 0o400 {
            continue;
        }
        let p = project();
        let f = p.path().join(".dlt/secrets.toml");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
        let found = permission_findings(&p);
        let others = mode & 0o066;
        if others == 0 {
            assert!(found.is_empty(), "mode {mode:o}: {found:?}");
            continue;
        }
        assert_eq!(found.len(), 1, "mode {mode:o}: {found:?}");
        let m = &found[0];
        assert!(m.contains("chmod 600"), "{m}");
        if mode & 0o002 != 0 {
            assert!(m.contains("writable by every user"), "mode {mode:o}: {m}");
        } else if mode & 0o020 != 0 {
            assert!(m.contains("writable by its group"), "mode {mode:o}: {m}");
        }
        if mode & 0o004 != 0 {
            assert!(m.contains("readable by every user"), "mode {mode:o}: {m}");
        } else if mode & 0o040 != 0 {
            assert!(m.contains("readable by its group"), "mode {mode:o}: {m}");
        }
    }
}

/// A `.dlt` others can write to (they could swap the files strata reads)
/// is a finding; one they can only read is not.
#[test]
fn check_flags_a_settings_dir_others_can_write() {
    for (mode, flagged) in [
        (0o777, true),
        (0o775, true),
        (0o757, true),
        (0o770, true),
        (0o755, false),
        (0o750, false),
        (0o700, false),
    ] {
        let p = project();
        let dlt = p.path().join(".dlt");
        std::fs::set_permissions(&dlt, std::fs::Permissions::from_mode(mode)).unwrap();
        let found = permission_findings(&p);
        let about_dlt: Vec<&String> = found
            .iter()
            .filter(|m| m.contains(&format!("{} is", dlt.display())))
            .collect();
        assert_eq!(!about_dlt.is_empty(), flagged, "mode {mode:o}: {found:?}");
        if flagged {
            assert!(about_dlt[0].contains("chmod 700"), "{about_dlt:?}");
        }
        std::fs::set_permissions(&dlt, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A secrets file another user owns is a finding (as root the test gives
/// it to `nobody`; otherwise it links to a file root owns).
#[test]
fn check_flags_a_secrets_file_owned_by_another_user() {
    let p = project();
    let f = p.path().join(".dlt/secrets.toml");
    let me = std::fs::metadata("/proc/self").map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid()
    });
    if me.as_ref().is_ok_and(|uid| *uid == 0) {
        std::os::unix::fs::chown(&f, Some(65534), Some(65534)).unwrap();
    } else {
        std::fs::remove_file(&f).unwrap();
        let theirs = p.write("theirs.toml", "");
        std::fs::remove_file(&theirs).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", &f).unwrap();
    }
    let found = permission_findings(&p);
    assert!(
        found.iter().any(|m| m.contains("owned by another user")),
        "{found:?}"
    );
}
