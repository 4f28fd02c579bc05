//! What a reader is shown in place of a stored event that cannot be read back (a damaged
//! record, or one written under rules that have since been tightened).
//!
//! One such event must not take down every list, page, export and live tail it falls in: the
//! stores return this placeholder in its place, at its seq, and log an error naming the tenant
//! and the seq. A placeholder rather than a gap, so nothing is hidden without a word: the row
//! says which event cannot be read and what to run. `trail verify` still reports the event (its
//! leaf no longer matches, or it fails to decode).

use jiff::Timestamp;

use super::{Action, Category, EventBody, Outcome};
use crate::vocabulary::{actions, categories};

/// The action of a placeholder event.
pub const UNREADABLE_ACTION: &str = actions::TRAIL_EVENT_UNREADABLE;

impl EventBody {
    /// The placeholder for stored event `seq`, which could not be read for `reason`. Its time
    /// is what the store knows of the event's time without reading it (its index, a column),
    /// or `occurred_at_in` the damaged text, or the epoch when nothing is known.
    pub fn unreadable(seq: u64, occurred_at: Timestamp, reason: &str) -> EventBody {
        EventBody {
            id: None,
            occurred_at,
            received_at: occurred_at,
            action: Action::parse(UNREADABLE_ACTION).expect("a valid action"),
            category: Category::parse(categories::TRAIL).expect("a valid category"),
            outcome: Outcome::Failure,
            report_type: "Unreadable event".to_owned(),
            actor: None,
            targets: Vec::new(),
            description: Some(format!(
                "The stored event at seq {seq} cannot be read ({reason}). Run `trail verify` to check the log's integrity."
            )),
            context: None,
            metadata: None,
            erased: Vec::new(),
        }
    }
}

/// The `occurred_at` a damaged stored event's text still holds, if it can be found: the time
/// of its placeholder when the store knows no other.
pub fn occurred_at_in(text: &[u8]) -> Option<Timestamp> {
    const KEY: &[u8] = b"\"occurred_at\":\"";
    let at = memchr::memmem::find(text, KEY)? + KEY.len();
    let len = text.get(at..)?.iter().take(40).position(|&b| b == b'"')?;
    crate::time::parse_rfc3339(std::str::from_utf8(&text[at..at + len]).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_names_the_seq_and_reads_back() {
        let t: Timestamp = "2026-11-22T10:15:30.120Z".parse().unwrap();
        let e = EventBody::unreadable(42, t, "the stored event does not parse");
        assert!(e.description.as_deref().unwrap().contains("seq 42"));
        assert_eq!(e.action.as_str(), UNREADABLE_ACTION);
        let text = String::from_utf8(crate::canonical::write(&e).0).unwrap();
        assert_eq!(crate::event::Fields::All.parse(&text).unwrap(), e);
        assert_eq!(occurred_at_in(text.as_bytes()), Some(t));
        assert_eq!(occurred_at_in(b"{\"occurred_at\":\"nope\"}"), None);
        assert_eq!(occurred_at_in(b"{\"occurred_at\":\"2026-11-22T10:15:30"), None);
    }
}
