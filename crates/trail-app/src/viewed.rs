//! When each person last had a view of the log recorded (moves here from trail-server's console/viewed.rs).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
