//! Rows made straight from stored records (`RenderRow::render_record`, a CSV export of the
//! activity view) are the rows of the typed events: for a filter of a time range alone the
//! store offers every record, and an event with erased fields or a row the renderer declines is
//! made from the typed event instead; a filter with anything else never offers a record (the
//! store must check each event against it), whatever the filter narrows by.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
};

use jiff::Timestamp;
use trail_core::{
    TenantId,
    canonical::Personal,
    event::{Activity, Client, EventBody, Fields, NewEvent, StoredEvent},
    filter::{Filter, Page},
    time::TimeBounds,
};
use trail_store::{Accounts, ErasureRequest, EventLog, ExportReads, Maintenance, NewTenant, PreparedEvent, RenderRow};
use trail_store_sqlite::SqliteStore;

/// Renders an event as its seq and its activity fields, on a line of its own; notes the events
/// whose rows it made from records (a page's last row may be made twice: the store reads one
/// event past a page to know whether there is more), and declines the records of `declined`
/// events.
struct Lines {
    from_records: Mutex<BTreeSet<u64>>,
    declined: &'static str,
}

impl Lines {
    fn new(declined: &'static str) -> Arc<Lines> {
        Arc::new(Lines { from_records: Mutex::default(), declined })
    }

    fn rows_from_records(&self) -> usize {
        self.from_records.lock().unwrap().len()
    }
}

fn line(seq: u64, a: &Activity<'_>) -> String {
    // Debug escapes line breaks, so each row is one line.
    format!("{seq} {a:?}\n")
}

impl RenderRow for Lines {
    fn render(&self, event: &mut StoredEvent, out: &mut Vec<u8>) {
        out.extend(line(event.seq, &Activity::of(&event.body)).bytes());
    }

    fn renders_records(&self) -> bool {
        true
    }

    fn render_record(&self, seq: u64, record: &[u8], out: &mut Vec<u8>) -> Option<Timestamp> {
        let a = trail_store::record::activity(record).expect("a sound record")?;
        if a.action == self.declined {
            return None;
        }
        self.from_records.lock().unwrap().insert(seq);
        out.extend(line(seq, &a).bytes());
        Some(a.occurred_at)
    }
}

/// Event `i`: names, remarks and targets with quotes, line breaks and non-ASCII text, IPv4 and
/// IPv6 addresses, locations and clients, or none of them; a minute apart.
fn event(i: usize, now: Timestamp) -> PreparedEvent {
    let action = ["document.signed", "file.downloaded", "link.viewed", "user.login"][i % 4];
    let ip = ["203.0.113.7", "2001:db8::7", "10.0.0.1"][i % 3];
    let mut json = serde_json::json!({
        "action": action,
        "outcome": if i % 7 == 3 { "failure" } else { "success" },
        "occurred_at": format!("2026-0{}-{:02}T{:02}:{:02}:00Z", 1 + i % 9, 1 + i % 28, i % 24, i % 60),
        "actor": {"id": format!("u{}", i % 11), "name": format!("Zoë \"{}\" Ρωμανός", i % 11), "email": format!("u{}@acme.example", i % 11)},
        "description": format!("line one {i}\nline two, with \\ and 😀 and עברית"),
        "context": {"ip": ip, "location": {"country": "GR", "region": "Attica", "city": "Αθήνα"}},
        "targets": [{"type": "document", "id": format!("d{i}"), "name": "NDA, 2026.pdf"}, {"type": "folder", "id": "f1"}],
    });
    if i.is_multiple_of(5) {
        // An event with no actor, context, remarks or targets.
        json = serde_json::json!({"action": action, "occurred_at": json["occurred_at"].clone()});
    }
    let with_client = i.is_multiple_of(2);
    PreparedEvent::new(NewEvent::from_json(&json.to_string(), now).unwrap(), now, move |b: &mut EventBody| {
        if let (true, Some(c)) = (with_client, b.context.as_mut()) {
            c.client =
                Some(Client { os: Some("Windows 10".into()), browser: Some("Firefox 120".into()), device: None });
        }
    })
}

/// Every row the store renders for `f`, a page of `limit` at a time.
async fn rows(store: &SqliteStore, t: &TenantId, f: &Filter, limit: usize, render: &Arc<Lines>) -> Vec<String> {
    let mut page = Page { limit, cursor: None };
    let mut out = Vec::new();
    loop {
        let p = store.query_rendered(t, f, page, Fields::Activity, render.clone()).await.unwrap();
        for (piece, _) in &p.pieces {
            out.extend(String::from_utf8(piece.clone()).unwrap().lines().map(|l| format!("{l}\n")));
        }
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return out,
        }
    }
}

/// The rows of the typed events `f` selects, newest first.
async fn typed_rows(store: &SqliteStore, t: &TenantId, f: &Filter) -> Vec<String> {
    let mut page = Page { limit: 1000, cursor: None };
    let mut out = Vec::new();
    loop {
        let p = store.query(t, f, page).await.unwrap();
        out.extend(p.events.iter().map(|e| line(e.seq, &Activity::of(&e.body))));
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return out,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_from_records_are_the_rows_of_the_typed_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let t = TenantId::parse("acme").unwrap();
    let new = NewTenant { id: t.clone(), name: "Acme".into(), plan: "basic".into(), time_zone: "UTC".into() };
    store.create_tenant(new).await.unwrap();
    let now = Timestamp::now();
    // More than the events a store sees before it trains its dictionary, so most records are
    // compressed and the first ones plain.
    let n = 6000;
    let events: Vec<PreparedEvent> = (0..n).map(|i| event(i, now)).collect();
    for batch in events.chunks(1000) {
        store.append(&t, batch.to_vec()).await.unwrap();
    }
    // Erase some fields of a few events, early (plain) and late (compressed) ones.
    let erased: Vec<u64> = vec![2, 3, 4, 5000, 5999];
    let request = ErasureRequest {
        events: erased.iter().map(|&s| (s, vec![Personal::ActorEmail, Personal::Description])).collect(),
        keys: Vec::new(),
        emails: Vec::new(),
        names: Vec::new(),
    };
    store.erase(&t, &request).await.unwrap();

    let everything = Filter::default();
    let spring = Filter {
        time: TimeBounds {
            from: Some("2026-03-01T00:00:00Z".parse().unwrap()),
            to: Some("2026-06-01T00:00:00Z".parse().unwrap()),
        },
        ..Filter::default()
    };
    for (f, name) in [(&everything, "everything"), (&spring, "a time range")] {
        let expected = typed_rows(&store, &t, f).await;
        assert!(expected.len() > 1000, "{name}: {} rows", expected.len());
        let erased_in = expected.iter().filter(|l| l.contains("[erased]")).count();
        let declined = expected.iter().filter(|l| l.contains("\"link.viewed\"") && !l.contains("[erased]")).count();
        assert!(declined > 0);
        for limit in [256, 1000, 5000] {
            let render = Lines::new("link.viewed");
            let got = rows(&store, &t, f, limit, &render).await;
            assert_eq!(got.len(), expected.len(), "{name} in pages of {limit}");
            if let Some((g, e)) = got.iter().zip(&expected).find(|(g, e)| g != e) {
                panic!("{name} in pages of {limit}: a row differs:\n{g}{e}");
            }
            // Every row but the erased events' and the declined ones came from its record.
            assert_eq!(render.rows_from_records(), expected.len() - erased_in - declined, "{name} in pages of {limit}");
        }
    }
    let erased_rows = typed_rows(&store, &t, &everything).await.iter().filter(|l| l.contains("[erased]")).count();
    assert_eq!(erased_rows, erased.len(), "the erased events read [erased]");

    // A filter on anything but time: every event is checked, so no record is offered.
    let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
    for query in [
        "actor=u3",
        "outcome=failure&outcome=failure",
        "category=document",
        "action=link.*",
        "country=GR",
        "ip=10.0.0.1",
        "q=line",
        "q=-two",
    ] {
        let pairs = query.split('&').map(|p| p.split_once('=').unwrap());
        let (filter, _) = trail_core::filter::parse_params(pairs, &jiff::tz::TimeZone::UTC, now, &[]).unwrap();
        let filter = Filter { time: TimeBounds::default(), ..filter };
        let expected = typed_rows(&store, &t, &filter).await;
        assert!(!expected.is_empty() && expected.len() < n, "{query}: {} rows", expected.len());
        let render = Lines::new("");
        let got = rows(&store, &t, &filter, 300, &render).await;
        assert_eq!(got.len(), expected.len(), "{query}");
        assert!(got == expected, "{query}: the rows differ");
        assert_eq!(render.rows_from_records(), 0, "{query}");
    }
}
