//! Ingest's append (what `trail ingest` and the API's ingest call) publishes exactly one notice
//! per durable append, with its seqs and tree size, and none for a batch of duplicates only.

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::broadcast::error::TryRecvError;
use trail_app::{
    App, AppConfig, Appended,
    ingest::{self, Preparer},
};
use trail_core::{
    TenantId,
    event::{BodyFormat, NewEvent},
    time::truncate_us,
};
use trail_store::{NewTenant, PreparedEvent, Store, Tenant};
use trail_store_sqlite::SqliteStore;

async fn app() -> (tempfile::TempDir, App, Tenant) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let t = TenantId::parse("acme").unwrap();
    let new = NewTenant { id: t, name: "Acme".into(), plan: "enterprise".into(), time_zone: "UTC".into() };
    let tenant = store.create_tenant(new).await.unwrap();
    let config = AppConfig {
        server_name: "test".into(),
        plans: trail_app::plans::builtin(),
        default_plan: "enterprise".into(),
        limits: Default::default(),
        signing_key: Arc::new(ed25519_dalek::SigningKey::from_bytes(&[42; 32])),
        checkpoint_journal: None,
    };
    (dir, App::new(store, config), tenant)
}

/// A batch as `trail ingest` makes one: each event validated, then prepared for the tenant.
fn batch(app: &App, tenant: &Tenant, ids: &[&str]) -> Vec<PreparedEvent> {
    let preparer = Preparer::new(app.enricher(), tenant);
    let now = truncate_us(Timestamp::now());
    ids.iter()
        .map(|id| {
            let json = format!(r#"{{"action":"file.uploaded","id":"{id}","context":{{"ip":"203.0.113.9"}}}}"#);
            preparer.prepare(NewEvent::from_json(&json, now).unwrap(), now)
        })
        .collect()
}

#[tokio::test]
async fn each_batch_publishes_one_notice_with_its_seqs_and_tree_size() {
    let (_dir, app, tenant) = app().await;
    let t = tenant.id.clone();
    let mut rx = app.subscribe();
    let first = ingest::append(&app, &t, batch(&app, &tenant, &["a", "b", "c"])).await.unwrap();
    let second = ingest::append(&app, &t, batch(&app, &tenant, &["d", "e"])).await.unwrap();
    assert_eq!(first.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(first.events[1].id.as_deref(), Some("b"));
    assert_eq!((first.stored(), first.duplicates(), first.tree_size), (3, 0, 3));
    assert_eq!((second.stored(), second.tree_size), (2, 5));
    let notice = |first_seq, last_seq, tree_size| Appended { tenant: t.clone(), first_seq, last_seq, tree_size };
    assert_eq!(rx.try_recv().unwrap(), notice(1, 3, 3));
    assert_eq!(rx.try_recv().unwrap(), notice(4, 5, 5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "one notice per batch, no more");
}

#[tokio::test]
async fn a_batch_of_duplicates_only_publishes_nothing() {
    let (_dir, app, tenant) = app().await;
    let t = tenant.id.clone();
    ingest::append(&app, &t, batch(&app, &tenant, &["a", "b"])).await.unwrap();
    let mut rx = app.subscribe();
    let again = ingest::append(&app, &t, batch(&app, &tenant, &["a", "b"])).await.unwrap();
    assert_eq!((again.stored(), again.duplicates(), again.tree_size), (0, 2, 2));
    assert_eq!(again.events.iter().map(|e| (e.seq, e.duplicate)).collect::<Vec<_>>(), [(1, true), (2, true)]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "nothing was appended, so nothing is announced");
    // A batch mixing a duplicate and a new event announces the new one only.
    ingest::append(&app, &t, batch(&app, &tenant, &["a", "c"])).await.unwrap();
    assert_eq!(rx.try_recv().unwrap(), Appended { tenant: t.clone(), first_seq: 3, last_seq: 3, tree_size: 3 });
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[tokio::test]
async fn a_body_is_parsed_prepared_and_appended_with_one_notice() {
    let (_dir, app, tenant) = app().await;
    let t = tenant.id.clone();
    let mut rx = app.subscribe();
    let body = b"{\"action\":\"auth.login.succeeded\",\"id\":\"x\"}\n{\"action\":\"auth.logout\"}\n";
    let receipt = ingest::ingest(&app, &t, body, BodyFormat::Ndjson).await.unwrap();
    assert_eq!(
        receipt.events.iter().map(|e| (e.seq, e.id.as_deref())).collect::<Vec<_>>(),
        [(1, Some("x")), (2, None)]
    );
    assert_eq!(rx.try_recv().unwrap(), Appended { tenant: t.clone(), first_seq: 1, last_seq: 2, tree_size: 2 });
    // An invalid body stores nothing and announces nothing; nor does an unknown tenant.
    assert!(ingest::ingest(&app, &t, b"{\"action\":\"\"}", BodyFormat::Json).await.is_err());
    let nobody = TenantId::parse("nobody").unwrap();
    let err = ingest::ingest(&app, &nobody, body, BodyFormat::Ndjson).await.unwrap_err();
    assert_eq!(err.to_string(), "tenant nobody not found");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}
