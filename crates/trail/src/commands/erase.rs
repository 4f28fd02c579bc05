//! `trail erase`: one person's personal data erased from a tenant's log, as
//! `POST /v1/tenants/{t}/erasure` does (`trail_app::erasure`), with progress on standard error
//! and the same `trail.erasure.completed` event.

use std::{process::ExitCode, time::Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use trail_app::{
    AppError,
    erasure::{Progress, Step, Subject},
    own_events::Origin,
};

use super::existing_tenant;
use crate::{cli::EraseArgs, config::Config, open};

pub async fn run(config: Config, args: EraseArgs) -> anyhow::Result<ExitCode> {
    // One long scan of the person's events: readers through a bounded cache, so the process
    // stays small however many events they have.
    let store = open::existing_store_for_scan(&config).await?;
    let tenant = existing_tenant(&*store, &args.tenant).await?;
    let person = Subject::from_request(args.actor, args.email)
        .map_err(|_| anyhow::anyhow!("name the person with --actor ID or --email EMAIL (not empty)"))?;
    let app = open::app(&config, store.clone())?;
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let actor = json!({"id": "cli", "name": format!("trail erase ({user})"), "type": "system"});

    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}, {elapsed}").expect("template"));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let shown = std::sync::Mutex::new(Instant::now());
    let on_progress = |p: Progress| {
        // At most ten redraws a second: a page of 1,000 events takes milliseconds.
        let mut last = shown.lock().expect("progress");
        if last.elapsed().as_millis() < 100 && p.step != Step::Rollups {
            return;
        }
        *last = Instant::now();
        bar.set_message(match p.step {
            Step::Finding => format!("finding the person: {} events read", p.read),
            Step::Remarks => format!("erasing remarks that name them: {} erased", p.remarks),
            Step::Events => format!("erasing their events: {} erased, {} remarks", p.events, p.remarks),
            Step::Rollups => "erasing their report rows".to_owned(),
        });
        bar.tick();
    };
    let started = Instant::now();
    let result = trail_app::erasure::erase(&app, &tenant.id, &person, actor, &Origin::none(), &on_progress).await;
    bar.finish_and_clear();
    let done = match result {
        Ok(done) => done,
        Err(AppError::NotFound(_)) => anyhow::bail!(
            "no event of tenant {} has the actor id or e-mail {:?} (matched exactly as events carry it): nothing to erase",
            tenant.id,
            person.value()
        ),
        Err(e) => {
            // The CLI is where the cause is read: no server log to point to.
            let why = match e {
                AppError::Internal(cause) | AppError::Unavailable(cause) => cause,
                other => other.to_string(),
            };
            anyhow::bail!("the erasure stopped: {why}; run the same command again to finish it")
        }
    };
    println!(
        "{}: erased {} fields from {} of their events and {} remarks naming them, {} report rows; recorded as event {}",
        tenant.id, done.fields_erased, done.events, done.remarks, done.rollup_rows, done.recorded_seq
    );
    eprintln!("done in {:.1}s; actor ids found: {}", started.elapsed().as_secs_f64(), done.actor_ids.join(", "));
    // The erasure's own event grew the tree: sign it, as a server would.
    super::sign_checkpoints(&config, store)
        .await
        .context("the erasure is done, but the tree its own event grew was not signed")?;
    Ok(ExitCode::SUCCESS)
}
