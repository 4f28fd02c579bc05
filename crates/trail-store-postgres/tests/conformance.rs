//! The shared store conformance suite, run against PostgreSQL (a fresh database per case in the
//! throwaway cluster of `./scripts/test`).

use std::sync::Arc;

use trail_store::Store;
use trail_store_postgres::{PgStore, testing::fresh_database};

async fn make() -> Option<(Arc<dyn Store>, ())> {
    let url = fresh_database().await?;
    let store = PgStore::connect(&url).await.unwrap_or_else(|e| panic!("connect to the test database: {e}"));
    Some((Arc::new(store), ()))
}

trail_store::store_conformance_tests!(optional make);
