//! Errors: the JSON error shape of a 405, the 5xx counter over every route, and input just
//! outside what is valid.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{OPERATOR, TestServer, assert_error};

async fn server_errors(s: &TestServer) -> u64 {
    let text = s.client.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let line = text.lines().find(|l| l.starts_with("trail_server_errors_total ")).expect("the counter is listed");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Regression: `trail_server_errors_total` counted only ingest's 5xx, so a query route failing on
/// every request left it at 0. A store failure is provoked by dropping a table under the server.
#[tokio::test]
async fn a_5xx_of_any_route_is_counted() {
    let s = TestServer::start().await;
    if !s.store_is_in_dir() {
        return; // the failure is provoked through the SQLite file
    }
    let t = s.tenant("acme").await;
    let path = format!("/v1/tenants/{t}/members");
    assert_eq!(s.get(&path, OPERATOR).await.0, StatusCode::OK);
    let before = server_errors(&s).await;

    let db = rusqlite::Connection::open(s.dir().join(trail_store_sqlite::DB_FILE)).unwrap();
    db.execute_batch("DROP TABLE members").unwrap();
    drop(db);
    let got = s.get(&path, OPERATOR).await;
    assert!(got.0.is_server_error(), "{got:?}");
    assert_eq!(server_errors(&s).await, before + 1);
    let got = s.get(&path, OPERATOR).await;
    assert!(got.0.is_server_error(), "{got:?}");
    assert_eq!(server_errors(&s).await, before + 2);

    // A 4xx is not counted.
    assert_eq!(s.get("/v1/tenants/nobody", OPERATOR).await.0, StatusCode::NOT_FOUND);
    assert_eq!(server_errors(&s).await, before + 2);
}

/// Regression: a route called with a method it does not take answered 405 with an empty body.
#[tokio::test]
async fn a_405_has_the_json_error_shape() {
    let s = TestServer::start().await;
    let t = s.tenant("acme").await;
    for (method, path) in [
        (reqwest::Method::PUT, format!("/v1/tenants/{t}/events")),
        (reqwest::Method::DELETE, "/v1/tenants".to_owned()),
        (reqwest::Method::POST, "/healthz".to_owned()),
    ] {
        let resp = s.client.request(method.clone(), s.url(&path)).bearer_auth(OPERATOR).send().await.unwrap();
        let status = resp.status();
        assert!(resp.headers().contains_key("allow"), "{method} {path}: the Allow header is kept");
        let ctype = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(ctype.as_deref(), Some("application/json"), "{method} {path}");
        let body: Value = resp.json().await.unwrap();
        assert_error(&(status, body.clone()), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None);
        assert!(body["error"]["message"].as_str().unwrap().contains(&path), "{body}");
    }
}

/// Regression: an `occurred_at` offset of `+25:00` was accepted (RFC 3339's hours are 00-23).
#[tokio::test]
async fn an_offset_beyond_23_59_is_a_422() {
    let s = TestServer::start().await;
    let t = s.tenant("acme").await;
    let path = format!("/v1/tenants/{t}/events");
    for bad in ["2026-01-01T10:00:00+25:00", "2026-01-01T10:00:00-24:00", "2026-01-01T10:00:00+05:60"] {
        let got = s.post(&path, OPERATOR, &json!({"action": "a.x", "occurred_at": bad})).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_event", Some("events[0].occurred_at"));
        assert!(got.1["error"]["message"].as_str().unwrap().contains("hours 00-23"), "{}", got.1);
    }
    let ok = s.post(&path, OPERATOR, &json!({"action": "a.x", "occurred_at": "2026-01-01T10:00:00+23:59"})).await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    assert_eq!(s.event_count(&t).await, 1);
}
