//! Live tails: one store read per append, shared by every stream of a tenant.
//!
//! A live stream (`GET /v1/tenants/{t}/stream`) used to read the store itself on every
//! wake-up: 250 streams on one tenant made 250 reads of each append, each on a blocking thread
//! with its own SQLite connection. Now each tenant with at least one stream has one **hub**: a
//! task that, on each wake-up, reads what was appended after its cursor once and broadcasts the
//! batch (`Arc<[StoredEvent]>`) to every stream of that tenant. Each stream filters the batch
//! and clones (then redacts) only the events it shows, so the store's work is flat in the
//! number of streams.
//!
//! - **Input.** A hub wakes on [`Tails::appended`] (something was appended to its tenant), on
//!   the tenant-less `AppState::appended` notification that other writers still use, and every
//!   [`POLL`] for events written by another process. Rewiring the input (an append bus) only
//!   means calling [`Tails::appended`].
//! - **Nothing lost, nothing reordered.** Each subscriber keeps its own cursor (the last seq it
//!   delivered). A batch says which seq it was read after; a subscriber whose cursor is behind
//!   that (it joined while catching up, or it lagged and the channel dropped batches it had
//!   not taken) reads from the store from its own cursor until it has caught up, then takes
//!   the broadcast again, skipping what it already delivered. So a slow client costs reads only
//!   for itself, and resuming with `Last-Event-ID` is an ordinary catch-up.
//! - **Released when unused.** A hub's task ends, and its batches are freed, when its last
//!   subscriber leaves (the leaving subscriber wakes it).

use std::{
    collections::HashMap,
    fmt::Write,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use tokio::sync::{Notify, broadcast};
use trail_core::{TenantId, event::StoredEvent};
use trail_store::{Store, StoreError};

use crate::metrics::Metrics;

/// How often a hub looks for events written by another process (the CLI's `trail ingest`,
/// another server on the same PostgreSQL database) when nothing woke it.
pub const POLL: Duration = Duration::from_secs(1);
/// Events per store read.
const PAGE: usize = 500;
/// Batches a hub keeps for subscribers that have not taken them yet. A subscriber further
/// behind reads from the store instead (see the module's notes).
const BACKLOG: usize = 32;

/// The hubs of the tenants that have live streams.
pub struct Tails {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    /// Woken by writers that do not say which tenant they appended to.
    any: Arc<Notify>,
    hubs: Mutex<HashMap<TenantId, Arc<Hub>>>,
}

struct Hub {
    /// Something was appended to this tenant (a stored permit, so no wake-up is lost).
    wake: Notify,
    tx: broadcast::Sender<Batch>,
    /// The last seq the hub has read (and broadcast or is about to).
    cursor: AtomicU64,
}

/// Events read once and shared by every stream of the tenant.
#[derive(Clone)]
struct Batch {
    /// The seq the events were read after.
    after: u64,
    events: Arc<[StoredEvent]>,
}

/// Events for one subscriber: `events[from..]`, in seq order, none delivered before.
pub struct Chunk {
    events: Arc<[StoredEvent]>,
    from: usize,
}

impl Chunk {
    pub fn events(&self) -> &[StoredEvent] {
        &self.events[self.from..]
    }
}

impl Tails {
    /// `any` is the tenant-less "something was appended" notification.
    pub fn new(store: Arc<dyn Store>, metrics: Arc<Metrics>, any: Arc<Notify>) -> Self {
        Self { store, metrics, any, hubs: Mutex::new(HashMap::new()) }
    }

    /// Something was appended to `tenant`: its hub (if it has streams) reads it now.
    pub fn appended(&self, tenant: &TenantId) {
        if let Some(hub) = self.hubs.lock().expect("tails lock").get(tenant) {
            hub.wake.notify_one();
        }
    }

    /// How many tenants have a hub (streams open).
    pub fn hubs(&self) -> usize {
        self.hubs.lock().expect("tails lock").len()
    }

    /// The hubs' gauge for `/metrics`, in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let name = "trail_stream_tenants";
        let help = "Tenants with live streams open (each has one reader of its new events).";
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}", self.hubs());
    }

    /// Follows `tenant` from after seq `after`. `head` is the tenant's last seq as the caller
    /// read it; a new hub starts there, so it never reads history for a resuming subscriber.
    pub fn subscribe(self: &Arc<Self>, tenant: &TenantId, after: u64, head: u64) -> Subscription {
        let mut hubs = self.hubs.lock().expect("tails lock");
        let hub = match hubs.get(tenant) {
            Some(hub) => hub.clone(),
            None => {
                let hub = Arc::new(Hub {
                    wake: Notify::new(),
                    tx: broadcast::channel(BACKLOG).0,
                    cursor: AtomicU64::new(head),
                });
                hubs.insert(tenant.clone(), hub.clone());
                tokio::spawn(self.clone().run(tenant.clone(), hub.clone()));
                tracing::debug!(tenant = %tenant, "tail hub started");
                hub
            }
        };
        let rx = hub.tx.subscribe();
        // Batches sent from now on reach `rx`; what the hub read before, the store still has.
        let behind = after < hub.cursor.load(Relaxed);
        Subscription { tails: self.clone(), tenant: tenant.clone(), hub, rx: Some(rx), after, behind }
    }

    /// Removes `hub` if no one listens any more; whether it did (the hub's task then ends).
    /// Under the same lock as [`Tails::subscribe`], so no subscriber joins a hub that ends.
    fn retire(&self, tenant: &TenantId, hub: &Arc<Hub>) -> bool {
        let mut hubs = self.hubs.lock().expect("tails lock");
        if hub.tx.receiver_count() > 0 {
            return false;
        }
        if hubs.get(tenant).is_some_and(|h| Arc::ptr_eq(h, hub)) {
            hubs.remove(tenant);
        }
        true
    }

    async fn read(&self, tenant: &TenantId, after: u64) -> Result<Vec<StoredEvent>, StoreError> {
        let events = self.store.events_after(tenant, after, PAGE).await?;
        Metrics::add(&self.metrics.stream_reads, 1);
        Metrics::add(&self.metrics.stream_events_read, events.len() as u64);
        Ok(events)
    }

    /// A hub's task: read once per wake-up, broadcast, until no one listens.
    async fn run(self: Arc<Self>, tenant: TenantId, hub: Arc<Hub>) {
        let mut after = hub.cursor.load(Relaxed);
        loop {
            // Register for the tenant-less wake-up before reading, so an append in between
            // is not missed (the tenant's own `wake` keeps a permit by itself).
            let any = self.any.clone();
            let any = any.notified();
            tokio::pin!(any);
            any.as_mut().enable();
            if self.retire(&tenant, &hub) {
                tracing::debug!(tenant = %tenant, "tail hub ended: no streams left");
                return;
            }
            match self.read(&tenant, after).await {
                Ok(events) => {
                    if let Some(last) = events.last().map(|e| e.seq) {
                        let full = events.len() == PAGE;
                        let batch = Batch { after, events: events.into() };
                        after = last;
                        hub.cursor.store(after, Relaxed);
                        // No receiver is not an error: the next turn retires the hub.
                        let _ = hub.tx.send(batch);
                        if full {
                            continue;
                        }
                    }
                }
                Err(e) => tracing::warn!(tenant = %tenant, error = %e, "tail hub cannot read new events; retrying"),
            }
            tokio::select! {
                _ = hub.wake.notified() => {}
                _ = &mut any => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// One stream's place in its tenant's events.
pub struct Subscription {
    tails: Arc<Tails>,
    tenant: TenantId,
    hub: Arc<Hub>,
    /// Taken on drop, so the hub sees the receiver gone when woken.
    rx: Option<broadcast::Receiver<Batch>>,
    /// The last seq delivered.
    after: u64,
    /// Reading from the store from `after` until caught up (joined late, or lagged).
    behind: bool,
}

impl Subscription {
    /// The next events after the last ones delivered, in seq order (never an empty chunk).
    /// Cancel-safe: dropping the future loses nothing not yet returned.
    pub async fn next(&mut self) -> Result<Chunk, StoreError> {
        loop {
            if self.behind {
                let events = self.tails.read(&self.tenant, self.after).await?;
                if events.len() < PAGE {
                    self.behind = false;
                }
                if let Some(last) = events.last() {
                    self.after = last.seq;
                    return Ok(Chunk { events: events.into(), from: 0 });
                }
                continue;
            }
            let rx = self.rx.as_mut().expect("taken only on drop");
            match rx.recv().await {
                Ok(batch) if batch.after > self.after => {
                    // Batches were missed (sent before this subscriber caught up): read them.
                    self.behind = true;
                }
                Ok(batch) => {
                    let from = batch.events.partition_point(|e| e.seq <= self.after);
                    if let Some(last) = batch.events.last().filter(|_| from < batch.events.len()) {
                        self.after = last.seq;
                        return Ok(Chunk { events: batch.events, from });
                    }
                }
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    tracing::debug!(tenant = %self.tenant, skipped, "slow stream reads from the store");
                    self.behind = true;
                }
                Err(broadcast::error::RecvError::Closed) => {
                    return Err(StoreError::Unavailable("the live stream's reader stopped".into()));
                }
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.rx.take());
        // The last one out wakes the hub, which then ends.
        if self.hub.tx.receiver_count() == 0 {
            self.hub.wake.notify_one();
        }
    }
}
