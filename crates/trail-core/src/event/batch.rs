//! A request body into a batch of events, all or nothing.
//!
//! A body is one JSON object, a JSON array of objects, or NDJSON (one object a line). The body is
//! first split into raw events without decoding them (serde_json's `RawValue` borrows from the
//! body), which gives the count and each event's size cheaply and lets every error name the
//! event's index: `events[17].actor.email`.

use jiff::Timestamp;
use serde_json::value::RawValue;

use super::validate::NewEvent;

/// How the body is encoded, from the request's `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/json`: one object or an array of objects.
    Json,
    /// `application/x-ndjson`: one object per line; blank lines are ignored.
    Ndjson,
}

/// What a batch may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_events: usize,
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_events: 10_000, max_bytes: 16 * 1024 * 1024 }
    }
}

/// The kind of problem, which decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchErrorKind {
    /// Not JSON, or not the shape of an event (400).
    Malformed,
    /// Valid JSON that breaks a rule of the event format (422).
    Invalid,
    /// Too many events, or too many bytes in the request or in one event (413).
    TooLarge,
}

/// Why a batch was rejected. Nothing of a rejected batch is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BatchError {
    pub kind: BatchErrorKind,
    /// Snake-case code for the API's error body.
    pub code: &'static str,
    /// JSON path of the offending field, starting with the event's index (`events[3].context.ip`).
    pub field: Option<String>,
    pub message: String,
}

impl BatchError {
    fn new(kind: BatchErrorKind, code: &'static str, field: Option<String>, message: String) -> Self {
        Self { kind, code, field, message }
    }
}

/// Parses and validates a whole request body. `now` is when Trail received it.
pub fn parse_batch(
    body: &[u8],
    format: BodyFormat,
    now: Timestamp,
    limits: Limits,
) -> Result<Vec<NewEvent>, BatchError> {
    if body.len() > limits.max_bytes {
        return Err(BatchError::new(
            BatchErrorKind::TooLarge,
            "request_too_large",
            None,
            format!(
                "the request is {} bytes; at most {} are allowed: split it into several requests",
                body.len(),
                limits.max_bytes
            ),
        ));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        BatchError::new(
            BatchErrorKind::Malformed,
            "malformed_json",
            None,
            format!("the body is not UTF-8 (invalid byte at offset {}): send UTF-8 encoded JSON", e.valid_up_to()),
        )
    })?;
    let raws = split(text, format)?;
    if raws.is_empty() {
        return Err(BatchError::new(
            BatchErrorKind::Malformed,
            "empty_batch",
            None,
            "the body holds no events: send an event object, an array of events, or NDJSON".into(),
        ));
    }
    if raws.len() > limits.max_events {
        return Err(BatchError::new(
            BatchErrorKind::TooLarge,
            "too_many_events",
            None,
            format!(
                "the request holds {} events; at most {} are allowed: split it into several requests",
                raws.len(),
                limits.max_events
            ),
        ));
    }
    raws.iter()
        .enumerate()
        .map(|(i, raw)| {
            NewEvent::from_json(raw, now).map_err(|e| {
                let field =
                    if e.field.is_empty() { format!("events[{i}]") } else { format!("events[{i}].{}", e.field) };
                let (kind, code) = if raw.len() > super::validate::limits::EVENT_BYTES {
                    (BatchErrorKind::TooLarge, "event_too_large")
                } else {
                    (BatchErrorKind::Invalid, "invalid_event")
                };
                BatchError::new(
                    kind,
                    code,
                    Some(field.clone()),
                    format!("{field}: {}", strip_field_prefix(&e.message, &e.field)),
                )
            })
        })
        .collect()
}

/// Messages already name their field; avoid "events[0].context.ip: context.ip ..." stutter.
fn strip_field_prefix<'a>(message: &'a str, field: &str) -> &'a str {
    if field.is_empty() {
        return message;
    }
    message
        .strip_prefix(field)
        .map(|m| m.trim_start_matches(':').trim_start())
        .filter(|m| !m.is_empty())
        .unwrap_or(message)
}

fn split(text: &str, format: BodyFormat) -> Result<Vec<&str>, BatchError> {
    let malformed =
        |field: Option<String>, what: String| BatchError::new(BatchErrorKind::Malformed, "malformed_json", field, what);
    match format {
        BodyFormat::Json => {
            let trimmed = text.trim_start();
            if trimmed.starts_with('[') {
                let raws: Vec<&RawValue> = serde_json::from_str(text)
                    .map_err(|e| malformed(None, format!("the body is not a JSON array of events: {e}")))?;
                raws.iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let s = r.get();
                        if s.starts_with('{') {
                            Ok(s)
                        } else {
                            Err(malformed(Some(format!("events[{i}]")), format!("events[{i}] is not a JSON object: each event is an object such as {{\"action\": \"document.signed\"}}")))
                        }
                    })
                    .collect()
            } else if trimmed.starts_with('{') {
                let raw: &RawValue = serde_json::from_str(text)
                    .map_err(|e| malformed(None, format!("the body is not valid JSON: {e}")))?;
                Ok(vec![raw.get()])
            } else if trimmed.is_empty() {
                Ok(vec![])
            } else {
                Err(malformed(None, "the body must be an event object, a JSON array of events, or NDJSON with Content-Type: application/x-ndjson".into()))
            }
        }
        BodyFormat::Ndjson => {
            let mut out = Vec::new();
            for (line_no, line) in text.split('\n').enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let i = out.len();
                let raw: &RawValue = serde_json::from_str(line).map_err(|e| {
                    malformed(
                        Some(format!("events[{i}]")),
                        format!("line {} (events[{i}]) is not valid JSON: {e}", line_no + 1),
                    )
                })?;
                if !raw.get().starts_with('{') {
                    return Err(malformed(
                        Some(format!("events[{i}]")),
                        format!("line {} (events[{i}]) is not a JSON object", line_no + 1),
                    ));
                }
                out.push(raw.get());
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    fn parse(body: &str, format: BodyFormat) -> Result<Vec<NewEvent>, BatchError> {
        parse_batch(body.as_bytes(), format, now(), Limits::default())
    }

    #[test]
    fn three_shapes() {
        assert_eq!(parse(r#"{"action":"a.b"}"#, BodyFormat::Json).unwrap().len(), 1);
        assert_eq!(parse(r#"[{"action":"a.b"},{"action":"c"}]"#, BodyFormat::Json).unwrap().len(), 2);
        assert_eq!(parse("{\"action\":\"a\"}\n\n{\"action\":\"b\"}\r\n", BodyFormat::Ndjson).unwrap().len(), 2);
    }

    #[test]
    fn errors_carry_the_index() {
        let e = parse(r#"[{"action":"a"},{"action":"a","context":{"ip":"x"}}]"#, BodyFormat::Json).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("events[1].context.ip"));
        assert_eq!(e.kind, BatchErrorKind::Invalid);
        assert!(e.message.starts_with("events[1].context.ip: "), "{}", e.message);
        let e = parse("{\"action\":\"a\"}\n{\"action\":\"B\"}", BodyFormat::Ndjson).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("events[1].action"));
        let e = parse("{\"action\":\"a\"}\n{oops", BodyFormat::Ndjson).unwrap_err();
        assert_eq!((e.kind, e.field.as_deref()), (BatchErrorKind::Malformed, Some("events[1]")));
        let e = parse(r#"[{"action":"a"}, 5]"#, BodyFormat::Json).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("events[1]"));
    }

    #[test]
    fn limits() {
        let body = format!("[{}]", [r#"{"action":"a"}"#; 11].join(","));
        let small = Limits { max_events: 10, max_bytes: 1 << 20 };
        let e = parse_batch(body.as_bytes(), BodyFormat::Json, now(), small).unwrap_err();
        assert_eq!((e.kind, e.code), (BatchErrorKind::TooLarge, "too_many_events"));
        let tiny = Limits { max_events: 10, max_bytes: 10 };
        let e = parse_batch(body.as_bytes(), BodyFormat::Json, now(), tiny).unwrap_err();
        assert_eq!(e.code, "request_too_large");
        let big = format!(r#"{{"action":"a","description":"{}"}}"#, "x".repeat(70_000));
        let e = parse(&big, BodyFormat::Json).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("event_too_large", Some("events[0]")));
    }
}
