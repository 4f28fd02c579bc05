//! From configuration to a running store and the application's settings (the server's own are
//! built by `commands/serve.rs`).

use std::sync::Arc;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use trail_app::{App, AppConfig};
use trail_core::event::Limits;
use trail_store::{Store, StoreLocation};
use trail_store_postgres::PgStore;
use trail_store_sqlite::{SqliteStore, StoreOptions};

use crate::config::Config;

/// Where the configured data lives.
pub fn location(config: &Config) -> anyhow::Result<StoreLocation> {
    match &config.database {
        Some(url) => StoreLocation::from_url(url.expose()).map_err(anyhow::Error::msg),
        None => Ok(StoreLocation::Sqlite(config.data.clone())),
    }
}

/// The ingest enricher: user-agent parsing, and GeoIP when a database is configured (a file
/// that cannot be read is an error now, not a silent lack of locations later).
pub fn enricher(config: &Config) -> anyhow::Result<Arc<trail_enrich::Enricher>> {
    let geoip = match &config.geoip_database {
        None => None,
        Some(path) => Some(trail_enrich::GeoIp::open(path).with_context(|| {
            format!("cannot use the GeoIP database {} (geoip_database, TRAIL_GEOIP_DATABASE)", path.display())
        })?),
    };
    Ok(Arc::new(trail_enrich::Enricher::new(geoip)))
}

/// Opens the configured store (the backend is chosen here, once), creating the data directory
/// if there is none: for the commands that make data (`init`, `serve`, `tenant create`).
pub async fn store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    open_store(config, StoreOptions::default()).await
}

/// Opens the configured store for a command that only reads or changes existing data: a data
/// directory that is not there is an error, not a new empty store (run in the wrong directory,
/// `trail tenant list` used to create `./trail-data` and answer "no tenants").
pub async fn existing_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    ensure_existing(config)?;
    open_store(config, StoreOptions::default()).await
}

/// Opens the existing store for one long scan (`trail export`): readers go through a bounded
/// page cache instead of mapping the file, so the process stays small however large the log.
pub async fn existing_store_for_scan(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    ensure_existing(config)?;
    open_store(config, StoreOptions { bounded_readers: true, ..StoreOptions::default() }).await
}

/// Fails unless the configured data directory holds a Trail store (a PostgreSQL database is
/// checked when it is connected to). Says which directory was looked at and how to make or
/// choose one.
pub fn ensure_existing(config: &Config) -> anyhow::Result<()> {
    let StoreLocation::Sqlite(dir) = location(config)? else {
        return Ok(());
    };
    let shown = shown_path(&dir);
    if !dir.exists() {
        anyhow::bail!(
            "no Trail data directory at {shown}: run `trail init` or `trail serve` first, or pass --data DIR \
             (or set TRAIL_DATA) to use an existing one"
        );
    }
    if !dir.join(trail_store_sqlite::DB_FILE).exists() {
        anyhow::bail!(
            "{shown} is not a Trail data directory (it has no {}): run `trail init --data {shown}` to make one \
             there, or pass --data DIR (or set TRAIL_DATA) to use an existing one",
            trail_store_sqlite::DB_FILE
        );
    }
    Ok(())
}

/// A path as a person would type it: a bare relative name gets `./`, so `trail-data` reads as
/// the directory here.
fn shown_path(p: &std::path::Path) -> String {
    let text = p.display().to_string();
    if p.is_relative() && !text.starts_with('.') { format!("./{text}") } else { text }
}

async fn open_store(config: &Config, options: StoreOptions) -> anyhow::Result<Arc<dyn Store>> {
    let location = location(config)?;
    match &location {
        StoreLocation::Sqlite(dir) => {
            let store = SqliteStore::open_with(dir, options)
                .with_context(|| format!("cannot open the data directory {}", dir.display()))?;
            Ok(Arc::new(store))
        }
        StoreLocation::Postgres(url) => Ok(Arc::new(postgres(url).await.with_context(|| {
            format!("cannot open the database ({}; --database, TRAIL_DATABASE)", location.describe())
        })?)),
    }
}

/// Connects to a PostgreSQL database and migrates it.
pub async fn postgres(url: &str) -> anyhow::Result<PgStore> {
    Ok(PgStore::connect(url).await?)
}

/// The application's settings from the configuration and the signing key.
pub fn app_config(config: &Config, signing_key: SigningKey) -> AppConfig {
    AppConfig {
        server_name: config.server_name.clone(),
        plans: config.plans.clone(),
        default_plan: config.default_plan.clone(),
        limits: Limits::default(),
        signing_key: Arc::new(signing_key),
        checkpoint_journal: Some(checkpoint_journal(config)),
    }
}

/// The application over `store`, configured (its signing key loaded, or created on first use,
/// as every command that appends does).
pub fn app(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<App> {
    let (signing_key, _) = signing_key(config)?;
    Ok(App::new(store, app_config(config, signing_key)))
}

/// The checkpoint journal: beside the signing key.
pub fn checkpoint_journal(config: &Config) -> std::path::PathBuf {
    trail_store::journal::path_beside(&crate::keyfile::path(config.signing_key.as_deref(), &config.data))
}

/// The signing key of the configured store (created on first use).
pub fn signing_key(config: &Config) -> anyhow::Result<(SigningKey, bool)> {
    crate::keyfile::load_or_create(&crate::keyfile::path(config.signing_key.as_deref(), &config.data))
}
