//! Ingest: a request body parsed, validated and enriched into prepared events (moves here from trail-server's api/events.rs).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
