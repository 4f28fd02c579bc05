//! Trail's term index: how every filter and every search word is answered quickly over millions
//! of events while ingest stays fast.
//!
//! Each event becomes a [`terms::Doc`]: hashes of its words and of its filterable values. A
//! tenant's documents are numbered by seq. Recent ones sit in an in-memory buffer; every
//! `flush_docs` documents the buffer is written to an immutable segment file (posting lists as
//! roaring bitmaps, and each document's `occurred_at`), and segments are merged in tiers in the
//! background, as log-structured search engines do. Adding a document costs a few hash-map
//! pushes; nothing is sorted or rewritten on the ingest path.
//!
//! A filter becomes a [`terms::Plan`] that selects a superset of its events; the store checks
//! each candidate against the stored event, so answers are exact. [`search::Candidates`]
//! yields candidates newest first across sources, evaluating a source only when it could hold
//! the next one, so the first page of a large log reads one or two sources.
//!
//! The index is derived data: a lost or damaged segment is re-created by indexing the events
//! again, which the store does for any seq the index does not cover.

mod index;
mod mem;
pub mod search;
pub mod segment;
pub mod source;
pub mod terms;

pub use index::{Gap, IndexConfig, TermIndex};
pub use mem::Mem;
pub use search::{Bounds, Candidates};
pub use terms::{Doc, Plan, doc};
