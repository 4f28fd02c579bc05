//! One client event, from JSON to a [`NewEvent`] that satisfies every rule of the event format (docs/events.md).
//!
//! Decoding happens in two steps. Serde reads the JSON into "wire" structs that reject unknown
//! fields (at every level but `metadata`, so typos surface wherever they are) and wrong types;
//! `serde_path_to_error` tells us where. Then [`NewEvent::from_wire`] checks each rule and says
//! which field broke it. Every error carries the JSON path of the field (`context.ip`), to which
//! the batch layer prefixes the event's index (`events[3].context.ip`).

use std::net::IpAddr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::*;
use crate::time::{parse_rfc3339, serde_rfc3339_opt};

/// The event format's limits (docs/events.md).
pub mod limits {
    pub const ID: usize = 128;
    pub const ACTOR_FIELD: usize = 256;
    pub const TARGETS: usize = 16;
    pub const TARGET_TYPE: usize = 64;
    pub const TARGET_FIELD: usize = 256;
    pub const DESCRIPTION: usize = 8192;
    pub const USER_AGENT: usize = 1024;
    pub const SESSION_ID: usize = 256;
    pub const URL: usize = 4096;
    pub const LOCATION_FIELD: usize = 128;
    pub const METADATA_BYTES: usize = 16 * 1024;
    pub const METADATA_DEPTH: usize = 8;
    pub const EVENT_BYTES: usize = 64 * 1024;
    /// How far ahead of Trail's clock `occurred_at` may be.
    pub const FUTURE_SKEW_SECS: i64 = 5 * 60;
}

/// A rule one field broke: the JSON path of the field and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path from the event's root (`context.ip`), empty for the event as a whole.
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// A validated event as the client sent it, before Trail fills in defaults.
///
/// Its serialisation is deterministic (fixed field order, sorted metadata keys), which is what the
/// idempotency check hashes: resending the same event, whatever its key order or whitespace,
/// is recognised as the same.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "serde_rfc3339_opt")]
    pub occurred_at: Option<Timestamp>,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<Target>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireEvent {
    id: Option<String>,
    occurred_at: Option<String>,
    action: Option<String>,
    category: Option<String>,
    outcome: Option<String>,
    actor: Option<WireActor>,
    targets: Option<Vec<WireTarget>>,
    description: Option<String>,
    context: Option<WireContext>,
    metadata: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireActor {
    id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTarget {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireContext {
    ip: Option<String>,
    user_agent: Option<String>,
    session_id: Option<String>,
    url: Option<String>,
    method: Option<String>,
    status: Option<i64>,
    location: Option<WireLocation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireLocation {
    country: Option<String>,
    country_name: Option<String>,
    region: Option<String>,
    city: Option<String>,
}

fn max_chars(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, FieldError> {
    match value {
        Some(v) if v.len() > max && v.chars().count() > max => Err(FieldError::new(
            field,
            format!("{field} is {} characters long; at most {max} are allowed", v.chars().count()),
        )),
        v => Ok(v),
    }
}

/// The length of `v` serialised, counted without keeping the bytes.
fn serialised_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    serde_json::to_writer(&mut n, v).map(|_| n.0).unwrap_or(usize::MAX)
}

fn metadata_depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(metadata_depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(metadata_depth).max().unwrap_or(0),
        _ => 0,
    }
}

impl NewEvent {
    /// Decodes and validates one event. `now` is when Trail received it (for the future-date rule).
    pub fn from_json(json: &str, now: Timestamp) -> Result<NewEvent, FieldError> {
        if json.len() > limits::EVENT_BYTES {
            return Err(FieldError::new(
                "",
                format!(
                    "the event is {} bytes; at most {} bytes (64 KiB) are allowed: move bulky data out of metadata and description",
                    json.len(),
                    limits::EVENT_BYTES
                ),
            ));
        }
        // Decoding without tracking the path is markedly faster; only an event that fails is
        // decoded again with `serde_path_to_error`, to name the field.
        if let Ok(wire) = serde_json::from_str::<WireEvent>(json) {
            return Self::from_wire(wire, now);
        }
        let de = &mut serde_json::Deserializer::from_str(json);
        let wire: WireEvent = serde_path_to_error::deserialize(de).map_err(|e| {
            let mut path = e.path().to_string();
            if path == "." {
                path.clear();
            }
            let inner = e.into_inner();
            let msg = inner.to_string();
            // serde_path_to_error's path already ends with the unknown field's name.
            if let Some(rest) = msg.strip_prefix("unknown field `") {
                let field = path.clone();
                let allowed = rest.split_once(", expected ").map(|(_, a)| a).unwrap_or("");
                let allowed = allowed.split(" at line").next().unwrap_or(allowed);
                return FieldError::new(
                    field.clone(),
                    format!("unknown field {field:?}: check its spelling; expected {allowed}"),
                );
            }
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
            FieldError::new(path.clone(), if path.is_empty() { msg } else { format!("{path}: {msg}") })
        })?;
        Self::from_wire(wire, now)
    }

    pub(crate) fn from_wire(w: WireEvent, now: Timestamp) -> Result<NewEvent, FieldError> {
        let action = match w.action {
            None => {
                return Err(FieldError::new(
                    "action",
                    "action is required: name what happened, such as document.signed",
                ));
            }
            Some(a) => Action::parse(&a).map_err(|m| FieldError::new("action", m))?,
        };
        let id = match w.id {
            Some(id) if id.is_empty() => {
                return Err(FieldError::new("id", "id must not be empty: leave it out or send a unique key"));
            }
            // PostgreSQL's text (where ids are kept unique) cannot hold a NUL character.
            Some(id) if id.contains('\0') => {
                return Err(FieldError::new(
                    "id",
                    "id must not contain the NUL character (\\u0000): send a key of printable characters",
                ));
            }
            id => max_chars("id", id, limits::ID)?,
        };
        let occurred_at = match w.occurred_at {
            None => None,
            Some(s) => {
                let ts = parse_rfc3339(&s).map_err(|m| FieldError::new("occurred_at", m))?;
                readable_instant(&s, ts)?;
                let latest = now.checked_add(jiff::SignedDuration::from_secs(limits::FUTURE_SKEW_SECS)).unwrap_or(now);
                if ts > latest {
                    return Err(FieldError::new(
                        "occurred_at",
                        format!(
                            "occurred_at {s} is more than 5 minutes ahead of the server's clock ({now}): check the sender's clock"
                        ),
                    ));
                }
                Some(ts)
            }
        };
        let category =
            w.category.map(|c| Category::parse(&c).map_err(|m| FieldError::new("category", m))).transpose()?;
        // The category left out is the action's first word, which must make a valid one.
        if category.is_none()
            && let Some(m) = action.implied_category_error()
        {
            return Err(FieldError::new("category", m));
        }
        let outcome = w.outcome.map(|o| Outcome::parse(&o).map_err(|m| FieldError::new("outcome", m))).transpose()?;
        let actor = w.actor.map(validate_actor).transpose()?;
        let targets = match w.targets {
            None => None,
            Some(ts) if ts.len() > limits::TARGETS => {
                return Err(FieldError::new(
                    "targets",
                    format!("targets has {} entries; at most {} are allowed", ts.len(), limits::TARGETS),
                ));
            }
            Some(ts) => Some(ts.into_iter().enumerate().map(validate_target).collect::<Result<Vec<_>, _>>()?),
        };
        let description = max_chars("description", w.description, limits::DESCRIPTION)?;
        let context = w.context.map(validate_context).transpose()?;
        let metadata = match w.metadata {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => {
                let v = Value::Object(m);
                let depth = metadata_depth(&v);
                if depth > limits::METADATA_DEPTH {
                    return Err(FieldError::new(
                        "metadata",
                        format!(
                            "metadata is nested {depth} levels deep; at most {} are allowed",
                            limits::METADATA_DEPTH
                        ),
                    ));
                }
                let size = serialised_len(&v);
                if size > limits::METADATA_BYTES {
                    return Err(FieldError::new(
                        "metadata",
                        format!(
                            "metadata is {size} bytes when serialised; at most {} (16 KiB) are allowed",
                            limits::METADATA_BYTES
                        ),
                    ));
                }
                match v {
                    Value::Object(m) => Some(m),
                    _ => unreachable!("checked above"),
                }
            }
            Some(_) => {
                return Err(FieldError::new("metadata", "metadata must be a JSON object of your own keys"));
            }
        };
        Ok(NewEvent { id, occurred_at, action, category, outcome, actor, targets, description, context, metadata })
    }
}

/// The earliest instant an event may have: the start of year 0000 in UTC. An earlier one
/// (`0000-01-01T00:30:00+01:00`) has no four-digit year in UTC, the form events are stored and
/// returned in, so it could not be read back.
fn readable_instant(sent: &str, ts: Timestamp) -> Result<(), FieldError> {
    const EARLIEST_US: i64 = -62_167_219_200_000_000;
    if ts.as_microsecond() < EARLIEST_US {
        return Err(FieldError::new(
            "occurred_at",
            format!("occurred_at {sent} is before the year 0000 in UTC: send a time from 0000-01-01T00:00:00Z on"),
        ));
    }
    Ok(())
}

fn validate_actor(a: WireActor) -> Result<Actor, FieldError> {
    let kind = match a.kind {
        None => ActorType::User,
        Some(k) => ActorType::parse(&k).map_err(|m| FieldError::new("actor.type", m))?,
    };
    Ok(Actor {
        id: max_chars("actor.id", a.id, limits::ACTOR_FIELD)?,
        name: max_chars("actor.name", a.name, limits::ACTOR_FIELD)?,
        email: max_chars("actor.email", a.email, limits::ACTOR_FIELD)?,
        kind,
    })
}

fn validate_target((i, t): (usize, WireTarget)) -> Result<Target, FieldError> {
    let p = |f: &str| format!("targets[{i}].{f}");
    let kind = match t.kind {
        Some(k) if !k.is_empty() => max_chars(&p("type"), Some(k), limits::TARGET_TYPE)?.unwrap_or_default(),
        _ => {
            return Err(FieldError::new(
                p("type"),
                format!("{} is required: say what kind of thing the target is, such as document", p("type")),
            ));
        }
    };
    if t.id.is_none() && t.name.is_none() {
        return Err(FieldError::new(format!("targets[{i}]"), format!("targets[{i}] needs an id or a name (or both)")));
    }
    Ok(Target {
        kind,
        id: max_chars(&p("id"), t.id, limits::TARGET_FIELD)?,
        name: max_chars(&p("name"), t.name, limits::TARGET_FIELD)?,
    })
}

fn validate_context(c: WireContext) -> Result<Context, FieldError> {
    let ip = c
        .ip
        .map(|s| {
            s.parse::<IpAddr>().map_err(|_| {
                FieldError::new(
                    "context.ip",
                    format!("context.ip {s:?} is not an IP address: send an IPv4 (203.0.113.7) or IPv6 (2001:db8::1) address"),
                )
            })
        })
        .transpose()?;
    let method = c.method.map(|m| Method::parse(&m).map_err(|e| FieldError::new("context.method", e))).transpose()?;
    let status = match c.status {
        None => None,
        Some(s @ 100..=599) => Some(s as u16),
        Some(s) => {
            return Err(FieldError::new(
                "context.status",
                format!("context.status {s} is not an HTTP status: use a number from 100 to 599"),
            ));
        }
    };
    let location = c.location.map(validate_location).transpose()?;
    Ok(Context {
        ip,
        user_agent: max_chars("context.user_agent", c.user_agent, limits::USER_AGENT)?,
        session_id: max_chars("context.session_id", c.session_id, limits::SESSION_ID)?,
        url: max_chars("context.url", c.url, limits::URL)?,
        method,
        status,
        location,
        client: None,
    })
}

fn validate_location(l: WireLocation) -> Result<Location, FieldError> {
    let country = match l.country {
        None => None,
        Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => Some(c.to_ascii_uppercase()),
        Some(c) => {
            return Err(FieldError::new(
                "context.location.country",
                format!(
                    "context.location.country {c:?} is not an ISO 3166-1 alpha-2 code: send a code such as IN or GB, and the name in country_name"
                ),
            ));
        }
    };
    let f = limits::LOCATION_FIELD;
    Ok(Location {
        country,
        country_name: max_chars("context.location.country_name", l.country_name, f)?,
        region: max_chars("context.location.region", l.region, f)?,
        city: max_chars("context.location.city", l.city, f)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    fn err(json: &str) -> FieldError {
        NewEvent::from_json(json, now()).expect_err(json)
    }

    #[test]
    fn metadata_may_be_16_kib_serialised_and_not_a_byte_more() {
        // `{"k":"..."}` is 8 bytes around the value.
        let with = |n: usize| format!(r#"{{"action":"a","metadata":{{"k":"{}"}}}}"#, "x".repeat(n));
        assert!(NewEvent::from_json(&with(16 * 1024 - 8), now()).is_ok());
        let e = err(&with(16 * 1024 - 7));
        assert_eq!(e.field, "metadata");
        assert!(e.message.contains("16385 bytes"), "{}", e.message);
    }

    #[test]
    fn full_event_parses() {
        let e = NewEvent::from_json(
            r#"{"id":"evt_1","occurred_at":"2026-11-22T10:15:30.120Z","action":"document.signed","category":"document",
            "outcome":"success","actor":{"id":"u_42","name":"Asha Rao","email":"asha@acme.example","type":"user"},
            "targets":[{"type":"document","id":"doc_9","name":"NDA 2026.pdf"}],"description":"Asha Rao signed NDA 2026.pdf",
            "context":{"ip":"203.0.113.7","user_agent":"Mozilla/5.0","session_id":"s_77","url":"/documents/doc_9/sign",
            "method":"POST","status":200,"location":{"country":"IN","region":"Karnataka","city":"Bengaluru"}},
            "metadata":{"invitee":"b.khan@acme.example","sign_type":"aadhaar"}}"#,
            now(),
        )
        .unwrap();
        assert_eq!(e.action.as_str(), "document.signed");
        assert_eq!(e.context.unwrap().status, Some(200));
    }

    #[test]
    fn paths_name_the_field() {
        assert_eq!(err(r#"{"action":"a","context":{"ip":"nope"}}"#).field, "context.ip");
        assert_eq!(err(r#"{"action":"a","context":{"status":"200"}}"#).field, "context.status");
        assert_eq!(err(r#"{"action":"a","actoor":{}}"#).field, "actoor");
        assert_eq!(err(r#"{"action":"a","actor":{"mail":"x"}}"#).field, "actor.mail");
        assert_eq!(
            err(r#"{"action":"a","targets":[{"type":"d","id":"1"},{"type":"d","idd":"1"}]}"#).field,
            "targets[1].idd"
        );
        assert_eq!(err(r#"{"action":"a","targets":[{"type":"d","id":5}]}"#).field, "targets[0].id");
        assert_eq!(err(r#"{}"#).field, "action");
        assert_eq!(err(r#"[]"#).field, "");
    }

    /// Regression: each of these was accepted and then could not be read back from the store.
    #[test]
    fn what_could_not_be_read_back_is_refused() {
        // An action of 65 characters and no dot: its implied category is too long.
        let e = err(&format!(r#"{{"action":"{}"}}"#, "a".repeat(65)));
        assert_eq!(e.field, "category");
        assert!(e.message.contains("set category to at most 64 characters"), "{}", e.message);
        let with_category = format!(r#"{{"action":"{}","category":"c"}}"#, "a".repeat(65));
        assert!(NewEvent::from_json(&with_category, now()).is_ok());
        // A time before year 0000 in UTC.
        let e = err(r#"{"action":"a","occurred_at":"0000-01-01T00:30:00+01:00"}"#);
        assert_eq!(e.field, "occurred_at");
        assert!(NewEvent::from_json(r#"{"action":"a","occurred_at":"0000-01-01T00:00:00Z"}"#, now()).is_ok());
        // A NUL in the id.
        assert_eq!(err(r#"{"action":"a","id":"k\u0000"}"#).field, "id");
    }

    #[test]
    fn unknown_field_message_lists_the_expected_ones() {
        let e = err(r#"{"action":"a","tenant":"x"}"#);
        assert!(e.message.contains("`occurred_at`"), "{}", e.message);
    }
}
