//! Reading part of a stored event: what a reader that looks at only some fields (an export of
//! the activity columns) asks the store for.
//!
//! Parsing a stored event's JSON is the largest part of an export's time, and the activity
//! columns (SPEC 6.1) show less than half of an event: no user agent, URL, session, method,
//! status, device or metadata. Measured on the benchmark's events, parsing only what the
//! columns show takes 1.27 µs an event instead of 1.66-1.81 (the long user agent is skipped
//! without being copied, and five allocations fewer).
//!
//! An event read with [`Fields::Activity`] has the fields the activity columns read and what
//! [`Filter::matches`] reads for a filter it [`serves`](Fields::serves); every other field is
//! absent. The tests of `trail-export` check that the activity columns of such an event are the
//! columns of the whole event, so a column that starts to read another field fails there.

use serde::Deserialize;

use super::{Action, Actor, Category, Client, EventBody, Location, Outcome, Target, model::Context};
use crate::{filter::Filter, time::serde_rfc3339};

/// Which fields of each event a reader needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fields {
    /// The whole event.
    #[default]
    All,
    /// What the activity columns show (SPEC 6.1): time, actor, action, category, outcome,
    /// report type, targets, remarks, address, location and client (OS and browser).
    Activity,
}

impl Fields {
    /// Whether [`Filter::matches`] answers the same on an event read with these fields as on
    /// the whole event. A store reads whole events for a filter these fields do not serve.
    pub fn serves(self, filter: &Filter) -> bool {
        match self {
            Fields::All => true,
            // The session and the free-text search look at fields the columns do not show.
            Fields::Activity => filter.sessions.is_empty() && filter.q.is_none(),
        }
    }

    /// An event from its canonical JSON (the stored form, without erased fields), with these
    /// fields.
    pub fn parse(self, canonical: &str) -> serde_json::Result<EventBody> {
        match self {
            Fields::All => serde_json::from_str(canonical),
            Fields::Activity => serde_json::from_str::<ActivityBody>(canonical).map(EventBody::from),
        }
    }
}

/// [`EventBody`] with only the fields of [`Fields::Activity`]: serde skips the others without
/// copying them.
#[derive(Deserialize)]
struct ActivityBody {
    #[serde(with = "serde_rfc3339")]
    occurred_at: jiff::Timestamp,
    #[serde(with = "serde_rfc3339")]
    received_at: jiff::Timestamp,
    action: Action,
    category: Category,
    outcome: Outcome,
    report_type: String,
    #[serde(default)]
    actor: Option<Actor>,
    #[serde(default)]
    targets: Vec<Target>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    context: Option<ActivityContext>,
}

#[derive(Deserialize)]
struct ActivityContext {
    #[serde(default)]
    ip: Option<std::net::IpAddr>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    client: Option<ActivityClient>,
}

#[derive(Deserialize)]
struct ActivityClient {
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    browser: Option<String>,
}

impl From<ActivityBody> for EventBody {
    fn from(b: ActivityBody) -> Self {
        EventBody {
            id: None,
            occurred_at: b.occurred_at,
            received_at: b.received_at,
            action: b.action,
            category: b.category,
            outcome: b.outcome,
            report_type: b.report_type,
            actor: b.actor,
            targets: b.targets,
            description: b.description,
            context: b.context.map(|c| {
                Box::new(Context {
                    ip: c.ip,
                    location: c.location,
                    client: c.client.map(|c| Client { os: c.os, browser: c.browser, device: None }),
                    ..Context::default()
                })
            }),
            metadata: None,
            erased: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::NewEvent;

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
        let canonical = serde_json::to_string(&whole).unwrap();
        assert_eq!(Fields::All.parse(&canonical).unwrap(), whole);
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
        f.q = Some(crate::search::SearchQuery::parse("ssh").unwrap());
        assert!(!Fields::Activity.serves(&f));
        assert!(Fields::All.serves(&f));
    }
}
