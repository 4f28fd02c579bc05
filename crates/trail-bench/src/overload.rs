//! Overload: does a query still answer while many connections ingest as fast as they can?
//!
//! The query is the default view (the newest 50 events of the last 30 days), run one at a time:
//! first on an idle server (the baseline), then while `connections` clients each post batches
//! back to back, beyond what the server admits at once (`max_ingest_requests`, 256 by
//! default). Ingest answers are counted by status: `201` stored, `503` told to back off.
//! Server and clients share this process and its cores, as in the other benchmarks.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use clap::Args as ClapArgs;
use serde_json::json;
use trail_core::vocabulary::actions;
use trail_store_sqlite::StoreOptions;

use crate::{
    report::{self, Row},
    server::{self, KEY},
    stats::latency,
};

#[derive(ClapArgs)]
pub struct Args {
    /// Concurrent ingest connections during saturation.
    #[arg(long, default_value_t = 512)]
    connections: usize,
    /// Events per ingest request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Seconds of queries under saturation.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Queries on the idle server.
    #[arg(long, default_value_t = 200)]
    idle_queries: usize,
    /// Events in the tenant before measuring.
    #[arg(long, default_value_t = 50_000)]
    preload: usize,
}

fn event(i: usize) -> serde_json::Value {
    json!({
        "action": if i.is_multiple_of(3) { actions::DOCUMENT_SIGNED } else { actions::API_REQUEST },
        "actor": {"id": format!("u_{}", i % 500)},
        "context": {"ip": format!("10.{}.{}.{}", i % 200, (i / 200) % 250, i % 250)},
        "description": format!("request {i} for /api/v1/items/{}", i % 977),
    })
}

async fn query(client: &reqwest::Client, base: &str) -> anyhow::Result<(Duration, u16)> {
    let started = Instant::now();
    let r = client.get(format!("{base}/v1/tenants/big/events?limit=50")).bearer_auth(KEY).send().await?;
    let status = r.status().as_u16();
    r.bytes().await?;
    Ok((started.elapsed(), status))
}

#[derive(Default)]
struct Counts {
    stored: AtomicU64,
    overloaded: AtomicU64,
    other: AtomicU64,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = server::big_tenant_store(dir.path(), StoreOptions::default()).await?;
    let base = server::start(store).await?;
    let client = reqwest::Client::new();
    for start in (0..args.preload).step_by(1000) {
        let batch: Vec<_> = (start..(start + 1000).min(args.preload)).map(event).collect();
        let r = client.post(format!("{base}/v1/tenants/big/events")).bearer_auth(KEY).json(&batch).send().await?;
        anyhow::ensure!(r.status() == 201, "preload: {}", r.status());
    }
    println!(
        "overload: {} events, then {} connections posting {} events a request for {} s",
        args.preload, args.connections, args.batch, args.seconds
    );
    for _ in 0..10 {
        query(&client, &base).await?;
    }
    let mut idle = Vec::new();
    for _ in 0..args.idle_queries {
        idle.push(query(&client, &base).await?.0);
    }

    let body: Vec<u8> = serde_json::to_vec(&(0..args.batch).map(event).collect::<Vec<_>>())?;
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::default());
    let ingest_latency = Arc::new(std::sync::Mutex::new(Vec::new()));
    let posting = reqwest::Client::new();
    let tasks: Vec<_> = (0..args.connections)
        .map(|_| {
            let (client, base, body, stop, counts, lat) =
                (posting.clone(), base.clone(), body.clone(), stop.clone(), counts.clone(), ingest_latency.clone());
            tokio::spawn(async move {
                while !stop.load(Relaxed) {
                    let started = Instant::now();
                    let r = client
                        .post(format!("{base}/v1/tenants/big/events"))
                        .bearer_auth(KEY)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    let status = match r {
                        Ok(r) => {
                            let s = r.status().as_u16();
                            let _ = r.bytes().await;
                            s
                        }
                        Err(_) => 0,
                    };
                    match status {
                        201 => {
                            counts.stored.fetch_add(1, Relaxed);
                            lat.lock().expect("latency").push(started.elapsed());
                        }
                        503 | 429 => {
                            counts.overloaded.fetch_add(1, Relaxed);
                            // What a well-behaved client does: wait, then send again.
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        _ => {
                            counts.other.fetch_add(1, Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mut busy, mut refused_queries) = (Vec::new(), 0);
    let started = Instant::now();
    let stored_before = counts.stored.load(Relaxed);
    while started.elapsed() < Duration::from_secs(args.seconds) {
        let (took, status) = query(&client, &base).await?;
        match status {
            200 => busy.push(took),
            _ => refused_queries += 1,
        }
    }
    let window = started.elapsed().as_secs_f64();
    let stored_in_window = counts.stored.load(Relaxed) - stored_before;
    stop.store(true, Relaxed);
    for t in tasks {
        t.await?;
    }
    let (idle, ingest) = (latency(idle), latency(std::mem::take(&mut *ingest_latency.lock().expect("latency"))));
    anyhow::ensure!(!busy.is_empty(), "no query answered under saturation ({refused_queries} refused)");
    let busy_n = busy.len();
    let busy = latency(busy);
    println!(
        "  ingest: {} requests stored, {} answered 503 overloaded, {} failed otherwise; queries under saturation: {busy_n} answered, {refused_queries} refused",
        counts.stored.load(Relaxed),
        counts.overloaded.load(Relaxed),
        counts.other.load(Relaxed),
    );
    report::print(
        &format!("Overload: {} ingest connections", args.connections),
        &[
            Row {
                name: "query p50 under ingest saturation".into(),
                value: busy.p50_ms,
                unit: "ms",
                baseline: Some(("idle".into(), idle.p50_ms)),
            },
            Row {
                name: "query p99 under ingest saturation".into(),
                value: busy.p99_ms,
                unit: "ms",
                baseline: Some(("idle".into(), idle.p99_ms)),
            },
            Row { name: "ingest p99 (stored requests)".into(), value: ingest.p99_ms, unit: "ms", baseline: None },
            Row {
                name: "events stored per second under saturation".into(),
                value: (stored_in_window * args.batch as u64) as f64 / window,
                unit: "events/s",
                baseline: None,
            },
            Row {
                name: "ingest requests answered 503 overloaded".into(),
                value: counts.overloaded.load(Relaxed) as f64,
                unit: "",
                baseline: None,
            },
        ],
    );
    Ok(())
}
