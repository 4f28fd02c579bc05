//! Any event ingest accepts is readable by every route: generated events around every limit
//! of an event, parsed and validated as ingest does, stored through the SQLite store, and read
//! back by `query` (small and large pages), `event(seq)`, `events_after` and the exports' row
//! renderers (the CSV activity rows made straight from records, NDJSON rows from typed events),
//! each equal to what was stored. And a stored event that cannot be decoded does not take any
//! of them down: it reads as a placeholder naming its seq.
//!
//! Regression: an action of 65 characters with no dot was accepted, its implied category broke
//! the 64-character rule, and every list holding it answered 500 from then on.

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicU64, Ordering},
};

use jiff::{Timestamp, tz::Offset};
use proptest::{collection::vec, option::of, prelude::*};
use serde_json::{Map, Value, json};
use trail_core::{
    TenantId, canonical,
    event::{BodyFormat, EventBody, Fields, Limits, StoredEvent, UNREADABLE_ACTION, parse_batch},
    filter::{Filter, Page},
};
use trail_export::{Format, RowRenderer, views};
use trail_store::{Accounts, EventLog, ExportReads, NewTenant, PreparedEvent, RenderRow};
use trail_store_sqlite::SqliteStore;

struct Env {
    rt: tokio::runtime::Runtime,
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

/// One store for every case, a tenant per case.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        Env { rt, store, _dir: dir }
    })
}

async fn new_tenant(store: &SqliteStore) -> TenantId {
    static N: AtomicU64 = AtomicU64::new(0);
    let t = TenantId::parse(&format!("t{}", N.fetch_add(1, Ordering::Relaxed))).unwrap();
    let new = NewTenant { id: t.clone(), name: "T".into(), plan: "basic".into(), time_zone: "UTC".into() };
    store.create_tenant(new).await.unwrap();
    t
}

/// Text around a limit of `max` characters: short text with what needs escaping, or exactly
/// `max - 1`, `max` or `max + 1` characters of one (possibly multi-byte) character.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9 ._@/-]{0,12}",
        2 => "[\"\\\\\u{0}-\u{1f}a é€😀\u{7f}\u{2028}]{0,8}",
        2 => "\\PC{0,16}",
        1 => (prop_oneof![Just('x'), Just('é'), Just('😀'), Just('"')], max - 1..=max + 1)
            .prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
    ]
}

/// A lowercase word of 1 to `max + 1` characters (around the category's 64).
fn word(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-z0-9_]{1,8}", 1 => (max - 1..=max + 1).prop_map(|n| "a_1".chars().cycle().take(n).collect())]
}

fn metadata_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        text(16).prop_map(Value::from),
    ];
    // Up to ten levels: around the limit of eight.
    leaf.prop_recursive(10, 40, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::Array),
            vec(("[a-z\u{0}-\u{1f}é😀]{0,4}", inner), 0..3).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An event as a client may send it, valid or not, near every limit.
fn event_json() -> impl Strategy<Value = Value> {
    let action = (word(64), vec(word(64), 0..3))
        .prop_map(|(first, rest)| std::iter::once(first).chain(rest).collect::<Vec<_>>().join("."));
    // From just before the year 0000 to a little past now, at any offset.
    let occurred_at = (-62_167_300_000i64..1_800_000_000, 0u32..1_000_000, -23i32..=23).prop_map(|(s, us, h)| {
        Timestamp::new(s, us as i32 * 1000).unwrap().display_with_offset(Offset::constant(h as i8)).to_string()
    });
    let actor = (
        of(text(256)),
        of(text(256)),
        of(text(256)),
        of(prop_oneof![Just("user"), Just("api_key"), Just("system"), Just("anonymous")]),
    )
        .prop_map(|(id, name, email, kind)| json!({"id": id, "name": name, "email": email, "type": kind}));
    let target = (word(64), of(text(256)), of(text(256)))
        .prop_map(|(kind, id, name)| json!({"type": kind, "id": id, "name": name}));
    let ip = prop_oneof![
        any::<[u8; 4]>().prop_map(|b| std::net::IpAddr::from(b).to_string()),
        any::<[u8; 16]>().prop_map(|b| std::net::IpAddr::from(b).to_string()),
    ];
    let location = (of("[A-Za-z]{2}"), of(text(128)), of(text(128)), of(text(128)))
        .prop_map(|(country, country_name, region, city)| json!({"country": country, "country_name": country_name, "region": region, "city": city}));
    let context = (
        (of(ip), of(text(1024)), of(text(256)), of(text(4096))),
        (of(prop_oneof![Just("GET"), Just("POST"), Just("DELETE")]), of(99i64..=600), of(location)),
    )
        .prop_map(|((ip, user_agent, session_id, url), (method, status, location))| {
            json!({"ip": ip, "user_agent": user_agent, "session_id": session_id, "url": url, "method": method, "status": status, "location": location})
        });
    let metadata = vec(("[a-z\u{0}-\u{1f}é😀]{0,6}", metadata_value()), 0..4)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()));
    (
        (action, of(word(64)), of(prop_oneof![Just("success"), Just("failure")]), of(occurred_at)),
        (of(actor), of(vec(target, 0..3)), of(text(8192)), of(context), of(metadata), of(text(128))),
    )
        .prop_map(
            |((action, category, outcome, occurred_at), (actor, targets, description, context, metadata, id))| {
                let mut e = Map::new();
                e.insert("action".into(), action.into());
                let mut put = |k: &str, v: Option<Value>| {
                    if let Some(v) = v {
                        e.insert(k.into(), v);
                    }
                };
                put("category", category.map(Value::from));
                put("outcome", outcome.map(Value::from));
                put("occurred_at", occurred_at.map(Value::from));
                put("actor", actor);
                put("targets", targets.map(Value::from));
                put("description", description.map(Value::from));
                put("context", context);
                put("metadata", metadata);
                put("id", id.map(Value::from));
                Value::Object(e)
            },
        )
}

/// `e` with its metadata in canonical form: what a stored event reads back as (numbers take
/// their JSON canonical form: `1.0` reads back as `1`).
fn as_stored(e: &EventBody) -> EventBody {
    let text = String::from_utf8(canonical::write(e).0).unwrap();
    EventBody { metadata: serde_json::from_str::<EventBody>(&text).unwrap().metadata, ..e.clone() }
}

/// Every row `render` makes of the tenant's events, read through `query_rendered`.
async fn rendered(
    store: &SqliteStore,
    t: &TenantId,
    render: Arc<dyn RenderRow>,
    fields: Fields,
    limit: usize,
) -> Vec<u8> {
    let mut page = Page { limit, cursor: None };
    let mut out = Vec::new();
    loop {
        let p = store.query_rendered(t, &Filter::default(), page, fields, render.clone()).await.unwrap();
        p.pieces.iter().for_each(|(bytes, _)| out.extend_from_slice(bytes));
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return out,
        }
    }
}

/// Every event of the tenant through `query`, in pages of `limit`.
async fn queried(store: &SqliteStore, t: &TenantId, limit: usize) -> Vec<StoredEvent> {
    let mut page = Page { limit, cursor: None };
    let mut out = Vec::new();
    loop {
        let p = store.query(t, &Filter::default(), page).await.unwrap();
        out.extend(p.events);
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return out,
        }
    }
}

/// The rows `renderer` makes of `events`, as a store hands them over.
fn rows_of(renderer: &RowRenderer, events: &[StoredEvent]) -> Vec<u8> {
    let mut out = Vec::new();
    events.iter().for_each(|e| renderer.render(e, &mut out));
    out
}

struct Rows(RowRenderer);

impl RenderRow for Rows {
    fn render(&self, event: &mut StoredEvent, out: &mut Vec<u8>) {
        self.0.render(event, out);
    }

    fn renders_records(&self) -> bool {
        self.0.renders_activity()
    }

    fn render_record(&self, seq: u64, record: &[u8], out: &mut Vec<u8>) -> Option<Timestamp> {
        let a = trail_store::record::activity(record).ok()??;
        let at = a.occurred_at;
        self.0.render_activity(seq, a, out).then_some(at)
    }
}

/// Every route reads the tenant's events as `expected` (newest first).
async fn every_route_reads(store: &SqliteStore, t: &TenantId, expected: &[StoredEvent]) {
    let n = expected.len() as u64;
    for limit in [1, 1000] {
        assert_eq!(queried(store, t, limit).await, expected, "query in pages of {limit}");
    }
    for e in expected {
        assert_eq!(store.event(t, e.seq).await.unwrap().as_ref(), Some(e), "event({})", e.seq);
    }
    let mut in_seq_order = expected.to_vec();
    in_seq_order.sort_by_key(|e| e.seq);
    assert_eq!(store.events_after(t, 0, n as usize + 1).await.unwrap(), in_seq_order, "events_after");
    let view = views::View::new(views::ViewKind::Activity, jiff::tz::TimeZone::UTC);
    for format in [Format::Csv, Format::Ndjson] {
        let renderer = RowRenderer::new(format, &view).unwrap();
        let want = rows_of(&renderer, expected);
        let render: Arc<dyn RenderRow> = Arc::new(Rows(renderer));
        // Pages of 256 and more are decoded on two threads, and a CSV's rows made from records
        // (its activity columns need only the activity fields; NDJSON rows hold every field).
        let fields = if format == Format::Csv { Fields::Activity } else { Fields::All };
        for limit in [10, 256, 5000] {
            let got = rendered(store, t, render.clone(), fields, limit).await;
            assert!(
                got == want,
                "{format:?} rows in pages of {limit}:\n{}\n{}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// What ingest accepts, every route reads back as it was stored.
    #[test]
    fn every_event_ingest_accepts_reads_back(events in vec(event_json(), 1..6)) {
        let env = env();
        let now = trail_core::time::truncate_us(Timestamp::now());
        // Each event alone, as a batch of one: a batch is refused whole for one bad event.
        let accepted: Vec<PreparedEvent> = events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let mut e = e.clone();
                // Ids unique in the batch (a repeated id is a duplicate or a conflict).
                if let Some(id) = e.get_mut("id") {
                    *id = Value::from(format!("{i}{}", id.as_str().unwrap()));
                }
                let body = serde_json::to_vec(&e).unwrap();
                let mut ok = parse_batch(&body, BodyFormat::Json, now, Limits::default()).ok()?;
                Some(PreparedEvent::new(ok.pop().unwrap(), now, |_| {}))
            })
            .collect();
        if accepted.is_empty() {
            return Ok(());
        }
        env.rt.block_on(async {
            let t = new_tenant(&env.store).await;
            let receipt = env.store.append(&t, accepted.clone()).await.unwrap();
            let mut expected: Vec<StoredEvent> = receipt
                .events
                .iter()
                .zip(&accepted)
                .map(|(a, p)| StoredEvent { tenant: t.clone(), seq: a.seq, body: as_stored(&p.body) })
                .collect();
            expected.sort_by_key(|e| std::cmp::Reverse((e.body.occurred_at, e.seq)));
            every_route_reads(&env.store, &t, &expected).await;
        });
    }
}

/// Regression: the events found unreadable once accepted are refused at ingest.
#[test]
fn the_events_that_broke_the_log_are_refused() {
    let now = Timestamp::now();
    for body in [
        format!(r#"{{"action":"{}"}}"#, "a".repeat(65)),
        r#"{"action":"a","occurred_at":"0000-01-01T00:00:00+00:01"}"#.to_owned(),
    ] {
        let e = parse_batch(body.as_bytes(), BodyFormat::Json, now, Limits::default()).expect_err(&body);
        assert_eq!(e.kind, trail_core::event::BatchErrorKind::Invalid, "{body}");
    }
}

/// One stored event that does not decode reads as a placeholder at its seq, in its place, on
/// every route; the others read as stored.
#[test]
fn one_undecodable_event_does_not_take_a_list_down() {
    let env = env();
    let now = trail_core::time::truncate_us(Timestamp::now());
    env.rt.block_on(async {
        let t = new_tenant(&env.store).await;
        let events: Vec<PreparedEvent> = (0..300)
            .map(|i| {
                let json = format!(
                    r#"{{"action":"file.uploaded","actor":{{"id":"u{}"}},"occurred_at":"2026-01-01T00:{:02}:{:02}Z"}}"#,
                    i % 3,
                    i / 60,
                    i % 60
                );
                let mut ok = parse_batch(json.as_bytes(), BodyFormat::Json, now, Limits::default()).unwrap();
                PreparedEvent::new(ok.pop().unwrap(), now, |_| {})
            })
            .collect();
        env.store.append(&t, events.clone()).await.unwrap();
        let dir = env._dir.path();
        let bad = 150;
        trail_store_sqlite::tamper::garble_event(dir, t.as_str(), bad).unwrap();
        let expected: Vec<StoredEvent> = events
            .iter()
            .enumerate()
            .rev()
            .map(|(i, p)| {
                let seq = i as u64 + 1;
                let body =
                    if seq == bad { EventBody::unreadable(seq, p.body.occurred_at, "x") } else { p.body.clone() };
                StoredEvent { tenant: t.clone(), seq, body }
            })
            .collect();
        // Compared with the placeholder's reason left out (it names the damage found).
        let reasonless = |mut v: Vec<StoredEvent>| {
            for e in &mut v {
                if e.body.action.as_str() == UNREADABLE_ACTION {
                    assert!(e.body.description.as_deref().unwrap().contains(&format!("seq {bad}")));
                    e.body.description = None;
                }
            }
            v
        };
        let expected = reasonless(expected);
        for limit in [7, 1000] {
            assert_eq!(reasonless(queried(&env.store, &t, limit).await), expected, "query in pages of {limit}");
        }
        let one = store_event(&env.store, &t, bad).await;
        // Read alone, its time is unknown (the record holds none): the epoch.
        assert_eq!(one.body.action.as_str(), UNREADABLE_ACTION);
        let after = env.store.events_after(&t, 0, 1000).await.unwrap();
        assert_eq!(after.len(), 300);
        assert_eq!(after[bad as usize - 1].body.action.as_str(), UNREADABLE_ACTION);
        // A filter the placeholder cannot be checked against still shows it where the index
        // proposes it (the index was made from the event as written).
        let by_actor = Filter { actors: vec!["u2".into()], ..Filter::default() };
        let p = env.store.query(&t, &by_actor, Page { limit: 1000, cursor: None }).await.unwrap();
        assert!(p.events.iter().any(|e| e.seq == bad), "the placeholder is in the actor's list");
        assert_eq!(p.events.len(), 100);
        let view = views::View::new(views::ViewKind::Activity, jiff::tz::TimeZone::UTC);
        for format in [Format::Csv, Format::Ndjson] {
            let render: Arc<dyn RenderRow> = Arc::new(Rows(RowRenderer::new(format, &view).unwrap()));
            let fields = if format == Format::Csv { Fields::Activity } else { Fields::All };
            for limit in [10, 256, 5000] {
                let rows = String::from_utf8(rendered(&env.store, &t, render.clone(), fields, limit).await).unwrap();
                assert_eq!(rows.lines().count(), 300, "{format:?} in pages of {limit}");
                assert!(rows.contains(&format!("seq {bad}")), "{format:?} in pages of {limit}: the placeholder's row");
            }
        }
    });
}

async fn store_event(store: &SqliteStore, t: &TenantId, seq: u64) -> StoredEvent {
    store.event(t, seq).await.unwrap().expect("the event exists")
}

/// Regression: resending an event whose earlier copy no longer decodes failed the whole batch
/// with a storage error (the id check decoded the stored record to read its id). The same
/// event again is a duplicate of the damaged one; another body under its id is a conflict.
#[test]
fn resending_an_id_whose_event_is_damaged_is_a_duplicate() {
    let env = env();
    let now = trail_core::time::truncate_us(Timestamp::now());
    let prepare = |i: usize, action: &str| {
        let json = format!(
            r#"{{"id":"evt-{i}","action":"{action}","actor":{{"id":"u1"}},"occurred_at":"2026-01-01T00:00:{i:02}Z"}}"#
        );
        let mut ok = parse_batch(json.as_bytes(), BodyFormat::Json, now, Limits::default()).unwrap();
        PreparedEvent::new(ok.pop().unwrap(), now, |_| {})
    };
    env.rt.block_on(async {
        let t = new_tenant(&env.store).await;
        let events: Vec<PreparedEvent> = (0..5).map(|i| prepare(i, "file.uploaded")).collect();
        env.store.append(&t, events).await.unwrap();
        trail_store_sqlite::tamper::garble_event(env._dir.path(), t.as_str(), 3).unwrap();

        let again = env.store.append(&t, vec![prepare(2, "file.uploaded"), prepare(9, "file.uploaded")]).await;
        let receipt = again.expect("resending the damaged event's id is answered");
        let got: Vec<(u64, bool)> = receipt.events.iter().map(|a| (a.seq, a.duplicate)).collect();
        assert_eq!(got, [(3, true), (6, false)], "a duplicate of seq 3, then one new event");

        let other = env.store.append(&t, vec![prepare(2, "file.deleted")]).await;
        assert!(
            matches!(other, Err(trail_store::StoreError::Conflict { seq: 3, .. })),
            "another body under the damaged event's id is a conflict: {other:?}"
        );
    });
}
