//! `trail export`: a tenant's filtered events into a file, with a progress bar, recorded as a
//! `trail.logs.exported` event like any export.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::PathBuf,
    process::ExitCode,
    time::Instant,
};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use serde_json::json;
use trail_app::{
    export::{ExportPlan, link_key},
    own_events::Origin,
    redact::Redaction,
};
use trail_core::{filter::parse_params, time::time_zone};
use trail_export::{Format, views::ViewKind};

use super::existing_tenant;
use crate::{cli::ExportArgs, config::Config, keyfile, open};

pub async fn run(config: Config, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = open::existing_store_for_scan(&config).await?;
    let tenant = existing_tenant(&*store, &args.tenant).await?;
    let tz = time_zone(&tenant.time_zone).map_err(anyhow::Error::msg)?;
    let format = match (&args.format, &args.output) {
        (Some(f), _) => Format::parse(f).map_err(|m| anyhow::anyhow!("--format: {m}"))?,
        (None, Some(path)) => match path.extension().and_then(|e| e.to_str()).map(Format::parse) {
            Some(Ok(f)) => f,
            _ => bail!("give --format csv|xlsx|pdf|docx|ndjson (the file name's extension does not say which)"),
        },
        (None, None) => bail!("give --format csv|xlsx|pdf|docx|ndjson, or -o FILE with one of those extensions"),
    };
    let kind = ViewKind::parse(&args.view).map_err(|m| anyhow::anyhow!("--view: {m}"))?;
    let pairs = args.filters.pairs();
    let (mut filter, _) = parse_params(pairs.iter().map(|(k, v)| (*k, v.as_str())), &tz, Timestamp::now(), &[])
        .map_err(|e| anyhow::anyhow!("--{}: {}", e.param, e.message))?;
    // One person by id or any e-mail linked to it, as the server finds them.
    trail_app::identity::resolve(&*store, &tenant.id, &mut filter).await?;
    // Only the link access log uses the key (its session ids are keyed by it).
    let key = if kind == ViewKind::LinkAccess {
        let signing = keyfile::load(&keyfile::path(config.signing_key.as_deref(), &config.data))
            .context("the link access log's session ids are keyed by the server's signing key")?;
        link_key(&signing)
    } else {
        [0; 32]
    };
    let given = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    // The operator's tool follows the tenant's plan for link access detail, as every export does.
    let redaction = Redaction {
        mask_phones: !args.unmask_phones,
        hide_link_detail: config.plans.get(&tenant.plan).is_some_and(|p| !p.link_detail),
    };
    let plan = ExportPlan::new(tenant, tz, filter, format, kind, given, key, redaction);

    let path = args.output.clone().unwrap_or_else(|| PathBuf::from(&plan.file_name));
    let to_stdout = path.as_os_str() == "-";
    // Written to a temporary name and renamed at the end, so a failed export leaves no half file.
    let partial = path.with_extension(format!("{}.partial", format.extension()));
    let out: Box<dyn Write + Send> = if to_stdout {
        Box::new(std::io::stdout())
    } else {
        Box::new(BufWriter::new(
            File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?,
        ))
    };
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {human_pos} rows exported ({per_sec}), {elapsed}").expect("template"),
    );
    if to_stdout {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = Instant::now();
    let handle = tokio::runtime::Handle::current();
    let (plan, store, result) = {
        let store = store.clone();
        let bar = bar.clone();
        tokio::task::spawn_blocking(move || {
            // Counts arrive a row at a time (XLSX, PDF, DOCX) or a few dozen at a time (CSV and
            // NDJSON, rendered by the store): the bar moves every thousand rows either way.
            let mut shown = 0;
            let result = plan.run(handle, store.clone(), out, |n| {
                if n >= shown + 1000 {
                    bar.set_position(n);
                    shown = n;
                }
            });
            (plan, store, result)
        })
        .await?
    };
    bar.finish_and_clear();
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let actor = json!({"id": "cli", "name": format!("trail export ({user})"), "type": "system"});
    match result {
        Ok(rows) => {
            if !to_stdout {
                std::fs::rename(&partial, &path).with_context(|| format!("cannot rename to {}", path.display()))?;
            }
            let seq = plan.record(&open::app(&config, store)?, &Origin::none(), actor, rows, true).await?;
            let secs = started.elapsed().as_secs_f64();
            if !to_stdout {
                eprintln!(
                    "{rows} rows written to {} in {secs:.1}s ({:.0} rows/s); recorded as event {seq}",
                    path.display(),
                    rows as f64 / secs.max(1e-9)
                );
                if rows == 0 {
                    eprintln!("No events matched: widen the range (--range all) or remove a filter");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if !to_stdout {
                let _ = std::fs::remove_file(&partial);
            }
            plan.record(&open::app(&config, store)?, &Origin::none(), actor, 0, false).await?;
            Err(anyhow::Error::new(e).context("the export failed; no file was written"))
        }
    }
}
