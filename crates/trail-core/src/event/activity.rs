//! The activity columns' fields of one event, borrowed: from a typed event
//! ([`Activity::of`]), or straight from a stored event's canonical text ([`Activity::read`]).
//!
//! A CSV export of the activity log spends most of its time between the decompressed record
//! and the row: reading the canonical text into an [`EventBody`] allocates a string for every
//! name, address and remark, checks values the columns never show, parses the IP address that
//! the row then prints again, and frees it all. Read from the text, an event's fields are slices
//! of it (a string is copied only when it holds an escape), and the address stays the text the
//! writer wrote. Measured on the benchmark's events: 0.46 µs an event instead of 0.87
//! (BENCHMARKS.md, exports).
//!
//! Both constructors give the same value for the same event (a property test checks it on
//! random events), so the activity columns have one definition, made from an `Activity`.
//! Few values are checked: the text must have the writer's shape throughout and the outcome
//! must be one of the two, but the address, the actor's type and the fields passed over are
//! shown or skipped as stored (the typed reader checks them and declines a damaged event).
//! Catching a damaged event is `trail verify`'s work: every leaf hash covers the stored text.

use std::{borrow::Cow, net::IpAddr};

use jiff::Timestamp;

use super::EventBody;

/// What the activity columns show of an event, and its action (redaction looks at it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity<'a> {
    pub occurred_at: Timestamp,
    pub action: Cow<'a, str>,
    pub category: Cow<'a, str>,
    pub outcome: Cow<'a, str>,
    pub report_type: Cow<'a, str>,
    pub actor: Option<ActorText<'a>>,
    pub description: Option<Cow<'a, str>>,
    pub targets: Vec<TargetText<'a>>,
    /// The address as text (the canonical writer's form: [`ip_text`]).
    pub ip: Option<Cow<'a, str>>,
    pub location: Option<LocationText<'a>>,
    pub client: Option<ClientText<'a>>,
}

/// An actor's fields as text (its type unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorText<'a> {
    pub id: Option<Cow<'a, str>>,
    pub name: Option<Cow<'a, str>>,
    pub email: Option<Cow<'a, str>>,
    pub kind: Cow<'a, str>,
}

/// A target's fields as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetText<'a> {
    pub kind: Cow<'a, str>,
    pub id: Option<Cow<'a, str>>,
    pub name: Option<Cow<'a, str>>,
}

/// A location's fields as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationText<'a> {
    pub country: Option<Cow<'a, str>>,
    pub country_name: Option<Cow<'a, str>>,
    pub region: Option<Cow<'a, str>>,
    pub city: Option<Cow<'a, str>>,
}

/// A client's fields as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientText<'a> {
    pub os: Option<Cow<'a, str>>,
    pub browser: Option<Cow<'a, str>>,
    pub device: Option<Cow<'a, str>>,
}

fn text(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

impl<'a> Activity<'a> {
    /// The activity fields of a typed event, borrowed from it (the address formatted).
    pub fn of(b: &'a EventBody) -> Activity<'a> {
        let ctx = b.context.as_deref();
        Activity {
            occurred_at: b.occurred_at,
            action: Cow::Borrowed(b.action.as_str()),
            category: Cow::Borrowed(b.category.as_str()),
            outcome: Cow::Borrowed(b.outcome.as_str()),
            report_type: Cow::Borrowed(&b.report_type),
            actor: b.actor.as_ref().map(|a| ActorText {
                id: text(&a.id),
                name: text(&a.name),
                email: text(&a.email),
                kind: Cow::Borrowed(a.kind.as_str()),
            }),
            description: text(&b.description),
            targets: b
                .targets
                .iter()
                .map(|t| TargetText { kind: Cow::Borrowed(&t.kind), id: text(&t.id), name: text(&t.name) })
                .collect(),
            ip: ctx.and_then(|c| c.ip).map(|ip| Cow::Owned(ip_text(ip))),
            location: ctx.and_then(|c| c.location.as_ref()).map(|l| LocationText {
                country: text(&l.country),
                country_name: text(&l.country_name),
                region: text(&l.region),
                city: text(&l.city),
            }),
            client: ctx.and_then(|c| c.client.as_ref()).map(|c| ClientText {
                os: text(&c.os),
                browser: text(&c.browser),
                device: text(&c.device),
            }),
        }
    }

    /// The activity fields of an event from its canonical text (the stored form, without
    /// erased fields); `None` when the text is not in the canonical writer's exact form (read
    /// it typed instead, which falls back to serde_json).
    pub fn read(canonical: &'a str) -> Option<Activity<'a>> {
        super::reader::read_activity(canonical)
    }
}

/// An address as the canonical writer writes it (`Display`), IPv4 formatted by hand: every row
/// of most exports has one, and `Display`'s formatter machinery cost more than the digits.
pub fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else { return ip.to_string() };
    let mut s = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        if octet >= 100 {
            s.push((b'0' + octet / 100) as char);
        }
        if octet >= 10 {
            s.push((b'0' + octet / 10 % 10) as char);
        }
        s.push((b'0' + octet % 10) as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_display_writes_them() {
        for ip in ["0.0.0.0", "9.10.99.100", "255.255.255.255", "203.0.113.7", "2001:db8::1", "::ffff:1.2.3.4"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
        for octets in (0..=255u8).map(|o| [o, 255 - o, o / 3, o.wrapping_mul(7)]) {
            let ip = IpAddr::from(octets);
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }
}
