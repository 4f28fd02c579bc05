//! Console sign-in and failed sign-ins held back from the log (move here from trail-server's console/).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
