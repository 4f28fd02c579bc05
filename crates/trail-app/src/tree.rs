//! The tree: checkpoints, proofs and leaves, with the leaf-withholding rule (moves here from trail-server's api/tree.rs).
//!
//! Empty for now: declared up front so that the change moving it in touches no other file.
