//! The export benchmark (issue 5): a tenant of 1,000,000 events exported end to end by the
//! `trail export` binary (a process of its own: store opened, query streamed, file written),
//! each format's rows/s and the process's peak memory. Baselines in the same run: the same rows
//! written from memory by the bare format crates (`csv`, `rust_xlsxwriter` in constant-memory
//! mode), and the streaming query alone.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Args as ClapArgs;
use trail_app::export::BlockingEvents;
use trail_core::{TenantId, filter::Filter, time::TimeBounds};
use trail_export::{
    Cell,
    views::{View, ViewKind},
};
use trail_store::{Accounts, NewTenant, Store};
use trail_store_sqlite::SqliteStore;

use crate::{
    dataset::Dataset,
    query::requests,
    report::{Row, fmt, print},
    server,
};

#[derive(ClapArgs)]
pub struct Args {
    /// Events in the tenant (every one is exported).
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// The shared data directory (for the real log).
    #[arg(long, default_value = "../shared/data")]
    pub shared: PathBuf,
    /// Where to put the data and the files (default: a temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The `trail` binary [default: beside this one; build it with `cargo build --release`].
    #[arg(long)]
    pub trail: Option<PathBuf>,
    /// Exports of each of CSV, NDJSON and XLSX: the table shows the median rate (every run's
    /// rate is printed) and the largest peak memory.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

/// What one `trail export` run did.
struct Run {
    rows: u64,
    secs: f64,
    /// VmHWM: everything resident, file pages mapped included.
    peak_rss_mb: f64,
    /// The largest RssAnon sampled: the process's own memory.
    peak_anon_mb: f64,
    bytes: u64,
}

/// Runs `trail export` and samples its peak resident memory (VmHWM) every 5 ms until it exits.
fn trail_export(trail: &Path, data: &Path, format: &str, out: &Path, extra: &[&str]) -> anyhow::Result<Run> {
    let started = Instant::now();
    let mut child = Command::new(trail)
        .arg("--data")
        .arg(data)
        .args(["export", "--tenant", "big", "--format", format, "-o"])
        .arg(out)
        .args(extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let status_file = format!("/proc/{}/status", child.id());
    let (mut peak_kb, mut anon_kb) = (0u64, 0u64);
    let field = |s: &str, name: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            peak_kb = peak_kb.max(field(&s, "VmHWM:").unwrap_or(0));
            anon_kb = anon_kb.max(field(&s, "RssAnon:").unwrap_or(0));
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let secs = started.elapsed().as_secs_f64();
    let stderr = std::io::read_to_string(child.stderr.take().expect("piped"))?;
    anyhow::ensure!(status.success(), "trail export --format {format} failed: {stderr}");
    // "N rows written to ..." is the last line.
    let rows = stderr
        .lines()
        .rev()
        .find_map(|l| l.split(" rows written").next().filter(|_| l.contains(" rows written")))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no row count in: {stderr}"))?;
    Ok(Run {
        rows,
        secs,
        peak_rss_mb: peak_kb as f64 / 1024.0,
        peak_anon_mb: anon_kb as f64 / 1024.0,
        bytes: std::fs::metadata(out)?.len(),
    })
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let trail = match &args.trail {
        Some(t) => t.clone(),
        None => std::env::current_exe()?.with_file_name("trail"),
    };
    anyhow::ensure!(trail.exists(), "{} is missing: run `cargo build --release` first", trail.display());
    let data = dir.join("trail");
    let ds = Dataset::new(&args.shared, args.events, 1);
    println!("export benchmark: {} events in one tenant, exported whole", fmt(ds.total as f64));

    // The data directory: `trail init` (signing key), then the events through HTTP.
    let init = Command::new(&trail).arg("--data").arg(&data).arg("init").output()?;
    anyhow::ensure!(init.status.success(), "trail init: {}", String::from_utf8_lossy(&init.stderr));
    {
        let store = Arc::new(SqliteStore::open(&data)?);
        store
            .create_tenant(NewTenant {
                id: TenantId::parse("big")?,
                name: "Big".into(),
                plan: "enterprise".into(),
                time_zone: "Europe/Paris".into(),
            })
            .await?;
        let base = server::start(store.clone()).await?;
        server::post_all(&base, requests(&ds), 4, "loaded").await?;
        let s2 = store.clone();
        tokio::task::spawn_blocking(move || s2.flush_index()).await?;
    }

    // Baselines: the streaming query alone, and the bare writers over the same cells.
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&data)?);
    let handle = tokio::runtime::Handle::current();
    let all = Filter { time: TimeBounds { from: None, to: None }, ..Filter::default() };
    let (scan_rate, sample) = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<(f64, Vec<Vec<Cell<'static>>>)> {
            let view = View::new(ViewKind::Activity, jiff::tz::TimeZone::get("Europe/Paris")?);
            let t = Instant::now();
            let mut n = 0u64;
            let mut sample = Vec::new();
            for e in BlockingEvents::new(handle, store, TenantId::parse("big")?, all) {
                let e = e?;
                if sample.len() < 10_000 {
                    let mut cells = Vec::new();
                    view.cells(&e, &mut cells);
                    sample.push(cells.into_iter().map(Cell::into_owned).collect());
                }
                n += 1;
            }
            Ok((n as f64 / t.elapsed().as_secs_f64(), sample))
        })
        .await??
    };
    eprintln!("streaming query alone: {} rows/s", fmt(scan_rate));
    drop(store);
    let n = ds.total;
    let csv_raw = {
        let t = Instant::now();
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(dir.join("raw.csv"))?));
        for i in 0..n as usize {
            w.write_record(sample[i % sample.len()].iter().map(|c| c.display().into_owned()))?;
        }
        w.flush()?;
        n as f64 / t.elapsed().as_secs_f64()
    };
    eprintln!("csv crate alone: {} rows/s", fmt(csv_raw));
    let xlsx_raw = {
        let t = Instant::now();
        let mut book = rust_xlsxwriter::Workbook::new();
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        let sheet = book.add_worksheet_with_constant_memory();
        for i in 0..n.min(1_000_000) as usize {
            for (c, cell) in sample[i % sample.len()].iter().enumerate() {
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(i as u32, c as u16, s.as_ref())?;
                    }
                    Cell::Int(v) => {
                        sheet.write_number(i as u32, c as u16, *v as f64)?;
                    }
                    Cell::Date(z) => {
                        sheet.write_datetime_with_format(i as u32, c as u16, z.datetime(), &date)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        book.save(dir.join("raw.xlsx"))?;
        n.min(1_000_000) as f64 / t.elapsed().as_secs_f64()
    };
    eprintln!("rust_xlsxwriter alone: {} rows/s", fmt(xlsx_raw));

    // The data set's span exactly (each export adds a `trail.logs.exported` event, now).
    let from = (ds.start - jiff::SignedDuration::from_secs(1)).to_string();
    let to = (ds.end + jiff::SignedDuration::from_millis(1)).to_string();
    let mut rows = Vec::new();
    let mut memory = Vec::new();
    for (format, baseline) in [
        ("csv", Some(("csv crate alone, same rows from memory", csv_raw))),
        ("ndjson", Some(("the streaming query alone", scan_rate))),
        ("xlsx", Some(("rust_xlsxwriter alone, same rows from memory", xlsx_raw))),
    ] {
        let out = dir.join(format!("export.{format}"));
        let mut runs = Vec::new();
        for _ in 0..args.runs.max(1) {
            let r = trail_export(&trail, &data, format, &out, &["--from", &from, "--to", &to])?;
            anyhow::ensure!(r.rows == n, "{format}: {} rows exported, {n} expected", r.rows);
            eprintln!(
                "{format}: {} rows in {:.2}s, {} rows/s, peak {:.0} MB ({:.0} MB its own), {} bytes",
                r.rows,
                r.secs,
                fmt(r.rows as f64 / r.secs),
                r.peak_rss_mb,
                r.peak_anon_mb,
                fmt(r.bytes as f64)
            );
            std::fs::remove_file(&out)?;
            runs.push(r);
        }
        // This host's speed drifts by more than the differences measured: the median run's
        // rate, and the most memory any run took.
        runs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
        let median = &runs[runs.len() / 2];
        let peak = |f: fn(&Run) -> f64| runs.iter().map(f).fold(0.0, f64::max);
        let runs_note = if runs.len() > 1 { format!(", median of {} runs", runs.len()) } else { String::new() };
        rows.push(Row {
            name: format!("`trail export --format {format}`, {} rows, end to end{runs_note}", fmt(n as f64)),
            value: median.rows as f64 / median.secs,
            unit: "rows/s",
            baseline: baseline.map(|(name, v)| (name.to_string(), v)),
        });
        memory.push((format, median.rows, peak(|r| r.peak_rss_mb), peak(|r| r.peak_anon_mb), median.bytes));
    }
    // PDF and DOCX near their limit: about the newest 95,000 rows.
    let newest = (ds.end
        - jiff::SignedDuration::from_secs(
            ((ds.end.as_second() - ds.start.as_second()) as f64 * 95_000.0 / n as f64) as i64,
        ))
    .to_string();
    for format in ["pdf", "docx"] {
        let out = dir.join(format!("export.{format}"));
        let extra = ["--from", newest.as_str()];
        let r = trail_export(&trail, &data, format, &out, &extra)?;
        eprintln!(
            "{format}: {} rows in {:.1}s, peak {:.0} MB ({:.0} MB its own)",
            r.rows, r.secs, r.peak_rss_mb, r.peak_anon_mb
        );
        rows.push(Row {
            name: format!("`trail export --format {format}`, {} rows (the newest), end to end", fmt(r.rows as f64)),
            value: r.rows as f64 / r.secs,
            unit: "rows/s",
            baseline: None,
        });
        memory.push((format, r.rows, r.peak_rss_mb, r.peak_anon_mb, r.bytes));
        std::fs::remove_file(&out)?;
    }
    print("Exports: rows per second, end to end from the store", &rows);
    println!("\n## Exports: peak memory of the `trail export` process\n");
    println!("(CSV, NDJSON and XLSX: the largest of their runs.)\n");
    println!("| format | rows | peak resident (VmHWM) | of which its own (RssAnon) | file size |");
    println!("|---|---:|---:|---:|---:|");
    for (format, n, mb, anon, bytes) in memory {
        println!("| {format} | {} | {mb:.0} MB | {anon:.0} MB | {} MB |", fmt(n as f64), fmt(bytes as f64 / 1e6));
    }
    Ok(())
}
