//! The catalogue's views over the log (move here from trail-server's api/reports/views.rs).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
