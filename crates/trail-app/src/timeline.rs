//! The timeline's bucket arithmetic and counts (moves here from trail-server's api/timeline.rs).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
