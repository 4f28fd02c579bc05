//! The event as Trail stores and returns it (SPEC 2.2).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

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
    pub context: Option<Context>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

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
            context: self.context,
            metadata: self.metadata,
        }
    }

    /// A digest of the event as sent, for idempotency: the same `id` with the same digest is a
    /// duplicate, with another digest a conflict. Key order and whitespace do not matter.
    pub fn request_digest(&self) -> [u8; 16] {
        let bytes = serde_json::to_vec(self).expect("a validated event serialises");
        let full = Sha256::digest(bytes);
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
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
