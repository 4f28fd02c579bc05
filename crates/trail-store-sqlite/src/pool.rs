//! A bounded pool of read-only connections, used from blocking threads.
//!
//! Each connection costs memory that stays with it while it lives: its page cache (up to 64 MiB)
//! and the pages of the database file it has mapped (which count as resident while mapped). So
//! the pool is bounded twice:
//!
//! - **At most [`MAX_READERS`] reads at once.** A read waits for a slot (asynchronously, before
//!   it takes a blocking thread), so a burst of requests queues instead of opening a connection
//!   and a thread each: 250 live streams once meant 250 connections and 500 threads.
//! - **Idle connections are closed after [`IDLE_LIFE`].** A connection back from a read is
//!   kept for the next one; one unused for that long is closed by a reaper thread, so what a
//!   burst opened is given back when it has passed.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicUsize, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use trail_store::{StoreError, StoreResult};

use crate::error::SqlResultExt;

/// Reads running at once, at most (and so connections open, at most, plus the index
/// catch-up's own).
pub(crate) const MAX_READERS: usize = 16;
/// How long an idle connection is kept.
pub(crate) const IDLE_LIFE: Duration = Duration::from_secs(30);
/// How often the reaper looks for connections idle longer than [`IDLE_LIFE`].
const REAP_EVERY: Duration = Duration::from_secs(10);

pub(crate) struct ReadPool {
    path: PathBuf,
    /// Read through a small page cache instead of mapping the file (see `StoreOptions`).
    bounded: bool,
    /// Idle connections, the most recently used last, with when each was put back.
    idle: Mutex<Vec<(Connection, Instant)>>,
    slots: Arc<Semaphore>,
    /// Connections opened so far (for tests and diagnostics).
    opened: AtomicUsize,
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
        Self {
            path: path.to_owned(),
            bounded,
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(MAX_READERS)),
            opened: AtomicUsize::new(0),
        }
    }

    fn open(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .sql()?;
        configure(&conn).sql()?;
        self.opened.fetch_add(1, Relaxed);
        if self.bounded {
            conn.pragma_update(None, "cache_size", -8192).sql()?; // 8 MiB
            conn.pragma_update(None, "mmap_size", 0).sql()?;
        } else {
            conn.pragma_update(None, "mmap_size", 1i64 << 30).sql()?;
        }
        Ok(conn)
    }

    /// Waits for one of the [`MAX_READERS`] read slots; hold it while calling [`ReadPool::with`].
    pub(crate) async fn slot(&self) -> StoreResult<OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.map_err(StoreError::internal)
    }

    /// Runs `f` on an idle connection (or a new one), then returns the connection to the pool.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = self.idle.lock().expect("pool lock").pop();
        let mut conn = match conn {
            Some((c, _)) => c,
            None => self.open()?,
        };
        let out = f(&mut conn);
        // A connection left inside a transaction by a failed read is not reused.
        if conn.is_autocommit() {
            let mut idle = self.idle.lock().expect("pool lock");
            if idle.len() < MAX_READERS {
                idle.push((conn, Instant::now()));
            }
        }
        out
    }

    /// Closes the connections idle for longer than `life`; how many it closed.
    pub(crate) fn release_idle(&self, life: Duration) -> usize {
        let stale: Vec<(Connection, Instant)> = {
            let mut idle = self.idle.lock().expect("pool lock");
            // The oldest come first: the pool takes and puts back at the end.
            let keep_from = idle.iter().position(|(_, at)| at.elapsed() < life).unwrap_or(idle.len());
            idle.drain(..keep_from).collect()
        };
        // Closed outside the lock.
        let n = stale.len();
        drop(stale);
        n
    }

    /// Connections idle in the pool now.
    pub(crate) fn idle(&self) -> usize {
        self.idle.lock().expect("pool lock").len()
    }

    /// Connections opened since the pool was made.
    pub(crate) fn opened(&self) -> usize {
        self.opened.load(Relaxed)
    }
}

/// Closes idle connections every [`REAP_EVERY`] on a thread of its own, until `owner` (what
/// holds the pool) is dropped.
pub(crate) fn reap<T: Send + Sync + 'static>(owner: Weak<T>, pool: fn(&T) -> &ReadPool) {
    let _ = std::thread::Builder::new().name("trail-read-reaper".into()).spawn(move || {
        loop {
            std::thread::sleep(REAP_EVERY);
            let Some(owner) = owner.upgrade() else { return };
            let closed = pool(&owner).release_idle(IDLE_LIFE);
            if closed > 0 {
                tracing::debug!(closed, "closed idle read connections");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue 20, live tails): connections a burst of reads opened stayed open (and
    /// kept their caches and mapped pages) for as long as the process lived.
    #[test]
    fn idle_connections_are_closed_after_their_life() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        let pool = ReadPool::new(&path, false);
        for _ in 0..3 {
            pool.with(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).sql()).unwrap();
        }
        assert_eq!(pool.idle(), 1, "sequential reads reuse one connection");
        assert_eq!(pool.release_idle(Duration::from_secs(3600)), 0, "a recently used connection is kept");
        assert_eq!(pool.release_idle(Duration::ZERO), 1);
        assert_eq!(pool.idle(), 0);
    }
}
