//! `trail init`.

use std::process::ExitCode;

use trail_app::keys::{OperatorKey, operator_key};

use crate::{cli::InitArgs, config::Config, open};

pub async fn run(config: Config, args: InitArgs) -> anyhow::Result<ExitCode> {
    let location = open::location(&config)?;
    let store = open::store(&config).await?;
    println!("Store ready: {}", location.describe());
    let key_path = crate::keyfile::path(config.signing_key.as_deref(), &config.data);
    let (_, created) = crate::keyfile::load_or_create(&key_path)?;
    println!(
        "Checkpoint signing key: {} ({})",
        key_path.display(),
        if created { "created, readable only by you" } else { "already present" }
    );
    if config.operator_key.is_some() {
        println!("Operator key: configured (TRAIL_OPERATOR_KEY or operator_key); nothing generated");
        return Ok(ExitCode::SUCCESS);
    }
    match operator_key(&*store, None, args.new_operator_key).await? {
        OperatorKey::Generated { token, .. } => {
            println!("Operator key (shown only now; keep it safe): {token}");
        }
        _ => println!("Operator key: already created (lost it? run `trail init --new-operator-key`)"),
    }
    Ok(ExitCode::SUCCESS)
}
