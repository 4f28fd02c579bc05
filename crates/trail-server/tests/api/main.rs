//! HTTP API tests: a real server on a random port over a fresh SQLite store per test.

mod auth;
mod console;
mod enrich;
mod erasure;
mod export;
mod helpers;
mod ingest;
pub mod integrity;
mod live;
mod members;
mod plans;
mod query;
mod real_logs;
mod reports;
mod retention;
mod rules;
mod tenants;
mod views;
