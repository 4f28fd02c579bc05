//! `trail key create|list|revoke`.

use std::process::ExitCode;

use trail_app::{access::Principal, keys, own_events::Origin};
use trail_core::ids::Scope;

use super::existing_tenant;
use crate::{cli::KeyCommand, config::Config, open};

pub async fn run(config: Config, cmd: KeyCommand) -> anyhow::Result<ExitCode> {
    let store = open::existing_store(&config).await?;
    let app = open::app(&config, store.clone())?;
    match cmd {
        KeyCommand::Create { tenant, name, scopes } => {
            let t = existing_tenant(&*store, &tenant).await?;
            let scopes = scopes.iter().map(|s| Scope::parse(s)).collect::<Result<Vec<_>, _>>()?;
            let (key, token) =
                keys::issue_api_key(&app, &Origin::none(), Principal::Operator.actor(), &t.id, name, scopes).await?;
            let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
            println!("Created key {} ({}) with scopes {}", key.id, key.name, scopes.join(", "));
            println!("Token (shown only now; keep it safe): {token}");
        }
        KeyCommand::List { tenant } => {
            let t = existing_tenant(&*store, &tenant).await?;
            let keys = store.api_keys(&t.id).await?;
            if keys.is_empty() {
                println!(
                    "Tenant {} has no keys: create one with `trail key create --tenant {} --name NAME --scope ingest`",
                    t.id, t.id
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:<22} {:<20} {:<20} {:<26} STATUS", "ID", "NAME", "SCOPES", "CREATED");
            for k in keys {
                let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
                let status = match k.revoked_at {
                    Some(at) => format!("revoked {}", trail_core::time::format_rfc3339(at)),
                    None => "active".into(),
                };
                println!(
                    "{:<22} {:<20} {:<20} {:<26} {status}",
                    k.id,
                    k.name,
                    scopes.join(","),
                    trail_core::time::format_rfc3339(k.created_at)
                );
            }
        }
        KeyCommand::Revoke { tenant, key_id } => {
            let t = existing_tenant(&*store, &tenant).await?;
            let k = keys::revoke_api_key(&app, &Origin::none(), Principal::Operator.actor(), &t.id, &key_id).await?;
            println!("Revoked key {} ({})", k.id, k.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
