//! Console members and their passwords (move here from trail-server's people.rs).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
