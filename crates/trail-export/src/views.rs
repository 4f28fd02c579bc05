//! How an event or a report row becomes a row of a view's cells. The views themselves (their
//! names, titles, columns and actions) are named in `trail_core::vocabulary::views`, with the
//! rest of Trail's vocabulary; [`ViewKind`] is re-exported here, where the export code has
//! always found it.
//!
//! Event views (activity and the catalogue's logs) are fed by the streaming query; report
//! views (logins, usage, users) are fed the report's JSON rows (the reports' field names) by
//! [`View::report_cells`].

use jiff::{Timestamp, tz::TimeZone};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use trail_core::{
    event::{
        StoredEvent,
        activity::{Activity, TargetText},
    },
    vocabulary::actions,
};

pub use trail_core::vocabulary::views::ViewKind;

use crate::cell::{Cell, Column};

/// A view as one caller sees it: the kind, the tenant's time zone, and what the caller may see.
#[derive(Debug, Clone)]
pub struct View {
    pub kind: ViewKind,
    pub tz: TimeZone,
    /// Keys the link access log's `linkSessionId` (so raw session ids never leave Trail).
    pub link_key: [u8; 32],
    /// SMS phone numbers show only their last four digits (every role but admins).
    pub mask_phone: bool,
}

impl View {
    pub fn new(kind: ViewKind, tz: TimeZone) -> View {
        View { kind, tz, link_key: [0; 32], mask_phone: true }
    }

    pub fn columns(&self) -> Vec<Column> {
        self.kind.columns().to_vec()
    }

    /// The time in the tenant's zone, as a zoned time of that zone's offset at that moment
    /// (which is all a cell shows: the local time and its offset). Not a clone of the tenant's
    /// zone: a zone is shared by reference count, and the two threads rendering an export's
    /// rows each adding to and taking from one count cost a twentieth of the export.
    fn date(&self, t: Timestamp) -> Cell<'static> {
        Cell::Date(t.to_zoned(TimeZone::fixed(self.tz.to_offset(t))))
    }

    /// The row of one event, in the view's column order, appended to `out`.
    pub fn cells<'a>(&self, e: &'a StoredEvent, out: &mut Vec<Cell<'a>>) {
        let b = &e.body;
        // Made from the event's activity fields, as a CSV export's rows are made straight from
        // the stored text; before the other views' cells, which it does not use (the address
        // would be formatted twice).
        if self.kind == ViewKind::Activity {
            return self.activity_cells(e.seq, Activity::of(b), out);
        }
        let actor = b.actor.as_ref();
        let ctx = b.context.as_ref();
        let loc = ctx.and_then(|c| c.location.as_ref());
        let client = ctx.and_then(|c| c.client.as_ref());
        let meta = |k: &str| b.metadata.as_ref().and_then(|m| m.get(k));
        let meta_text = |k: &str| match meta(k) {
            None | Some(Value::Null) => Cell::Empty,
            Some(Value::String(s)) => Cell::text(Some(s)),
            Some(v) => Cell::owned(v.to_string()),
        };
        let user = Cell::text(actor.and_then(|a| a.name.as_deref().or(a.id.as_deref())));
        let email = Cell::text(actor.and_then(|a| a.email.as_deref()));
        let ip = ctx.and_then(|c| c.ip).map_or(Cell::Empty, Cell::ip);
        let country = Cell::text(loc.and_then(|l| l.country_name.as_deref().or(l.country.as_deref())));
        let city = Cell::text(loc.and_then(|l| l.city.as_deref()));
        let os = Cell::text(client.and_then(|c| c.os.as_deref()));
        let browser = Cell::text(client.and_then(|c| c.browser.as_deref()));
        let method = Cell::text(ctx.and_then(|c| c.method).map(|m| m.as_str()));
        let url = Cell::text(ctx.and_then(|c| c.url.as_deref()));
        let status = ctx.and_then(|c| c.status).map_or(Cell::Empty, |s| Cell::Int(s.into()));
        let seq = Cell::Int(e.seq as i64);
        let outcome = Cell::text(Some(b.outcome.as_str()));
        let target =
            |kind: &str| b.targets.iter().find(|t| t.kind == kind).and_then(|t| t.name.as_deref().or(t.id.as_deref()));
        match self.kind {
            ViewKind::Activity => unreachable!("the activity row is made above"),
            ViewKind::Api => out.extend([seq, self.date(b.occurred_at), method, url, status, ip, user, email, outcome]),
            ViewKind::Panel => {
                out.extend([seq, self.date(b.occurred_at), user, email, method, url, status, ip, browser, os])
            }
            ViewKind::Messages => {
                let recipients = match meta("recipients") {
                    Some(Value::Array(a)) => Cell::owned(
                        a.iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    _ => meta_text("recipients"),
                };
                let expires = match meta("expires_at").and_then(Value::as_str).and_then(|s| s.parse().ok()) {
                    Some(t) => self.date(t),
                    None => meta_text("expires_at"),
                };
                out.extend([
                    seq,
                    self.date(b.occurred_at),
                    user,
                    email,
                    Cell::text(Some(&b.report_type)),
                    Cell::text(target("message")),
                    recipients,
                    expires,
                    ip,
                    country,
                    city,
                    browser,
                ])
            }
            ViewKind::Sms => {
                let phone = match meta("phone").and_then(Value::as_str) {
                    Some(p) if self.mask_phone => Cell::owned(mask_phone(p)),
                    _ => meta_text("phone"),
                };
                let status = match b.action.as_str() {
                    actions::SMS_SENT => "Sent",
                    actions::SMS_FAILED => "Failed",
                    _ => b.report_type.as_str(),
                };
                out.extend([
                    seq,
                    self.date(b.occurred_at),
                    meta_text("message_id"),
                    meta_text("campaign"),
                    phone,
                    meta_text("gateway"),
                    Cell::text(Some(status)),
                    meta_text("error"),
                    user,
                ])
            }
            ViewKind::Documents => out.extend([
                seq,
                self.date(b.occurred_at),
                Cell::text(target("document")),
                Cell::text(Some(&b.report_type)),
                user,
                email,
                ip,
                Cell::text(b.description.as_deref()),
            ]),
            ViewKind::LinkAccess => {
                let event = match b.action.as_str() {
                    actions::LINK_SAVED => "Saved",
                    actions::LINK_VIEWED => "Viewed",
                    _ => b.report_type.as_str(),
                };
                let session = ctx.and_then(|c| c.session_id.as_deref()).map(|s| link_session_id(&self.link_key, s));
                out.extend([
                    self.date(b.occurred_at),
                    session.map_or(Cell::Empty, Cell::owned),
                    Cell::text(Some(event)),
                    email,
                    ip,
                    country,
                    city,
                    os,
                    browser,
                    Cell::text(target("file")),
                ])
            }
            // Report views have no event rows; a caller that streams events into one gets the
            // activity columns' worth of nothing rather than a panic.
            ViewKind::Logins | ViewKind::Usage | ViewKind::Users => {
                out.extend(self.kind.columns().iter().map(|_| Cell::Empty))
            }
        }
    }

    /// The activity row of event `seq`, appended to `out`: the one definition of the
    /// activity columns, for a typed event ([`View::cells`], through [`Activity::of`]) and for
    /// one read straight from its stored text ([`Activity::read`]).
    pub fn activity_cells<'a>(&self, seq: u64, a: Activity<'a>, out: &mut Vec<Cell<'a>>) {
        let Activity {
            occurred_at,
            category,
            outcome,
            report_type,
            actor,
            description,
            targets,
            ip,
            location,
            client,
            ..
        } = a;
        let (user, email) = actor.map_or((None, None), |a| (a.name.or(a.id), a.email));
        let (country, region, city) =
            location.map_or((None, None, None), |l| (l.country_name.or(l.country), l.region, l.city));
        let (os, browser) = client.map_or((None, None), |c| (c.os, c.browser));
        out.extend([
            Cell::Int(seq as i64),
            self.date(occurred_at),
            Cell::cow(user),
            Cell::cow(email),
            Cell::cow(Some(report_type)),
            Cell::cow(Some(category)),
            Cell::cow(description),
            Cell::owned(targets_text(&targets)),
            Cell::cow(ip),
            Cell::cow(country),
            Cell::cow(region),
            Cell::cow(city),
            Cell::cow(os),
            Cell::cow(browser),
            Cell::cow(Some(outcome)),
        ])
    }

    /// The row of one report row (the reports' field names): `*_at` fields become dates, numbers
    /// stay numbers, and usage's `storage` is `storage_bytes` in human units.
    pub fn report_cells<'a>(&self, row: &'a Map<String, Value>) -> Vec<Cell<'a>> {
        self.kind
            .columns()
            .iter()
            .map(|c| match (c.key, row.get(c.key)) {
                ("storage", _) => row
                    .get("storage_bytes")
                    .and_then(Value::as_u64)
                    .map_or(Cell::Empty, |b| Cell::owned(human_bytes(b))),
                (_, None | Some(Value::Null)) => Cell::Empty,
                (k, Some(Value::String(s))) if k.ends_with("_at") => match s.parse::<Timestamp>() {
                    Ok(t) => self.date(t),
                    Err(_) => Cell::text(Some(s)),
                },
                (_, Some(Value::String(s))) => Cell::text(Some(s)),
                (_, Some(Value::Number(n))) => n.as_i64().map_or_else(|| Cell::owned(n.to_string()), Cell::Int),
                (_, Some(v)) => Cell::owned(v.to_string()),
            })
            .collect()
    }
}

/// The targets of an event as one cell: `type: name (id)`, separated by `; `.
fn targets_text(targets: &[TargetText<'_>]) -> String {
    let mut out = String::new();
    for t in targets {
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&t.kind);
        out.push_str(": ");
        match (&t.name, &t.id) {
            (Some(n), Some(id)) => {
                out.push_str(n);
                out.push_str(" (");
                out.push_str(id);
                out.push(')');
            }
            (Some(s), None) | (None, Some(s)) => out.push_str(s),
            (None, None) => {}
        }
    }
    out
}

/// The link access log's `linkSessionId`: 16 hex digits of SHA-256 over a server key and the session id,
/// so a session's rows stay together but its raw id never leaves Trail.
pub fn link_session_id(key: &[u8; 32], session: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"trail-link-session\0");
    h.update(key);
    h.update(session.as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// A phone number with every digit but the last four hidden: `+44 7700 900123` -> `+** **** **0123`
/// (one rule with the masking of every other place the number is written, `trail_core::redaction`).
pub use trail_core::redaction::mask_phone;

/// Bytes in human units (1024-based, one decimal): `1.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_their_last_four_digits() {
        assert_eq!(mask_phone("+44 7700 900123"), "+** **** **0123");
        assert_eq!(mask_phone("123"), "123");
    }

    #[test]
    fn bytes_read_as_people_say_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn link_sessions_are_keyed() {
        let a = link_session_id(&[1; 32], "s_1");
        assert_eq!(a.len(), 16);
        assert_eq!(a, link_session_id(&[1; 32], "s_1"));
        assert_ne!(a, link_session_id(&[2; 32], "s_1"));
        assert!(!a.contains("s_1"));
    }

    #[test]
    fn every_view_has_a_cell_for_every_column() {
        let body = trail_core::event::NewEvent::from_json(
            r#"{"action":"sms.sent","actor":{"id":"u","email":"a@b.example"},"targets":[{"type":"file","id":"f","name":"a.pdf"}],"context":{"ip":"203.0.113.7","session_id":"s","method":"GET","status":200,"url":"/x"},"metadata":{"phone":"+447700900123","recipients":["x@y.example"],"expires_at":"2026-01-01T00:00:00Z"}}"#,
            "2026-11-22T12:00:00Z".parse().unwrap(),
        )
        .unwrap()
        .into_body("2026-11-22T12:00:00Z".parse().unwrap());
        let e = StoredEvent { tenant: trail_core::TenantId::parse("t").unwrap(), seq: 3, body };
        for kind in ViewKind::ALL {
            let mut cells = Vec::new();
            View::new(kind, TimeZone::UTC).cells(&e, &mut cells);
            assert_eq!(cells.len(), kind.columns().len(), "{kind:?}");
        }
        let mut cells = Vec::new();
        View::new(ViewKind::Sms, TimeZone::UTC).cells(&e, &mut cells);
        assert_eq!(cells[4], Cell::Text("+********0123".into()));
    }

    /// Exports of the activity columns read events with only [`Fields::Activity`] (see
    /// `trail_core::event::fields`): their cells must be those of the whole event. A column
    /// that starts to read another field fails here, until the field is added there.
    #[test]
    fn activity_columns_need_only_the_activity_fields() {
        use trail_core::event::{Client, Fields};
        let now = "2026-11-22T12:00:00Z".parse().unwrap();
        let events = [
            r#"{"id":"k","action":"document.signed","outcome":"failure","actor":{"id":"u_1","name":"Asha Rao","email":"asha@acme.example"},"targets":[{"type":"document","id":"d9","name":"NDA.pdf"},{"type":"folder","id":"f1"}],"description":"=Asha signed","context":{"ip":"203.0.113.77","user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0","session_id":"s1","url":"/d/9","method":"POST","status":201,"location":{"country":"IN","country_name":"India","region":"Karnataka","city":"Bengaluru"}},"metadata":{"k":1}}"#,
            r#"{"action":"user.login","actor":{"id":"u_2","type":"api_key"},"context":{"ip":"2001:db8::7","location":{"country":"GB"}}}"#,
            r#"{"action":"link.viewed","actor":{"email":"x@y.example"},"category":"sharing"}"#,
        ];
        for (i, json) in events.into_iter().enumerate() {
            let mut body = trail_core::event::NewEvent::from_json(json, now).unwrap().into_body(now);
            if let Some(c) = body.context.as_mut() {
                c.client = Some(Client {
                    os: Some("Linux".into()),
                    browser: Some("Firefox 133".into()),
                    device: Some("desktop".into()),
                });
            }
            let (canonical, _) = trail_core::canonical::write(&body);
            let text = std::str::from_utf8(&canonical).unwrap();
            let read = |fields: Fields| StoredEvent {
                tenant: trail_core::TenantId::parse("t").unwrap(),
                seq: 7,
                body: fields.parse(text).unwrap(),
            };
            let (whole, part) = (read(Fields::All), read(Fields::Activity));
            assert_eq!(whole.body, body, "event {i} reads back whole");
            for tz in [TimeZone::UTC, TimeZone::get("Asia/Kolkata").unwrap()] {
                let view = View::new(ViewKind::Activity, tz);
                let (mut a, mut b) = (Vec::new(), Vec::new());
                view.cells(&whole, &mut a);
                view.cells(&part, &mut b);
                assert_eq!(a, b, "event {i}");
                assert!(a.iter().filter(|c| **c != Cell::Empty).count() >= 6, "event {i}: {a:?}");
            }
        }
    }

    #[test]
    fn report_rows_become_typed_cells() {
        let row: Map<String, Value> = serde_json::from_str(
            r#"{"actor_id":"u1","name":"Asha","email":"a@x.example","files":3,"storage_bytes":1536,"uploads":4,"downloads":0,"deletes":1,"last_activity_at":"2026-11-22T10:00:00Z"}"#,
        )
        .unwrap();
        let cells = View::new(ViewKind::Usage, TimeZone::get("Asia/Kolkata").unwrap()).report_cells(&row);
        assert_eq!(cells[0], Cell::Text("Asha".into()));
        assert_eq!(cells[2], Cell::Int(3));
        assert_eq!(cells[4], Cell::Text("1.5 KiB".into()));
        assert_eq!(cells[8].display(), "2026-11-22 15:30:00 +05:30");
    }
}
