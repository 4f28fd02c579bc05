//! Retention on PostgreSQL drops a month's partition outright when every event in it is past
//! the retention and belongs to the tenant purged; a partition another tenant still has events
//! in stays, and loses only this tenant's rows. Either way the log verifies afterwards and new
//! events of a dropped month can still be appended.

use jiff::Timestamp;
use tokio_postgres::NoTls;
use trail_core::{TenantId, filter::Filter};
use trail_store::{Accounts, EventLog, Maintenance, NewTenant, PurgeRule, conformance::event};
use trail_store_postgres::{PgStore, testing::fresh_database};

async fn partitions(url: &str) -> Vec<String> {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(conn);
    let rows = client
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'events'::regclass ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_drops_whole_months_it_alone_holds() {
    let Some(url) = fresh_database().await else { return };
    let store = PgStore::connect(&url).await.unwrap();
    let (a, b) = (TenantId::parse("a").unwrap(), TenantId::parse("b").unwrap());
    for t in [&a, &b] {
        let new = NewTenant { id: t.clone(), name: t.to_string(), plan: "free".into(), time_zone: "UTC".into() };
        store.create_tenant(new).await.unwrap();
    }
    let at =
        |when: &str| event(&format!(r#"{{"action":"file.uploaded","occurred_at":"{when}","actor":{{"id":"u"}}}}"#));
    store
        .append(
            &a,
            vec![
                at("2025-01-10T00:00:00Z"),
                at("2025-01-20T00:00:00Z"),
                at("2025-02-10T00:00:00Z"),
                at("2025-03-10T00:00:00Z"),
            ],
        )
        .await
        .unwrap();
    store.append(&b, vec![at("2025-02-11T00:00:00Z")]).await.unwrap();
    assert_eq!(partitions(&url).await, ["events_2025_01", "events_2025_02", "events_2025_03"]);

    // A second server that has seen January's partition exist.
    let other_server = PgStore::connect(&url).await.unwrap();
    other_server.append(&a, vec![at("2025-01-11T00:00:00Z")]).await.unwrap();

    let rule = PurgeRule { before: Some("2025-03-01T00:00:00Z".parse::<Timestamp>().unwrap()), ..PurgeRule::default() };
    let report = store.purge(&a, &rule).await.unwrap();
    assert_eq!(report.expired, 4);
    // January held only a's events: dropped. February holds b's too: kept, without a's.
    assert_eq!(partitions(&url).await, ["events_2025_02", "events_2025_03"]);
    let all = Filter::default();
    let page = trail_core::filter::Page { limit: 10, cursor: None };
    let left: Vec<u64> = store.query(&a, &all, page).await.unwrap().events.iter().map(|e| e.seq).collect();
    assert_eq!(left, [4]);
    assert_eq!(store.query(&b, &all, page).await.unwrap().events.len(), 1);

    // The log still verifies (purged events' leaves come from the tree), and January takes
    // events again.
    let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let report = store.verify_log(&a, key.verifying_key().as_bytes()).await.unwrap();
    assert_eq!(report.problem, None);
    assert_eq!(report.events, 5);
    // The other server's next January event finds the partition gone, makes it again, and
    // is stored.
    let r = other_server.append(&a, vec![at("2025-01-15T00:00:00Z")]).await.unwrap();
    assert_eq!(r.events[0].seq, 6);
    assert_eq!(store.event(&a, 6).await.unwrap().unwrap().seq, 6);
    assert!(partitions(&url).await.contains(&"events_2025_01".to_owned()));
}
