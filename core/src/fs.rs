//! Reading and writing the local files strata touches ([docs/profiles.md](https://docs.rs/strata-secrets/latest/strata_secrets/guide/profiles/index.html)).
//!
//! - Only regular files are read: a directory, a FIFO, a socket or a device
//!   (`/dev/zero`) is an error naming the file, so a hostile checkout can
//!   neither hang a command nor make it read without end; a symbolic link is
//!   followed only to a regular file. Every file is read up to
//!   [`MAX_FILE_SIZE`].
//! - Every write goes to a temporary file in the target's directory and is
//!   renamed into place, so a reader sees the old text or the new one, never
//!   a part. A write never goes through a symbolic link: a target that is one
//!   is refused.

use crate::error::{Error, ErrorKind};
use std::io::{Read, Write};
use std::path::Path;
use zeroize::Zeroize;

/// The largest file strata reads: 16 MiB.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

fn io_error(action: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("cannot {action} {}: {e}", path.display()),
    )
    .with_file(path)
}

/// What kind of file a non-regular one is, in words.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Reads the regular file at `path`: `None` when nothing is there (a
/// dangling symbolic link included). Anything but a regular file, or a file
/// over [`MAX_FILE_SIZE`], is an error naming the file.
pub fn read_regular(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", path, &e)),
    };
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "cannot read {}: it is {}; strata reads regular files only",
                path.display(),
                kind_of(&meta)
            ),
        )
        .with_file(path));
    }
    let too_big = || {
        Error::new(
            ErrorKind::Io,
            format!(
                "cannot read {}: it is larger than {} MiB, the most strata reads",
                path.display(),
                MAX_FILE_SIZE / (1024 * 1024)
            ),
        )
        .with_file(path)
    };
    if meta.len() > MAX_FILE_SIZE {
        return Err(too_big());
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", path, &e)),
    };
    // the file may have been swapped since: check what was opened
    let opened = file.metadata().map_err(|e| io_error("read", path, &e))?;
    if !opened.is_file() {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "cannot read {}: it is {}; strata reads regular files only",
                path.display(),
                kind_of(&opened)
            ),
        )
        .with_file(path));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0));
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error("read", path, &e))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        bytes.zeroize();
        return Err(too_big());
    }
    Ok(Some(bytes))
}

/// [`read_regular`] as UTF-8 text; text that is not UTF-8 is a parse error
/// naming the file (the bytes are wiped, never shown).
pub fn read_text(path: &Path) -> Result<Option<String>, Error> {
    let Some(bytes) = read_regular(path)? else {
        return Ok(None);
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(text)),
        Err(e) => {
            let mut bytes = e.into_bytes();
            bytes.zeroize();
            Err(Error::new(
                ErrorKind::Parse,
                format!(
                    "cannot parse {}: the file is not UTF-8 text",
                    path.display()
                ),
            )
            .with_file(path))
        }
    }
}

/// True when `path` is a symbolic link (dangling or not).
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// True when something (a file, a directory, a link, even dangling) is at
/// `path`.
pub fn exists_no_follow(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Refuses a write target that is a symbolic link.
pub fn ensure_not_symlink(path: &Path) -> Result<(), Error> {
    if is_symlink(path) {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "refusing to write {}: it is a symbolic link, and strata never writes through one (replace it with a regular file)",
                path.display()
            ),
        )
        .with_file(path));
    }
    Ok(())
}

/// Creates the file `path` with `bytes` atomically: a temporary file in the
/// same directory, synced, then linked into place only if nothing is there
/// yet (a file, a directory or a link that appeared meanwhile is an error,
/// never overwritten).
pub fn create_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let tmp = temp_file_for(path, bytes, mode, None)?;
    tmp.persist_noclobber(path)
        .map_err(|e| io_error("create", path, &e.error))?;
    Ok(())
}

/// A synced temporary file holding `bytes`, next to `path`, with the mode
/// of `existing` (a file being replaced) or `mode`.
fn temp_file_for(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    existing: Option<&std::fs::Metadata>,
) -> Result<tempfile::NamedTempFile, Error> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let io = |e: std::io::Error| io_error("write", path, &e);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".strata-tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match existing {
            Some(m) if m.is_file() => m.permissions().mode() & 0o777,
            _ => mode,
        };
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io)?;
    }
    #[cfg(not(unix))]
    let _ = (mode, existing);
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    Ok(tmp)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, synced, then renamed over `path`. The new file keeps the mode
/// of the file it replaces, else gets `mode` (Unix). A `path` that is a
/// symbolic link is refused; the directory must exist.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    ensure_not_symlink(path)?;
    let existing = std::fs::metadata(path).ok();
    let tmp = temp_file_for(path, bytes, mode, existing.as_ref())?;
    tmp.persist(path)
        .map_err(|e| io_error("write", path, &e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn regular_files_only_and_a_size_cap() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.toml");
        std::fs::write(&f, "x = 1\n").unwrap();
        assert_eq!(read_text(&f).unwrap().as_deref(), Some("x = 1\n"));
        assert!(read_text(&d.path().join("missing")).unwrap().is_none());
        let e = read_text(d.path()).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        #[cfg(unix)]
        {
            let e = read_regular(Path::new("/dev/zero")).unwrap_err();
            assert!(e.to_string().contains("a device"), "{e}");
            let fifo = d.path().join("fifo");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(made.success());
            let e = read_regular(&fifo).unwrap_err();
            assert!(e.to_string().contains("FIFO"), "{e}");
            let link = d.path().join("zero-link");
            std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
            assert!(read_regular(&link).is_err());
            let dangling = d.path().join("dangling");
            std::os::unix::fs::symlink(d.path().join("nowhere"), &dangling).unwrap();
            assert!(read_regular(&dangling).unwrap().is_none());
        }
        let big = d.path().join("big");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(MAX_FILE_SIZE + 1).unwrap();
        let e = read_regular(&big).unwrap_err();
        assert!(e.to_string().contains("16 MiB"), "{e}");
        let bad = d.path().join("bad");
        std::fs::write(&bad, b"k = \"\xff\"").unwrap();
        assert_eq!(read_text(&bad).unwrap_err().kind(), ErrorKind::Parse);
    }

    #[test]
    fn atomic_writes_keep_the_mode_and_refuse_links() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("pin");
        write_atomic(&f, b"one\n", 0o600).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"one\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&f), 0o600);
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
            write_atomic(&f, b"two\n", 0o600).unwrap();
            assert_eq!(mode(&f), 0o640);
            let outside = d.path().join("outside");
            std::fs::write(&outside, "keep").unwrap();
            let link = d.path().join("link");
            std::os::unix::fs::symlink(&outside, &link).unwrap();
            let e = write_atomic(&link, b"evil", 0o600).unwrap_err();
            assert!(e.to_string().contains("symbolic link"), "{e}");
            assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        }
        // create: never over something that is there
        let new = d.path().join("new");
        create_atomic(&new, b"x", 0o644).unwrap();
        assert!(create_atomic(&new, b"y", 0o644).is_err());
        assert_eq!(std::fs::read(&new).unwrap(), b"x");
        // no temporary file is left behind
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.ends_with(".strata-tmp")),
            "{names:?}"
        );
    }
}
