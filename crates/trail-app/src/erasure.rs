//! Erasure of a person, streaming over their events.
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
