//! The live stream (SSE), the timeline, and paging under concurrent ingest.

use std::{collections::HashSet, time::Duration};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// Reads SSE frames from a streaming response until `n` events arrived; returns (id, data).
async fn read_events(resp: &mut reqwest::Response, n: usize, buf: &mut String) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    while out.len() < n {
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let mut id = None;
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if let Some(id) = id {
                out.push((id, serde_json::from_str(&data).unwrap()));
            }
        }
        if out.len() >= n {
            break;
        }
        let chunk =
            tokio::time::timeout(Duration::from_secs(10), resp.chunk()).await.expect("an event within 10 s").unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk.expect("stream open")));
    }
    out
}

async fn open(s: &TestServer, query: &str, last_id: Option<u64>) -> reqwest::Response {
    let mut req = s.client.get(s.url(&format!("/v1/tenants/acme/stream?{query}"))).bearer_auth(OPERATOR);
    if let Some(id) = last_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    resp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_tails_matching_events_and_resumes_from_last_event_id() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    s.ingest("acme", json!([{"action": "old.event"}])).await;
    let mut stream = open(&s, "action=document.*", None).await;
    let mut buf = String::new();
    s.ingest(
        "acme",
        json!([{"action": "panel.request"}, {"action": "document.signed", "occurred_at": "2020-01-01T00:00:00Z"}]),
    )
    .await;
    s.ingest("acme", json!({"action": "document.rejected"})).await;
    let got = read_events(&mut stream, 2, &mut buf).await;
    assert_eq!(
        got.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [3, 4],
        "only new matching events, in seq order, even backdated ones"
    );
    assert_eq!(got[0].1["action"], "document.signed");
    assert_eq!(got[1].1["seq"], 4);
    drop(stream);
    // While disconnected, more events arrive; reconnecting with Last-Event-ID misses none.
    s.ingest(
        "acme",
        json!([{"action": "document.created"}, {"action": "panel.request"}, {"action": "document.deleted"}]),
    )
    .await;
    let mut again = open(&s, "action=document.*", Some(4)).await;
    let mut buf = String::new();
    s.ingest("acme", json!({"action": "document.completed"})).await;
    let got = read_events(&mut again, 3, &mut buf).await;
    assert_eq!(got.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [5, 7, 8]);
    let bad = s
        .client
        .get(s.url("/v1/tenants/acme/stream"))
        .bearer_auth(OPERATOR)
        .header("Last-Event-ID", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_timeline_counts_per_day_and_hour_in_the_tenant_zone() {
    let s = TestServer::start().await;
    s.tenant_in("acme", "Asia/Kolkata").await;
    // 2026-01-01T00:10 in Kolkata is 2025-12-31T18:40Z.
    s.ingest(
        "acme",
        json!([
            {"action": "a.x", "occurred_at": "2025-12-31T18:40:00Z"},
            {"action": "a.x", "occurred_at": "2025-12-31T18:20:00Z"},
            {"action": "b.x", "occurred_at": "2026-01-01T18:29:59Z"},
            {"action": "a.x", "occurred_at": "2026-01-03T12:00:00Z"},
        ]),
    )
    .await;
    let (st, t) = s.get("/v1/tenants/acme/reports/timeline?from=2025-12-31&to=2026-01-03&interval=day", OPERATOR).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let rows: Vec<(String, u64)> = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["start"].as_str().unwrap().to_owned(), r["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("2025-12-31T00:00:00+05:30".to_owned(), 1),
            ("2026-01-01T00:00:00+05:30".to_owned(), 2),
            ("2026-01-02T00:00:00+05:30".to_owned(), 0),
            ("2026-01-03T00:00:00+05:30".to_owned(), 1),
        ]
    );
    assert_eq!(t["time_zone"], "Asia/Kolkata");
    let (_, h) = s.get("/v1/tenants/acme/reports/timeline?from=2026-01-01T00:00:00%2B05:30&to=2026-01-01T03:00:00%2B05:30&interval=hour&action=a.*", OPERATOR).await;
    let counts: Vec<u64> = h["rows"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, [1, 0, 0]);
    let (_, all) = s.get("/v1/tenants/acme/reports/timeline?range=all", OPERATOR).await;
    let total: u64 = all["rows"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 4, "range=all starts at the first event");
    let bad = s.get("/v1/tenants/acme/reports/timeline?interval=week", OPERATOR).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_parameter", Some("interval"));
    let too_many = s.get("/v1/tenants/acme/reports/timeline?from=2000-01-01&interval=hour", OPERATOR).await;
    assert_error(&too_many, StatusCode::BAD_REQUEST, "invalid_parameter", Some("interval"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walking_filtered_pages_during_ingest_yields_every_match_once() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let base = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(48);
    let at = move |i: i64| (base + jiff::SignedDuration::from_secs(i * 7)).to_string();
    let first: Vec<Value> = (0..3000)
        .map(|i| json!({"action": if i % 3 == 0 { "document.signed" } else { "panel.request" }, "description": format!("item {i} nda"), "occurred_at": at(i)}))
        .collect();
    for chunk in first.chunks(1000) {
        s.ingest("acme", chunk.to_vec().into()).await;
    }
    let writer = {
        let (base_url, client) = (s.base.clone(), s.client.clone());
        tokio::spawn(async move {
            for round in 0..40 {
                let batch: Vec<Value> = (0..50)
                    .map(|i| json!({"action": "document.signed", "description": "late nda", "occurred_at": at((round * 50 + i) % 3000)}))
                    .collect();
                let r = client
                    .post(format!("{base_url}/v1/tenants/acme/events"))
                    .bearer_auth(OPERATOR)
                    .json(&batch)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = "/v1/tenants/acme/events?action=document.*&q=nda&limit=37".to_owned();
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let (st, page) = s.get(&q, OPERATOR).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        seen.extend(page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    writer.await.unwrap();
    let unique: HashSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no event twice");
    // Every event that existed before the walk and matches is there.
    let before: HashSet<u64> = (0..3000u64).filter(|i| i % 3 == 0).map(|i| i + 1).collect();
    assert!(before.is_subset(&unique), "missing {:?}", before.difference(&unique).take(5).collect::<Vec<_>>());
}

/// A counter or gauge of `GET /metrics`.
async fn metric(s: &TestServer, name: &str) -> u64 {
    let text = s.client.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
        .parse()
        .unwrap()
}

/// Regression (issue 20, live tails): each stream read the store itself on every append, so
/// 250 streams on one tenant made 250 reads of each event (and held a blocking thread and a
/// SQLite connection each). Each append is now read once and shared by every stream of the
/// tenant, and the reader is released when the last stream closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_streams_get_every_event_in_order_from_one_read_of_each_append() {
    const STREAMS: usize = 50;
    const BATCHES: u64 = 10;
    let s = TestServer::start().await;
    s.tenant("acme").await;
    s.ingest("acme", json!({"action": "old.event"})).await;
    let mut streams = Vec::new();
    for i in 0..STREAMS {
        // Half resume from the start (they catch up from the store), half follow from now.
        let query = if i % 2 == 0 { "after=0" } else { "" };
        streams.push((open(&s, query, None).await, String::new(), i % 2 == 0));
    }
    s.ingest("acme", json!({"action": "warm.up"})).await;
    for (stream, buf, from_start) in &mut streams {
        let got = read_events(stream, if *from_start { 2 } else { 1 }, buf).await;
        assert_eq!(got.last().unwrap().0, 2);
        assert_eq!(got[0].0, if *from_start { 1 } else { 2 });
    }
    // Every stream is now following the broadcast: count the events read from here on.
    let before = metric(&s, "trail_stream_events_read_total").await;
    for b in 0..BATCHES {
        s.ingest("acme", json!([{"action": "a.x", "description": format!("batch {b}")}, {"action": "b.x"}])).await;
        for (stream, buf, _) in &mut streams {
            let got = read_events(stream, 2, buf).await;
            assert_eq!(got.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [3 + 2 * b, 4 + 2 * b]);
            assert_eq!(got[0].1["description"], format!("batch {b}"));
        }
    }
    let read = metric(&s, "trail_stream_events_read_total").await - before;
    assert_eq!(read, 2 * BATCHES, "each event read from the store once for all {STREAMS} streams");
    assert_eq!(metric(&s, "trail_stream_tenants").await, 1);
    drop(streams);
    // The tenant's reader ends once its last stream is gone.
    let mut left = 1;
    for _ in 0..200 {
        left = metric(&s, "trail_stream_tenants").await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "the reader of a tenant without streams is released");
}

/// Regression (issue 21): Trail's own events were appended without waking the live tail (key
/// creation woke no one; an export woke it by a hand-placed call), so a stream saw them only
/// at its next poll. Every append now goes through `App::append`, whose notice wakes the
/// tenant's hub. The poll is made an hour long here, so only the notice can deliver them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_sees_trails_own_events_woken_by_the_append_notice() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    s.ingest("acme", json!([{"action": "document.signed"}, {"action": "file.uploaded"}])).await;
    s.tails.set_poll(Duration::from_secs(3600));
    let admin = s.key("acme", &["admin"]).await;
    let resp = s.client.get(s.url("/v1/tenants/acme/stream")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = resp;
    let mut buf = String::new();

    // A downloaded export records `trail.logs.exported`.
    let export = s.client.get(s.url("/v1/tenants/acme/export?format=csv&range=all")).bearer_auth(&admin);
    let export = export.send().await.unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    let csv = export.text().await.unwrap();
    assert!(csv.contains("Document signed"), "{csv}");
    let got = read_events(&mut stream, 1, &mut buf).await;
    assert_eq!(got[0].1["action"], "trail.logs.exported", "{:?}", got[0].1);
    assert_eq!(got[0].1["metadata"]["rows"], 3, "two ingested events and the admin key's creation");

    // A key created through the API records `trail.key.created` (`audit::record`).
    s.key("acme", &["read"]).await;
    let got = read_events(&mut stream, 1, &mut buf).await;
    assert_eq!(got[0].1["action"], "trail.key.created", "{:?}", got[0].1);
}

/// Each way events enter a log through the server publishes exactly one notice per durable
/// append on the application's bus, and nothing for an append that stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_entry_point_publishes_one_notice_per_append() {
    use tokio::sync::broadcast::error::TryRecvError;
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let (st, b) = s.post("/v1/tenants", OPERATOR, &json!({"id": "old", "plan": "basic"})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let mut bus = s.app.subscribe();
    // The notice of what was just done; there must be exactly one.
    let mut one = |what: &str| {
        let notice = bus.try_recv().unwrap_or_else(|e| panic!("{what}: no notice ({e:?})"));
        assert_eq!(bus.try_recv().unwrap_err(), TryRecvError::Empty, "{what}: one notice, no more");
        notice
    };

    // API ingest: one notice for the request, covering its events.
    let r = s
        .ingest(
            "acme",
            json!([
                {"action": "document.signed", "id": "e1", "actor": {"id": "u_42", "email": "ann@acme.example"}},
                {"action": "file.uploaded", "id": "e2", "actor": {"id": "u_42"}},
            ]),
        )
        .await;
    let n = one("ingest");
    assert_eq!((n.tenant.as_str(), n.first_seq, n.last_seq), ("acme", 1, 2));
    assert_eq!(n.tree_size, r["tree_size"].as_u64().unwrap());
    // A request of duplicates only stores nothing and announces nothing.
    let again =
        json!([{"action": "document.signed", "id": "e1", "actor": {"id": "u_42", "email": "ann@acme.example"}}]);
    assert_eq!(s.ingest("acme", again).await["duplicates"], 1);
    // Trail's own events: an export, an API key, an erasure.
    let export = s.client.get(s.url("/v1/tenants/acme/export?format=csv&range=all")).bearer_auth(OPERATOR);
    assert!(!export.send().await.unwrap().bytes().await.unwrap().is_empty());
    // (Had the duplicates published a notice, it would be first here, with seq 1.)
    let n = one("export");
    assert_eq!((n.first_seq, n.last_seq), (3, 3));
    s.key("acme", &["read"]).await;
    assert_eq!(one("key").first_seq, 4);
    let (st, b) = s.post("/v1/tenants/acme/erasure", OPERATOR, &json!({"actor_id": "u_42"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(one("erasure").first_seq, 5);
    // Retention: one notice for the tenant it purged (its `trail.retention.purged`).
    let ancient = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 100)).to_string();
    s.ingest("old", json!({"action": "document.signed", "occurred_at": ancient})).await;
    assert_eq!(one("ingest into old").tenant.as_str(), "old");
    trail_app::retention::purge_all(&s.app, &config(), jiff::Timestamp::now()).await;
    let n = one("retention");
    assert_eq!((n.tenant.as_str(), n.first_seq), ("old", 2));
}
