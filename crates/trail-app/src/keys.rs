//! API keys: issue and revoke (move here from trail-server's admin.rs).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
