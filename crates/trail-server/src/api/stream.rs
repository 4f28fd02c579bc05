//! `GET /v1/tenants/{t}/stream`: a live tail of new events as Server-Sent Events.
//!
//! The stream follows seq (the order Trail accepted events), so it can resume exactly: each
//! event's SSE `id` is its seq, and a client that reconnects with `Last-Event-ID` (which
//! browsers' `EventSource` sends by itself) receives every matching event after that seq.
//! Without it the stream starts after the newest event (or after `after=SEQ`). Filters are those
//! of the query; the time range applies only when given (`range`, `from`, `to`).

use std::{collections::VecDeque, convert::Infallible, time::Duration};

use axum::{
    extract::State,
    http::{HeaderMap, Uri},
    response::sse::{Event, KeepAlive, Sse},
};
use futures::Stream;
use trail_core::{event::StoredEvent, filter::Filter, ids::Scope, time::TimeBounds};

use super::{TenantPath, events::filtered};
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
};

/// How often a quiet stream looks for events written by another process.
const POLL: Duration = Duration::from_secs(1);
/// How long one stream lasts. The caller is checked when a stream opens, so a stream ends
/// after this and the client reconnects (as `EventSource` does by itself, resuming with
/// `Last-Event-ID`, and losing nothing): a revoked key, an ended session or an expired viewer
/// token stops receiving events within this time.
const MAX_LIFE: Duration = Duration::from_secs(5 * 60);

struct Tail {
    state: AppState,
    /// When the stream ends (see [`MAX_LIFE`]).
    ends: tokio::time::Instant,
    /// Whether phone numbers are masked for this reader (`redact.rs`).
    mask: crate::redact::Redaction,
    tenant: trail_core::TenantId,
    filter: Filter,
    after: u64,
    ready: VecDeque<StoredEvent>,
}

impl Tail {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(mut e) = self.ready.pop_front() {
                crate::redact::event(&mut e, self.mask);
                let data = serde_json::to_string(&e).ok()?;
                let event = Event::default().id(e.seq.to_string()).event("event").data(data);
                return Some((Ok(event), self));
            }
            if tokio::time::Instant::now() >= self.ends {
                return None;
            }
            // Register for the wake-up before looking, so an append in between is not missed.
            let appended = self.state.appended.clone();
            let notified = appended.notified();
            let batch = match self.state.store.events_after(&self.tenant, self.after, 500).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(tenant = %self.tenant, error = %e, "stream ends: store error");
                    return None;
                }
            };
            if let Some(last) = batch.last() {
                self.after = last.seq;
                self.ready.extend(batch.into_iter().filter(|e| self.filter.matches(&e.body)));
                continue;
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = tokio::time::sleep_until(self.ends) => return None,
            }
        }
    }
}

pub async fn stream(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    who.require(&t, Scope::Read)?;
    let f = filtered(&s, &who, &t, &uri, &["after"]).await?;
    let mut filter = f.filter.clone();
    if !f.has_time() {
        filter.time = TimeBounds::default();
    }
    let seq = |v: &str, what: &str| {
        v.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request(
                "invalid_parameter",
                format!("{what} {v:?} is not a seq: give the seq of the last event received"),
            )
            .with_field(what)
        })
    };
    let after = match (headers.get("last-event-id").and_then(|v| v.to_str().ok()), f.param("after")) {
        (Some(id), _) => seq(id, "Last-Event-ID")?,
        (None, Some(a)) => seq(a, "after")?,
        (None, None) => f.tenant.event_count,
    };
    let ends = tokio::time::Instant::now() + MAX_LIFE;
    let mask = crate::redact::Redaction::of(&who, &t, &s.config, &f.tenant.plan);
    let tail = Tail { state: s, ends, mask, tenant: t, filter, after, ready: VecDeque::new() };
    let events = futures::stream::unfold(tail, Tail::next);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
