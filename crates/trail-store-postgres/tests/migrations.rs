//! A database written by an earlier Trail is brought up to date at start, its new tables
//! filled from the events it already holds: here, schema 1 (before the 15-minute event counts)
//! with events in it, opened by this Trail, counts its timeline exactly.

use jiff::Timestamp;
use tokio_postgres::NoTls;
use trail_core::{TenantId, filter::Filter};
use trail_store::{Accounts, EventLog, NewTenant, conformance::event};
use trail_store_postgres::{PgStore, testing::fresh_database};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_counts_are_filled_from_the_events_of_an_older_database() {
    let Some(url) = fresh_database().await else { return };
    let t = TenantId::parse("acme").unwrap();
    let at = |when: &str| event(&format!(r#"{{"action":"x.y","occurred_at":"{when}","actor":{{"id":"u"}}}}"#));
    {
        let store = PgStore::connect(&url).await.unwrap();
        let new = NewTenant { id: t.clone(), name: "Acme".into(), plan: "free".into(), time_zone: "UTC".into() };
        store.create_tenant(new).await.unwrap();
        let times =
            ["2025-12-31T23:59:59.999999Z", "2026-01-01T00:00:00Z", "2026-01-01T00:14:59Z", "2026-01-01T00:15:00Z"];
        store.append(&t, times.iter().map(|w| at(w)).collect()).await.unwrap();
    }
    // Back to schema 1: as an older Trail left it.
    let (client, conn) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(conn);
    // (Tables of later migrations go too, as schema 1 had none of them.)
    client
        .batch_execute("DROP TABLE event_counts; DROP TABLE identities; UPDATE trail_schema SET version = 1")
        .await
        .unwrap();

    let store = PgStore::connect(&url).await.unwrap();
    let version: i64 = client.query_one("SELECT version FROM trail_schema", &[]).await.unwrap().get(0);
    assert!(version >= 2, "the migrations ran again");
    let counted: i64 = client.query_one("SELECT sum(n)::bigint FROM event_counts", &[]).await.unwrap().get(0);
    assert_eq!(counted, 4);
    let ts = |s: &str| s.parse::<Timestamp>().unwrap();
    let edges = [
        ts("2025-12-31T00:00:00Z"),
        ts("2026-01-01T00:00:00Z"),
        ts("2026-01-01T00:15:00Z"),
        ts("2026-01-02T00:00:00Z"),
    ];
    let all = Filter { time: Default::default(), ..Filter::default() };
    assert_eq!(store.count_buckets(&t, &all, &edges).await.unwrap(), [1, 2, 1]);
}
