//! Admission control: how much work the server takes on at once, and what it answers beyond.
//!
//! Without bounds, 512 clients ingesting at once made every request wait (a query's p99 went
//! from 30 ms to 2.4 s) and 48 bodies of 15 MiB held 1.15 GB, and nobody was ever told to back
//! off. Every request now passes one of these gates before its handler runs:
//!
//! - **Ingest** (`POST /v1/tenants/{t}/events`): at most [`AdmissionLimits::ingest_requests`]
//!   requests at once (from reading the body until the writer has answered), taken at once or
//!   refused; and at most [`AdmissionLimits::ingest_body_bytes`] of bodies, reserved from the
//!   declared `Content-Length` before a byte is read (a body without one reserves the largest
//!   an ingest request may be), waited for briefly ([`WAIT`]) or refused. Validation, the CPU
//!   part of ingest, runs at most [`Admission::preparing`] requests at a time, so ingest leaves
//!   the runtime's threads room for reads.
//! - **Reads** (every other `GET`, the console's pages included): at most
//!   [`AdmissionLimits::read_requests`] at once, waited for briefly or refused. Reads have their
//!   own limit, so ingest at its limit never holds a query up in a queue.
//! - Health checks and `/metrics` are never refused; other writes (keys, members, sign-in)
//!   are rare and pass.
//!
//! A refusal is a `503` with `Retry-After` and the usual JSON error, code `overloaded`, sent
//! before the body is read: nothing of the request is stored, and resending it later is safe.
//! A live stream or an export holds its read slot only until its answer starts.

use std::{fmt::Write, sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::{Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

use crate::{AppState, error::ApiError};

/// How long a request waits for room before it is refused.
pub const WAIT: Duration = Duration::from_secs(1);

/// The server's bounds (the `max_*` keys of the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionLimits {
    /// Ingest requests in progress at once.
    pub ingest_requests: usize,
    /// Bytes of ingest request bodies held at once.
    pub ingest_body_bytes: usize,
    /// Read requests in progress at once.
    pub read_requests: usize,
}

impl Default for AdmissionLimits {
    fn default() -> Self {
        AdmissionLimits { ingest_requests: 256, ingest_body_bytes: 256 << 20, read_requests: 128 }
    }
}

/// The gates' semaphores, shared by every request.
pub struct Admission {
    limits: AdmissionLimits,
    /// The largest ingest body accepted (what a body without `Content-Length` reserves).
    max_body: usize,
    ingest: Arc<Semaphore>,
    body_bytes: Arc<Semaphore>,
    reads: Arc<Semaphore>,
    preparing: Semaphore,
    overloaded: std::sync::atomic::AtomicU64,
}

impl Admission {
    /// Gates with `limits`, for ingest bodies of at most `max_body` bytes.
    pub fn new(limits: AdmissionLimits, max_body: usize) -> Self {
        // One thread fewer than the machine has, so ingest's validation never takes every
        // thread of the runtime from the reads.
        let preparing = std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));
        Admission {
            limits,
            max_body,
            ingest: Arc::new(Semaphore::new(limits.ingest_requests)),
            body_bytes: Arc::new(Semaphore::new(limits.ingest_body_bytes)),
            reads: Arc::new(Semaphore::new(limits.read_requests)),
            preparing: Semaphore::new(preparing),
            overloaded: Default::default(),
        }
    }

    /// Waits for one of the slots for validating an ingest body (CPU work); hold it while
    /// validating, not while waiting for the writer.
    pub async fn preparing(&self) -> Option<SemaphorePermit<'_>> {
        self.preparing.acquire().await.ok()
    }

    /// The gates' gauges and refusals for `/metrics`, in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let l = &self.limits;
        let mut gauge = |name: &str, help: &str, v: usize| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(
            "trail_ingest_requests_in_progress",
            "Ingest requests admitted and not yet answered.",
            l.ingest_requests - self.ingest.available_permits(),
        );
        gauge(
            "trail_ingest_body_bytes_reserved",
            "Bytes of ingest bodies admitted and not yet answered.",
            l.ingest_body_bytes - self.body_bytes.available_permits(),
        );
        gauge(
            "trail_read_requests_in_progress",
            "Read requests admitted and not yet answered.",
            l.read_requests - self.reads.available_permits(),
        );
        let name = "trail_overloaded_total";
        let _ = writeln!(
            out,
            "# HELP {name} Requests refused with 503 overloaded.\n# TYPE {name} counter\n{name} {}",
            self.overloaded.load(std::sync::atomic::Ordering::Relaxed)
        );
    }

    fn refuse(&self, what: &str) -> Response {
        self.overloaded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(what, "request refused: overloaded");
        ApiError::overloaded(format!(
            "Trail is at its limit of {what}; nothing of this request was read or stored: retry after the Retry-After seconds"
        ))
        .into_response()
    }
}

enum Gate {
    Ingest,
    Read,
    Pass,
}

fn gate(req: &Request) -> Gate {
    let path = req.uri().path();
    let ingest =
        path.strip_prefix("/v1/tenants/").and_then(|rest| rest.split_once('/')).is_some_and(|(_, r)| r == "events");
    match *req.method() {
        Method::POST if ingest => Gate::Ingest,
        Method::GET | Method::HEAD if !matches!(path, "/healthz" | "/readyz" | "/metrics") => Gate::Read,
        _ => Gate::Pass,
    }
}

/// The middleware: admits the request through its gate, or answers `503 overloaded`.
pub async fn admit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let a = &s.admission;
    let _held: (Option<OwnedSemaphorePermit>, Option<OwnedSemaphorePermit>) = match gate(&req) {
        Gate::Pass => (None, None),
        Gate::Ingest => {
            let Ok(request) = a.ingest.clone().try_acquire_owned() else {
                return a.refuse(&format!("{} ingest requests at once", a.limits.ingest_requests));
            };
            // The handler answers 413 beyond `max_body`; reserving more would wait for nothing.
            let declared = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
                .unwrap_or(a.max_body);
            let reserve = declared.min(a.max_body).min(a.limits.ingest_body_bytes).min(u32::MAX as usize) as u32;
            match tokio::time::timeout(WAIT, a.body_bytes.clone().acquire_many_owned(reserve)).await {
                Ok(Ok(bytes)) => (Some(request), Some(bytes)),
                _ => {
                    return a.refuse(&format!("{} bytes of ingest bodies at once", a.limits.ingest_body_bytes));
                }
            }
        }
        Gate::Read => match tokio::time::timeout(WAIT, a.reads.clone().acquire_owned()).await {
            Ok(Ok(read)) => (Some(read), None),
            _ => return a.refuse(&format!("{} read requests at once", a.limits.read_requests)),
        },
    };
    next.run(req).await
}
