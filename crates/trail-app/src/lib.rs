//! Trail's application layer: what the HTTP server and the CLI do with a store, in one place.
//!
//! Every domain operation lives here (ingest, queries and views, reports, export planning,
//! erasure, retention, tenants, keys, members, viewer tokens, Trail's own `trail.*` events), and
//! fails with [`AppError`], which says what went wrong in the domain's words: `trail-server`
//! maps it to HTTP in one place, the CLI prints it. This crate knows nothing of HTTP.
//!
//! The modules are declared here once, some still empty while their code moves in from
//! `trail-server`.
//!
//! The append path comes first. [`App::append`] is the only way an event enters a
//! log: the API's ingest, `trail ingest`, the demo's history and Trail's own `trail.*` events
//! (exports, retention, erasure, sign-ins, keys...) all call it. After the store's durable
//! commit it publishes one [`Appended`] notice on an in-process bus ([`App::subscribe`]);
//! whatever reacts to new events (the live tail today; streams and alert rules later)
//! subscribes there instead of being woken by hand at each place that appends. A test in
//! this crate (`tests/one_append_path.rs`) fails if any other crate calls `Store::append`.
//!
//! The bus only covers this process. Appends by another process (the CLI's `trail ingest`
//! beside a running server, another server on the same PostgreSQL database) publish on that
//! process's bus; a subscriber that must see them also polls the log's tail (the live tail does,
//! every second).

pub mod access;
mod bus;
pub mod config;
pub mod error;

pub mod erasure;
pub mod export;
pub mod identity;
pub mod ingest;
pub mod keys;
pub mod members;
pub mod own_events;
pub mod plans;
pub mod queries;
pub mod redact;
pub mod reports;
pub mod retention;
pub mod secrets;
pub mod sign_in;
pub mod signer;
pub mod tenants;
pub mod timeline;
pub mod tree;
pub mod viewed;
pub mod viewer;
pub mod views;

use std::sync::Arc;

use tokio::sync::broadcast;
use trail_core::TenantId;
use trail_enrich::Enricher;
use trail_store::{AppendReceipt, PreparedEvent, Store, StoreResult};

pub use bus::{Appended, BUS_CAPACITY};
pub use config::AppConfig;
pub use error::{AppError, AppResult, Invalid};

/// The application: the store, its configuration, and the bus every append is announced on.
/// Cheap to share (`Arc<App>`); one per process.
pub struct App {
    store: Arc<dyn Store>,
    config: AppConfig,
    /// GeoIP and user-agent enrichment of ingested events (docs/events.md).
    enricher: Arc<Enricher>,
    bus: broadcast::Sender<Appended>,
    /// When each person last had a view of the log recorded, so `trail.logs.viewed` is written
    /// once per person and view in a window, not once per page.
    viewed: viewed::LastViewed,
    /// Failed console sign-ins held back from the log, so a spray cannot flood it.
    failed_sign_ins: Arc<sign_in::FailedSignIns>,
    /// Tenants whose trees the signer refuses to sign, and why (`signer.rs`).
    refusals: Arc<signer::Refusals>,
}

impl App {
    /// An application over `store`, enriching with user-agent parsing and no GeoIP database
    /// (see [`App::with_enricher`]). The parser is built when first used: a command that never
    /// parses a user agent does not hold its 60 MB (a server passes an enricher built up front).
    pub fn new(store: Arc<dyn Store>, config: AppConfig) -> App {
        App {
            store,
            config,
            enricher: Arc::new(Enricher::lazy(None)),
            bus: broadcast::channel(BUS_CAPACITY).0,
            viewed: Default::default(),
            failed_sign_ins: Default::default(),
            refusals: Default::default(),
        }
    }

    /// The same application with another enricher (a GeoIP database configured).
    pub fn with_enricher(mut self, enricher: Arc<Enricher>) -> App {
        self.enricher = enricher;
        self
    }

    /// The store, for everything but appending (reads, accounts, maintenance).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    pub fn enricher(&self) -> &Arc<Enricher> {
        &self.enricher
    }

    /// Failed console sign-ins held back from the log ([`sign_in::FailedSignIns::record`]).
    pub fn failed_sign_ins(&self) -> &Arc<sign_in::FailedSignIns> {
        &self.failed_sign_ins
    }

    /// Tenants whose trees the signer ([`signer::run_signer`]) refuses to sign now, and why.
    pub fn refusals(&self) -> &Arc<signer::Refusals> {
        &self.refusals
    }

    /// Appends `events` to `tenant`'s log (all or nothing, as [`Store::append`]) and, once the
    /// store has committed them durably, publishes one [`Appended`] notice covering the new
    /// events of the batch.
    ///
    /// A batch made only of duplicates (every event's `id` seen before) appends nothing and
    /// publishes nothing; nor does a failed append. The notice is sent after the commit, so a
    /// subscriber that reads the log on receiving it finds the events there.
    pub async fn append(&self, tenant: &TenantId, events: Vec<PreparedEvent>) -> StoreResult<AppendReceipt> {
        bus::append(&*self.store, &self.bus, tenant, events).await
    }

    /// A receiver of every notice published from now on (see [`Appended`] for how to treat
    /// one, and a lagging receiver's `Lagged` error).
    pub fn subscribe(&self) -> broadcast::Receiver<Appended> {
        self.bus.subscribe()
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("subscribers", &self.bus.receiver_count()).finish_non_exhaustive()
    }
}
