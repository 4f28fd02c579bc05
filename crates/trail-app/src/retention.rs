//! Retention: purging what plans no longer keep (moves here from trail-server's retention.rs).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
