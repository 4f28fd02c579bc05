//! The shared store conformance suite, run against SQLite.

use std::sync::Arc;

use trail_store::Store;
use trail_store_sqlite::SqliteStore;

async fn make() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    (Arc::new(store), dir)
}

trail_store::store_conformance_tests!(make);
