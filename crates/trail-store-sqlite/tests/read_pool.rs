//! Reads share a bounded pool of connections.

use std::sync::Arc;

use trail_core::{TenantId, event::NewEvent};
use trail_store::{Accounts, EventLog, NewTenant, PreparedEvent};
use trail_store_sqlite::SqliteStore;

/// Regression (issue 20, live tails): every concurrent read opened a connection of its own (with
/// its 64 MiB cache and its map of the file) on a blocking thread of its own, so 250 live
/// streams held 250 connections and 500 threads. Reads now wait for one of a few slots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_reads_open_few_connections() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let t = TenantId::parse("acme").unwrap();
    store
        .create_tenant(NewTenant {
            id: t.clone(),
            name: "a".into(),
            plan: "enterprise".into(),
            time_zone: "UTC".into(),
        })
        .await
        .unwrap();
    let now = jiff::Timestamp::now();
    let batch: Vec<PreparedEvent> = (0..200)
        .map(|i| {
            let e = NewEvent::from_json(&format!(r#"{{"action":"a.b","description":"event {i}"}}"#), now).unwrap();
            PreparedEvent::new(e, now, |_| {})
        })
        .collect();
    store.append(&t, batch).await.unwrap();
    let (_, opened_before) = store.read_connections();
    let reads: Vec<_> = (0..300)
        .map(|i| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move { store.events_after(&t, i % 100, 100).await.unwrap().len() })
        })
        .collect();
    for (i, r) in reads.into_iter().enumerate() {
        assert_eq!(r.await.unwrap(), 100, "read {i}");
    }
    let (idle, opened) = store.read_connections();
    // At most one per read slot, and perhaps one more for the index catch-up at open.
    assert!(opened - opened_before <= 17, "300 concurrent reads opened {} connections", opened - opened_before);
    assert!(idle <= 16);
}
