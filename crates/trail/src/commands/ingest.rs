//! `trail ingest`: load events from files into a tenant, with a progress bar.
//!
//! Files are read twice: first every event of every file is validated, and only if all are
//! valid are they stored, so a typo on line 90,000 does not leave half a file behind. Standard
//! input cannot be read twice; there each batch is all or nothing and a bad event stops the load,
//! saying how many events were stored before it (resending them is safe when they carry ids).

use std::{
    fs::File,
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use serde_json::value::RawValue;
use trail_app::{
    App,
    ingest::{self, Preparer},
};
use trail_core::{TenantId, event::NewEvent, time::truncate_us};
use trail_store::PreparedEvent;

use super::existing_tenant;
use crate::{cli::IngestArgs, config::Config, open};

/// One raw event and where it came from (for error messages).
struct Raw {
    place: String,
    json: String,
    bytes: u64,
}

/// Calls `f` on every raw event of `path` (NDJSON, or one JSON array).
fn for_each_raw(path: &Path, mut f: impl FnMut(Raw) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let name = path.display().to_string();
    let mut reader: Box<dyn BufRead> = if name == "-" {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, File::open(path).with_context(|| format!("cannot open {name}"))?))
    };
    let first = reader.fill_buf()?.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first == Some(b'[') {
        let mut text = String::new();
        reader.read_to_string(&mut text).with_context(|| format!("cannot read {name}"))?;
        let raws: Vec<&RawValue> =
            serde_json::from_str(&text).with_context(|| format!("{name} is not a JSON array of events"))?;
        let per = text.len() as u64 / raws.len().max(1) as u64;
        for (i, r) in raws.into_iter().enumerate() {
            f(Raw { place: format!("{name}: events[{i}]"), json: r.get().to_owned(), bytes: per })?;
        }
        return Ok(());
    }
    let mut line = String::new();
    let mut line_no = 0;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).with_context(|| format!("cannot read {name}"))?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        f(Raw { place: format!("{name}:{line_no}"), json: trimmed.to_owned(), bytes: n as u64 })?;
    }
}

fn validate(raw: &Raw, now: Timestamp) -> anyhow::Result<NewEvent> {
    NewEvent::from_json(&raw.json, now).map_err(|e| {
        if e.field.is_empty() {
            anyhow::anyhow!("{}: {}", raw.place, e.message)
        } else {
            anyhow::anyhow!("{}: {} ({})", raw.place, e.message, e.field)
        }
    })
}

fn bar(total: Option<u64>, what: &str) -> ProgressBar {
    let pb = match total {
        Some(t) => ProgressBar::new(t).with_style(
            ProgressStyle::with_template("{msg:>10} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)")
                .expect("valid template")
                .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{msg:>10} {spinner} {bytes} ({bytes_per_sec})").expect("valid template"),
        ),
    };
    pb.set_message(what.to_owned());
    pb
}

struct Loader<'a> {
    app: &'a App,
    /// How the tenant's events are prepared, as the server's ingest prepares them.
    preparer: Preparer<'a>,
    tenant: TenantId,
    batch: Vec<PreparedEvent>,
    batch_size: usize,
    stored: u64,
    duplicates: u64,
    tree_size: u64,
}

impl Loader<'_> {
    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let r = ingest::append(self.app, &self.tenant, batch).await.map_err(super::app_error)?;
        self.duplicates += r.duplicates() as u64;
        self.stored += r.stored() as u64;
        self.tree_size = r.tree_size;
        Ok(())
    }

    async fn push(&mut self, e: NewEvent) -> anyhow::Result<()> {
        self.batch.push(self.preparer.prepare(e, truncate_us(Timestamp::now())));
        if self.batch.len() >= self.batch_size {
            self.flush().await?;
        }
        Ok(())
    }
}

pub async fn run(config: Config, args: IngestArgs) -> anyhow::Result<ExitCode> {
    let store = open::existing_store(&config).await?;
    let tenant = existing_tenant(&*store, &args.tenant).await?;
    let stdin = args.files.iter().any(|p| p.as_os_str() == "-");
    if stdin && args.files.len() > 1 {
        bail!("- (standard input) cannot be combined with files: load them in separate runs");
    }
    let total: Option<u64> = if stdin {
        None
    } else {
        let mut t = 0;
        for p in &args.files {
            t += std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?.len();
        }
        Some(t)
    };
    let started = Instant::now();
    if !stdin {
        let pb = bar(total, "checking");
        let now = Timestamp::now();
        let mut count = 0u64;
        for path in &args.files {
            for_each_raw(path, |raw| {
                validate(&raw, now)?;
                pb.inc(raw.bytes);
                count += 1;
                Ok(())
            })
            .inspect_err(|_| pb.abandon())?;
        }
        pb.finish_and_clear();
        if count == 0 {
            bail!("the files hold no events");
        }
    }
    let app = open::app(&config, store.clone())?.with_enricher(open::enricher(&config)?);
    let mut loader = Loader {
        app: &app,
        preparer: Preparer::new(app.enricher(), &tenant),
        tenant: tenant.id.clone(),
        batch: Vec::new(),
        batch_size: args.batch as usize,
        stored: 0,
        duplicates: 0,
        tree_size: tenant.event_count,
    };
    let pb = bar(total, "ingesting");
    let result = ingest_files(&args.files, &mut loader, &pb).await;
    let signed = super::sign_checkpoints(&config, store.clone()).await;
    if let Err(e) = result {
        pb.abandon();
        return Err(e.context(format!(
            "stopped; {} events were stored before this (resending them is safe when they carry ids)",
            loader.stored
        )));
    }
    pb.finish_and_clear();
    signed?;
    let secs = started.elapsed().as_secs_f64();
    let n = loader.stored + loader.duplicates;
    println!(
        "Stored {} events ({} duplicates skipped) into {} in {secs:.1}s ({:.0} events/s); its log now holds {} events",
        loader.stored,
        loader.duplicates,
        tenant.id,
        n as f64 / secs.max(1e-9),
        loader.tree_size
    );
    Ok(ExitCode::SUCCESS)
}

async fn ingest_files(files: &[PathBuf], loader: &mut Loader<'_>, pb: &ProgressBar) -> anyhow::Result<()> {
    for path in files {
        stream_file(path.clone(), loader, pb).await?;
    }
    Ok(())
}

async fn load_chunk(chunk: Vec<Raw>, loader: &mut Loader<'_>, pb: &ProgressBar) -> anyhow::Result<()> {
    let now = Timestamp::now();
    for raw in chunk {
        let e = validate(&raw, now)?;
        pb.inc(raw.bytes);
        loader.push(e).await?;
    }
    Ok(())
}

/// Reads `path` on a blocking thread and stores its events a batch at a time; memory stays
/// bounded by a few batches whatever the file's size.
async fn stream_file(path: PathBuf, loader: &mut Loader<'_>, pb: &ProgressBar) -> anyhow::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Raw>>(4);
    let size = loader.batch_size;
    let reader = tokio::task::spawn_blocking(move || {
        let mut pending = Vec::with_capacity(size);
        for_each_raw(&path, |raw| {
            pending.push(raw);
            if pending.len() >= size {
                tx.blocking_send(std::mem::take(&mut pending)).map_err(|_| anyhow::anyhow!("loader stopped"))?;
            }
            Ok(())
        })?;
        if !pending.is_empty() {
            let _ = tx.blocking_send(pending);
        }
        anyhow::Ok(())
    });
    while let Some(chunk) = rx.recv().await {
        load_chunk(chunk, loader, pb).await?;
    }
    loader.flush().await?;
    reader.await??;
    Ok(())
}
