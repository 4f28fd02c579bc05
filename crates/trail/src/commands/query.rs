//! `trail query`: a table on a terminal, JSON lines when piped.

use std::{
    io::{IsTerminal, Write},
    process::ExitCode,
};

use jiff::tz::TimeZone;
use trail_app::{
    AppError,
    queries::{self, Reader},
};
use trail_core::{event::StoredEvent, filter::Cursor, time::time_zone};

use super::existing_tenant;
use crate::{cli::QueryArgs, config::Config, open};

pub async fn run(config: Config, args: QueryArgs) -> anyhow::Result<ExitCode> {
    let store = open::existing_store(&config).await?;
    let tenant = existing_tenant(&*store, &args.tenant).await?;
    let tz = time_zone(&tenant.time_zone).map_err(anyhow::Error::msg)?;
    let mut pairs = args.filters.pairs();
    pairs.push(("limit", args.limit.to_string()));
    if let Some(c) = &args.cursor {
        pairs.push(("cursor", c.clone()));
    }
    // The operator's tool: every event whole, and one person by id or any e-mail linked to
    // it, as the server finds them.
    let params = pairs.iter().map(|(k, v)| (*k, v.as_str()));
    let (filter, mut page) =
        queries::filter(&*store, &tenant.id, &tz, params, &[], &Reader::whole()).await.map_err(|e| match e {
            AppError::Invalid { message, field: Some(param), .. } => anyhow::anyhow!("--{param}: {message}"),
            other => super::app_error(other),
        })?;
    let table = !args.json && std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    let mut shown = 0usize;
    if table {
        writeln!(
            out,
            "{:>8}  {:<26}  {:<28}  {:<24}  {:<7}  REMARKS",
            "SEQ", "DATE", "USER", "REPORT TYPE", "OUTCOME"
        )?;
    }
    let last_cursor: Option<Cursor> = loop {
        let result = queries::page(&*store, &tenant.id, &filter, page).await.map_err(super::app_error)?;
        for e in &result.events {
            if table {
                writeln!(out, "{}", row(e, &tz))?;
            } else {
                serde_json::to_writer(&mut out, e)?;
                out.write_all(b"\n")?;
            }
        }
        shown += result.events.len();
        match result.next_cursor {
            Some(c) if args.all => page.cursor = Some(c),
            other => break other,
        }
    };
    if table {
        if shown == 0 {
            writeln!(out, "No events match: widen the range (--range all) or remove a filter")?;
        } else if let Some(c) = last_cursor {
            writeln!(out, "{shown} shown; more with --cursor {} (or --all)", c.encode())?;
        } else {
            writeln!(out, "{shown} shown")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cut(s: &str, width: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= width { s } else { s.chars().take(width - 1).chain(['…']).collect() }
}

fn row(e: &StoredEvent, tz: &TimeZone) -> String {
    let b = &e.body;
    let when = b.occurred_at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S %:z").to_string();
    let user = b
        .actor
        .as_ref()
        .and_then(|a| a.name.clone().or_else(|| a.email.clone()).or_else(|| a.id.clone()))
        .unwrap_or_default();
    format!(
        "{:>8}  {:<26}  {:<28}  {:<24}  {:<7}  {}",
        e.seq,
        when,
        cut(&user, 28),
        cut(&b.report_type, 24),
        b.outcome.as_str(),
        cut(b.description.as_deref().unwrap_or(""), 60)
    )
}
