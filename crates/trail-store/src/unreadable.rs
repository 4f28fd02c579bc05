//! A stored event a backend cannot read: logged, and read as its placeholder
//! ([`EventBody::unreadable`]), so that one damaged record never fails a whole list, page,
//! export or live tail. Both backends read every event through here.

use std::fmt::Display;

use jiff::Timestamp;
use trail_core::event::EventBody;
pub use trail_core::event::unreadable::occurred_at_in;

/// An event as a backend read it: the event, or the placeholder of one it could not read.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub body: EventBody,
    /// False for a placeholder: the event's own fields are unknown, so a filter cannot be
    /// checked against it; the backend shows it wherever its index (which was made from the
    /// event when it was written) proposes it.
    pub readable: bool,
}

/// `decoded`, or, when it failed, the placeholder of event `seq` of `tenant`, logged as an
/// error. Its time is `occurred_at` (in microseconds) when the backend knows it without the
/// event (its index, a column), else what the record's `text` (decompressed, if it could be)
/// still holds, else the epoch.
pub fn or_placeholder<E: Display>(
    decoded: Result<EventBody, E>,
    tenant: &dyn Display,
    seq: u64,
    occurred_at: Option<i64>,
    text: impl FnOnce() -> Option<Timestamp>,
) -> Read {
    match decoded {
        Ok(body) => Read { body, readable: true },
        Err(e) => {
            let reason = e.to_string();
            tracing::error!(tenant = %tenant, seq, error = %reason, "stored event cannot be read; shown as a placeholder");
            let at = occurred_at.and_then(|us| Timestamp::from_microsecond(us).ok()).or_else(text);
            Read { body: EventBody::unreadable(seq, at.unwrap_or(Timestamp::UNIX_EPOCH), &reason), readable: false }
        }
    }
}
