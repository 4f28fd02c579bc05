//! The integrity benchmark (issue 4): one tenant of 10 million events ingested through HTTP
//! with its Merkle tree and, beside it, without; then `trail verify` over the whole directory
//! beside a bare scan of the event table, and inclusion and consistency proofs at 10 million
//! events beside reading one event.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use base64::Engine;
use clap::Args as ClapArgs;
use rand::{Rng, SeedableRng, rngs::StdRng};
use trail_core::{
    TenantId,
    merkle::{verify_consistency, verify_inclusion},
};
use trail_store::{EventLog, Tree};
use trail_store_sqlite::{DB_FILE, SqliteStore, StoreOptions};

use crate::{
    dataset::Dataset,
    query::requests,
    report::{Row, fmt, print},
    server::{self, KEY},
    stats::{Latency, latency},
};

#[derive(ClapArgs)]
pub struct Args {
    /// Events in the one tenant.
    #[arg(long, default_value_t = 10_000_000)]
    pub events: u64,
    /// Measured proofs of each kind.
    #[arg(long, default_value_t = 1000)]
    pub iterations: usize,
    /// Concurrent ingest clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// The shared data directory (for the real log).
    #[arg(long, default_value = "../shared/data")]
    pub shared: PathBuf,
    /// Where to put the data (default: a temporary directory). The directory with the tree is
    /// kept there for `trail --data DIR/trail verify`.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

async fn new_store(dir: &std::path::Path, merkle_tree: bool) -> anyhow::Result<Arc<SqliteStore>> {
    server::big_tenant_store(dir, StoreOptions { merkle_tree, ..StoreOptions::default() }).await
}

/// Ingests the whole data set through HTTP into a new store at `dir`; events/s.
async fn ingest(
    ds: &Dataset,
    args: &Args,
    dir: &std::path::Path,
    merkle_tree: bool,
) -> anyhow::Result<(Arc<SqliteStore>, String, f64)> {
    let store = new_store(dir, merkle_tree).await?;
    let base = server::start(store.clone()).await?;
    let label = if merkle_tree { "with the tree" } else { "without the tree" };
    let secs = server::post_all(&base, requests(ds), args.clients, label).await?;
    let rate = ds.total as f64 / secs;
    eprintln!("ingest {label}: {} events/s", fmt(rate));
    // Let the term index finish its segment writes and merges (untimed, for both runs), so
    // this run's background work does not slow the next one.
    let s2 = store.clone();
    tokio::task::spawn_blocking(move || s2.flush_index()).await?;
    Ok((store, base, rate))
}

/// Times `f` over `n` runs after ten unmeasured ones.
async fn timed<F, Fut>(n: usize, mut f: F) -> anyhow::Result<Latency>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + 10 {
        let t = Instant::now();
        f(i).await?;
        if i >= 10 {
            samples.push(t.elapsed());
        }
    }
    Ok(latency(samples))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let ds = Dataset::new(&args.shared, args.events, 1);
    let n = ds.total;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "integrity benchmark: {} events in one tenant, {} proofs of each kind, {threads} cores",
        fmt(n as f64),
        args.iterations
    );

    // Ingest without the tree first, then drop that directory to keep disk use down.
    let bare_dir = dir.join("no-tree");
    let (bare, _, without_tree) = ingest(&ds, &args, &bare_dir, false).await?;
    drop(bare);
    std::fs::remove_dir_all(&bare_dir)?;
    let trail_dir = dir.join("trail");
    let (store, base, with_tree) = ingest(&ds, &args, &trail_dir, true).await?;
    let tenant = TenantId::parse("big")?;

    // The signer checkpoints the whole tree within a second.
    let waited = Instant::now();
    loop {
        if store.latest_checkpoint(&tenant).await?.is_some_and(|c| c.size == n) {
            break;
        }
        anyhow::ensure!(waited.elapsed() < Duration::from_secs(30), "no checkpoint of {n} events after 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("checkpoint of {n} events signed {:.2}s after ingest ended", waited.elapsed().as_secs_f64());

    // Proofs at the full size, beside reading one event; each proof is checked once.
    let root = store.tree_root(&tenant, n).await?;
    let mut rng = StdRng::seed_from_u64(7);
    let seqs: Vec<u64> = (0..args.iterations + 10).map(|_| rng.random_range(1..=n)).collect();
    let froms: Vec<u64> = (0..args.iterations + 10).map(|_| rng.random_range(1..n)).collect();
    for &seq in &seqs[..20] {
        let proof: Vec<Vec<u8>> = store.inclusion_proof(&tenant, seq, n).await?.iter().map(|h| h.to_vec()).collect();
        let leaf = store.leaf_hash(&tenant, seq).await?.expect("a leaf");
        verify_inclusion(seq - 1, n, &leaf, &proof, &root).map_err(|e| anyhow::anyhow!("inclusion of {seq}: {e:?}"))?;
    }
    for &from in &froms[..20] {
        let proof: Vec<Vec<u8>> = store.consistency_proof(&tenant, from, n).await?.iter().map(|h| h.to_vec()).collect();
        let old = store.tree_root(&tenant, from).await?;
        verify_consistency(from, n, &proof, &old, &root)
            .map_err(|e| anyhow::anyhow!("consistency from {from}: {e:?}"))?;
    }
    let read_one = timed(args.iterations, |i| {
        let (store, tenant, seq) = (store.clone(), tenant.clone(), seqs[i]);
        async move { store.event(&tenant, seq).await?.ok_or_else(|| anyhow::anyhow!("event {seq}")).map(drop) }
    })
    .await?;
    let inclusion = timed(args.iterations, |i| {
        let (store, tenant, seq) = (store.clone(), tenant.clone(), seqs[i]);
        async move { store.inclusion_proof(&tenant, seq, n).await.map(drop).map_err(Into::into) }
    })
    .await?;
    let consistency = timed(args.iterations, |i| {
        let (store, tenant, from) = (store.clone(), tenant.clone(), froms[i]);
        async move { store.consistency_proof(&tenant, from, n).await.map(drop).map_err(Into::into) }
    })
    .await?;
    let client = reqwest::Client::new();
    let http_get = |path: String| {
        let (client, url) = (client.clone(), format!("{base}/v1/tenants/big/{path}"));
        async move {
            let r = client.get(url).bearer_auth(KEY).send().await?;
            anyhow::ensure!(r.status() == 200, "{}", r.status());
            r.bytes().await?;
            Ok(())
        }
    };
    let http_event = timed(args.iterations, |i| http_get(format!("events/{}", seqs[i]))).await?;
    let http_proof = timed(args.iterations, |i| http_get(format!("events/{}/proof?tree_size={n}", seqs[i]))).await?;
    let http_consistency =
        timed(args.iterations, |i| http_get(format!("tree/consistency?from={}&to={n}", froms[i]))).await?;

    // Stop writing, then verify the directory as `trail verify` does, beside a bare scan.
    drop(store);
    {
        let conn = rusqlite::Connection::open(trail_dir.join(DB_FILE))?;
        let _: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    }
    let scan_rate = {
        let conn = rusqlite::Connection::open(trail_dir.join(DB_FILE))?;
        let started = Instant::now();
        let mut stmt = conn.prepare("SELECT pos, body FROM events")?;
        let mut rows = stmt.query([])?;
        let (mut count, mut bytes) = (0u64, 0usize);
        while let Some(r) = rows.next()? {
            count += 1;
            bytes += r.get_ref(1)?.as_blob()?.len();
        }
        anyhow::ensure!(count == n, "scanned {count} events");
        eprintln!("bare scan: {} events, {} bytes", fmt(count as f64), fmt(bytes as f64));
        n as f64 / started.elapsed().as_secs_f64()
    };
    let public = server::signing_key().verifying_key();
    let started = Instant::now();
    // The bench's log is not signed by a server: only its leaves and tree are measured.
    let options =
        trail_store_sqlite::verify::VerifyOptions { unsigned_grace: std::time::Duration::MAX, ..Default::default() };
    let reports = trail_store_sqlite::verify::verify(&trail_dir, None, &public, &options, threads, &|_| {})?;
    let verify_rate = n as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(reports.iter().all(|r| r.problem.is_none()), "verify found problems: {reports:?}");
    eprintln!("verify: {} events/s", fmt(verify_rate));

    print(
        "Integrity: ingest with the tree, and `trail verify`",
        &[
            Row {
                name: format!("HTTP ingest with the Merkle tree, {} clients", args.clients),
                value: with_tree,
                unit: "events/s",
                baseline: Some(("without the tree".into(), without_tree)),
            },
            Row {
                name: format!("`trail verify`, {threads} threads (leaves, tree, checkpoints)"),
                value: verify_rate,
                unit: "events/s",
                baseline: Some(("bare scan of the event table".into(), scan_rate)),
            },
        ],
    );
    println!("\n## Proofs at {} events\n", fmt(n as f64));
    println!("| operation | p50 | p99 | baseline (same run) p50 / p99 |");
    println!("|---|---:|---:|---|");
    let row = |name: &str, l: Latency, b: (&str, Latency)| {
        println!(
            "| {name} | {:.3} ms | {:.3} ms | {}: {:.3} / {:.3} ms |",
            l.p50_ms, l.p99_ms, b.0, b.1.p50_ms, b.1.p99_ms
        )
    };
    row("inclusion proof (store)", inclusion, ("read one event (store)", read_one));
    row("consistency proof (store)", consistency, ("read one event (store)", read_one));
    row("`GET events/{seq}/proof`", http_proof, ("`GET events/{seq}`", http_event));
    row("`GET tree/consistency`", http_consistency, ("`GET events/{seq}`", http_event));
    println!(
        "\nThe data directory: check it yourself with `trail --data {} verify --public-key {}`{}.",
        trail_dir.display(),
        base64::engine::general_purpose::STANDARD.encode(public.as_bytes()),
        if args.dir.is_none() { " (pass --dir to keep it)" } else { "" }
    );
    Ok(())
}
