//! The server's one router: the API's routes and the console's, side by side, behind the
//! layers every request passes.
//!
//! Neither half mounts the other: `api::routes` and `console::router` are each a
//! `Router<AppState>` of their own paths (`/v1/...` and the probes; `/` and `/console/...`), so
//! the API does not import the console. What applies to both lives here: the fallbacks (an
//! unknown path or method answers the API's JSON error shape, also under `/console`), the
//! transport body limit, admission and the count of server errors.

use axum::{Router, extract::DefaultBodyLimit};

use crate::{
    AppState,
    api::{self, health},
    console,
};

pub fn router(state: AppState) -> Router {
    // The ingest limit is checked by the handler against the configured one (to answer with a
    // clear 413); the transport limit sits a little above it.
    let body_limit = state.config.limits.max_bytes + 64 * 1024;
    Router::new()
        .merge(api::routes())
        .merge(console::router())
        .fallback(health::not_found)
        .method_not_allowed_fallback(health::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        // Outermost, so a refused request costs no body read and no authentication.
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::admission::admit))
        // Outside admission, so its 503s are counted too.
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::metrics::count_server_errors))
        .with_state(state)
}
