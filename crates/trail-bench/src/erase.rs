//! The erasure benchmark (issue 21): one person with N events (200,000 by default;
//! `--events 1000000` for a million) among other people's events, some of whose remarks name
//! them, erased by the `trail erase` binary as a process of its own; its wall time and peak
//! memory. Baselines in the same run, on the same data directory: `trail export --format ndjson
//! --actor` of the same person's events (the same events read once, through the same bounded
//! readers), and `trail verify` afterwards, which must pass.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use clap::Args as ClapArgs;
use serde_json::json;
use trail_core::vocabulary::actions;

use crate::report::{Row, fmt, print};

#[derive(ClapArgs)]
pub struct Args {
    /// The person's events.
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    /// Other people's events, between the person's.
    #[arg(long, default_value_t = 100_000)]
    pub others: u64,
    /// Of the others, events whose description names the person.
    #[arg(long, default_value_t = 1_000)]
    pub remarks: u64,
    /// Where to put the data directory (default: a temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The `trail` binary [default: beside this one; build it with `cargo build --release`].
    #[arg(long)]
    pub trail: Option<PathBuf>,
}

/// What one `trail` process did.
struct Run {
    secs: f64,
    /// VmHWM: everything resident at the peak, mapped file pages included.
    peak_rss_mb: f64,
    /// The largest RssAnon sampled: the process's own memory.
    peak_anon_mb: f64,
    stdout: String,
}

/// Runs `trail --data DATA ARGS...`, sampling its peak memory every 5 ms until it exits; fails
/// unless it succeeds.
fn trail(bin: &Path, data: &Path, args: &[&str]) -> anyhow::Result<Run> {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .arg("--data")
        .arg(data)
        .args(args)
        .env("TRAIL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Read both pipes while sampling, so a chatty child never blocks on a full pipe.
    let (mut out, mut err) = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let out = std::thread::spawn(move || std::io::read_to_string(&mut out).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(&mut err).unwrap_or_default());
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
    let (stdout, stderr) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
    anyhow::ensure!(status.success(), "trail {} failed ({status}): {stdout}\n{stderr}", args.join(" "));
    Ok(Run { secs, peak_rss_mb: peak_kb as f64 / 1024.0, peak_anon_mb: anon_kb as f64 / 1024.0, stdout })
}

/// Writes the tenant's events as NDJSON into `trail ingest`'s standard input: the person's
/// events spread evenly among the others, over the last 300 days, the remarks among the others.
fn load(bin: &Path, data: &Path, args: &Args) -> anyhow::Result<()> {
    let mut child = Command::new(bin)
        .arg("--data")
        .arg(data)
        .args(["ingest", "--tenant", "big", "-"])
        .env("TRAIL_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = std::io::BufWriter::new(child.stdin.take().expect("piped"));
    let total = args.events + args.others;
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 300);
    let step_us = (300 * 24 * 3_600_000_000i64) / total.max(1) as i64;
    let every_remark = (args.others / args.remarks.max(1)).max(1);
    let (mut mine, mut others) = (0u64, 0u64);
    for i in 0..total {
        let at = start + jiff::SignedDuration::from_micros(step_us * i as i64);
        // The person's share of the events so far, kept exact: theirs while below it.
        let theirs = mine < args.events && (others >= args.others || mine * total < args.events * (i + 1));
        let event = if theirs {
            mine += 1;
            json!({
                "action": if mine % 10 == 0 { actions::AUTH_LOGIN_SUCCEEDED } else { "document.viewed" },
                "occurred_at": at.to_string(),
                "actor": {"id": "u_42", "name": "Asha Rao", "email": "asha.rao@acme.example"},
                "description": format!("Asha Rao opened document {mine}"),
                "targets": [{"type": "document", "id": format!("d_{}", mine % 5000)}],
                "context": {"ip": format!("198.51.{}.{}", mine % 200, mine % 250), "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
            })
        } else {
            others += 1;
            let who = others % 500;
            let description = if others % every_remark == 0 && others / every_remark <= args.remarks {
                format!("Shared the Q{} pack with Asha Rao", others % 4 + 1)
            } else {
                format!("Opened document {others}")
            };
            json!({
                "action": "document.viewed",
                "occurred_at": at.to_string(),
                "actor": {"id": format!("u_{}", 1000 + who), "name": format!("Person {who}"), "email": format!("p{who}@acme.example")},
                "description": description,
                "targets": [{"type": "document", "id": format!("d_{}", others % 5000)}],
                "context": {"ip": format!("203.0.{}.{}", who % 100, who % 250)}
            })
        };
        serde_json::to_writer(&mut stdin, &event)?;
        stdin.write_all(b"\n")?;
    }
    drop(stdin);
    let out = child.wait_with_output()?;
    anyhow::ensure!(out.status.success(), "trail ingest: {}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let bin = match &args.trail {
        Some(t) => t.clone(),
        None => std::env::current_exe()?.with_file_name("trail"),
    };
    anyhow::ensure!(bin.exists(), "{} is missing: run `cargo build --release` first", bin.display());
    let data = dir.join("trail");
    println!(
        "erasure benchmark: one person's {} events among {} others ({} of which name them)",
        fmt(args.events as f64),
        fmt(args.others as f64),
        fmt(args.remarks as f64)
    );
    trail(&bin, &data, &["init"])?;
    trail(&bin, &data, &["tenant", "create", "big"])?;
    let t = Instant::now();
    load(&bin, &data, &args)?;
    eprintln!("loaded {} events in {:.0}s", fmt((args.events + args.others) as f64), t.elapsed().as_secs_f64());

    // Baseline: the same person's events read once, through the same bounded readers.
    let out = dir.join("person.ndjson");
    let out_s = out.to_str().expect("a UTF-8 path");
    let export = trail(
        &bin,
        &data,
        &["export", "--tenant", "big", "--actor", "u_42", "--range", "all", "--format", "ndjson", "-o", out_s],
    )?;
    let exported = std::fs::read_to_string(&out)?.lines().count() as u64;
    std::fs::remove_file(&out)?;
    anyhow::ensure!(exported == args.events, "{exported} of the person's events exported, {} expected", args.events);
    eprintln!(
        "export of their events: {:.1}s, peak {:.0} MB ({:.0} MB its own)",
        export.secs, export.peak_rss_mb, export.peak_anon_mb
    );

    let erase = trail(&bin, &data, &["erase", "--tenant", "big", "--actor", "u_42"])?;
    eprintln!(
        "trail erase: {:.1}s, peak {:.0} MB ({:.0} MB its own): {}",
        erase.secs,
        erase.peak_rss_mb,
        erase.peak_anon_mb,
        erase.stdout.trim()
    );
    let erased = format!("from {} of their events and {} remarks", args.events, args.remarks);
    anyhow::ensure!(erase.stdout.contains(&erased), "expected {erased:?} in: {}", erase.stdout);

    let verify = trail(&bin, &data, &["verify"])?;
    anyhow::ensure!(verify.stdout.contains("everything verifies"), "trail verify: {}", verify.stdout);
    eprintln!(
        "trail verify afterwards: {:.1}s, peak {:.0} MB: {}",
        verify.secs,
        verify.peak_rss_mb,
        verify.stdout.lines().last().unwrap_or_default()
    );
    let person = fmt(args.events as f64);
    print(
        "Erasure: one person's events, end to end from the store",
        &[
            Row {
                name: format!("`trail erase`, {person} of their events, wall time"),
                value: erase.secs * 1000.0,
                unit: "ms",
                baseline: Some((
                    format!("`trail export --actor` of the same {person} events, ms"),
                    export.secs * 1000.0,
                )),
            },
            Row {
                name: "`trail erase`, events erased per second".into(),
                value: args.events as f64 / erase.secs,
                unit: "events/s",
                baseline: Some(("`trail export --actor`, rows/s".into(), args.events as f64 / export.secs)),
            },
            Row {
                name: "`trail erase`, peak resident (VmHWM)".into(),
                value: erase.peak_rss_mb,
                unit: "MB",
                baseline: Some(("`trail export --actor`, MB".into(), export.peak_rss_mb)),
            },
            Row {
                name: "`trail erase`, its own memory at the peak (RssAnon)".into(),
                value: erase.peak_anon_mb,
                unit: "MB",
                baseline: Some(("`trail export --actor`, MB".into(), export.peak_anon_mb)),
            },
            Row {
                name: "`trail verify` afterwards (passed), wall time".into(),
                value: verify.secs * 1000.0,
                unit: "ms",
                baseline: None,
            },
        ],
    );
    Ok(())
}
