//! Counters for `GET /metrics`, in the Prometheus text format.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use std::{
    fmt::Write,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};

use crate::AppState;

#[derive(Default)]
pub struct Metrics {
    pub ingest_requests: AtomicU64,
    pub ingest_rejected: AtomicU64,
    pub events_stored: AtomicU64,
    pub events_duplicate: AtomicU64,
    pub query_requests: AtomicU64,
    pub server_errors: AtomicU64,
    /// Signing passes that refused a tenant's tree (`trail_app::signer`).
    pub checkpoint_refusals: AtomicU64,
    /// Store reads made for live streams (`tail.rs`), and the events they returned.
    pub stream_reads: AtomicU64,
    pub stream_events_read: AtomicU64,
}

/// Counts every 5xx answer, whatever the route (API, console, export, stream) and whatever made
/// it (a handler's error or an inner layer's answer): one layer over the whole
/// router, so no route can forget to count.
pub async fn count_server_errors(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    if resp.status().is_server_error() {
        Metrics::add(&s.metrics.server_errors, 1);
    }
    resp
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", v.load(Relaxed));
        };
        counter("trail_ingest_requests_total", "Event ingest requests received.", &self.ingest_requests);
        counter("trail_ingest_rejected_total", "Event ingest requests rejected (4xx or 5xx).", &self.ingest_rejected);
        counter("trail_events_stored_total", "Events durably stored.", &self.events_stored);
        counter("trail_events_duplicate_total", "Events recognised as resent duplicates.", &self.events_duplicate);
        counter("trail_query_requests_total", "Event queries answered.", &self.query_requests);
        counter("trail_server_errors_total", "Requests answered with a 5xx status.", &self.server_errors);
        counter(
            "trail_checkpoint_refusals_total",
            "Signing passes that refused a tree not extending the last one signed (see the error log).",
            &self.checkpoint_refusals,
        );
        counter("trail_stream_reads_total", "Store reads made for live streams.", &self.stream_reads);
        counter(
            "trail_stream_events_read_total",
            "Events read from the store for live streams.",
            &self.stream_events_read,
        );
        out
    }
}
