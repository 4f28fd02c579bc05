//! The conformance cases of the roles the in-memory store implements (the event log, the
//! accounts, the tree), run against it: it keeps the same contract as the backends, so the
//! application's tests over it say what they would say over SQLite or PostgreSQL.

use std::sync::Arc;

use trail_store::memory::MemStore;

async fn make() -> (Arc<MemStore>, ()) {
    (Arc::new(MemStore::new()), ())
}

trail_store::event_log_conformance_tests!(make);
trail_store::tree_conformance_tests!(make);
