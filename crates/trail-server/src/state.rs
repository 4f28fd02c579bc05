use std::sync::Arc;

use trail_app::{App, AppConfig};
use trail_store::Store;

use crate::metrics::Metrics;

/// What the server needs to know beyond its store: the application's configuration, and what
/// only an HTTP server has (the operator key's hash, admission limits). Built by the binary
/// from the config file. Derefs to [`AppConfig`], so `config.plans` and `config.plan(..)` read
/// the application's settings.
#[derive(Clone)]
pub struct ServerConfig {
    pub app: AppConfig,
    /// SHA-256 of the operator key. The key itself is never kept.
    pub operator_key_hash: [u8; 32],
    /// How much work the server takes on at once (`admission.rs`).
    pub admission: crate::admission::AdmissionLimits,
}

impl std::ops::Deref for ServerConfig {
    type Target = AppConfig;

    fn deref(&self) -> &AppConfig {
        &self.app
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("app", &self.app)
            .field("operator_key_hash", &"<redacted>")
            .field("admission", &self.admission)
            .finish()
    }
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    /// The store, for reads and accounts: events are appended through `app`.
    pub store: Arc<dyn Store>,
    /// The one append path, and the bus every append is announced on (live streams listen).
    pub app: Arc<App>,
    pub config: Arc<ServerConfig>,
    pub metrics: Arc<Metrics>,
    /// Failed console sign-ins, to slow down password guessing.
    pub throttle: Arc<crate::console::throttle::Throttle>,
    /// Password checks (argon2) running at once, at most.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// GeoIP and user-agent enrichment at ingest (docs/events.md).
    pub enricher: Arc<trail_enrich::Enricher>,
    /// Tenants whose trees the signer refuses to sign, and why: the app's
    /// (`trail_app::signer`), the same set [`App::refusals`] holds.
    pub refusals: Arc<trail_app::signer::Refusals>,
    /// Live streams' hubs: one store read per append for every stream of a tenant (`tail.rs`).
    pub tails: Arc<crate::tail::Tails>,
    /// The admission gates (`admission.rs`).
    pub admission: Arc<crate::admission::Admission>,
}

impl AppState {
    /// A state with user-agent parsing and no GeoIP database (see [`AppState::with_enricher`]).
    /// The user-agent parser is built now, not at the first request (as `App::new` would,
    /// for the CLI's sake): a server parses user agents from its first ingest on, which should
    /// not wait the 100-150 ms that takes.
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> Self {
        let enricher = Arc::new(trail_enrich::Enricher::new(None));
        Self::with_app(Arc::new(App::new(store, config.app.clone()).with_enricher(enricher)), config)
    }

    /// A state appending through `app` (the binary's, which the demo's history went through),
    /// enriching with `app`'s enricher.
    pub fn with_app(app: Arc<App>, config: ServerConfig) -> Self {
        let metrics = Arc::new(Metrics::default());
        let tails = Arc::new(crate::tail::Tails::new(app.clone(), metrics.clone()));
        let admission = Arc::new(crate::admission::Admission::new(config.admission, config.limits.max_bytes));
        let refusals = app.refusals().clone();
        Self {
            store: app.store().clone(),
            enricher: app.enricher().clone(),
            app,
            config: Arc::new(config),
            metrics,
            throttle: Arc::default(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(4)),
            refusals,
            tails,
            admission,
        }
    }
}

impl AppState {
    /// The same state with another enricher (a GeoIP database configured). Only the server's
    /// copy changes: an `App` already shared keeps its own; to have both, build the `App` with
    /// `App::with_enricher` and pass it to [`AppState::with_app`].
    pub fn with_enricher(mut self, enricher: Arc<trail_enrich::Enricher>) -> Self {
        self.enricher = enricher;
        self
    }
}
