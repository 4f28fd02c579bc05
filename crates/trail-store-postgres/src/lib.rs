//! Trail's scale-out store: one PostgreSQL database behind any number of stateless Trail
//! servers, with a schema ready to be distributed by tenant on Citus (docs/postgres.md).
//!
//! Design decisions:
//!
//! - **The same stored event and tree as SQLite.** Bodies are `trail_store::record` bytes (not
//!   compressed: PostgreSQL compresses only values over 2 KiB, and a dictionary shared by
//!   servers would need a protocol of its own), the Merkle tree is the same tiles, rollups are
//!   the same folds (`trail_store::rollup`) written with PostgreSQL's upserts.
//! - **One append at a time per tenant, across servers** ([`append`]). The append transaction
//!   first locks the tenant's row (`SELECT next_seq ... FOR UPDATE`), so seqs are assigned
//!   gap-free and the tree is extended in seq order however many servers ingest; tenants never
//!   wait for each other. The lock is released by the commit itself, so a crashed server
//!   cannot leave it held. Commits run with `synchronous_commit = on`: an acknowledgement means
//!   the WAL is flushed.
//! - **Binary COPY** for a batch's events, into monthly partitions of `occurred_at`
//!   ([`partitions`]), which retention drops whole when they hold nothing left to keep.
//! - **Exact answers from the same term hashes** ([`query`]): each row carries
//!   `trail_index::doc(body).terms` under a GIN index; a `trail_index::Plan` becomes SQL, and
//!   every candidate is checked with `Filter::matches`, as in SQLite.

mod accounts;
mod append;
mod counts;
mod erase;
mod error;
mod identity;
mod partitions;
mod purge;
mod query;
mod rollups;
mod schema;
mod store;
pub mod testing;
mod tree;
pub mod verify;

pub use store::{PgOptions, PgStore};
