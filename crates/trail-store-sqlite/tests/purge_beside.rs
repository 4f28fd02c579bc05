//! A purge made by another process on the same data directory (`trail purge` beside a running
//! server) is seen by the running store's counts at once.

use trail_core::{TenantId, event::NewEvent, filter::Filter, time::TimeBounds};
use trail_store::{Accounts, EventLog, Maintenance, NewTenant, PreparedEvent, PurgeRule};
use trail_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_follow_a_purge_made_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let server = SqliteStore::open(dir.path()).unwrap();
    let t = TenantId::parse("acme").unwrap();
    server
        .create_tenant(NewTenant { id: t.clone(), name: "a".into(), plan: "basic".into(), time_zone: "UTC".into() })
        .await
        .unwrap();
    let now = jiff::Timestamp::now();
    let events: Vec<PreparedEvent> = (1..=10)
        .map(|d| {
            let json = format!(r#"{{"action":"a.b","occurred_at":"2026-01-{d:02}T10:00:00Z"}}"#);
            PreparedEvent::new(NewEvent::from_json(&json, now).unwrap(), now, |_| {})
        })
        .collect();
    server.append(&t, events).await.unwrap();
    let all = Filter { time: TimeBounds::default(), ..Filter::default() };
    let bounds = ["2026-01-01T00:00:00Z".parse().unwrap(), "2026-02-01T00:00:00Z".parse().unwrap()];
    assert_eq!(server.count_buckets(&t, &all, &bounds).await.unwrap(), [10]);

    // "trail purge": another store on the same directory.
    let cli = SqliteStore::open(dir.path()).unwrap();
    let rule = PurgeRule { before: Some("2026-01-05T00:00:00Z".parse().unwrap()), link_access_ended_before: None };
    assert_eq!(cli.purge(&t, &rule).await.unwrap().expired, 4);
    drop(cli);

    assert_eq!(server.count_buckets(&t, &all, &bounds).await.unwrap(), [6], "the running store counts the purge");
}
