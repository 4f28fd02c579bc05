//! The `q` parser: any text parses or is refused with a position inside it, without a panic;
//! a parsed query matches events without a panic, and parsing its own source again gives the
//! same query.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trail_core::{
    event::{EventBody, NewEvent},
    search::SearchQuery,
};

fn events() -> &'static [EventBody] {
    static EVENTS: OnceLock<Vec<EventBody>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        let now: jiff::Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        [
            r#"{"action":"document.signed","actor":{"id":"u_1","email":"asha@acme.example","name":"Asha Rao"},"targets":[{"type":"document","id":"d9","name":"NDA 2026.pdf"}],"description":"Asha signed \"NDA\" 😀","context":{"ip":"203.0.113.7","session_id":"s1","location":{"country":"IN"}},"outcome":"failure"}"#,
            r#"{"action":"a","context":{"ip":"2001:db8::1"}}"#,
        ]
        .iter()
        .map(|j| NewEvent::from_json(j, now).unwrap().into_body(now))
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else { return };
    match SearchQuery::parse(q) {
        Ok(parsed) => {
            let again = SearchQuery::parse(&parsed.source).expect("a query's own source parses");
            assert_eq!(again.terms, parsed.terms, "{q:?}");
            for e in events() {
                parsed.matches(e);
            }
        }
        Err(e) => {
            assert!(e.position >= 1 && e.position <= q.chars().count() + 1, "{q:?}: {e}");
            assert!(!e.message.is_empty());
        }
    }
});
