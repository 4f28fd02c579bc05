//! Trail's HTTP server.
//!
//! - [`error`]: every failure becomes `{"error": {"code", "message", "field"}}` here, in one place;
//!   a 5xx is logged with its cause and shown as a generic message.
//!   `trail_app::AppError` becomes an `ApiError` in one `From` impl there.
//! - [`auth`]: who is calling (operator key, tenant API key, session, viewer token); what they
//!   may do is `trail_app::access`.
//! - [`origin`]: where a request came from, for the events Trail writes about it.
//! - [`api`]: one file per group of routes.
//! - [`console`]: the web console (server-rendered pages, one stylesheet, one small script).
//!
//! [`serve_with_listener`] takes a bound listener and a shutdown future, so tests can run many
//! servers on port 0 at once.

pub mod admission;
pub mod api;
pub mod auth;
pub mod console;
pub mod erasure;
pub mod error;
pub mod metrics;
pub mod origin;
mod params;
mod router;
mod state;
pub mod tail;

use std::future::Future;

pub use state::{AppState, ServerConfig};

/// Serves the API on `listener` until `shutdown` completes, signing checkpoints and purging
/// what retention removes meanwhile.
pub async fn serve_with_listener(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_signer, stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = state.metrics.clone();
    let count_refusal = move || metrics::Metrics::add(&metrics.checkpoint_refusals, 1);
    let signer = tokio::spawn(trail_app::signer::run_signer(state.app.clone(), count_refusal, async move {
        let _ = stopped.await;
    }));
    let retention = tokio::spawn(trail_app::retention::run(state.app.clone()));
    // With each connection's peer address, which the console's sign-in throttle counts by.
    let app = router::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    retention.abort();
    // The signer signs what was appended last before the server stops.
    let _ = stop_signer.send(());
    if tokio::time::timeout(std::time::Duration::from_secs(10), signer).await.is_err() {
        tracing::warn!("stopped before the last checkpoints were signed");
    }
    served
}
