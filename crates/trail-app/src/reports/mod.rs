//! The reports: rollup pages and their typed rows (move here from trail-server's api/reports/).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
