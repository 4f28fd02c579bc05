//! Queries: a caller's filter built, widened and redacted, and the events it finds (moves here from trail-server's api/events.rs).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
