//! Admission control: bounded ingest, answered `503 overloaded` with `Retry-After` beyond the
//! bounds, and reads that still answer meanwhile.

use reqwest::StatusCode;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use trail_server::{ServerConfig, admission::AdmissionLimits};

use crate::helpers::*;

/// An ingest request whose body has only partly arrived: the server has admitted it and is
/// reading its body.
struct Stalled {
    conn: TcpStream,
    rest: Vec<u8>,
}

impl Stalled {
    async fn send(s: &TestServer, body: &[u8], sent: usize) -> Stalled {
        let addr = s.base.trim_start_matches("http://");
        let mut conn = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /v1/tenants/acme/events HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {OPERATOR}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(&body[..sent]).await.unwrap();
        Stalled { conn, rest: body[sent..].to_vec() }
    }

    /// Sends the rest of the body; the response's status line.
    async fn finish(mut self) -> String {
        self.conn.write_all(&self.rest).await.unwrap();
        let mut out = String::new();
        self.conn.read_to_string(&mut out).await.unwrap();
        out.lines().next().unwrap_or_default().to_owned()
    }
}

/// A gauge of `GET /metrics`.
async fn gauge(s: &TestServer, name: &str) -> u64 {
    let text = s.client.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
        .parse()
        .unwrap()
}

/// Waits until the server has admitted what `Stalled` sent (the gauge reaches `value`).
async fn until(s: &TestServer, name: &str, value: u64) {
    for _ in 0..400 {
        if gauge(s, name).await == value {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{name} never reached {value}");
}

async fn server(limits: AdmissionLimits) -> TestServer {
    let s = TestServer::start_configured(None, ServerConfig { admission: limits, ..config() }).await;
    s.tenant("acme").await;
    s
}

/// A 503 `overloaded` with `Retry-After` and the JSON error shape.
async fn assert_overloaded(resp: reqwest::Response) {
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry = resp.headers().get("retry-after").expect("Retry-After").to_str().unwrap().to_owned();
    assert!(retry.parse::<u64>().is_ok_and(|n| n >= 1), "Retry-After {retry:?}");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("retry"), "{body}");
}

fn post(s: &TestServer, events: serde_json::Value) -> reqwest::RequestBuilder {
    s.client.post(s.url("/v1/tenants/acme/events")).bearer_auth(OPERATOR).json(&events)
}

/// Regression (issue 20, admission control): with any number of bodies in flight the server
/// read them all (48 bodies of 15 MiB held 1.15 GB) and never said to back off. Beyond the
/// bytes bound, a request is refused before its body is read, and nothing of it is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_beyond_the_body_bytes_bound_is_refused_and_stores_nothing() {
    let s = server(AdmissionLimits { ingest_requests: 16, ingest_body_bytes: 1000, read_requests: 16 }).await;
    let big = serde_json::to_vec(&json!([{"action": "big.one", "description": "x".repeat(700)}])).unwrap();
    let stalled = Stalled::send(&s, &big, 10).await;
    until(&s, "trail_ingest_body_bytes_reserved", big.len() as u64).await;
    let refused = json!([{"action": "refused.one", "description": "y".repeat(300)}]);
    assert_overloaded(post(&s, refused.clone()).send().await.unwrap()).await;
    // Reads have their own bound: a query answers while ingest is at its limit.
    let (st, page) = s.get("/v1/tenants/acme/events?range=all", OPERATOR).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(stalled.finish().await.contains("201"));
    let actions: Vec<_> = s.all_events("acme").await.iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, [json!("big.one")], "the refused request stored nothing");
    // Once the room is back, the same request is taken.
    until(&s, "trail_ingest_body_bytes_reserved", 0).await;
    assert_eq!(post(&s, refused).send().await.unwrap().status(), StatusCode::CREATED);
}

/// Regression (issue 20, admission control): at 512 connections every ingest request queued
/// (p99 3 s) and reads queued behind them (a query's p99 2.4 s). Beyond the bound on ingest
/// requests in progress, ingest is refused at once, and reads still answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_beyond_the_request_bound_is_refused_while_reads_answer() {
    let s = server(AdmissionLimits { ingest_requests: 2, ingest_body_bytes: 1 << 20, read_requests: 16 }).await;
    s.ingest("acme", json!({"action": "first.event"})).await;
    let body = serde_json::to_vec(&json!({"action": "slow.client"})).unwrap();
    let one = Stalled::send(&s, &body, 5).await;
    let two = Stalled::send(&s, &body, 5).await;
    until(&s, "trail_ingest_requests_in_progress", 2).await;
    assert_overloaded(post(&s, json!({"action": "refused.one"})).send().await.unwrap()).await;
    for path in ["/v1/tenants/acme/events?range=all", "/v1/tenants/acme/reports/timeline?range=all", "/v1/tenants/acme"]
    {
        let (st, b) = s.get(path, OPERATOR).await;
        assert_eq!(st, StatusCode::OK, "{path}: {b}");
    }
    let (_, health) = s.get("/healthz", OPERATOR).await;
    assert_eq!(health["status"], "ok");
    assert!(one.finish().await.contains("201"));
    assert!(two.finish().await.contains("201"));
    assert_eq!(s.event_count("acme").await, 3, "the refused request stored nothing");
}
