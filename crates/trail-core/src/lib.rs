//! Trail's domain, with no I/O.
//!
//! Everything that enters Trail becomes a typed value here first ("parse, don't validate"): a
//! [`TenantId`], an [`event::NewEvent`] checked against every rule of the event format, a
//! [`filter::Filter`] with its time bounds resolved in the tenant's time zone. Backends and the HTTP
//! layer only ever handle these typed values, so a query cannot be built without a tenant and an
//! event cannot be stored without having been validated.
//!
//! Modules:
//! - [`bytes`]: looking for a few byte values eight bytes at a time in short texts.
//! - [`ids`]: identifiers (tenants, API keys) and their syntax.
//! - [`event`]: what a client sends, its validation, and what Trail stores and returns.
//! - [`vocabulary`]: the names every crate shares: actions, categories, the catalogue's labels,
//!   and the views (what they are called, their columns, the actions each holds).
//! - [`canonical`]: the canonical (JCS) form of a stored event, and the leaf it becomes.
//! - [`merkle`]: RFC 6962 tree math, proofs and their verification.
//! - [`checkpoint`]: signed checkpoints (C2SP tlog-checkpoint in a signed note).
//! - [`time`]: timestamps as Trail prints them, and the `range` presets.
//! - [`filter`]: the query filters shared by query, export, stream and reports, and the page cursor.
//! - [`redaction`]: what a reader is not shown of an event (masked phones, withheld link
//!   detail), and how their filters see the same.
//! - [`search`]: the `q` search syntax and the word rules shared by matching and indexing.

pub mod bytes;
pub mod canonical;
pub mod checkpoint;
pub mod event;
pub mod filter;
pub mod ids;
pub mod merkle;
pub mod privacy;
pub mod redaction;
pub mod search;
pub mod time;
pub mod vocabulary;

/// The catalogue's labels, by the path they have always had.
pub use vocabulary::catalogue;

pub use ids::TenantId;
