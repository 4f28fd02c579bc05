//! Events: what a client sends, how it is checked, and what Trail stores (docs/events.md).
//!
//! - [`model`]: the typed parts of an event, shared by what is sent and what is stored.
//! - [`validate`]: one client event, from JSON to a [`NewEvent`] that satisfies every rule, or an
//!   error naming the JSON path of the offending field.
//! - [`batch`]: a request body (one object, a JSON array or NDJSON) into a batch of events, all or
//!   nothing, with the request limits of docs/api.md.
//! - [`stored`]: the event as Trail keeps and returns it, with defaults filled in and enrichment.
//! - [`fields`]: reading only some fields of a stored event (an export of the activity columns).
//! - [`activity`]: the activity columns' fields, borrowed from a typed event or from the stored text.
//! - [`unreadable`]: the placeholder shown in place of a stored event that cannot be read.

pub mod activity;
pub mod batch;
pub mod fields;
pub mod model;
mod reader;
pub mod stored;
pub mod unreadable;
pub mod validate;

pub use activity::Activity;
pub use batch::{BatchError, BatchErrorKind, BodyFormat, Limits, parse_batch};
pub use fields::Fields;
pub use model::{Action, Actor, ActorType, Category, Client, Context, Location, Method, Outcome, Target};
pub use stored::{ERASED, EventBody, StoredEvent};
pub use unreadable::UNREADABLE_ACTION;
pub use validate::{FieldError, NewEvent};
