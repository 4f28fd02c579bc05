use std::sync::Arc;

use trail_app::App;
use trail_core::event::Limits;
use trail_store::Store;

use crate::metrics::Metrics;

/// What the server needs to know beyond its store. Built by the binary from the config file.
#[derive(Clone)]
pub struct ServerConfig {
    /// Names this server in checkpoints' origin lines (`trail/{server_name}/{tenant}`).
    pub server_name: String,
    /// SHA-256 of the operator key. The key itself is never kept.
    pub operator_key_hash: [u8; 32],
    /// The plans a tenant may have, by name.
    pub plans: std::collections::BTreeMap<String, crate::plans::Plan>,
    /// The plan of a tenant created without one.
    pub default_plan: String,
    pub limits: Limits,
    /// The key checkpoints are signed with. Never printed.
    pub signing_key: Arc<ed25519_dalek::SigningKey>,
    /// The checkpoint journal (`checkpoints.log` beside the signing key): every checkpoint
    /// signed, outside the database, so a rewritten log is never signed (`integrity.rs`).
    /// `None` only in tests.
    pub checkpoint_journal: Option<std::path::PathBuf>,
    /// How much work the server takes on at once (`admission.rs`).
    pub admission: crate::admission::AdmissionLimits,
}

impl ServerConfig {
    /// The name checkpoints are signed under: `trail/{server_name}`.
    pub fn key_name(&self) -> String {
        format!("trail/{}", self.server_name)
    }

    /// The plan named `name`; a name no longer configured counts as the default plan.
    pub fn plan(&self, name: &str) -> &crate::plans::Plan {
        self.plans.get(name).or_else(|| self.plans.get(&self.default_plan)).unwrap_or_else(|| {
            self.plans.values().next().expect("a server has at least one plan (the config checks it)")
        })
    }

    /// The origin of a tenant's checkpoints: `trail/{server_name}/{tenant}`.
    pub fn origin(&self, tenant: &trail_core::TenantId) -> String {
        format!("trail/{}/{tenant}", self.server_name)
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("server_name", &self.server_name)
            .field("operator_key_hash", &"<redacted>")
            .field("plans", &self.plans.keys().collect::<Vec<_>>())
            .field("default_plan", &self.default_plan)
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
    /// When each person last had a view of the log recorded, so `trail.logs.viewed` is written
    /// once per person and view in a window, not once per page.
    pub viewed: Arc<crate::console::viewed::LastViewed>,
    /// Tenants whose trees the signer refuses to sign, and why (`integrity.rs`).
    pub refusals: Arc<crate::integrity::Refusals>,
    /// Live streams' hubs: one store read per append for every stream of a tenant (`tail.rs`).
    pub tails: Arc<crate::tail::Tails>,
    /// The admission gates (`admission.rs`).
    pub admission: Arc<crate::admission::Admission>,
    /// Failed console sign-ins held back from the log, so a spray cannot flood it.
    pub failed_sign_ins: Arc<crate::console::failed_sign_ins::FailedSignIns>,
}

impl AppState {
    /// A state with user-agent parsing and no GeoIP database (see [`AppState::with_enricher`]).
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> Self {
        Self::with_app(Arc::new(App::new(store)), config)
    }

    /// A state appending through `app` (the binary's, which the demo's history went through).
    pub fn with_app(app: Arc<App>, config: ServerConfig) -> Self {
        let metrics = Arc::new(Metrics::default());
        let tails = Arc::new(crate::tail::Tails::new(app.clone(), metrics.clone()));
        let admission = Arc::new(crate::admission::Admission::new(config.admission, config.limits.max_bytes));
        Self {
            store: app.store().clone(),
            app,
            config: Arc::new(config),
            metrics,
            throttle: Arc::default(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(4)),
            enricher: Arc::new(trail_enrich::Enricher::new(None)),
            viewed: Arc::default(),
            refusals: Arc::default(),
            tails,
            admission,
            failed_sign_ins: Arc::default(),
        }
    }
}

impl AppState {
    /// The same state with another enricher (a GeoIP database configured).
    pub fn with_enricher(mut self, enricher: Arc<trail_enrich::Enricher>) -> Self {
        self.enricher = enricher;
        self
    }
}
