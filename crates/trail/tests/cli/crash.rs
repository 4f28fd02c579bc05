//! The crash test: a Trail server under concurrent ingest is killed with SIGKILL at random
//! moments and restarted on the same data directory. Every event that was acknowledged (a
//! `201` reached the client) must be there afterwards, under the seq it was given, and the
//! tenant's seqs must run from 1 without a gap or a repeat.
//!
//! It runs on the embedded store and on PostgreSQL (a server killed while its transactions are
//! open; the database itself keeps running, as it would).
//!
//! Set `TRAIL_CRASH_ROUNDS` to change the number of kill points (default 24 on SQLite, 12 on
//! PostgreSQL) and `TRAIL_CRASH_SEED` to replay a run (the seed is printed).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use tokio::process::Child;

use crate::helpers::{all_events, serve};

const OPERATOR: &str = "trail_op_crash-test-operator-key-42";
const CLIENTS: usize = 4;

async fn start(dir: &std::path::Path, database: Option<&str>) -> (Child, String) {
    let extra: Vec<&str> = database.map(|url| vec!["--database", url]).unwrap_or_default();
    let served = serve(dir, &extra, &[("TRAIL_OPERATOR_KEY", OPERATOR)]).await;
    (served.child, served.base)
}

/// Sends batches until the server goes away; records what was acknowledged.
async fn client(base: String, id: usize, round: usize, acked: Arc<Mutex<HashMap<String, u64>>>, seed: u64) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    for n in 0.. {
        let size = rng.random_range(1..=300);
        let batch: Vec<Value> = (0..size)
            .map(|k| json!({"id": format!("c{id}-r{round}-b{n}-{k}"), "action": "crash.test", "actor": {"id": format!("client{id}")}, "description": "x".repeat(rng.random_range(0..400))}))
            .collect();
        let resp = http.post(format!("{base}/v1/tenants/crash/events")).bearer_auth(OPERATOR).json(&batch).send().await;
        let Ok(resp) = resp else { return };
        if resp.status() != 201 {
            return;
        }
        let Ok(body) = resp.json::<Value>().await else { return };
        let mut map = acked.lock().unwrap();
        for (e, sent) in body["events"].as_array().unwrap().iter().zip(&batch) {
            assert_eq!(e["id"], sent["id"]);
            map.insert(sent["id"].as_str().unwrap().to_owned(), e["seq"].as_u64().unwrap());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_event_is_lost_when_the_server_is_killed() {
    crash_test(None, 24).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_event_is_lost_when_a_server_on_postgres_is_killed() {
    let Some(url) = trail_store_postgres::testing::fresh_database().await else { return };
    crash_test(Some(&url), 12).await;
}

async fn crash_test(database: Option<&str>, default_rounds: usize) {
    let rounds: usize = std::env::var("TRAIL_CRASH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(default_rounds);
    let seed: u64 = std::env::var("TRAIL_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(rand::random);
    let on = if database.is_some() { "PostgreSQL" } else { "SQLite" };
    println!("crash test on {on}: {rounds} kill points, seed {seed} (TRAIL_CRASH_SEED={seed} replays it)");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let acked: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    for round in 0..rounds {
        let (mut child, base) = start(dir.path(), database).await;
        if round == 0 {
            let r = reqwest::Client::new()
                .post(format!("{base}/v1/tenants"))
                .bearer_auth(OPERATOR)
                .json(&json!({"id": "crash"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
        let clients: Vec<_> =
            (0..CLIENTS).map(|c| tokio::spawn(client(base.clone(), c, round, acked.clone(), rng.random()))).collect();
        let before = acked.lock().unwrap().len();
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..900))).await;
        child.start_kill().unwrap(); // SIGKILL
        child.wait().await.unwrap();
        for c in clients {
            c.await.unwrap();
        }
        let after = acked.lock().unwrap().len();
        println!("round {round}: {} events acknowledged before the kill", after - before);
    }
    let (mut child, base) = start(dir.path(), database).await;
    let events = all_events(&base, OPERATOR, "crash").await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let acked = acked.lock().unwrap();
    assert!(acked.len() > 1000, "the test must ingest under load: only {} events were acknowledged", acked.len());
    let stored: HashMap<String, u64> =
        events.iter().map(|e| (e["id"].as_str().unwrap().to_owned(), e["seq"].as_u64().unwrap())).collect();
    let lost: Vec<&String> = acked.keys().filter(|id| !stored.contains_key(*id)).collect();
    assert!(lost.is_empty(), "{} acknowledged events were lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
    for (id, seq) in acked.iter() {
        assert_eq!(stored[id], *seq, "event {id} was acknowledged as seq {seq}");
    }
    let mut seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    seqs.sort();
    let n = seqs.len() as u64;
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "seqs must run 1..={n} without gap or repeat");
    println!(
        "crash test passed: {} acknowledged, {} stored (the rest were in flight at a kill), 0 lost over {rounds} kills",
        acked.len(),
        n
    );
}
