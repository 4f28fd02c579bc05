//! A full disk, said plainly.
//!
//! Opening the store on a full disk fails inside SQLite with "disk I/O error" (recovering the
//! write-ahead log and creating its `-shm` file both write), which says nothing of space. So
//! when opening fails, the free space of the data directory's filesystem is read (`statvfs`)
//! and, when it is short of what opening needs, the error says which directory is full, how
//! much is free and how much is needed.

use std::path::Path;

use trail_store::StoreError;

use crate::DB_FILE;

/// Room to work in beyond folding the write-ahead log into the database: the `-shm` index, the
/// first pages a migration or the index may write, the signer's first checkpoint.
pub const HEADROOM: u64 = 16 * 1024 * 1024;

/// Bytes an unprivileged process may still write on the filesystem holding `dir`.
fn available(dir: &Path) -> Option<u64> {
    let s = rustix::fs::statvfs(dir).ok()?;
    Some(s.f_bavail.saturating_mul(s.f_frsize))
}

/// What opening the store in `dir` needs free: at worst the whole write-ahead log copied into
/// the database, plus [`HEADROOM`].
fn needed(dir: &Path) -> (u64, u64) {
    let wal = std::fs::metadata(dir.join(format!("{DB_FILE}-wal"))).map(|m| m.len()).unwrap_or(0);
    (wal + HEADROOM, wal)
}

/// `error` from opening the store in `dir`, or, when the disk is too full to open it, an error
/// that says so.
pub fn explain_open_failure(dir: &Path, error: StoreError) -> StoreError {
    let (needed, wal) = needed(dir);
    match available(dir).and_then(|free| full_disk_message(dir, free, needed, wal, &error)) {
        Some(message) => StoreError::Unavailable(message),
        None => error,
    }
}

/// The message for a failed open when only `free` bytes are left and `needed` are needed (of
/// which `wal` are the write-ahead log's); `None` when space is not the problem.
pub fn full_disk_message(
    dir: &Path,
    free: u64,
    needed: u64,
    wal: u64,
    cause: &dyn std::fmt::Display,
) -> Option<String> {
    (free < needed).then(|| {
        format!(
            "the disk holding the data directory {} is full: {} free, and opening the store needs about {} \
             ({} to fold its write-ahead log into the database, and {} to work in); free space on that disk \
             or move the data directory to a larger one, then start again (the error was: {cause})",
            dir.display(),
            human(free),
            human(needed),
            human(wal),
            human(needed - wal),
        )
    })
}

/// Bytes in binary units, one decimal.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} bytes") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: restarting on a full disk exited with "disk I/O error" and no word of space.
    #[test]
    fn a_full_disk_is_named_with_what_is_free_and_needed() {
        let dir = Path::new("/var/lib/trail");
        let cause = "disk I/O error";
        let m = full_disk_message(dir, 1536, 64 * 1024 * 1024 + HEADROOM, 64 * 1024 * 1024, &cause).unwrap();
        for part in [
            "data directory /var/lib/trail is full",
            "1.5 KiB free",
            "needs about 80.0 MiB",
            "64.0 MiB to fold its write-ahead log",
            "16.0 MiB to work in",
            "free space",
            "disk I/O error",
        ] {
            assert!(m.contains(part), "{part:?} in {m}");
        }
        assert_eq!(full_disk_message(dir, 200 * 1024 * 1024, HEADROOM, 0, &cause), None, "space is not the problem");
    }

    /// The error of a failed open on a disk with room is left as it is.
    #[test]
    fn an_open_failure_with_room_keeps_its_cause() {
        let dir = tempfile::tempdir().unwrap();
        let e = explain_open_failure(dir.path(), StoreError::Unavailable("the database cannot be written".into()));
        match available(dir.path()) {
            Some(free) if free >= needed(dir.path()).0 => {
                assert_eq!(e.to_string(), StoreError::Unavailable("the database cannot be written".into()).to_string())
            }
            _ => assert!(e.to_string().contains("is full"), "{e}"),
        }
        assert_eq!(human(0), "0 bytes");
        assert_eq!(human(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
