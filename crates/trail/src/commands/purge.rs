//! `trail purge`: retention now, what `trail serve` does in the background.

use std::process::ExitCode;

use jiff::Timestamp;
use trail_app::retention;

use super::existing_tenant;
use crate::{cli::PurgeArgs, config::Config, open};

pub async fn run(config: Config, args: PurgeArgs) -> anyhow::Result<ExitCode> {
    let store = open::existing_store(&config).await?;
    let app = open::app(&config, store.clone())?;
    let now = Timestamp::now();
    let results = match &args.tenant {
        Some(id) => {
            let t = existing_tenant(&*store, id).await?;
            let r = retention::purge_tenant(&app, app.config(), &t, now).await;
            vec![(t, r)]
        }
        None => retention::purge_all(&app, app.config(), now).await,
    };
    let mut failed = false;
    for (t, r) in results {
        let keeps = app.config().plan(&t.plan).retention_days.map_or("forever".to_owned(), |d| format!("{d} days"));
        match r {
            Ok(r) => println!(
                "{}: plan {} (keeps {keeps}): removed {} expired events and {} link access events",
                t.id, t.plan, r.expired, r.link_access
            ),
            Err(e) => {
                failed = true;
                eprintln!("{}: the purge failed: {e}", t.id);
            }
        }
    }
    super::sign_checkpoints(&config, store).await?;
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
