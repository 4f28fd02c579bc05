//! HTTP API tests: a real server on a random port over a fresh SQLite store per test.

mod auth;
mod helpers;
mod ingest;
mod query;
mod rules;
mod tenants;
