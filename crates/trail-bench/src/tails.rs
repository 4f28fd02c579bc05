//! Live streams: what 1 and then many streams of one tenant cost the server while events
//! arrive at a steady rate, and what is left once the clients have gone.
//!
//! The server and the streams' clients run in this process (as in the other benchmarks), so
//! the figures are the process's: CPU in cores over the ingest window, threads and resident
//! memory at their peak, and both again some seconds after every stream closed (longer than
//! the runtime keeps an idle blocking thread, and than the store keeps an idle connection).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use clap::Args as ClapArgs;
use serde_json::json;
use trail_core::vocabulary::actions;
use trail_store_sqlite::StoreOptions;

use crate::{
    ingest::cpu_seconds,
    procstat,
    report::{self, Row},
    server::{self, KEY},
};

#[derive(ClapArgs)]
pub struct Args {
    /// Streams in the many-streams measurement (the first has one).
    #[arg(long, default_value_t = 250)]
    tails: usize,
    /// Events per second ingested while streams follow (in 10 requests a second).
    #[arg(long, default_value_t = 100)]
    rate: usize,
    /// Seconds of ingest per measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Events in the tenant before streams open.
    #[arg(long, default_value_t = 20_000)]
    preload: usize,
    /// Seconds to wait after the streams closed before the last sample.
    #[arg(long, default_value_t = 45)]
    settle: u64,
}

struct Measured {
    cores: f64,
    peak: procstat::Sample,
    delivered: u64,
    expected: u64,
}

fn event(i: usize) -> serde_json::Value {
    json!({
        "action": if i.is_multiple_of(3) { actions::DOCUMENT_SIGNED } else { actions::API_REQUEST },
        "actor": {"id": format!("u_{}", i % 500), "email": format!("user{}@example.com", i % 500)},
        "context": {"ip": format!("10.{}.{}.{}", i % 200, (i / 200) % 250, i % 250), "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"},
        "description": format!("request {i} for /api/v1/items/{}", i % 977),
    })
}

/// Opens `n` streams from now; each counts the events it receives.
async fn open(base: &str, n: usize, received: Arc<AtomicU64>) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..n {
        let mut resp = client.get(format!("{base}/v1/tenants/big/stream")).bearer_auth(KEY).send().await?;
        anyhow::ensure!(resp.status() == 200, "stream: {}", resp.status());
        let received = received.clone();
        tasks.push(tokio::spawn(async move {
            let mut buf = String::new();
            while let Ok(Some(chunk)) = resp.chunk().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let frame: String = buf.drain(..end + 2).collect();
                    if frame.contains("data:") {
                        received.fetch_add(1, Relaxed);
                    }
                }
            }
        }));
    }
    Ok(tasks)
}

async fn measure(base: &str, args: &Args, tails: usize, next: &mut usize) -> anyhow::Result<Measured> {
    let received = Arc::new(AtomicU64::new(0));
    let streams = open(base, tails, received.clone()).await?;
    let client = reqwest::Client::new();
    let per_request = (args.rate / 10).max(1);
    let requests = args.seconds * 10;
    let peak = procstat::Peak::start();
    let cpu = cpu_seconds()?;
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for _ in 0..requests {
        tick.tick().await;
        let batch: Vec<_> = (0..per_request).map(|i| event(*next + i)).collect();
        *next += per_request;
        let r = client.post(format!("{base}/v1/tenants/big/events")).bearer_auth(KEY).json(&batch).send().await?;
        anyhow::ensure!(r.status() == 201, "ingest: {}", r.status());
    }
    let expected = requests * per_request as u64 * tails as u64;
    // Let the streams take the last events (bounded, in case some are lost: they are counted).
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.load(Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cores = (cpu_seconds()? - cpu) / started.elapsed().as_secs_f64();
    let peak = peak.stop();
    for s in streams {
        s.abort();
    }
    Ok(Measured { cores, peak, delivered: received.load(Relaxed), expected })
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = server::big_tenant_store(dir.path(), StoreOptions::default()).await?;
    let base = server::start(store).await?;
    let client = reqwest::Client::new();
    let mut next = 0;
    while next < args.preload {
        let n = 1000.min(args.preload - next);
        let batch: Vec<_> = (next..next + n).map(event).collect();
        let r = client.post(format!("{base}/v1/tenants/big/events")).bearer_auth(KEY).json(&batch).send().await?;
        anyhow::ensure!(r.status() == 201, "preload: {}", r.status());
        next += n;
    }
    println!(
        "live streams: {} events in the tenant, then {} events/s for {} s under 1 and {} streams",
        args.preload, args.rate, args.seconds, args.tails
    );
    let idle = procstat::sample()?;
    let one = measure(&base, &args, 1, &mut next).await?;
    let many = measure(&base, &args, args.tails, &mut next).await?;
    tokio::time::sleep(Duration::from_secs(args.settle)).await;
    let after = procstat::sample()?;
    for (n, m) in [(1, &one), (args.tails, &many)] {
        println!("  {n} stream(s): {} of {} events delivered", m.delivered, m.expected);
    }
    let row = |name: String, value: f64, unit: &'static str, base: f64| Row {
        name,
        value,
        unit,
        baseline: Some(("1 stream".into(), base)),
    };
    let t = args.tails;
    report::print(
        "Live streams: one tenant, events arriving at a steady rate",
        &[
            row(format!("CPU, {t} streams"), many.cores * 1000.0, "millicores", one.cores * 1000.0),
            row(format!("threads at peak, {t} streams"), many.peak.threads as f64, "", one.peak.threads as f64),
            row(format!("resident memory at peak, {t} streams"), many.peak.rss_mb, "MiB", one.peak.rss_mb),
            Row {
                name: format!("resident memory {} s after the streams closed", args.settle),
                value: after.rss_mb,
                unit: "MiB",
                baseline: Some(("before any stream".into(), idle.rss_mb)),
            },
            Row {
                name: format!("threads {} s after the streams closed", args.settle),
                value: after.threads as f64,
                unit: "",
                baseline: Some(("before any stream".into(), idle.threads as f64)),
            },
        ],
    );
    Ok(())
}
