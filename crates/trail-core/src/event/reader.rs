//! A reader for exactly the canonical form [`crate::canonical::write`] produces: its keys, in
//! its order, without whitespace, strings with only the escapes it writes.
//!
//! Every read of a stored event (queries, the console, exports, the index's catch-up) parses
//! that form, and serde's derived parser spent most of its time on what this form makes
//! unnecessary: matching each key among all the struct's names, looking for whitespace and
//! `null`, and visitor calls per value. Here each key is compared once where the writer puts it.
//! Measured on the benchmark's events: see `BENCHMARKS.md` (exports).
//!
//! Anything else (another key order, a key this reader does not know, an escape the writer
//! never produces, a value of an unexpected kind) is declined with `None`, and the caller reads
//! the event with serde_json instead. On what the writer produces both readers give the same
//! event (property tests check it on random events). On damaged text this reader may accept
//! what serde_json would not: a raw control character inside a string, and, when reading only
//! the activity fields, metadata that is well-formed JSON but not a valid `Value` (a number out
//! of range, a lone surrogate escape). Catching damaged events is `trail verify`'s work, not
//! the parser's.

use std::{borrow::Cow, net::IpAddr};

use serde_json::{Map, Value};

use super::{
    Action, Actor, ActorType, Category, Client, Context, EventBody, Fields, Location, Method, Outcome, Target,
    activity::{Activity, ActorText, ClientText, LocationText, TargetText},
};
use crate::time::parse_rfc3339;

/// The event `s` holds, with `fields`; `None` when `s` is not in the writer's exact form.
pub(super) fn read(s: &str, fields: Fields) -> Option<EventBody> {
    let all = fields == Fields::All;
    let mut c = Cursor { s, at: 0 };
    let mut m = Members::open(&mut c)?;
    let action = Action::parse(&c.required(&mut m, "\"action\":")?).ok()?;
    let actor = if m.next(&mut c, "\"actor\":") { Some(c.actor()?) } else { None };
    let category = Category::parse(&c.required(&mut m, "\"category\":")?).ok()?;
    let context = if m.next(&mut c, "\"context\":") { Some(Box::new(c.context(all)?)) } else { None };
    let description = c.member_str(&mut m, "\"description\":", true)?;
    let id = c.member_str(&mut m, "\"id\":", all)?;
    let metadata = if m.next(&mut c, "\"metadata\":") { c.metadata(all)? } else { None };
    let occurred_at = parse_rfc3339(&c.required(&mut m, "\"occurred_at\":")?).ok()?;
    let outcome = Outcome::parse(&c.required(&mut m, "\"outcome\":")?).ok()?;
    let received_at = parse_rfc3339(&c.required(&mut m, "\"received_at\":")?).ok()?;
    let report_type = c.required(&mut m, "\"report_type\":")?.into_owned();
    let targets = if m.next(&mut c, "\"targets\":") { c.targets(Cursor::target)? } else { Vec::new() };
    c.end()?;
    Some(EventBody {
        id,
        occurred_at,
        received_at,
        action,
        category,
        outcome,
        report_type,
        actor,
        targets,
        description,
        context,
        metadata,
        erased: Vec::new(),
    })
}

/// The activity fields of the event `s` holds (see [`Activity`]); `None` when `s` is not in the
/// writer's exact form. The members it passes over are still read to their ends, so what it
/// accepts has the writer's shape throughout; of the values, only the outcome is checked.
pub(super) fn read_activity(s: &str) -> Option<Activity<'_>> {
    let mut c = Cursor { s, at: 0 };
    let mut m = Members::open(&mut c)?;
    let action = c.required(&mut m, "\"action\":")?;
    let actor = if m.next(&mut c, "\"actor\":") { Some(c.actor_text()?) } else { None };
    let category = c.required(&mut m, "\"category\":")?;
    let mut a = Activity {
        occurred_at: jiff::Timestamp::UNIX_EPOCH,
        action,
        category,
        outcome: Cow::Borrowed(""),
        report_type: Cow::Borrowed(""),
        actor,
        description: None,
        targets: Vec::new(),
        ip: None,
        location: None,
        client: None,
    };
    if m.next(&mut c, "\"context\":") {
        c.activity_context(&mut a)?;
    }
    a.description = c.member_text(&mut m, "\"description\":")?;
    c.member_text(&mut m, "\"id\":")?;
    if m.next(&mut c, "\"metadata\":") {
        c.metadata(false)?;
    }
    a.occurred_at = parse_rfc3339(&c.required(&mut m, "\"occurred_at\":")?).ok()?;
    a.outcome = c.required(&mut m, "\"outcome\":")?;
    Outcome::parse(&a.outcome).ok()?;
    c.required(&mut m, "\"received_at\":")?;
    a.report_type = c.required(&mut m, "\"report_type\":")?;
    if m.next(&mut c, "\"targets\":") {
        a.targets = c.targets(Cursor::target_text)?;
    }
    c.end()?;
    Some(a)
}

/// Where the first `"` or `\` of `b` is. Most strings of an event are short (names, codes,
/// cities), and for them `memchr2`'s dispatch and set-up cost more than the search (4% of an
/// export): the first 32 bytes are searched here eight at a time, the rest by `memchr2`.
fn quote_or_backslash(b: &[u8]) -> Option<usize> {
    use crate::bytes::{bytes_equal, first, word};
    let mut at = 0;
    while at + 8 <= b.len().min(32) {
        let w = word(&b[at..at + 8]);
        let found = bytes_equal(w, b'"') | bytes_equal(w, b'\\');
        if found != 0 {
            return Some(at + first(found));
        }
        at += 8;
    }
    memchr::memchr2(b'"', b'\\', &b[at..]).map(|i| at + i)
}

fn owned(s: Option<Cow<'_, str>>) -> Option<String> {
    s.map(Cow::into_owned)
}

/// A position in the text being read.
struct Cursor<'a> {
    s: &'a str,
    at: usize,
}

/// The members of one object, in the writer's order: each after a comma but the first.
struct Members {
    first: bool,
}

impl Members {
    /// Opens an object at the cursor.
    fn open(c: &mut Cursor<'_>) -> Option<Members> {
        c.lit("{")?;
        Some(Members { first: true })
    }

    /// Consumes member `key` (`"name":`, with the comma before it) if it comes next.
    #[inline(always)]
    fn next(&mut self, c: &mut Cursor<'_>, key: &str) -> bool {
        let at = c.at;
        if (self.first || c.key(",")) && c.key(key) {
            self.first = false;
            return true;
        }
        c.at = at;
        false
    }
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.s.as_bytes()[self.at..]
    }

    /// Consumes `lit`, which must come next.
    #[inline(always)]
    fn lit(&mut self, lit: &str) -> Option<()> {
        self.key(lit).then_some(())
    }

    /// Consumes the top-level object's `}`, which must end the text.
    fn end(&mut self) -> Option<()> {
        self.lit("}")?;
        (self.at == self.s.len()).then_some(())
    }

    /// Consumes `key` if it comes next. Inlined at every call, so that each comparison is
    /// with a literal of known length rather than a call to `memcmp` (a percent of an export).
    #[inline(always)]
    fn key(&mut self, key: &str) -> bool {
        let found = self.rest().starts_with(key.as_bytes());
        if found {
            self.at += key.len();
        }
        found
    }

    /// A string, borrowed from the text when it holds no escape.
    fn str(&mut self) -> Option<Cow<'a, str>> {
        if self.rest().first() != Some(&b'"') {
            return None;
        }
        let start = self.at + 1;
        let end = start + quote_or_backslash(&self.s.as_bytes()[start..])?;
        if self.s.as_bytes()[end] == b'"' {
            self.at = end + 1;
            return self.s.get(start..end).map(Cow::Borrowed);
        }
        // With escapes: only those the writer produces (`write_str`).
        let mut out = String::with_capacity(end - start + 16);
        let mut i = start;
        loop {
            let next = i + quote_or_backslash(&self.s.as_bytes()[i..])?;
            out.push_str(self.s.get(i..next)?);
            let b = self.s.as_bytes();
            if b[next] == b'"' {
                self.at = next + 1;
                return Some(Cow::Owned(out));
            }
            let (ch, len) = match *b.get(next + 1)? {
                b'"' => ('"', 2),
                b'\\' => ('\\', 2),
                b'b' => ('\u{8}', 2),
                b'f' => ('\u{c}', 2),
                b'n' => ('\n', 2),
                b'r' => ('\r', 2),
                b't' => ('\t', 2),
                b'u' => {
                    let hex = self.s.get(next + 2..next + 6).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))?;
                    let code = u32::from_str_radix(hex, 16).ok().filter(|c| *c < 0x20)?;
                    (char::from_u32(code)?, 6)
                }
                _ => return None,
            };
            out.push(ch);
            i = next + len;
        }
    }

    /// Member `key` (`"name":`) of the object `m` if it comes next: its string, read (`keep`) or
    /// passed over.
    #[inline(always)]
    fn member_str(&mut self, m: &mut Members, key: &str, keep: bool) -> Option<Option<String>> {
        if !m.next(self, key) {
            return Some(None);
        }
        let s = self.str()?;
        Some(keep.then(|| s.into_owned()))
    }

    /// Member `key`, which must come next: its string, borrowed when it holds no escape.
    #[inline(always)]
    fn required(&mut self, m: &mut Members, key: &str) -> Option<Cow<'a, str>> {
        if !m.next(self, key) {
            return None;
        }
        self.str()
    }

    /// Member `key` of the object `m` if it comes next: its string, borrowed when it holds no
    /// escape.
    #[inline(always)]
    fn member_text(&mut self, m: &mut Members, key: &str) -> Option<Option<Cow<'a, str>>> {
        if !m.next(self, key) {
            return Some(None);
        }
        self.str().map(Some)
    }

    fn actor_text(&mut self) -> Option<ActorText<'a>> {
        let mut m = Members::open(self)?;
        let email = self.member_text(&mut m, "\"email\":")?;
        let id = self.member_text(&mut m, "\"id\":")?;
        let name = self.member_text(&mut m, "\"name\":")?;
        let kind = self.required(&mut m, "\"type\":")?;
        self.lit("}")?;
        Some(ActorText { id, name, email, kind })
    }

    fn actor(&mut self) -> Option<Actor> {
        let a = self.actor_text()?;
        let kind = ActorType::parse(&a.kind).ok()?;
        Some(Actor { id: owned(a.id), name: owned(a.name), email: owned(a.email), kind })
    }

    fn target_text(&mut self) -> Option<TargetText<'a>> {
        let mut m = Members::open(self)?;
        let id = self.member_text(&mut m, "\"id\":")?;
        let name = self.member_text(&mut m, "\"name\":")?;
        let kind = self.required(&mut m, "\"type\":")?;
        self.lit("}")?;
        Some(TargetText { kind, id, name })
    }

    fn target(&mut self) -> Option<Target> {
        let t = self.target_text()?;
        Some(Target { kind: t.kind.into_owned(), id: owned(t.id), name: owned(t.name) })
    }

    /// The targets list (`[` first), each read by `one`.
    fn targets<T>(&mut self, mut one: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut targets = Vec::new();
        self.lit("[")?;
        loop {
            targets.push(one(self)?);
            if !self.key(",") {
                break;
            }
        }
        self.lit("]")?;
        Some(targets)
    }

    fn client_text(&mut self) -> Option<ClientText<'a>> {
        let mut m = Members::open(self)?;
        let browser = self.member_text(&mut m, "\"browser\":")?;
        let device = self.member_text(&mut m, "\"device\":")?;
        let os = self.member_text(&mut m, "\"os\":")?;
        self.lit("}")?;
        Some(ClientText { os, browser, device })
    }

    fn location_text(&mut self) -> Option<LocationText<'a>> {
        let mut m = Members::open(self)?;
        let city = self.member_text(&mut m, "\"city\":")?;
        let country = self.member_text(&mut m, "\"country\":")?;
        let country_name = self.member_text(&mut m, "\"country_name\":")?;
        let region = self.member_text(&mut m, "\"region\":")?;
        self.lit("}")?;
        Some(LocationText { country, country_name, region, city })
    }

    /// A status code's digits (no leading zero).
    fn status(&mut self) -> Option<u16> {
        let digits = self.rest().iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 1 && self.rest()[0] == b'0' {
            return None;
        }
        let status = self.s.get(self.at..self.at + digits)?.parse::<u16>().ok()?;
        self.at += digits;
        Some(status)
    }

    fn context(&mut self, all: bool) -> Option<Context> {
        let mut m = Members::open(self)?;
        let mut ctx = Context::default();
        if m.next(self, "\"client\":") {
            let c = self.client_text()?;
            let device = if all { owned(c.device) } else { None };
            ctx.client = Some(Client { os: owned(c.os), browser: owned(c.browser), device });
        }
        if m.next(self, "\"ip\":") {
            ctx.ip = Some(self.str()?.parse::<IpAddr>().ok()?);
        }
        if m.next(self, "\"location\":") {
            let l = self.location_text()?;
            ctx.location = Some(Location {
                country: owned(l.country),
                country_name: owned(l.country_name),
                region: owned(l.region),
                city: owned(l.city),
            });
        }
        if m.next(self, "\"method\":") {
            let name = self.str()?;
            let method = Method::ALL.into_iter().find(|x| x.as_str() == name)?;
            ctx.method = all.then_some(method);
        }
        ctx.session_id = self.member_str(&mut m, "\"session_id\":", all)?;
        if m.next(self, "\"status\":") {
            ctx.status = Some(self.status()?).filter(|_| all);
        }
        ctx.url = self.member_str(&mut m, "\"url\":", all)?;
        ctx.user_agent = self.member_str(&mut m, "\"user_agent\":", all)?;
        self.lit("}")?;
        Some(ctx)
    }

    /// The context's activity fields (client, address as text, location), the rest passed
    /// over: into `a`.
    fn activity_context(&mut self, a: &mut Activity<'a>) -> Option<()> {
        let mut m = Members::open(self)?;
        if m.next(self, "\"client\":") {
            a.client = Some(self.client_text()?);
        }
        a.ip = self.member_text(&mut m, "\"ip\":")?;
        if m.next(self, "\"location\":") {
            a.location = Some(self.location_text()?);
        }
        self.member_text(&mut m, "\"method\":")?;
        self.member_text(&mut m, "\"session_id\":")?;
        if m.next(self, "\"status\":") {
            self.status()?;
        }
        self.member_text(&mut m, "\"url\":")?;
        self.member_text(&mut m, "\"user_agent\":")?;
        self.lit("}")
    }

    /// The metadata object (read by serde_json, which finds where it ends), kept or passed over.
    fn metadata(&mut self, keep: bool) -> Option<Option<Map<String, Value>>> {
        let rest = self.s.get(self.at..)?;
        if !rest.starts_with('{') {
            return None;
        }
        let (value, len) = if keep {
            let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Map<String, Value>>();
            (Some(values.next()?.ok()?), values.byte_offset())
        } else {
            let mut values = serde_json::Deserializer::from_str(rest).into_iter::<serde::de::IgnoredAny>();
            values.next()?.ok()?;
            (None, values.byte_offset())
        };
        self.at += len;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use proptest::{option::of, prelude::*};

    use super::*;
    use crate::canonical;

    /// Text with what needs escaping: quotes, backslashes, every control character, non-ASCII.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z0-9 ._@/-]{0,12}", "[\"\\\\\u{0}-\u{1f}a é€😀\u{7f}\u{2028}]{0,8}", "\\PC{0,16}",]
    }

    fn body() -> impl Strategy<Value = EventBody> {
        let actor = (of(text()), of(text()), of(text()), 0usize..4).prop_map(|(id, name, email, k)| Actor {
            id,
            name,
            email,
            kind: [ActorType::User, ActorType::ApiKey, ActorType::System, ActorType::Anonymous][k],
        });
        let target = (text(), of(text()), of(text())).prop_map(|(kind, id, name)| Target { kind, id, name });
        let location = (of(text()), of(text()), of(text()), of(text()))
            .prop_map(|(country, country_name, region, city)| Location { country, country_name, region, city });
        let client =
            (of(text()), of(text()), of(text())).prop_map(|(os, browser, device)| Client { os, browser, device });
        let ip = prop_oneof![any::<[u8; 4]>().prop_map(IpAddr::from), any::<[u8; 16]>().prop_map(IpAddr::from)];
        let context =
            ((of(ip), of(text()), of(text()), of(text())), (of(0usize..7), of(100u16..600), of(location), of(client)))
                .prop_map(|((ip, user_agent, session_id, url), (method, status, location, client))| Context {
                    ip,
                    user_agent,
                    session_id,
                    url,
                    method: method.map(|m| Method::ALL[m]),
                    status,
                    location,
                    client,
                });
        let metadata = prop::collection::btree_map(
            text(),
            prop_oneof![
                text().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<bool>().prop_map(Value::from),
                Just(serde_json::json!({"a": [1, "x", null, {"b": 2.5}]})),
            ],
            0..4,
        )
        .prop_map(|m| m.into_iter().collect::<Map<String, Value>>());
        (
            ("[a-z]{1,8}(\\.[a-z0-9_]{1,8}){0,2}", "[a-z_]{1,10}", any::<bool>(), text()),
            (of(actor), prop::collection::vec(target, 0..4), of(text()), of(text())),
            (of(context), of(metadata), 0i64..4_000_000_000_000_000, 0i64..1_000_000_000),
        )
            .prop_map(
                |(
                    (action, category, failed, report_type),
                    (actor, targets, description, id),
                    (context, metadata, occurred, later),
                )| {
                    let occurred_at = jiff::Timestamp::from_microsecond(occurred).unwrap();
                    EventBody {
                        id,
                        occurred_at,
                        received_at: jiff::Timestamp::from_microsecond(occurred + later).unwrap(),
                        action: Action::parse(&action).unwrap(),
                        category: Category::parse(&category).unwrap(),
                        outcome: if failed { Outcome::Failure } else { Outcome::Success },
                        report_type,
                        actor,
                        targets,
                        description,
                        context: context.map(Box::new),
                        metadata,
                        erased: Vec::new(),
                    }
                },
            )
    }

    /// `e` with only the activity fields.
    fn activity_part(mut e: EventBody) -> EventBody {
        e.id = None;
        e.metadata = None;
        if let Some(c) = e.context.as_mut() {
            (c.user_agent, c.session_id, c.url, c.method, c.status) = (None, None, None, None, None);
            if let Some(cl) = c.client.as_mut() {
                cl.device = None;
            }
        }
        e
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// What the writer writes, this reader reads back, whole or in part, and serde_json
        /// reads the same.
        #[test]
        fn reads_back_what_the_writer_writes(e in body()) {
            let text = String::from_utf8(canonical::write(&e).0).unwrap();
            prop_assert_eq!(read(&text, Fields::All), Some(e.clone()), "{}", text);
            prop_assert_eq!(&serde_json::from_str::<EventBody>(&text).unwrap(), &e);
            prop_assert_eq!(read(&text, Fields::Activity), Some(activity_part(e.clone())));
        }

        /// The activity fields read from the text are those of the typed event.
        #[test]
        fn reads_the_activity_fields_of_what_the_writer_writes(e in body()) {
            let text = String::from_utf8(canonical::write(&e).0).unwrap();
            prop_assert_eq!(read_activity(&text), Some(Activity::of(&e)), "{}", text);
        }

        /// On text cut short or with one byte changed, the activity read declines a cut, and
        /// where both reads accept the text it reads the fields the whole read finds.
        #[test]
        fn damaged_text_gives_the_activity_fields_of_the_typed_read(e in body(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
            let mut bytes = canonical::write(&e).0;
            let i = at.index(bytes.len());
            if cut { bytes.truncate(i) } else { bytes[i] = byte }
            let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
            if let (Some(typed), Some(mut fast)) = (read(&text, Fields::All), read_activity(&text)) {
                let want = Activity::of(&typed);
                // The address shows as stored; the typed read parses it, so its spelling may
                // differ (`A000::` for `a000::`), not the address.
                let address = |t: Option<Cow<'_, str>>| t.map(|t| t.parse::<IpAddr>().ok());
                prop_assert_eq!(address(fast.ip.take()), address(want.ip.clone()), "{}", text);
                prop_assert_eq!(fast, Activity { ip: None, ..want }, "{}", text);
            }
            if cut {
                prop_assert_eq!(read_activity(&text), None);
            }
        }

        /// On text cut short or with one byte changed, it declines, or reads what serde_json
        /// reads.
        #[test]
        fn damaged_text_is_declined_or_read_as_serde_reads_it(e in body(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
            let mut bytes = canonical::write(&e).0;
            let i = at.index(bytes.len());
            if cut { bytes.truncate(i) } else { bytes[i] = byte }
            let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
            if let (Some(fast), Ok(slow)) = (read(&text, Fields::All), serde_json::from_str::<EventBody>(&text)) {
                prop_assert_eq!(fast, slow, "{}", text);
            }
        }
    }

    #[test]
    fn quotes_and_backslashes_are_found_where_memchr_finds_them() {
        for len in 0..=48 {
            for at in 0..=len {
                for (special, other) in [(b'"', b'a'), (b'\\', 0x80), (b'"', b'\\' ^ 1), (b'\\', b'"' ^ 0x80)] {
                    let mut b = vec![other; len];
                    if at < len {
                        b[at] = special;
                    }
                    assert_eq!(quote_or_backslash(&b), memchr::memchr2(b'"', b'\\', &b), "{len} {at} {b:?}");
                    // A second special byte after the first changes nothing.
                    if at + 1 < len {
                        b[at + 1] = b'"';
                        assert_eq!(quote_or_backslash(&b), memchr::memchr2(b'"', b'\\', &b), "{len} {at} {b:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn other_forms_are_declined() {
        let now: jiff::Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        let e = crate::event::NewEvent::from_json(
            r#"{"action":"a.b","actor":{"id":"u"},"context":{"ip":"203.0.113.7"}}"#,
            now,
        )
        .unwrap()
        .into_body(now);
        let text = String::from_utf8(canonical::write(&e).0).unwrap();
        assert_eq!(read(&text, Fields::All), Some(e.clone()));
        // serde_json's order (not sorted), whitespace, a key added, an escape the writer never
        // uses: all read by serde_json instead.
        let spaced = text.replacen(',', ", ", 1);
        let unknown = text.replacen("{", "{\"zzz\":1,", 1);
        let slash = text.replacen("a.b", "a\\/b", 1);
        for other in [serde_json::to_string(&e).unwrap(), spaced, unknown, slash, format!("{text} ")] {
            assert_eq!(read(&other, Fields::All), None, "{other}");
        }
        // Values serde_json refuses are declined even where the activity read passes over them.
        let with_status = text.replacen("\"ip\":\"203.0.113.7\"", "\"ip\":\"203.0.113.7\",\"status\":0200", 1);
        let with_method = text.replacen("\"ip\":\"203.0.113.7\"", "\"ip\":\"203.0.113.7\",\"method\":\"FOO\"", 1);
        assert!(
            serde_json::from_str::<EventBody>(&with_status).is_err()
                && serde_json::from_str::<EventBody>(&with_method).is_err()
        );
        for (bad, fields) in [(&with_status, Fields::All), (&with_method, Fields::Activity)] {
            assert_eq!(read(bad, fields), None, "{bad}");
        }
        let fine =
            text.replacen("\"ip\":\"203.0.113.7\"", "\"ip\":\"203.0.113.7\",\"method\":\"GET\",\"status\":200", 1);
        assert_eq!(read(&fine, Fields::All).unwrap().context.unwrap().status, Some(200));
    }
}
