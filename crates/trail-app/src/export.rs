//! Exports: planning, the streaming query and the record of each export (moves here from trail-server's export.rs).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
