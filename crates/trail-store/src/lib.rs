//! The storage boundary of Trail.
//!
//! [`Store`] is everything the server needs from a database, split by role ([`roles`]): the
//! [`EventLog`], the [`Accounts`], the [`Rollups`] behind the reports, each tenant's [`Tree`],
//! and [`Maintenance`]; the export side's read path, [`ExportReads`], stands apart from them.
//! Each backend is a sibling crate (`trail-store-sqlite`, `trail-store-postgres`) implementing
//! every role, and must pass the [`conformance`] suite, which is the executable definition of
//! the roles' contract: seq numbering, idempotency, all-or-nothing batches, ordering and
//! paging, tenant isolation. With the `memory` feature, `memory::MemStore` keeps the event
//! log, the accounts and the tree in memory, for the application's own fast tests.
//!
//! The binary chooses a backend once, at start-up, from a [`StoreLocation`]; an unknown URL
//! scheme is an error there, not a surprise later.

pub mod conformance;
mod error;
mod export_reads;
pub mod identity;
pub mod journal;
mod location;
#[cfg(feature = "memory")]
pub mod memory;
pub mod record;
mod rendered;
pub mod roles;
pub mod rollup;
pub mod tree;
mod types;
pub mod unreadable;
pub mod verify;

pub use error::{StoreError, StoreResult};
pub use export_reads::ExportReads;
pub use location::StoreLocation;
pub use rendered::{RenderRow, RenderedPage, cursor_after};
pub use roles::{Accounts, EventLog, Maintenance, Rollups, Tree};
pub use types::*;

/// A Trail database: every role at once. Every method that reads or writes a tenant's data
/// takes that tenant's [`TenantId`](trail_core::TenantId); nothing a method returns ever
/// belongs to another tenant.
///
/// Writes are durable when they return `Ok`: a backend acknowledges an append only after the
/// events are on disk (SQLite: the WAL fsynced; PostgreSQL: the commit flushed).
///
/// A backend implements the roles, never this trait: every type with all of them is a `Store`
/// (the blanket implementation below). The roles' methods are callable on `dyn Store` without
/// importing them; code that needs only one role takes `&dyn` that role (an `Arc<dyn Store>`
/// converts to it).
pub trait Store: EventLog + Accounts + Rollups + Tree + Maintenance + ExportReads {}

impl<T: EventLog + Accounts + Rollups + Tree + Maintenance + ExportReads> Store for T {}

/// The clock the conformance suite stamps events with.
fn types_now() -> jiff::Timestamp {
    trail_core::time::truncate_us(jiff::Timestamp::now())
}
