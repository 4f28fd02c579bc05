//! HTTP API tests: a real server on a random port over a fresh store per test: SQLite, or
//! PostgreSQL with `TRAIL_TEST_BACKEND=postgres` (`helpers::on_postgres`; `./scripts/test` runs
//! the suite both ways).

mod auth;
mod console;
mod enrich;
mod erasure;
mod errors;
mod export;
mod helpers;
mod hidden_search;
mod ingest;
pub mod integrity;
mod live;
mod masking;
mod members;
mod overload;
mod plans;
mod query;
mod real_logs;
mod reports;
mod retention;
mod rules;
mod tenants;
mod timeline;
mod views;
