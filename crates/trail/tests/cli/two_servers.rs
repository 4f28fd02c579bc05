//! Two Trail servers on one PostgreSQL database, ingesting into the same tenant at once: every
//! acknowledged event is there under the seq it was given, the tenant's seqs run from 1 without
//! a gap or a repeat, and `trail verify` finds the tree and both servers' checkpoints sound.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::helpers::{all_events, serve};

const OPERATOR: &str = "trail_op_two-servers-operator-key-42";

/// Sends batches to `base` for `for_how_long`; records what was acknowledged.
async fn client(base: String, id: String, acked: Arc<Mutex<HashMap<String, u64>>>, for_how_long: Duration) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < for_how_long {
        let size = 1 + (n * 37 % 200);
        let batch: Vec<Value> = (0..size)
            .map(|k| json!({"id": format!("{id}-b{n}-{k}"), "action": "two.servers", "actor": {"id": id}, "description": format!("batch {n} event {k}")}))
            .collect();
        let resp =
            http.post(format!("{base}/v1/tenants/shared/events")).bearer_auth(OPERATOR).json(&batch).send().await;
        let resp = resp.expect("the server answers");
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap_or_default());
        let body: Value = resp.json().await.unwrap();
        let mut map = acked.lock().unwrap();
        for (e, sent) in body["events"].as_array().unwrap().iter().zip(&batch) {
            map.insert(sent["id"].as_str().unwrap().to_owned(), e["seq"].as_u64().unwrap());
        }
        n += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_ingest_into_one_tenant_without_gaps_and_the_log_verifies() {
    let Some(url) = trail_store_postgres::testing::fresh_database().await else { return };
    // Each server has its own data directory; they share the database, the operator key and
    // the checkpoint signing key (made by the first, given to the second).
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let key = dir_a.path().join("signing.key");
    let key_text = key.to_str().unwrap();
    let env = [("TRAIL_OPERATOR_KEY", OPERATOR), ("TRAIL_SIGNING_KEY", key_text)];
    let a = serve(dir_a.path(), &["--database", &url], &env).await;
    let b = serve(dir_b.path(), &["--database", &url], &env).await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/tenants", a.base))
        .bearer_auth(OPERATOR)
        .json(&json!({"id": "shared"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let acked: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let clients: Vec<_> = (0..6)
        .map(|c| {
            let base = if c % 2 == 0 { a.base.clone() } else { b.base.clone() };
            tokio::spawn(client(base, format!("c{c}"), acked.clone(), Duration::from_secs(4)))
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }
    // Both servers sign the tree they see; give them a moment to sign the final size.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let events = all_events(&b.base, OPERATOR, "shared").await;
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 500, "the servers must ingest concurrently: only {} events acknowledged", acked.len());
    let stored: HashMap<String, u64> =
        events.iter().map(|e| (e["id"].as_str().unwrap().to_owned(), e["seq"].as_u64().unwrap())).collect();
    for (id, seq) in &acked {
        assert_eq!(stored.get(id), Some(seq), "event {id} was acknowledged as seq {seq}");
    }
    let mut seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    seqs.sort();
    let n = seqs.len() as u64;
    assert_eq!(n, acked.len() as u64, "every stored event was acknowledged");
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "seqs must run 1..={n} without gap or repeat");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trail"))
        .args(["verify", "--database", &url, "--data"])
        .arg(dir_a.path())
        .env("TRAIL_SIGNING_KEY", key_text)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "trail verify failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("shared: {n} events")) && text.contains("everything verifies"), "{text}");
    println!("two servers: {n} events acknowledged and stored, gap-free; {}", text.lines().next().unwrap_or(""));
}
