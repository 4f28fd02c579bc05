//! `App::append` publishes exactly one notice per durable append that stored something.

use std::sync::Arc;

use tokio::sync::broadcast::error::TryRecvError;
use trail_app::{App, AppConfig, Appended};
use trail_core::TenantId;
use trail_store::{NewTenant, PreparedEvent, Store, conformance::event};
use trail_store_sqlite::SqliteStore;

async fn app() -> (tempfile::TempDir, App, TenantId) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let t = TenantId::parse("acme").unwrap();
    let new = NewTenant { id: t.clone(), name: "Acme".into(), plan: "enterprise".into(), time_zone: "UTC".into() };
    store.create_tenant(new).await.unwrap();
    (dir, App::new(store, config()), t)
}

fn config() -> AppConfig {
    AppConfig {
        server_name: "test".into(),
        plans: trail_app::plans::builtin(),
        default_plan: "enterprise".into(),
        limits: Default::default(),
        signing_key: Arc::new(ed25519_dalek::SigningKey::from_bytes(&[42; 32])),
        checkpoint_journal: None,
    }
}

fn batch(ids: &[&str]) -> Vec<PreparedEvent> {
    ids.iter().map(|id| event(&format!(r#"{{"action":"file.uploaded","id":"{id}"}}"#))).collect()
}

#[tokio::test]
async fn each_append_publishes_one_notice_with_its_seqs_and_tree_size() {
    let (_dir, app, t) = app().await;
    let mut rx = app.subscribe();
    app.append(&t, batch(&["a", "b", "c"])).await.unwrap();
    app.append(&t, batch(&["d", "e"])).await.unwrap();
    let notice = |first_seq, last_seq, tree_size| Appended { tenant: t.clone(), first_seq, last_seq, tree_size };
    assert_eq!(rx.try_recv().unwrap(), notice(1, 3, 3));
    assert_eq!(rx.try_recv().unwrap(), notice(4, 5, 5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "one notice per append, no more");
}

#[tokio::test]
async fn a_batch_of_duplicates_only_publishes_nothing() {
    let (_dir, app, t) = app().await;
    app.append(&t, batch(&["a", "b"])).await.unwrap();
    let mut rx = app.subscribe();
    let receipt = app.append(&t, batch(&["a", "b"])).await.unwrap();
    assert!(receipt.events.iter().all(|e| e.duplicate));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "nothing was appended, so nothing is announced");
    // A batch mixing a duplicate and a new event announces the new one only.
    app.append(&t, batch(&["a", "c"])).await.unwrap();
    assert_eq!(rx.try_recv().unwrap(), Appended { tenant: t.clone(), first_seq: 3, last_seq: 3, tree_size: 3 });
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[tokio::test]
async fn a_failed_append_publishes_nothing() {
    let (_dir, app, t) = app().await;
    app.append(&t, batch(&["a"])).await.unwrap();
    let mut rx = app.subscribe();
    // The same id with another body is a conflict: the whole batch fails.
    let conflicting = vec![event(r#"{"action":"file.deleted","id":"a"}"#)];
    assert!(app.append(&t, conflicting).await.is_err());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_publish_one_notice_each() {
    let (_dir, app, t) = app().await;
    let app = Arc::new(app);
    let mut rx = app.subscribe();
    let (a, b) = tokio::join!(app.append(&t, batch(&["a1", "a2", "a3"])), app.append(&t, batch(&["b1", "b2"])));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut notices = [rx.try_recv().unwrap(), rx.try_recv().unwrap()];
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "two appends, two notices");
    notices.sort_by_key(|n| n.first_seq);
    // Each notice covers exactly its own append's seqs (in either order of commit).
    let mut expected: Vec<(u64, u64)> =
        [&a, &b].iter().map(|r| (r.events.first().unwrap().seq, r.events.last().unwrap().seq)).collect();
    expected.sort();
    assert_eq!(notices.iter().map(|n| (n.first_seq, n.last_seq)).collect::<Vec<_>>(), expected);
    let mut seqs: Vec<u64> = notices.iter().flat_map(|n| n.first_seq..=n.last_seq).collect();
    seqs.sort();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    assert!(notices.iter().all(|n| n.tenant == t && n.tree_size >= n.last_seq));
}
