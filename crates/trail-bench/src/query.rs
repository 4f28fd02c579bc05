//! The query benchmark (issue 3): 10 million events in 20 tenants, a fixed mix of queries on
//! the tenant holding 5 million, ingest with every index, bytes per event; and the same data and
//! questions for "what a SaaS builds itself": one PostgreSQL table with JSONB, B-tree indexes
//! and a GIN full-text index, loaded with 1,000-row INSERTs (see `postgres.rs`).
//!
//! Queries run one at a time against a warm server (ten unmeasured queries first), as an
//! administrator clicking through the console would; each figure is over `--iterations` runs
//! with parameters drawn from pools (users, words from the real log, address blocks), the same
//! for both systems. The first answer of each kind is compared between the two systems.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Args as ClapArgs;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use serde_json::Value;
use trail_core::{time::RangePreset, vocabulary::categories};
use trail_store::{NewTenant, Store};
use trail_store_sqlite::SqliteStore;

use crate::{
    dataset::{Dataset, users_of},
    postgres,
    report::fmt,
    server::{self, KEY},
    stats::{Latency, latency},
};

#[derive(ClapArgs)]
pub struct Args {
    /// Events in the data set.
    #[arg(long, default_value_t = 10_000_000)]
    pub events: u64,
    /// Tenants (the first holds half the events).
    #[arg(long, default_value_t = 20)]
    pub tenants: usize,
    /// Measured runs of each query kind.
    #[arg(long, default_value_t = 100)]
    pub iterations: usize,
    /// Concurrent ingest clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// The shared data directory (for the real log).
    #[arg(long, default_value = "../shared/data")]
    pub shared: PathBuf,
    /// Where to put the data (default: a temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Leave out the hand-rolled PostgreSQL audit table.
    #[arg(long)]
    pub skip_postgres: bool,
    /// Also measure Trail on its PostgreSQL backend (a throwaway cluster of its own).
    #[arg(long)]
    pub trail_on_postgres: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Default,
    User,
    ActionPrefix,
    Word,
    WordUserAction,
    Cidr,
    DeepPage,
    Timeline,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Default,
        Kind::User,
        Kind::ActionPrefix,
        Kind::Word,
        Kind::WordUserAction,
        Kind::Cidr,
        Kind::DeepPage,
        Kind::Timeline,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Default => "default view (last 30 days, first page)",
            Kind::User => "one user",
            Kind::ActionPrefix => "one action prefix",
            Kind::Word => "`q` with one word",
            Kind::WordUserAction => "`q` word + user + action",
            Kind::Cidr => "IP CIDR",
            Kind::DeepPage => "deep page (page 200 by cursor)",
            Kind::Timeline => "timeline, 90 days by day",
        }
    }
}

/// One query's parameters, shared by both systems.
#[derive(Clone, Debug)]
pub struct Case {
    pub kind: Kind,
    pub user: String,
    pub word: String,
    pub action_prefix: String,
    pub cidr: String,
}

pub fn cases(ds: &Dataset, kind: Kind, n: usize, seed: u64) -> Vec<Case> {
    let mut rng = StdRng::seed_from_u64(seed);
    let vocab = ds.vocabulary();
    let nets = ds.networks();
    let users = users_of(ds.tenants[0].1);
    let prefixes = [
        categories::DOCUMENT,
        categories::AUTH,
        categories::FILE,
        categories::LINK,
        categories::API,
        categories::MESSAGE,
    ];
    (0..n)
        .map(|i| Case {
            kind,
            user: format!("u{}", rng.random_range(0..users)),
            word: if i % 2 == 0 { vocab[..50.min(vocab.len())].choose(&mut rng) } else { vocab.choose(&mut rng) }
                .cloned()
                .unwrap_or_default(),
            action_prefix: prefixes[i % prefixes.len()].to_owned(),
            cidr: if i % 2 == 0 { nets[..40.min(nets.len())].choose(&mut rng) } else { nets.choose(&mut rng) }
                .cloned()
                .unwrap_or_default(),
        })
        .collect()
}

pub struct Figures {
    pub ingest_per_s: f64,
    pub bytes_per_event: f64,
    pub latencies: Vec<(Kind, Latency)>,
    /// The ids of the first answer of each kind, to compare systems.
    pub first_answers: Vec<(Kind, Vec<String>)>,
}

fn query_string(c: &Case) -> String {
    let enc = |s: &str| s.replace('/', "%2F").replace(' ', "+");
    match c.kind {
        Kind::Default | Kind::DeepPage => String::new(),
        Kind::User => format!("actor={}", c.user),
        Kind::ActionPrefix => format!("action={}.*", c.action_prefix),
        Kind::Word => format!("q={}", enc(&c.word)),
        Kind::WordUserAction => format!("q={}&actor={}&action=api.*", enc(&c.word), c.user),
        Kind::Cidr => format!("ip={}", enc(&c.cidr)),
        Kind::Timeline => "range=last_90_days&interval=day".into(),
    }
}

async fn get(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let r = client.get(url).bearer_auth(KEY).send().await?;
    anyhow::ensure!(r.status() == 200, "{url}: {}", r.status());
    Ok(r.json().await?)
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key].as_array().map(|a| a.iter().filter_map(|e| e["id"].as_str().map(String::from)).collect()).unwrap_or_default()
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| {
                    let m = e.metadata().ok();
                    if m.as_ref().is_some_and(|m| m.is_dir()) {
                        dir_size(&e.path())
                    } else {
                        m.map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Request bodies of 1,000 events per tenant, interleaved as live traffic arrives.
pub fn requests(ds: &Dataset) -> Vec<(String, Vec<u8>)> {
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let chunk = ds.total.div_ceil(threads as u64);
    let parts: Vec<Vec<(String, Vec<u8>, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    let mut per: std::collections::HashMap<String, (Vec<u8>, usize, u64)> = Default::default();
                    for n in t * chunk..((t + 1) * chunk).min(ds.total) {
                        let e = ds.event(n);
                        let entry = per.entry(e.tenant.clone()).or_insert_with(|| (b"[".to_vec(), 0, n));
                        if entry.1 > 0 {
                            entry.0.push(b',');
                        }
                        serde_json::to_writer(&mut entry.0, &e.json).expect("serialise");
                        entry.1 += 1;
                        if entry.1 == 1000 {
                            let (mut body, _, first) = per.remove(&e.tenant).expect("present");
                            body.push(b']');
                            out.push((e.tenant, body, first));
                        }
                    }
                    for (tenant, (mut body, _, first)) in per {
                        body.push(b']');
                        out.push((tenant, body, first));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("generator")).collect()
    });
    let mut all: Vec<(String, Vec<u8>, u64)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|r| r.2);
    eprintln!("generated {} requests in {:.0}s", all.len(), started.elapsed().as_secs_f64());
    all.into_iter().map(|(t, b, _)| (t, b)).collect()
}

pub async fn trail(ds: &Dataset, args: &Args, dir: &std::path::Path) -> anyhow::Result<Figures> {
    let store = Arc::new(SqliteStore::open(&dir.join("trail"))?);
    let (base, ingest_per_s) = load(ds, args, store.clone(), "trail").await?;
    let flush = Instant::now();
    let s2 = store.clone();
    tokio::task::spawn_blocking(move || s2.flush_index()).await?;
    eprintln!("index flushed in {:.1}s", flush.elapsed().as_secs_f64());
    {
        let conn = rusqlite::Connection::open(dir.join("trail").join(trail_store_sqlite::DB_FILE))?;
        let _: (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    }
    let bytes = dir_size(&dir.join("trail"));
    let index_bytes = dir_size(&dir.join("trail").join("index"));
    let bytes_per_event = bytes as f64 / ds.total as f64;
    eprintln!(
        "trail stores {} bytes, {bytes_per_event:.0} per event ({:.0} in the event table, {:.0} in the term index)",
        fmt(bytes as f64),
        (bytes - index_bytes) as f64 / ds.total as f64,
        index_bytes as f64 / ds.total as f64
    );
    ask_all(ds, args, &base, ingest_per_s, bytes_per_event, "trail").await
}

/// Trail on its PostgreSQL backend, in a throwaway cluster of its own.
pub async fn trail_on_postgres(ds: &Dataset, args: &Args, dir: &std::path::Path) -> anyhow::Result<Figures> {
    let cluster = postgres::Cluster::start(&dir.join("trail-postgres"))?;
    let store = trail_store_postgres::PgStore::connect(&cluster.url).await?;
    let (base, ingest_per_s) = load(ds, args, Arc::new(store), "trail on postgres").await?;
    let (admin, conn) = tokio_postgres::connect(&cluster.url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    // Steady state, as for the audit table: statistics, the GIN's pending entries merged, and
    // the ingest's dirty pages written out before anything is timed.
    admin.batch_execute("VACUUM ANALYZE").await?;
    admin.batch_execute("CHECKPOINT").await?;
    let size: i64 = admin.query_one("SELECT pg_database_size(current_database())", &[]).await?.get(0);
    let bytes_per_event = size as f64 / ds.total as f64;
    eprintln!("trail on postgres stores {} bytes, {bytes_per_event:.0} per event", fmt(size as f64));
    let figures = ask_all(ds, args, &base, ingest_per_s, bytes_per_event, "trail-pg").await;
    if std::env::var_os("TRAIL_BENCH_KEEP_POSTGRES").is_some() {
        // For a look at query plans afterwards; stop it with scripts/pg-throwaway stop DIR.
        eprintln!("kept the cluster of Trail on PostgreSQL running: {}", cluster.url);
        std::mem::forget(cluster);
    }
    figures
}

/// Creates the tenants and ingests the data set through a server on `store`: (base URL,
/// events/s).
async fn load(ds: &Dataset, args: &Args, store: Arc<dyn Store>, label: &str) -> anyhow::Result<(String, f64)> {
    for (t, _) in &ds.tenants {
        store
            .create_tenant(NewTenant {
                id: trail_core::TenantId::parse(t)?,
                name: t.clone(),
                plan: "enterprise".into(),
                time_zone: "UTC".into(),
            })
            .await?;
    }
    let base = server::start(store).await?;
    let ingest_secs = server::post_all(&base, requests(ds), args.clients, label).await?;
    let ingest_per_s = ds.total as f64 / ingest_secs;
    eprintln!("{label} ingest: {} events/s", fmt(ingest_per_s));
    Ok((base, ingest_per_s))
}

/// The query mix against a Trail server.
async fn ask_all(
    ds: &Dataset,
    args: &Args,
    base: &str,
    ingest_per_s: f64,
    bytes_per_event: f64,
    label: &str,
) -> anyhow::Result<Figures> {
    let client = reqwest::Client::new();
    let mut latencies = Vec::new();
    let mut first_answers = Vec::new();
    for kind in Kind::ALL {
        let cs = cases(ds, kind, args.iterations + 10, 42);
        let mut samples = Vec::new();
        let deep_cursor = if kind == Kind::DeepPage {
            // Page 200, or the last page of a smaller log.
            let mut cursor = String::new();
            for _ in 0..199 {
                let v = get(&client, &format!("{base}/v1/tenants/big/events?limit=50{cursor}")).await?;
                match v["next_cursor"].as_str() {
                    Some(c) => cursor = format!("&cursor={c}"),
                    None => break,
                }
            }
            cursor
        } else {
            String::new()
        };
        for (i, c) in cs.iter().enumerate() {
            let url = match kind {
                Kind::Timeline => format!("{base}/v1/tenants/big/reports/timeline?{}", query_string(c)),
                Kind::DeepPage => format!("{base}/v1/tenants/big/events?limit=50{deep_cursor}"),
                _ => format!("{base}/v1/tenants/big/events?limit=50&{}", query_string(c)),
            };
            let t = Instant::now();
            let v = get(&client, &url).await?;
            let took = t.elapsed();
            if std::env::var_os("TRAIL_BENCH_VERBOSE").is_some() && took > Duration::from_millis(5) {
                eprintln!("  slow: {:.1} ms {url}", took.as_secs_f64() * 1000.0);
            }
            if i == 10 {
                let answer = if kind == Kind::Timeline {
                    v["rows"].as_array().map(|r| r.iter().map(|x| x["count"].to_string()).collect()).unwrap_or_default()
                } else {
                    ids(&v, "events")
                };
                first_answers.push((kind, answer));
            }
            if i >= 10 {
                samples.push(took);
            }
        }
        let l = latency(samples);
        eprintln!("{label} {:<40} p50 {:.2} ms  p99 {:.2} ms", kind.label(), l.p50_ms, l.p99_ms);
        latencies.push((kind, l));
    }
    Ok(Figures { ingest_per_s, bytes_per_event, latencies, first_answers })
}

/// The instant `range=last_30_days` (or 90) starts at, as Trail computes it (UTC tenants).
pub fn range_start(days: u32) -> jiff::Timestamp {
    let preset = if days == 90 { RangePreset::Last90Days } else { RangePreset::Last30Days };
    preset.bounds(jiff::Timestamp::now(), &jiff::tz::TimeZone::UTC).from.expect("bounded")
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let ds = Dataset::new(&args.shared, args.events, args.tenants);
    println!(
        "query benchmark: {} events in {} tenants (`big` holds {}), {} runs per query, {} cores",
        fmt(ds.total as f64),
        ds.tenants.len(),
        fmt(ds.tenants[0].1 as f64),
        args.iterations,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let trail = trail(&ds, &args, &dir).await?;
    let trail_pg = if args.trail_on_postgres { Some(trail_on_postgres(&ds, &args, &dir).await?) } else { None };
    let pg = if args.skip_postgres { None } else { Some(postgres::run(&ds, &args, &dir).await?) };
    print_report(&trail, pg.as_ref());
    if let Some(tp) = &trail_pg {
        print_backends(&trail, tp, pg.as_ref());
    }
    Ok(())
}

/// Trail on SQLite beside Trail on PostgreSQL (and the audit table, when measured).
fn print_backends(t: &Figures, tp: &Figures, pg: Option<&Figures>) {
    println!("\n## Trail on PostgreSQL beside Trail on SQLite (and the hand-rolled audit table)\n");
    println!(
        "| query | SQLite p50 | SQLite p99 | PostgreSQL backend p50 | PostgreSQL backend p99 | audit table p99 | p99 ratio (audit table / PostgreSQL backend) | answers agree with SQLite |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for (kind, l) in &t.latencies {
        let Some((_, b)) = tp.latencies.iter().find(|(k, _)| k == kind) else { continue };
        let a = pg.and_then(|p| p.latencies.iter().find(|(k, _)| k == kind).map(|(_, l)| *l));
        let same = t.first_answers.iter().find(|(k, _)| k == kind).map(|(_, a)| a)
            == tp.first_answers.iter().find(|(k, _)| k == kind).map(|(_, a)| a);
        println!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} | {} | {} |",
            kind.label(),
            l.p50_ms,
            l.p99_ms,
            b.p50_ms,
            b.p99_ms,
            a.map_or("-".into(), |a| format!("{:.2} ms", a.p99_ms)),
            a.map_or("-".into(), |a| format!("{:.1}", a.p99_ms / b.p99_ms)),
            if same { "yes" } else { "NO" }
        );
    }
    println!("\n| figure | Trail on SQLite | Trail on PostgreSQL | audit table | PostgreSQL backend / audit table |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| durable ingest, events/s | {} | {} | {} | {} |",
        fmt(t.ingest_per_s),
        fmt(tp.ingest_per_s),
        pg.map_or("-".into(), |p| fmt(p.ingest_per_s)),
        pg.map_or("-".into(), |p| format!("{:.2}", tp.ingest_per_s / p.ingest_per_s))
    );
    println!(
        "| bytes stored per event | {:.0} | {:.0} | {} | {} |",
        t.bytes_per_event,
        tp.bytes_per_event,
        pg.map_or("-".into(), |p| format!("{:.0}", p.bytes_per_event)),
        pg.map_or("-".into(), |p| format!("{:.2}", tp.bytes_per_event / p.bytes_per_event))
    );
}

fn print_report(t: &Figures, pg: Option<&Figures>) {
    println!("\n## Query mix over the 5,000,000-event tenant\n");
    println!(
        "| query | Trail p50 | Trail p99 | PostgreSQL p50 | PostgreSQL p99 | p99 ratio (PG / Trail) | answers agree |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|");
    for (kind, l) in &t.latencies {
        let p = pg.and_then(|p| p.latencies.iter().find(|(k, _)| k == kind).map(|(_, l)| *l));
        let agree = pg
            .map(|p| {
                let a = t.first_answers.iter().find(|(k, _)| k == kind).map(|(_, a)| a);
                let b = p.first_answers.iter().find(|(k, _)| k == kind).map(|(_, a)| a);
                if a == b {
                    "yes"
                } else {
                    eprintln!("answers differ for {}:\n  trail:    {:?}\n  postgres: {:?}", kind.label(), a, b);
                    "NO"
                }
            })
            .unwrap_or("-");
        match p {
            Some(p) => println!(
                "| {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.1} | {agree} |",
                kind.label(),
                l.p50_ms,
                l.p99_ms,
                p.p50_ms,
                p.p99_ms,
                p.p99_ms / l.p99_ms
            ),
            None => println!("| {} | {:.2} ms | {:.2} ms | - | - | - | - |", kind.label(), l.p50_ms, l.p99_ms),
        }
    }
    println!("\n## Ingest and size\n");
    println!("| figure | Trail | PostgreSQL | ratio |");
    println!("|---|---:|---:|---:|");
    match pg {
        Some(p) => {
            println!(
                "| durable ingest, events/s | {} | {} | {:.1} |",
                fmt(t.ingest_per_s),
                fmt(p.ingest_per_s),
                t.ingest_per_s / p.ingest_per_s
            );
            println!(
                "| bytes stored per event | {:.0} | {:.0} | {:.2} |",
                t.bytes_per_event,
                p.bytes_per_event,
                t.bytes_per_event / p.bytes_per_event
            );
        }
        None => {
            println!("| durable ingest, events/s | {} | - | - |", fmt(t.ingest_per_s));
            println!("| bytes stored per event | {:.0} | - | - |", t.bytes_per_event);
        }
    }
}
