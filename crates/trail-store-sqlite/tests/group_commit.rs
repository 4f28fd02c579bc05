//! Concurrent appends share commits (and so fsyncs), and each still gets its own answer.

use std::sync::{Arc, atomic::Ordering};

use trail_core::{TenantId, event::NewEvent};
use trail_store::{NewTenant, PreparedEvent, Store};
use trail_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_a_commit() {
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
    let requests = 400;
    let tasks: Vec<_> = (0..requests)
        .map(|i| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move {
                let batch: Vec<PreparedEvent> = (0..20)
                    .map(|j| {
                        let e = NewEvent::from_json(&format!(r#"{{"action":"a.b","id":"{i}-{j}"}}"#), now).unwrap();
                        PreparedEvent::new(e, now, |_| {})
                    })
                    .collect();
                store.append(&t, batch).await.unwrap()
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.extend(task.await.unwrap().events.iter().map(|e| e.seq));
    }
    seqs.sort();
    assert_eq!(seqs, (1..=requests as u64 * 20).collect::<Vec<_>>());
    let stats = store.writer_stats();
    let (appends, groups) = (stats.appends.load(Ordering::Relaxed), stats.groups.load(Ordering::Relaxed));
    println!("{appends} append requests in {groups} commits");
    assert_eq!(appends, requests as u64);
    assert!(groups < appends / 2, "requests waiting together must share commits: {appends} requests, {groups} commits");
}
