//! The HTTP API's routes (docs/api.md), one file per group.

mod events;
pub(crate) mod export;
pub(crate) mod extract;
pub(crate) mod health;
mod keys;
mod members;
pub(crate) mod reports;
mod stream;
mod tenants;
pub(crate) mod timeline;
mod tree;

use axum::{
    Router,
    routing::{get, post},
};

use crate::AppState;

/// The API's routes, without state or layers: `crate::router` puts them beside the console's
/// and adds the fallbacks and layers both share.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/v1/tenants", post(tenants::create).get(tenants::list))
        .route("/v1/tenants/{t}", get(tenants::get).patch(tenants::patch))
        .route("/v1/tenants/{t}/keys", post(keys::create).get(keys::list))
        .route("/v1/tenants/{t}/keys/{key_id}", axum::routing::delete(keys::revoke))
        .route("/v1/tenants/{t}/members", post(members::create).get(members::list))
        .route("/v1/tenants/{t}/members/{member_id}", axum::routing::patch(members::change).delete(members::remove))
        .route("/v1/tenants/{t}/viewer-tokens", post(members::viewer_token))
        .route("/v1/tenants/{t}/events", post(events::ingest).get(events::query))
        .route("/v1/tenants/{t}/events/{seq}", get(events::get_one))
        .route("/v1/tenants/{t}/events/{seq}/proof", get(tree::inclusion))
        .route("/v1/tenants/{t}/events/{seq}/leaf", get(tree::leaf))
        .route("/v1/tenants/{t}/tree/checkpoint", get(tree::checkpoint))
        .route("/v1/tenants/{t}/tree/consistency", get(tree::consistency))
        .route("/v1/keys/public", get(tree::public_key))
        .route("/v1/tenants/{t}/export", get(export::export))
        .route("/v1/tenants/{t}/stream", get(stream::stream))
        .route("/v1/tenants/{t}/reports/timeline", get(timeline::timeline))
        .route("/v1/tenants/{t}/reports/logins", get(reports::logins))
        .route("/v1/tenants/{t}/reports/usage", get(reports::usage))
        .route("/v1/tenants/{t}/reports/users", get(reports::users))
        .route("/v1/tenants/{t}/reports/users/{actor}/stats", get(reports::stats))
        .route("/v1/tenants/{t}/links", get(reports::links))
        .route("/v1/tenants/{t}/links/{link_id}/access-log", get(reports::access_log))
        .route("/v1/tenants/{t}/messages/{message_id}", get(reports::message))
        .route("/v1/tenants/{t}/views/{view}", get(reports::view))
        .route("/v1/tenants/{t}/erasure", post(crate::erasure::erase))
}
