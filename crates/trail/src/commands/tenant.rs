//! `trail tenant create|list|show`.

use std::process::ExitCode;

use trail_app::tenants::{self, TenantRequest};

use super::existing_tenant;
use crate::{cli::TenantCommand, config::Config, open};

pub async fn run(config: Config, cmd: TenantCommand) -> anyhow::Result<ExitCode> {
    // Creating a tenant may create the data directory; listing and showing need one already.
    let store = match cmd {
        TenantCommand::Create { .. } => open::store(&config).await?,
        TenantCommand::List | TenantCommand::Show { .. } => open::existing_store(&config).await?,
    };
    match cmd {
        TenantCommand::Create { id, name, plan, time_zone } => {
            let (key, _) = open::signing_key(&config)?;
            let app_config = open::app_config(&config, key);
            let t = tenants::create_tenant(&*store, &app_config, TenantRequest { id, name, plan, time_zone }).await?;
            println!("{}", serde_json::to_string_pretty(&t)?);
        }
        TenantCommand::List => {
            let tenants = store.tenants().await?;
            if tenants.is_empty() {
                println!("No tenants yet: create one with `trail tenant create ID --name NAME`");
            }
            println!("{:<24} {:<14} {:<20} {:>10}  NAME", "ID", "PLAN", "TIME ZONE", "EVENTS");
            for t in tenants {
                println!("{:<24} {:<14} {:<20} {:>10}  {}", t.id, t.plan, t.time_zone, t.event_count, t.name);
            }
        }
        TenantCommand::Show { id } => {
            let t = existing_tenant(&*store, &id).await?;
            println!("{}", serde_json::to_string_pretty(&t)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
