//! Trail's embedded store: one SQLite database in the data directory, no setup.
//!
//! Design decisions, each measured on a 2-core machine:
//!
//! - **One writer, group commit** ([`writer`]). A single thread owns the write connection. It
//!   takes every append that is waiting, writes them all in one transaction (each request inside
//!   its own savepoint, so one request's conflict does not sink the others), commits with
//!   `synchronous=FULL` (the WAL is fsynced), and only then answers every request of the group.
//!   Many concurrent requests therefore share one fsync, and no request is acknowledged before
//!   its events are on disk.
//! - **Events keyed by place** ([`schema`]). An event's integer primary key is
//!   `tenant_number << 40 | seq`, so the table is clustered by tenant and seq: fetching an event
//!   by seq, or walking a tenant's log in order (as `trail verify` does), reads one B-tree range,
//!   and no separate `(tenant, seq)` index is needed.
//! - **Sequence state read inside the write transaction.** The next seq of a tenant is read
//!   from its row under the write lock for every group, never cached, so another process (the
//!   CLI's `trail ingest` while a server runs) can safely append to the same data directory.
//! - **A term index beside the log** (`trail-index`): each event's filterable values and words,
//!   added after each commit; queries take candidates from it newest first and check each
//!   against the stored event ([`query`]).
//! - **Compact rows** ([`codec`]): bodies are zstd-compressed with a dictionary trained on the
//!   store's own events (without their personal fields); the idempotency key is a hash.
//! - **Readers in parallel** ([`pool`]). Queries run on a small pool of read-only connections on
//!   blocking threads; WAL mode lets them read while the writer writes.

mod buckets;
mod bulk;
mod codec;
mod erase;
mod error;
mod facts;
mod identity;
mod links;
mod logins;
mod members;
pub mod perms;
mod pool;
mod purge;
mod query;
mod recent;
mod rollups;
mod schema;
pub mod space;
mod store;
#[doc(hidden)]
pub mod tamper;
mod tree;
mod usage;
pub mod verify;
mod writer;

pub use store::{SqliteStore, StoreOptions};
pub use writer::WriterStats;

/// The database file inside a data directory.
pub const DB_FILE: &str = "trail.db";

/// Bits of an event's primary key given to its seq; the tenant number takes the rest.
pub(crate) const SEQ_BITS: u32 = 40;
pub(crate) const SEQ_MASK: i64 = (1 << SEQ_BITS) - 1;

/// The primary key of a tenant's event.
pub(crate) fn event_pos(tid: i64, seq: u64) -> i64 {
    (tid << SEQ_BITS) | seq as i64
}
