//! A small pool of read-only connections, used from blocking threads.

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

use rusqlite::{Connection, OpenFlags};
use trail_store::StoreResult;

use crate::error::SqlResultExt;

pub(crate) struct ReadPool {
    path: PathBuf,
    /// Read through a small page cache instead of mapping the file (see `StoreOptions`).
    bounded: bool,
    idle: Mutex<Vec<Connection>>,
}

/// Connection settings shared by readers and the writer.
pub(crate) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "cache_size", -65536)?; // 64 MiB
    conn.pragma_update(None, "temp_store", "memory")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl ReadPool {
    pub(crate) fn new(path: &Path, bounded: bool) -> Self {
        Self { path: path.to_owned(), bounded, idle: Mutex::new(Vec::new()) }
    }

    fn open(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .sql()?;
        configure(&conn).sql()?;
        if self.bounded {
            conn.pragma_update(None, "cache_size", -8192).sql()?; // 8 MiB
            conn.pragma_update(None, "mmap_size", 0).sql()?;
        } else {
            conn.pragma_update(None, "mmap_size", 1i64 << 30).sql()?;
        }
        Ok(conn)
    }

    /// Runs `f` on an idle connection (or a new one), then returns the connection to the pool.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = self.idle.lock().expect("pool lock").pop();
        let mut conn = match conn {
            Some(c) => c,
            None => self.open()?,
        };
        let out = f(&mut conn);
        // A connection left inside a transaction by a failed read is not reused.
        if conn.is_autocommit() {
            let mut idle = self.idle.lock().expect("pool lock");
            if idle.len() < 16 {
                idle.push(conn);
            }
        }
        out
    }
}
