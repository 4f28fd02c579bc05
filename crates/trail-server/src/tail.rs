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
//! - **Input.** A hub wakes when the application's bus ([`trail_app::App::subscribe`])
//!   announces an append to its tenant: every append in this process goes through
//!   `App::append`, which publishes the notice after the commit, so a stream sees an event as
//!   soon as it is durable (one listener task per server routes notices to hubs). Appends by
//!   another process publish on that process's bus, not this one: the CLI's `trail ingest`
//!   beside a running server, or another server on the same PostgreSQL database. For those a
//!   hub also reads the log's tail every [`POLL`] (1 s) when nothing woke it, so their events
//!   reach streams within about a second. (PostgreSQL's LISTEN/NOTIFY would shorten that, at the
//!   cost of a connection held per server; the poll is one indexed read per second per tenant
//!   with streams open.) A notice that is lost (the listener lagged the bus) wakes every hub.
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
        Arc, Mutex, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use tokio::sync::{Notify, broadcast};
use trail_app::App;
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
    /// Whose bus announces this process's appends.
    app: Arc<App>,
    metrics: Arc<Metrics>,
    hubs: Mutex<HashMap<TenantId, Arc<Hub>>>,
    /// The task routing the bus's notices to hubs has been started (with the first hub).
    listening: AtomicBool,
    /// How often a hub reads the log's tail unwoken, in milliseconds ([`POLL`] unless set).
    poll_ms: AtomicU64,
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
    /// Hubs woken by `app`'s append notices.
    pub fn new(app: Arc<App>, metrics: Arc<Metrics>) -> Self {
        let store = app.store().clone();
        Self {
            store,
            app,
            metrics,
            hubs: Mutex::new(HashMap::new()),
            listening: AtomicBool::new(false),
            poll_ms: AtomicU64::new(POLL.as_millis() as u64),
        }
    }

    /// Hubs read the log's tail every `every` when nothing woke them, instead of [`POLL`]. Tests
    /// lengthen it so that only the bus's notices wake a hub.
    pub fn set_poll(&self, every: Duration) {
        self.poll_ms.store(every.as_millis().try_into().unwrap_or(u64::MAX), Relaxed);
    }

    /// Something was appended to `tenant`: its hub (if it has streams) reads it now.
    fn appended(&self, tenant: &TenantId) {
        if let Some(hub) = self.hubs.lock().expect("tails lock").get(tenant) {
            hub.wake.notify_one();
        }
    }

    /// Every hub reads now (notices were lost).
    fn wake_all(&self) {
        for hub in self.hubs.lock().expect("tails lock").values() {
            hub.wake.notify_one();
        }
    }

    /// Routes the bus's notices to hubs until the bus closes (the app is gone). Holds the
    /// tails weakly, so a stopped server's tails and app are freed.
    async fn listen(tails: Weak<Tails>, mut bus: broadcast::Receiver<trail_app::Appended>) {
        loop {
            let notice = bus.recv().await;
            let Some(tails) = tails.upgrade() else { return };
            match notice {
                Ok(n) => tails.appended(&n.tenant),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "live tails lagged the append bus; every hub reads");
                    tails.wake_all();
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
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
        if !self.listening.swap(true, Relaxed) {
            // Subscribed before any hub reads, so no notice after its first read is missed.
            tokio::spawn(Self::listen(Arc::downgrade(self), self.app.subscribe()));
        }
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
            // An append announced while this reads leaves a permit in `wake`, so it is not missed.
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
                _ = tokio::time::sleep(Duration::from_millis(self.poll_ms.load(Relaxed))) => {}
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
