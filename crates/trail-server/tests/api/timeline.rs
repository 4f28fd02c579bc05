//! The timeline at the ends of time: events dated 1970 and year 1, `range=all` by hour and day.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{OPERATOR, TestServer, assert_error};

fn rows(t: &Value) -> Vec<(String, u64)> {
    t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["start"].as_str().unwrap().to_owned(), r["count"].as_u64().unwrap()))
        .collect()
}

/// Regression: after one event dated 1970 or year 1, `reports/timeline?range=all` answered 400
/// "use interval=day" even with interval=day. It now counts by the shortest interval that fits
/// (month, year) and says so; every event is counted once.
#[tokio::test]
async fn range_all_with_an_event_from_1970_or_year_1_is_answered() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    s.ingest(
        "acme",
        json!([
            {"action": "a.x", "occurred_at": "1970-01-01T00:00:00Z"},
            {"action": "a.x"},
        ]),
    )
    .await;
    for asked in ["hour", "day"] {
        let (st, t) = s.get(&format!("/v1/tenants/acme/reports/timeline?range=all&interval={asked}"), OPERATOR).await;
        assert_eq!(st, StatusCode::OK, "{asked}: {t}");
        assert_eq!(t["interval"], "month", "{asked}");
        let r = rows(&t);
        assert_eq!(r[0], ("1970-01-01T00:00:00+00:00".to_owned(), 1));
        assert_eq!(r.iter().map(|(_, c)| c).sum::<u64>(), 2);
        assert!(r.len() <= 10_000);
    }

    s.ingest("acme", json!({"action": "a.x", "occurred_at": "0001-01-01T00:00:00Z"})).await;
    for asked in ["hour", "day", "month"] {
        let (st, t) = s.get(&format!("/v1/tenants/acme/reports/timeline?range=all&interval={asked}"), OPERATOR).await;
        assert_eq!(st, StatusCode::OK, "{asked}: {t}");
        assert_eq!(t["interval"], "year", "{asked}");
        let r = rows(&t);
        assert_eq!(r[0], ("0001-01-01T00:00:00+00:00".to_owned(), 1));
        let y1970 = r.iter().find(|(start, _)| start.starts_with("1970-")).unwrap();
        assert_eq!(y1970.1, 1);
        assert_eq!(r.iter().map(|(_, c)| c).sum::<u64>(), 3);
    }
    // Asked for by year, year is what it counts by.
    let (_, t) = s.get("/v1/tenants/acme/reports/timeline?range=all&interval=year", OPERATOR).await;
    assert_eq!(t["interval"], "year");
    // A start the caller chose is not changed behind their back: the 400 says what fits.
    let got = s.get("/v1/tenants/acme/reports/timeline?from=1970-01-01&interval=day", OPERATOR).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "invalid_parameter", Some("interval"));
    assert!(got.1["error"]["message"].as_str().unwrap().contains("use interval=month"), "{}", got.1);
}

/// The far end: 9999-12-31 is refused at ingest (more than 5 minutes ahead), so it never reaches
/// the timeline.
#[tokio::test]
async fn an_event_dated_9999_is_refused() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let got = s
        .post("/v1/tenants/acme/events", OPERATOR, &json!({"action": "a.x", "occurred_at": "9999-12-31T00:00:00Z"}))
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_event", Some("events[0].occurred_at"));
}
