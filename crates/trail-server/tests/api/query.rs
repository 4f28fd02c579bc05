//! `GET /v1/tenants/{t}/events`: filters, presets in the tenant's time zone, paging.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn filters_select_exactly() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let day = |d: i64| (Timestamp::now() - SignedDuration::from_hours(24 * d)).to_string();
    s.ingest("acme", json!([
        {"action": "auth.login.succeeded", "actor": {"id": "u1", "email": "one@x.example"}, "occurred_at": day(1)},
        {"action": "auth.login.failed", "outcome": "failure", "actor": {"id": "u2"}, "occurred_at": day(2)},
        {"action": "document.signed", "actor": {"id": "u1"}, "occurred_at": day(3)},
        {"action": "document.rejected", "outcome": "failure", "actor": {"email": "three@x.example"}, "occurred_at": day(40)},
        {"action": "billing.paid", "category": "payment", "occurred_at": day(100)},
    ])).await;
    let q = |query: &'static str| {
        let s = &s;
        async move {
            let mut v = seqs(&s.events("acme", query).await);
            v.sort();
            v
        }
    };
    assert_eq!(q("").await, [1, 2, 3], "the default range is the last 30 days");
    assert_eq!(q("range=all").await, [1, 2, 3, 4, 5]);
    assert_eq!(q("range=last_90_days").await, [1, 2, 3, 4]);
    assert_eq!(q("range=all&actor=u1").await, [1, 3]);
    // one@x.example is u1's e-mail (event 1 pairs them), so it finds u1's events too.
    assert_eq!(q("range=all&actor=one@x.example&actor=three@x.example").await, [1, 3, 4]);
    assert_eq!(q("range=all&action=document.*").await, [3, 4]);
    assert_eq!(q("range=all&action=auth.login.failed&action=billing.paid").await, [2, 5]);
    assert_eq!(q("range=all&category=payment").await, [5]);
    assert_eq!(q("range=all&category=auth&outcome=failure").await, [2]);
    assert_eq!(q("range=all&outcome=failure&outcome=success").await, [1, 2, 3, 4, 5]);
    let from = (Timestamp::now() - SignedDuration::from_hours(24 * 3 + 1)).to_string();
    let to = (Timestamp::now() - SignedDuration::from_hours(36)).to_string();
    let mut got = seqs(&s.events("acme", &format!("from={from}&to={to}")).await);
    got.sort();
    assert_eq!(got, [2, 3]);
}

#[tokio::test]
async fn presets_follow_the_tenant_time_zone() {
    let s = TestServer::start().await;
    // Kiribati is UTC+14 and Pago Pago UTC-11: their "today" differ by a whole day.
    s.tenant_in("east", "Pacific/Kiritimati").await;
    s.tenant_in("west", "Pacific/Pago_Pago").await;
    let now = Timestamp::now();
    for t in ["east", "west"] {
        let tz = jiff::tz::TimeZone::get(if t == "east" { "Pacific/Kiritimati" } else { "Pacific/Pago_Pago" }).unwrap();
        let midnight = now.to_zoned(tz.clone()).start_of_day().unwrap().timestamp();
        let before = (midnight - SignedDuration::from_mins(1)).to_string();
        let after = (midnight + SignedDuration::from_mins(1)).min(now).to_string();
        s.ingest(t, json!([{"action": "yesterday.late", "occurred_at": before}, {"action": "today.early", "occurred_at": after}])).await;
        let today: Vec<String> =
            s.events(t, "range=today").await.iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
        assert_eq!(today, ["today.early"], "{t}");
        let yesterday: Vec<String> =
            s.events(t, "range=yesterday").await.iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
        assert_eq!(yesterday, ["yesterday.late"], "{t}");
        // A tz= parameter moves the day boundaries.
        let utc_today = s.events(t, "range=today&tz=UTC").await.len();
        assert!(utc_today <= 2);
        // A date `to` includes that whole day, in the tenant's zone.
        let date = now.to_zoned(tz).date().to_string();
        let by_date = s.events(t, &format!("from={date}&to={date}")).await;
        assert_eq!(by_date.len(), 1, "{t}: {by_date:?}");
    }
}

#[tokio::test]
async fn paging_is_newest_first_and_stable_while_events_arrive() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let base = Timestamp::now() - SignedDuration::from_hours(24);
    let batch: Vec<Value> = (0..230)
        .map(|i| json!({"action": "x.y", "occurred_at": (base + SignedDuration::from_secs(i / 2)).to_string()}))
        .collect();
    s.ingest("acme", batch.into()).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut last: Option<(String, u64)> = None;
    loop {
        let mut q = "/v1/tenants/acme/events?limit=25".to_owned();
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let (st, page) = s.get(&q, OPERATOR).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        for e in page["events"].as_array().unwrap() {
            let key = (e["occurred_at"].as_str().unwrap().to_owned(), e["seq"].as_u64().unwrap());
            if let Some(prev) = &last {
                assert!(key < *prev, "newest first: {key:?} after {prev:?}");
            }
            last = Some(key);
            seen.push(e["seq"].as_u64().unwrap());
        }
        // Meanwhile new events arrive, some dated in the middle of what is left to read.
        s.ingest("acme", json!([{"action": "late.arrival", "occurred_at": (base + SignedDuration::from_secs(30)).to_string()}, {"action": "new.one"}])).await;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 230);
    assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), (1..=230).collect::<HashSet<_>>());
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    for (q, field) in [
        ("range=fortnight", "range"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-11-22&to=2026-11-01", "to"),
        ("range=all&from=2026-11-01", "range"),
        ("action=Document.*", "action"),
        ("outcome=maybe", "outcome"),
        ("category=Auth", "category"),
        ("tz=Moon/Base", "tz"),
        ("cursor=not-a-cursor", "cursor"),
        ("actr=u1", "actr"),
    ] {
        let got = s.get(&format!("/v1/tenants/acme/events?{q}"), OPERATOR).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_parameter", Some(field));
    }
}
