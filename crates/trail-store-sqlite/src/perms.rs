//! Who may read the data directory: only the user Trail runs as.
//!
//! The database holds every tenant's events, so the directory is created `0700` and every file
//! in it `0600`, whatever the process's umask. SQLite creates the `-wal` and `-shm` files with
//! the database file's own mode, so creating `trail.db` as `0600` before SQLite opens it is
//! what keeps those private too; the term index (`index/`) creates its directory and segment
//! files the same way. A directory made by an older Trail, or loosened by hand, is not changed
//! behind the operator's back: [`warn_loose_modes`] names each path at start and says how to
//! tighten it.

use std::{
    io,
    path::{Path, PathBuf},
};

/// The mode of the data directory and every directory Trail creates in it.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file Trail creates in the data directory.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) readable only by its owner.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(DIR_MODE);
    }
    b.create(dir)
}

/// Creates the empty file `path`, readable only by its owner, unless it exists.
pub fn create_private_file(path: &Path) -> io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(FILE_MODE);
    }
    o.open(path).map(drop)
}

/// A path others can reach: the directory, or a file in it or in one of its subdirectories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LooseMode {
    pub path: PathBuf,
    /// Its permission bits (`0o755`, say).
    pub mode: u32,
    pub is_dir: bool,
}

/// Every path under `dir` (itself included, one level of subdirectories deep, as Trail lays it
/// out) that its group or others may read, write or enter. Paths that vanish meanwhile (SQLite's
/// `-shm`, a segment being merged) are skipped.
pub fn loose_modes(dir: &Path) -> io::Result<Vec<LooseMode>> {
    let mut out = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut check = |path: &Path, meta: &std::fs::Metadata| {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                out.push(LooseMode { path: path.to_owned(), mode, is_dir: meta.is_dir() });
            }
        };
        check(dir, &std::fs::metadata(dir)?);
        let mut dirs = vec![(dir.to_owned(), 0)];
        while let Some((d, depth)) = dirs.pop() {
            for entry in std::fs::read_dir(&d)? {
                let Ok(entry) = entry else { continue };
                // Not followed: a symlink's own target is the operator's choice.
                let Ok(meta) = entry.path().symlink_metadata() else { continue };
                if meta.file_type().is_symlink() {
                    continue;
                }
                check(&entry.path(), &meta);
                if meta.is_dir() && depth < 1 {
                    dirs.push((entry.path(), depth + 1));
                }
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Logs a warning for each path of the data directory `dir` that others may reach (see
/// [`loose_modes`]); quiet when all is private. Returns what it warned about.
pub fn warn_loose_modes(dir: &Path) -> Vec<LooseMode> {
    let loose = match loose_modes(dir) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot check who may read the data directory");
            return Vec::new();
        }
    };
    for l in &loose {
        tracing::warn!(
            path = %l.path.display(),
            mode = format!("{:o}", l.mode),
            fix = format!("chmod {} {}", if l.is_dir { "700" } else { "600" }, l.path.display()),
            "others may read this part of the data directory, which holds every tenant's events"
        );
    }
    loose
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Regression: the data directory was 0755 and its files 0644, readable by every local
    /// user, and nothing said so.
    #[test]
    fn a_0755_directory_and_0644_files_are_flagged() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        create_private_dir(&dir.join("index")).unwrap();
        create_private_file(&dir.join("trail.db")).unwrap();
        create_private_file(&dir.join("index").join("t1-1-9.seg")).unwrap();
        assert_eq!(loose_modes(&dir).unwrap(), []);

        chmod(&dir, 0o755);
        chmod(&dir.join("trail.db"), 0o644);
        chmod(&dir.join("index").join("t1-1-9.seg"), 0o640);
        let loose = loose_modes(&dir).unwrap();
        let found: Vec<(PathBuf, u32, bool)> = loose.iter().map(|l| (l.path.clone(), l.mode, l.is_dir)).collect();
        assert_eq!(
            found,
            [
                (dir.clone(), 0o755, true),
                (dir.join("index").join("t1-1-9.seg"), 0o640, false),
                (dir.join("trail.db"), 0o644, false),
            ]
        );
        assert_eq!(warn_loose_modes(&dir), loose);
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    /// Regression: a fresh data directory was 0755 and `trail.db`, `-wal` and `-shm` 0644.
    #[test]
    fn a_fresh_data_directory_and_its_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let store = crate::SqliteStore::open(&dir).unwrap();
        let db = dir.join(crate::DB_FILE);
        let expected = [
            (dir.clone(), DIR_MODE),
            (db.clone(), FILE_MODE),
            (db.with_extension("db-wal"), FILE_MODE),
            (db.with_extension("db-shm"), FILE_MODE),
            (dir.join("index"), DIR_MODE),
            (dir.join("index").join("LOCK"), FILE_MODE),
        ];
        for (path, want) in &expected {
            assert_eq!(mode(path), *want, "{}", path.display());
        }
        assert_eq!(loose_modes(&dir).unwrap(), []);
        drop(store);
    }
}
