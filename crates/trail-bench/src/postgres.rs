//! The baseline: what a SaaS builds itself. One PostgreSQL table with the event as JSONB, four
//! B-tree indexes (tenant and time, actor, action, address) and a GIN index over a generated
//! full-text vector, loaded with 1,000-row `INSERT ... VALUES` from several connections, asked
//! the same questions. The cluster is a throwaway one (`scripts/pg-throwaway`) with
//! `synchronous_commit=on` and 2 GB of shared buffers.

use std::{
    collections::VecDeque,
    path::Path,
    sync::{Arc, Mutex},
    time::{Instant, SystemTime},
};

use tokio_postgres::{Client, NoTls, types::ToSql};

use crate::{
    dataset::Dataset,
    query::{Args, Case, Figures, Kind, cases, range_start},
    report::fmt,
    stats::latency,
};

const SCHEMA: &str = r#"
CREATE TABLE audit_events (
    id          bigserial PRIMARY KEY,
    tenant_id   text NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor_id    text,
    action      text NOT NULL,
    ip          inet,
    data        jsonb NOT NULL,
    -- Words as Trail's search sees them (runs of letters and digits), so both answer alike.
    search      tsvector GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(lower(
                    coalesce(data->>'description', '') || ' ' || coalesce(data->'actor'->>'name', '') || ' ' ||
                    coalesce(data->'actor'->>'email', '') || ' ' || coalesce(data->>'action', '') || ' ' ||
                    coalesce(data->'targets'->0->>'name', '') || ' ' || coalesce(data->'targets'->0->>'id', '')),
                    '[^[:alnum:]]+', ' ', 'g'))) STORED
);
CREATE INDEX audit_events_time ON audit_events (tenant_id, occurred_at DESC, id DESC);
CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor_id, occurred_at DESC);
CREATE INDEX audit_events_action ON audit_events (tenant_id, action, occurred_at DESC);
CREATE INDEX audit_events_ip ON audit_events (tenant_id, ip);
CREATE INDEX audit_events_search ON audit_events USING gin (search);
"#;

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-throwaway")
}

/// A throwaway cluster, stopped when dropped.
pub struct Cluster {
    dir: std::path::PathBuf,
    pub url: String,
}

impl Cluster {
    /// Starts a cluster in `dir` (`scripts/pg-throwaway`).
    pub fn start(dir: &Path) -> anyhow::Result<Cluster> {
        let out = std::process::Command::new(script()).arg("start").arg(dir).output()?;
        anyhow::ensure!(out.status.success(), "cannot start PostgreSQL: {}", String::from_utf8_lossy(&out.stderr));
        Ok(Cluster { dir: dir.to_owned(), url: String::from_utf8(out.stdout)?.trim().to_owned() })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(script()).arg("stop").arg(&self.dir).status();
    }
}

/// tenant, occurred_at, actor, action, address, the event as JSON text.
type Row = (String, SystemTime, String, String, String, String);

/// The same events as Trail received, in the same interleaved order, in batches of 1,000 per
/// tenant, as compact tuples (10 million JSON values would not fit in memory).
fn batches(ds: &Dataset) -> Vec<Vec<Row>> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) as u64;
    let chunk = ds.total.div_ceil(threads);
    let parts: Vec<Vec<(u64, Vec<Row>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    let mut per: std::collections::HashMap<String, (u64, Vec<Row>)> = Default::default();
                    for n in t * chunk..((t + 1) * chunk).min(ds.total) {
                        let e = ds.event(n);
                        let row: Row = (
                            e.tenant.clone(),
                            SystemTime::from(e.occurred_at),
                            e.actor_id,
                            e.action.to_owned(),
                            e.ip,
                            e.json.to_string(),
                        );
                        let entry = per.entry(e.tenant.clone()).or_insert_with(|| (n, Vec::with_capacity(1000)));
                        entry.1.push(row);
                        if entry.1.len() == 1000 {
                            out.push(per.remove(&e.tenant).expect("present"));
                        }
                    }
                    out.extend(per.into_values());
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("generator")).collect()
    });
    let mut all: Vec<(u64, Vec<Row>)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|b| b.0);
    all.into_iter().map(|b| b.1).collect()
}

pub async fn run(ds: &Dataset, args: &Args, dir: &Path) -> anyhow::Result<Figures> {
    let cluster = Cluster::start(&dir.join("postgres"))?;
    let url = cluster.url.clone();
    let connect = || async {
        let (client, conn) = tokio_postgres::connect(&url, NoTls).await?;
        tokio::spawn(conn);
        anyhow::Ok(client)
    };
    let admin = connect().await?;
    admin.batch_execute(SCHEMA).await?;

    let started = Instant::now();
    let batches = batches(ds);
    eprintln!("generated {} PostgreSQL batches in {:.0}s", batches.len(), started.elapsed().as_secs_f64());

    let queue = Arc::new(Mutex::new(VecDeque::from(batches)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let client = connect().await?;
        let queue = queue.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            loop {
                let next = queue.lock().expect("queue").pop_front();
                let Some(batch) = next else { return anyhow::Ok(done) };
                insert(&client, &batch).await?;
                done += batch.len() as u64;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let ingest_per_s = ds.total as f64 / started.elapsed().as_secs_f64();
    eprintln!("postgres ingest: {} rows/s", fmt(ingest_per_s));
    admin.batch_execute("VACUUM ANALYZE audit_events").await?;
    admin.batch_execute("CHECKPOINT").await?;
    let size: i64 = admin.query_one("SELECT pg_total_relation_size('audit_events')", &[]).await?.get(0);
    let bytes_per_event = size as f64 / ds.total as f64;

    let from30 = SystemTime::from(range_start(30));
    let from90 = SystemTime::from(range_start(90));
    let mut latencies = Vec::new();
    let mut first_answers = Vec::new();
    for kind in Kind::ALL {
        let cs = cases(ds, kind, args.iterations + 10, 42);
        let deep = if kind == Kind::DeepPage { Some(deep_position(&admin, from30).await?) } else { None };
        let mut samples = Vec::new();
        for (i, c) in cs.iter().enumerate() {
            let t = Instant::now();
            let answer = ask(&admin, c, from30, from90, deep).await?;
            let took = t.elapsed();
            if i == 10 {
                first_answers.push((kind, answer));
            }
            if i >= 10 {
                samples.push(took);
            }
        }
        let l = latency(samples);
        eprintln!("postgres {:<40} p50 {:.2} ms  p99 {:.2} ms", kind.label(), l.p50_ms, l.p99_ms);
        latencies.push((kind, l));
    }
    Ok(Figures { ingest_per_s, bytes_per_event, latencies, first_answers })
}

async fn insert(client: &Client, batch: &[Row]) -> anyhow::Result<()> {
    let mut sql = String::from("INSERT INTO audit_events (tenant_id, occurred_at, actor_id, action, ip, data) VALUES ");
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(batch.len() * 6);
    for (i, (tenant, at, actor, action, ip, data)) in batch.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        let b = i * 6;
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}::text::inet, ${}::text::jsonb)",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6
        ));
        params.extend([tenant as &(dyn ToSql + Sync), at, actor, action, ip, data]);
    }
    client.execute(sql.as_str(), &params).await?;
    Ok(())
}

/// The (occurred_at, id) after which page 200 of the default view starts (or the last page of
/// a smaller log, as the Trail side does).
async fn deep_position(client: &Client, from: SystemTime) -> anyhow::Result<(SystemTime, i64)> {
    let n: i64 = client
        .query_one("SELECT count(*) FROM audit_events WHERE tenant_id = 'big' AND occurred_at >= $1", &[&from])
        .await?
        .get(0);
    let pages = (n + 49) / 50;
    let offset = if pages >= 200 { 199 * 50 - 1 } else { (pages - 1).max(1) * 50 - 1 };
    let row = client
        .query_one(
            "SELECT occurred_at, id FROM audit_events WHERE tenant_id = 'big' AND occurred_at >= $1
             ORDER BY occurred_at DESC, id DESC OFFSET $2 LIMIT 1",
            &[&from, &offset],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}

const PAGE: &str = "ORDER BY occurred_at DESC, id DESC LIMIT 50";

async fn ask(
    client: &Client,
    c: &Case,
    from30: SystemTime,
    from90: SystemTime,
    deep: Option<(SystemTime, i64)>,
) -> anyhow::Result<Vec<String>> {
    // The whole event, as an API would return it (as text: tokio-postgres then skips decoding it).
    let base = "SELECT data::text FROM audit_events WHERE tenant_id = 'big' AND occurred_at >= $1";
    let like = format!("{}.%", c.action_prefix);
    let rows = match c.kind {
        Kind::Default => client.query(&format!("{base} {PAGE}"), &[&from30]).await?,
        Kind::User => client.query(&format!("{base} AND actor_id = $2 {PAGE}"), &[&from30, &c.user]).await?,
        Kind::ActionPrefix => client.query(&format!("{base} AND action LIKE $2 {PAGE}"), &[&from30, &like]).await?,
        Kind::Word => {
            client.query(&format!("{base} AND search @@ to_tsquery('simple', $2) {PAGE}"), &[&from30, &c.word]).await?
        }
        Kind::WordUserAction => {
            client
                .query(
                    &format!(
                        "{base} AND search @@ to_tsquery('simple', $2) AND actor_id = $3 AND action LIKE 'api.%' {PAGE}"
                    ),
                    &[&from30, &c.word, &c.user],
                )
                .await?
        }
        Kind::Cidr => client.query(&format!("{base} AND ip << $2::text::inet {PAGE}"), &[&from30, &c.cidr]).await?,
        Kind::DeepPage => {
            let (at, id) = deep.expect("deep position");
            client.query(&format!("{base} AND (occurred_at, id) < ($2, $3) {PAGE}"), &[&from30, &at, &id]).await?
        }
        Kind::Timeline => {
            let rows = client
                .query(
                    "SELECT count(*) FROM audit_events WHERE tenant_id = 'big' AND occurred_at >= $1
                     GROUP BY date_trunc('day', occurred_at AT TIME ZONE 'UTC')
                     ORDER BY date_trunc('day', occurred_at AT TIME ZONE 'UTC')",
                    &[&from90],
                )
                .await?;
            return Ok(rows.iter().map(|r| r.get::<_, i64>(0).to_string()).collect());
        }
    };
    Ok(rows
        .iter()
        .map(|r| {
            let text: String = r.get(0);
            serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["id"].as_str().map(String::from))
                .unwrap_or_default()
        })
        .collect())
}
