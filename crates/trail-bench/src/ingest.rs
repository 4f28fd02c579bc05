//! Durable ingest: events per second through HTTP, against raw SQLite inserts.
//!
//! - Baseline: the same rows inserted into a SQLite table with no secondary index, 1,000 rows
//!   a transaction, WAL with `synchronous=FULL` (an fsync per commit, as Trail does): the
//!   ceiling of the embedded engine on this machine.
//! - Trail, store only: `Store::append` with batches of 1,000 from several tasks at once.
//! - Trail, HTTP: several clients POSTing JSON batches of 1,000 to a server in this process;
//!   an event counts once its `201` (sent after fsync) has arrived.

use std::{path::PathBuf, sync::Arc, time::Instant};

use clap::Args as ClapArgs;
use serde_json::Value;
use trail_core::event::NewEvent;
use trail_store::{EventLog, NewTenant, PreparedEvent, Store};
use trail_store_sqlite::{SqliteStore, StoreOptions};

use crate::report::{self, Row};

#[derive(ClapArgs)]
pub struct Args {
    /// Events to ingest in each measurement.
    #[arg(long, default_value_t = 500_000)]
    events: usize,
    /// Events per request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Rounds of the with-tree / without-tree HTTP measurement (medians are reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// The shared data directory.
    #[arg(long, default_value = "../shared/data")]
    shared: PathBuf,
    /// Where to put the databases (default: a temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn batches(source: &[Value], total: usize, batch: usize, tag: &str) -> Vec<Vec<Value>> {
    (0..total.div_ceil(batch))
        .map(|b| {
            (0..batch.min(total - b * batch))
                .map(|i| {
                    let n = b * batch + i;
                    let mut e = source[n % source.len()].clone();
                    e["id"] = format!("{tag}-{n}").into();
                    // Recent dates: the log lines are from 2015, which is fine for ingest.
                    e
                })
                .collect()
        })
        .collect()
}

fn raw_sqlite(dir: &std::path::Path, prepared: &[Vec<PreparedEvent>]) -> anyhow::Result<f64> {
    let conn = rusqlite::Connection::open(dir.join("raw.db"))?;
    conn.pragma_update(None, "journal_mode", "wal")?;
    conn.pragma_update(None, "synchronous", "full")?;
    conn.execute_batch(
        "CREATE TABLE events (pos INTEGER PRIMARY KEY, tid INTEGER, occurred_at INTEGER, received_at INTEGER, action TEXT,
         category TEXT, outcome INTEGER, actor_id TEXT, actor_email TEXT, ext_id TEXT, digest BLOB, body BLOB)",
    )?;
    let mut conn = conn;
    let start = Instant::now();
    let mut n = 0i64;
    for batch in prepared {
        let tx = conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")?;
            for e in batch {
                n += 1;
                let b = &e.body;
                stmt.execute(rusqlite::params![
                    n,
                    1,
                    b.occurred_at.as_microsecond(),
                    b.received_at.as_microsecond(),
                    b.action.as_str(),
                    b.category.as_str(),
                    0,
                    b.actor_id(),
                    b.actor_email(),
                    b.id.as_deref(),
                    &e.digest[..],
                    &e.canonical[..]
                ])?;
            }
        }
        tx.commit()?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn prepare(batches: &[Vec<Value>]) -> Vec<Vec<PreparedEvent>> {
    let now = jiff::Timestamp::now();
    batches
        .iter()
        .map(|b| {
            b.iter()
                .map(|v| PreparedEvent::new(NewEvent::from_json(&v.to_string(), now).unwrap(), now, |_| {}))
                .collect()
        })
        .collect()
}

async fn new_tenant(store: &dyn Store, id: &str) -> anyhow::Result<trail_core::TenantId> {
    let id = trail_core::TenantId::parse(id)?;
    store
        .create_tenant(NewTenant {
            id: id.clone(),
            name: "bench".into(),
            plan: "enterprise".into(),
            time_zone: "UTC".into(),
        })
        .await?;
    Ok(id)
}

/// Ingests `args.events` events through HTTP into a new tenant of `store`: events per second,
/// and events per CPU-second of this whole process while they were posted (the server, the
/// clients, and whatever else runs then: a new store's dictionary training, the checkpoint
/// signers of earlier rounds' servers; the same with and without the tree).
async fn http_ingest(store: &Arc<dyn Store>, source: &[Value], args: &Args, tag: &str) -> anyhow::Result<(f64, f64)> {
    let tenant = new_tenant(&**store, tag).await?;
    let base = crate::server::start(store.clone()).await?;
    let bodies: Vec<(String, Vec<u8>)> = batches(source, args.events, args.batch, tag)
        .iter()
        .map(|b| (tenant.to_string(), serde_json::to_vec(b).unwrap()))
        .collect();
    let cpu = cpu_seconds()?;
    let secs = crate::server::post_all(&base, bodies, args.clients, tag).await?;
    let used = cpu_seconds()? - cpu;
    anyhow::ensure!(used > 0.0, "the ingest used less CPU than /proc counts (1/100 s): ingest more events");
    let per_cpu = args.events as f64 / used;
    let rate = args.events as f64 / secs;
    let count = store.tenant(&tenant).await?.map(|t| t.event_count).unwrap_or(0);
    anyhow::ensure!(count as usize == args.events, "stored {count} of {} events", args.events);
    Ok((rate, per_cpu))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let source = crate::data::events(&args.shared);
    println!(
        "ingest benchmark: {} events per figure, batches of {}, {} concurrent clients, {} cores",
        args.events,
        args.batch,
        args.clients,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );

    // Baseline: raw SQLite.
    let raw_batches = prepare(&batches(&source, args.events, args.batch, "raw"));
    let raw = raw_sqlite(&dir, &raw_batches)?;
    drop(raw_batches);
    eprintln!("raw sqlite: {} rows/s", report::fmt(raw));

    // Trail store only.
    let store_dir = dir.join("store");
    let store = Arc::new(SqliteStore::open(&store_dir)?);
    let tenant = new_tenant(&*store, "direct").await?;
    let work = prepare(&batches(&source, args.events, args.batch, "direct"));
    let start = Instant::now();
    let queue = Arc::new(std::sync::Mutex::new(work));
    let tasks: Vec<_> = (0..args.clients)
        .map(|_| {
            let (store, tenant, queue) = (store.clone(), tenant.clone(), queue.clone());
            tokio::spawn(async move {
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some(b) = next else { return };
                    store.append(&tenant, b).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    let direct = args.events as f64 / start.elapsed().as_secs_f64();
    eprintln!("store append: {} events/s", report::fmt(direct));

    drop(store);

    // Trail through HTTP, with its Merkle tree and (to measure the tree's cost) without: each
    // into a fresh store of its own, in alternating rounds (this machine's figures move by 10%
    // from run to run), the median of each reported.
    // Besides events per second, events per CPU-second of this process (server and clients
    // alike): throughput swings with what else this machine's host runs, the CPU an event
    // costs much less, so the tree's cost shows more steadily there.
    let (mut with_tree, mut without) = (Vec::new(), Vec::new());
    let (mut with_tree_cpu, mut without_cpu) = (Vec::new(), Vec::new());
    for round in 0..args.rounds.max(1) {
        // Which goes first alternates, so neither always runs on what the other left behind
        // (page cache, allocator, the disk's write-back).
        let order = if round % 2 == 0 { [true, false] } else { [false, true] };
        for tree in order {
            let store: Arc<dyn Store> = Arc::new(SqliteStore::open_with(
                &dir.join(format!("http-{round}-{tree}")),
                StoreOptions { merkle_tree: tree, ..StoreOptions::default() },
            )?);
            let (rate, per_cpu) = http_ingest(&store, &source, &args, if tree { "http" } else { "bare" }).await?;
            let what = if tree { "http ingest" } else { "http ingest without the tree" };
            eprintln!(
                "round {}: {what}: {} events/s, {} events per CPU-second",
                round + 1,
                report::fmt(rate),
                report::fmt(per_cpu)
            );
            if tree {
                with_tree.push(rate);
                with_tree_cpu.push(per_cpu);
            } else {
                without.push(rate);
                without_cpu.push(per_cpu);
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (http, http_no_tree) = (median(&mut with_tree), median(&mut without));
    let (http_cpu, http_no_tree_cpu) = (median(&mut with_tree_cpu), median(&mut without_cpu));
    eprintln!("http ingest (median): {} events/s", report::fmt(http));
    eprintln!("http ingest without the tree (median): {} events/s", report::fmt(http_no_tree));
    eprintln!(
        "events per CPU-second (medians): {} with the tree, {} without",
        report::fmt(http_cpu),
        report::fmt(http_no_tree_cpu)
    );

    report::print(
        "Durable ingest (fsync before acknowledgement)",
        &[
            Row {
                name: "raw SQLite insert, no index, 1,000 rows/txn, synchronous=FULL".into(),
                value: raw,
                unit: "rows/s",
                baseline: None,
            },
            Row {
                name: "Trail `Store::append`, batches of 1,000".into(),
                value: direct,
                unit: "events/s",
                baseline: Some(("raw SQLite".into(), raw)),
            },
            Row {
                name: format!("Trail HTTP ingest, batches of {}, {} clients", args.batch, args.clients),
                value: http,
                unit: "events/s",
                baseline: Some(("raw SQLite".into(), raw)),
            },
            Row {
                name: "Trail HTTP ingest with the Merkle tree, against without it".into(),
                value: http,
                unit: "events/s",
                baseline: Some(("without the tree".into(), http_no_tree)),
            },
            Row {
                name: "The same, events per CPU-second of the process (server and clients)".into(),
                value: http_cpu,
                unit: "events/CPU-s",
                baseline: Some(("without the tree".into(), http_no_tree_cpu)),
            },
        ],
    );
    let bytes: usize = batches(&source, 1000.min(args.events), 1000, "size")
        .iter()
        .map(|b| serde_json::to_vec(b).unwrap().len())
        .sum();
    println!("\nHTTP request bodies averaged {} bytes per event.", bytes / 1000.min(args.events));
    Ok(())
}

/// CPU time this process has used so far (user and system, every thread), in seconds, from
/// `/proc/self/stat` (in clock ticks of 1/100 s, as on every Linux this runs on).
pub(crate) fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name, which is in parentheses and may hold spaces: the
    // state is field 3, so utime (14) and stime (15) are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| anyhow::anyhow!("no command name in {stat:?}"))?;
    let ticks = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse::<u64>().map_err(|_| anyhow::anyhow!("utime or stime {f:?} in /proc/self/stat")))
        .collect::<anyhow::Result<Vec<u64>>>()?;
    anyhow::ensure!(ticks.len() == 2, "no utime and stime in /proc/self/stat");
    Ok(ticks.iter().sum::<u64>() as f64 / 100.0)
}
