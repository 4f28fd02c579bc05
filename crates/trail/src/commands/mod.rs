//! One module per command.

mod erase;
mod export;
mod ingest;
mod init;
mod key;
mod purge;
mod query;
mod serve;
mod tenant;
mod verify;

use std::process::ExitCode;

use anyhow::Context;
use trail_core::TenantId;
use trail_store::{Store, Tenant};

use crate::{
    cli::{Cli, Command},
    config::{Config, Secret},
};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(data) = cli.data {
        config.data = data;
    }
    if let Some(db) = cli.database {
        config.database = Some(Secret::new(db));
    }
    match cli.command {
        Command::Serve(args) => serve::run(config, args).await,
        Command::Init(args) => init::run(config, args).await,
        Command::Tenant(cmd) => tenant::run(config, cmd).await,
        Command::Key(cmd) => key::run(config, cmd).await,
        Command::Ingest(args) => ingest::run(config, args).await,
        Command::Query(args) => query::run(config, *args).await,
        Command::Export(args) => export::run(config, *args).await,
        Command::Verify(args) => verify::run(config, args).await,
        Command::Purge(args) => purge::run(config, args).await,
        Command::Erase(args) => erase::run(config, args).await,
    }
}

/// The tenant named on the command line, or an error saying how to see which exist.
pub async fn existing_tenant(store: &dyn Store, id: &str) -> anyhow::Result<Tenant> {
    let tid = TenantId::parse(id).map_err(anyhow::Error::msg)?;
    store
        .tenant(&tid)
        .await?
        .with_context(|| format!("there is no tenant {id:?}: `trail tenant list` shows the tenants"))
}

/// Signs the trees that grew (after `trail ingest` or `trail purge` appended to a log without a
/// server), as the server's signer would, with the same journal: a log is never left unsigned,
/// and never signed unless it extends what was signed before. A refusal is an error.
pub async fn sign_checkpoints(config: &Config, store: std::sync::Arc<dyn Store>) -> anyhow::Result<()> {
    let app = crate::open::app(config, store)?;
    let mut signer = trail_app::signer::Signer::new(app.config().checkpoint_journal.clone());
    signer.sign_grown(&app).await.context("cannot sign the new checkpoints")?;
    if let Some(why) = app.store().tenants().await?.iter().find_map(|t| app.refusals().get(&t.id)) {
        anyhow::bail!("refused to sign a checkpoint: {why}");
    }
    Ok(())
}

/// An application error as the CLI reports it: its message, except that what a server keeps
/// for its log (an internal error's cause, why the store is unavailable) is shown to the
/// operator here.
pub fn app_error(e: trail_app::AppError) -> anyhow::Error {
    match e {
        trail_app::AppError::Internal(cause) => anyhow::anyhow!("{cause}"),
        trail_app::AppError::Unavailable(why) => anyhow::anyhow!("store unavailable: {why}"),
        other => other.into(),
    }
}
