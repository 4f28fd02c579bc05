//! The storage roles: [`crate::Store`]'s methods, grouped by what they are for.
//!
//! A backend implements each role; code that needs only one (the live tail needs the event log,
//! sign-in needs the accounts) can take `&dyn` that role, and a store that implements only some
//! (the in-memory store, `crate::memory`) can stand in for a full one there. What needs it all
//! takes [`crate::Store`], which is every role at once (with the export side's
//! [`crate::ExportReads`]), so `Arc<dyn Store>` callers reach every method without importing
//! the roles. A concrete store's methods need their role in scope (`use trail_store::roles::*`).
//!
//! - [`EventLog`]: appending and reading a tenant's events.
//! - [`Accounts`]: tenants, API keys, console members and their sessions, server settings.
//! - [`Rollups`]: what every append folds into per-person and per-link rows (the reports), and
//!   who is who (identity links).
//! - [`Tree`]: each tenant's Merkle tree and its signed checkpoints.
//! - [`Maintenance`]: readiness, retention's purge, erasure, a full check of a log.

mod accounts;
mod event_log;
mod maintenance;
mod rollups;
mod tree;

pub use accounts::Accounts;
pub use event_log::EventLog;
pub use maintenance::Maintenance;
pub use rollups::Rollups;
pub use tree::Tree;
