//! Reading part of a stored event: what a reader that looks at only some fields (an export of
//! the activity columns) asks the store for.
//!
//! Parsing a stored event's JSON is the largest part of an export's time, and the activity
//! columns show less than half of an event: no user agent, URL, session, method,
//! status, device or metadata. Passing over those without copying them saves five allocations
//! an event and the parsing of the metadata.
//!
//! (A CSV export of the activity view whose filter needs no check of each event reads even less:
//! the activity fields borrowed from the text, [`super::Activity`].)
//!
//! An event read with [`Fields::Activity`] has the fields the activity columns read and what
//! [`Filter::matches`] reads for a filter it [`serves`](Fields::serves); the others may be
//! absent (an event the fast reader declines is read whole). The tests of `trail-export` check
//! that the activity columns of such an event are the columns of the whole event, so a column
//! that starts to read another field fails there.

use super::EventBody;
use crate::filter::Filter;

/// Which fields of each event a reader needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fields {
    /// The whole event.
    #[default]
    All,
    /// What the activity columns show: time, actor, action, category, outcome,
    /// report type, targets, remarks, address, location and client (OS and browser).
    Activity,
}

impl Fields {
    /// Whether [`Filter::matches`] answers the same on an event read with these fields as on
    /// the whole event. A store reads whole events for a filter these fields do not serve.
    pub fn serves(self, filter: &Filter) -> bool {
        match self {
            Fields::All => true,
            // The session and the free-text search look at fields the columns do not show; a
            // redacted copy made from part of an event hides less than one made from the whole
            // (a phone number in the metadata is found in the actor's id), so a filter that sees
            // redacted copies reads whole events.
            Fields::Activity => filter.sessions.is_empty() && filter.q.is_none() && !filter.sees_redacted(),
        }
    }

    /// An event from its canonical JSON (the stored form, without erased fields), with these
    /// fields: by the reader of the canonical form (`reader.rs`), or whole by serde_json when
    /// that reader declines the text.
    pub fn parse(self, canonical: &str) -> serde_json::Result<EventBody> {
        match super::reader::read(canonical, self) {
            Some(body) => Ok(body),
            None => serde_json::from_str(canonical),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Client, NewEvent};

    #[test]
    fn the_activity_fields_are_read_and_the_others_left_out() {
        let now = "2026-11-22T12:00:00Z".parse().unwrap();
        let json = r#"{"id":"k1","action":"document.signed","actor":{"id":"u_1","name":"Asha \"A\" Rao","email":"asha@acme.example","type":"user"},
            "targets":[{"type":"document","id":"d9","name":"NDA.pdf"}],"description":"Asha signed\nNDA","outcome":"failure",
            "context":{"ip":"203.0.113.77","user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0","session_id":"s1","url":"/d/9","method":"POST","status":201,
            "location":{"country":"IN","region":"Karnataka","city":"Bengaluru"}},"metadata":{"k":[1,2]}}"#;
        let mut whole = NewEvent::from_json(json, now).unwrap().into_body(now);
        whole.context.as_mut().unwrap().client = Some(Client {
            os: Some("Linux".into()),
            browser: Some("Firefox 133".into()),
            device: Some("desktop".into()),
        });
        let canonical = String::from_utf8(crate::canonical::write(&whole).0).unwrap();
        assert_eq!(Fields::All.parse(&canonical).unwrap(), whole);
        // Text in another order is read whole, by serde_json.
        let other = serde_json::to_string(&whole).unwrap();
        assert_eq!(Fields::Activity.parse(&other).unwrap(), whole);
        let part = Fields::Activity.parse(&canonical).unwrap();
        let mut expected = whole.clone();
        expected.id = None;
        expected.metadata = None;
        let ctx = expected.context.as_mut().unwrap();
        (ctx.user_agent, ctx.session_id, ctx.url, ctx.method, ctx.status) = (None, None, None, None, None);
        ctx.client.as_mut().unwrap().device = None;
        assert_eq!(part, expected);
        assert_ne!(part, whole);
    }

    #[test]
    fn sessions_and_searches_need_whole_events() {
        let mut f = Filter::default();
        assert!(Fields::Activity.serves(&f));
        f.actors = vec!["u_1".into()];
        f.countries = vec!["IN".into()];
        assert!(Fields::Activity.serves(&f));
        f.sessions = vec!["s1".into()];
        assert!(!Fields::Activity.serves(&f));
        f.sessions.clear();
        // Regression (search confirmed hidden values): a reader shown SMS events with their
        // phone masked is matched on the masked copy, which needs the metadata.
        f.redaction.mask_phones = true;
        assert!(!Fields::Activity.serves(&f));
        f.actions = vec![crate::filter::ActionPattern::parse("auth.*").unwrap()];
        assert!(Fields::Activity.serves(&f), "no SMS event selected: nothing masked");
        f.q = Some(crate::search::SearchQuery::parse("ssh").unwrap());
        assert!(!Fields::Activity.serves(&f));
        assert!(Fields::All.serves(&f));
    }
}
