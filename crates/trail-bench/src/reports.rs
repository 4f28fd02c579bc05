//! The report benchmark (issue 7): the login and usage reports with 1,000,000 people's events in
//! one tenant, beside the activity log's default view (`GET .../events`) in the same run.
//!
//! Each person signs in twice over the last 60 days (a failure from one address, then usually a
//! success), uploads a file and sometimes downloads one, so the tenant holds about 3,300,000
//! events; they are appended through the store in batches of 1,000 (this measures the reports,
//! not ingest). Each report is asked for its first page (50 rows) over the last 30 days, over a
//! closed range (yesterday: rows whose latest activity is after the range are checked against
//! the index), for one person, and a deep page by cursor.

use std::time::Instant;

use clap::Args as ClapArgs;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use trail_core::{TenantId, event::NewEvent, vocabulary::actions};
use trail_store::{EventLog, PreparedEvent};

use crate::{
    report::fmt,
    server::{self, KEY},
    stats::{Latency, latency},
};

#[derive(ClapArgs)]
pub struct Args {
    /// People, each with two login attempts.
    #[arg(long, default_value_t = 1_000_000)]
    pub people: u64,
    /// Measured requests of each kind.
    #[arg(long, default_value_t = 200)]
    pub iterations: usize,
}

async fn timed(client: &reqwest::Client, url: &str, n: usize) -> anyhow::Result<(Latency, Value)> {
    let mut samples = Vec::with_capacity(n);
    let mut last = Value::Null;
    for i in 0..n + 10 {
        let t = Instant::now();
        let r = client.get(url).bearer_auth(KEY).send().await?;
        anyhow::ensure!(r.status() == 200, "{url}: {}", r.status());
        last = r.json().await?;
        if i >= 10 {
            samples.push(t.elapsed());
        }
    }
    Ok((latency(samples), last))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let store = server::big_tenant_store(tmp.path(), Default::default()).await?;
    let t = TenantId::parse("big")?;
    println!("report benchmark: {} people, 2 login attempts and 1 or 2 file events each", fmt(args.people as f64));
    let now = jiff::Timestamp::now();
    let mut rng = StdRng::seed_from_u64(11);
    let started = Instant::now();
    let mut batch = Vec::with_capacity(1000);
    let mut loaded = 0u64;
    for p in 0..args.people {
        let first = now - jiff::SignedDuration::from_secs(rng.random_range(3600..60 * 86_400));
        let second = first + jiff::SignedDuration::from_secs(rng.random_range(5..3600));
        let ip = format!("203.0.{}.{}", p % 250, (p / 250) % 250);
        let upload = second + jiff::SignedDuration::from_secs(rng.random_range(1..600));
        let download = rng.random_bool(0.3).then(|| upload + jiff::SignedDuration::from_secs(60));
        let mut events = Vec::with_capacity(4);
        for (at, ok) in [(first, false), (second.min(now), rng.random_bool(0.8))] {
            events.push(json!({"action": if ok { actions::AUTH_LOGIN_SUCCEEDED } else { actions::AUTH_LOGIN_FAILED },
                "occurred_at": at.to_string(), "actor": {"id": format!("u{p}"), "name": format!("User {p}")},
                "context": {"ip": ip, "location": {"country": "GB", "city": "London"}}}));
        }
        let file = json!([{"type": "file", "id": format!("f{p}"), "name": "report.pdf"}]);
        events.push(json!({"action": actions::FILE_UPLOADED, "occurred_at": upload.min(now).to_string(),
            "actor": {"id": format!("u{p}"), "name": format!("User {p}")}, "targets": file,
            "metadata": {"size_bytes": rng.random_range(1_000..50_000_000)}}));
        if let Some(at) = download {
            events.push(json!({"action": actions::FILE_DOWNLOADED, "occurred_at": at.min(now).to_string(),
                "actor": {"id": format!("u{p}"), "name": format!("User {p}")}, "targets": file}));
        }
        for e in events {
            let e =
                NewEvent::from_json(&e.to_string(), now).map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
            batch.push(PreparedEvent::new(e, now, |_| {}));
            loaded += 1;
        }
        if batch.len() >= 1000 {
            store.append(&t, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        store.append(&t, batch).await?;
    }
    let s2 = store.clone();
    tokio::task::spawn_blocking(move || s2.flush_index()).await?;
    eprintln!("loaded {} events in {:.0} s", fmt(loaded as f64), started.elapsed().as_secs_f64());

    let base = server::start(store.clone()).await?;
    let client = reqwest::Client::new();
    let (events, _) = timed(&client, &format!("{base}/v1/tenants/big/events"), args.iterations).await?;
    let base_text = format!("`GET .../events` (default view): {:.2} / {:.2} ms", events.p50_ms, events.p99_ms);
    println!("\n## Login and usage reports, {} people ({} events)\n", fmt(args.people as f64), fmt(loaded as f64));
    println!("| request | p50 | p99 | baseline (same run) p50 / p99 |");
    println!("|---|---:|---:|---|");
    for name in ["logins", "usage"] {
        for (what, l) in report_latencies(&client, &base, name, &args).await? {
            println!("| {what} | {:.2} ms | {:.2} ms | {base_text} |", l.p50_ms, l.p99_ms);
        }
    }
    Ok(())
}

/// The latencies of one report: first page, closed range, one person, a deep page.
async fn report_latencies(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    args: &Args,
) -> anyhow::Result<Vec<(String, Latency)>> {
    let report = format!("{base}/v1/tenants/big/reports/{name}");
    let (open, first) = timed(client, &format!("{report}?range=last_30_days"), args.iterations).await?;
    anyhow::ensure!(first["rows"].as_array().map_or(0, Vec::len) == 50, "a full first page");
    let (closed, _) = timed(client, &format!("{report}?range=yesterday"), args.iterations).await?;
    let (one, single) =
        timed(client, &format!("{report}?range=all&actor=u{}", 12_345 % args.people), args.iterations).await?;
    anyhow::ensure!(single["rows"].as_array().map_or(0, Vec::len) == 1, "one person");
    // A page deep into the report: walk 200 pages once, then time the 200th.
    let mut cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    for _ in 0..199 {
        let r: Value = client
            .get(format!("{report}?range=last_30_days&cursor={cursor}"))
            .bearer_auth(KEY)
            .send()
            .await?
            .json()
            .await?;
        match r["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let (deep, _) = timed(client, &format!("{report}?range=last_30_days&cursor={cursor}"), args.iterations).await?;
    Ok(vec![
        (format!("`reports/{name}?range=last_30_days`, first page of 50"), open),
        (format!("`reports/{name}?range=yesterday` (a closed range)"), closed),
        (format!("`reports/{name}?range=all&actor=...` (one person)"), one),
        (format!("`reports/{name}`, page 201 by cursor"), deep),
    ])
}
