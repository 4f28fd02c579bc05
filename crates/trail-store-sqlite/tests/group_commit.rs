//! Concurrent appends share commits (and so fsyncs), and each still gets its own answer.

use std::sync::{Arc, atomic::Ordering};

use trail_core::{TenantId, event::NewEvent};
use trail_store::{Accounts, EventLog, NewTenant, PreparedEvent};
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

/// A request that conflicts fails alone; the requests committed with it are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_fails_only_its_own_request() {
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
    let ev = |json: String| PreparedEvent::new(NewEvent::from_json(&json, now).unwrap(), now, |_| {});
    store.append(&t, vec![ev(r#"{"action":"a.b","id":"taken"}"#.into())]).await.unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (store, t) = (store.clone(), t.clone());
            let batch = if i % 10 == 3 {
                vec![
                    ev(format!(r#"{{"action":"x.y","id":"c{i}"}}"#)),
                    ev(r#"{"action":"different","id":"taken"}"#.into()),
                ]
            } else {
                (0..5).map(|j| ev(format!(r#"{{"action":"a.b","id":"{i}-{j}"}}"#))).collect()
            };
            tokio::spawn(async move { (i, store.append(&t, batch).await) })
        })
        .collect();
    let mut seqs = vec![1];
    for task in tasks {
        let (i, r) = task.await.unwrap();
        if i % 10 == 3 {
            assert!(matches!(r, Err(trail_store::StoreError::Conflict { index: 1, .. })), "{r:?}");
        } else {
            seqs.extend(r.unwrap().events.iter().map(|e| e.seq));
        }
    }
    seqs.sort();
    assert_eq!(seqs, (1..=181 * 5 - 4).collect::<Vec<_>>().iter().map(|&s| s as u64).collect::<Vec<_>>());
}
