//! The event as Trail stores and returns it (docs/events.md).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use xxhash_rust::xxh3::Xxh3;

use super::{model::*, validate::NewEvent};
use crate::{catalogue, ids::TenantId, time::serde_rfc3339};

/// Everything of a stored event but its place (tenant and seq): the event as sent, with
/// `received_at`, `category`, `outcome`, the actor's `type` and `report_type` filled in, and the
/// enrichment made at ingest. Backends keep this as one document beside their index columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(with = "serde_rfc3339")]
    pub occurred_at: Timestamp,
    #[serde(with = "serde_rfc3339")]
    pub received_at: Timestamp,
    pub action: Action,
    pub category: Category,
    pub outcome: Outcome,
    pub report_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Boxed: most of an event's size, and events are moved often on their way out (a page of
    /// an export moves each a few times), so the body stays small to move.
    pub context: Option<Box<Context>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// The personal fields erased from this event, by path (`actor.email`, ...): their
    /// values read `[erased]` (the address is absent), and only their commitments remain in
    /// the leaf. Never part of the canonical form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<String>,
}

/// What an erased text field reads.
pub const ERASED: &str = "[erased]";

impl NewEvent {
    /// Fills in what the client left out. `received_at` is when the request arrived.
    pub fn into_body(self, received_at: Timestamp) -> EventBody {
        let category = self.category.unwrap_or_else(|| self.action.default_category());
        EventBody {
            report_type: catalogue::report_type(self.action.as_str()),
            id: self.id,
            occurred_at: self.occurred_at.unwrap_or(received_at),
            received_at,
            action: self.action,
            category,
            outcome: self.outcome.unwrap_or_default(),
            actor: self.actor,
            targets: self.targets.unwrap_or_default(),
            description: self.description,
            context: self.context.map(Box::new),
            metadata: self.metadata,
            erased: Vec::new(),
        }
    }

    /// A digest of the event as sent, for idempotency: the same `id` with the same digest is a
    /// duplicate, with another digest a conflict. Key order and whitespace do not matter.
    ///
    /// It is XXH3-128 over the typed fields, each tagged and length-prefixed (no JSON is
    /// formatted: this runs for every ingested event). A collision could only make a client's
    /// own changed resend look like a duplicate of its own earlier event, so a fast
    /// non-cryptographic hash is enough.
    pub fn request_digest(&self) -> [u8; 16] {
        let mut h = Xxh3::new();
        let mut field = |tag: u8, value: Option<&[u8]>| {
            if let Some(v) = value {
                h.update(&[tag]);
                h.update(&(v.len() as u64).to_le_bytes());
                h.update(v);
            }
        };
        field(1, self.id.as_deref().map(str::as_bytes));
        field(2, self.occurred_at.map(|t| t.as_microsecond().to_le_bytes()).as_ref().map(|b| &b[..]));
        field(3, Some(self.action.as_str().as_bytes()));
        field(4, self.category.as_ref().map(|c| c.as_str().as_bytes()));
        field(5, self.outcome.map(|o| o.as_str().as_bytes()));
        if let Some(a) = &self.actor {
            field(6, a.id.as_deref().map(str::as_bytes));
            field(7, a.name.as_deref().map(str::as_bytes));
            field(8, a.email.as_deref().map(str::as_bytes));
            field(9, Some(a.kind.as_str().as_bytes()));
        }
        if let Some(ts) = &self.targets {
            field(10, Some(&(ts.len() as u64).to_le_bytes()));
            for t in ts {
                field(11, Some(t.kind.as_bytes()));
                field(12, t.id.as_deref().map(str::as_bytes));
                field(13, t.name.as_deref().map(str::as_bytes));
            }
        }
        field(14, self.description.as_deref().map(str::as_bytes));
        if let Some(c) = &self.context {
            field(15, c.ip.map(|ip| ip.to_string()).as_deref().map(str::as_bytes));
            field(16, c.user_agent.as_deref().map(str::as_bytes));
            field(17, c.session_id.as_deref().map(str::as_bytes));
            field(18, c.url.as_deref().map(str::as_bytes));
            field(19, c.method.map(|m| m.as_str().as_bytes()));
            field(20, c.status.map(|s| s.to_le_bytes()).as_ref().map(|b| &b[..]));
            if let Some(l) = &c.location {
                field(21, l.country.as_deref().map(str::as_bytes));
                field(22, l.country_name.as_deref().map(str::as_bytes));
                field(23, l.region.as_deref().map(str::as_bytes));
                field(24, l.city.as_deref().map(str::as_bytes));
            }
        }
        if let Some(m) = &self.metadata {
            // Metadata keys are sorted (a BTreeMap), so its JSON is the same for any key order.
            field(25, Some(&serde_json::to_vec(m).expect("metadata serialises")));
        }
        h.digest128().to_le_bytes()
    }
}

impl EventBody {
    pub fn actor_id(&self) -> Option<&str> {
        self.actor.as_ref().and_then(|a| a.id.as_deref())
    }

    pub fn actor_email(&self) -> Option<&str> {
        self.actor.as_ref().and_then(|a| a.email.as_deref())
    }
}

/// A stored event with its place in the tenant's log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub tenant: TenantId,
    pub seq: u64,
    pub body: EventBody,
}

impl Serialize for StoredEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            tenant: &'a TenantId,
            seq: u64,
            #[serde(flatten)]
            body: &'a EventBody,
        }
        Out { tenant: &self.tenant, seq: self.seq, body: &self.body }.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn defaults_are_filled() {
        let e = NewEvent::from_json(r#"{"action":"document.signed","actor":{"id":"u"}}"#, now()).unwrap();
        let b = e.into_body(now());
        assert_eq!(b.category.as_str(), "document");
        assert_eq!(b.outcome, Outcome::Success);
        assert_eq!(b.occurred_at, now());
        assert_eq!(b.report_type, "Document signed");
        let json =
            serde_json::to_value(StoredEvent { tenant: TenantId::parse("t").unwrap(), seq: 7, body: b }).unwrap();
        assert_eq!(json["seq"], 7);
        assert_eq!(json["tenant"], "t");
        assert_eq!(json["actor"]["type"], "user");
        assert_eq!(json["received_at"], "2026-11-22T12:00:00.000Z");
    }

    #[test]
    fn body_round_trips() {
        let e = NewEvent::from_json(
            r#"{"action":"a.b","targets":[{"type":"t","id":"1"}],"context":{"ip":"2001:DB8::1","method":"GET","status":404},"metadata":{"z":1,"a":[1,{"b":null}]}}"#,
            now(),
        )
        .unwrap();
        let b = e.into_body(now());
        let bytes = serde_json::to_vec(&b).unwrap();
        let back: EventBody = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.context.unwrap().ip.unwrap().to_string(), "2001:db8::1");
    }

    #[test]
    fn digest_ignores_key_order_not_content() {
        let a = NewEvent::from_json(r#"{"action":"a","id":"1","metadata":{"x":1,"y":2}}"#, now()).unwrap();
        let b = NewEvent::from_json(r#"{ "id":"1", "metadata":{"y":2,"x":1}, "action":"a" }"#, now()).unwrap();
        let c = NewEvent::from_json(r#"{"action":"a","id":"1","metadata":{"x":1,"y":3}}"#, now()).unwrap();
        assert_eq!(a.request_digest(), b.request_digest());
        assert_ne!(a.request_digest(), c.request_digest());
    }
}
