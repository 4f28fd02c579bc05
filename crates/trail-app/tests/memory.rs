//! Application code over the in-memory store (`trail_store::memory`): no data directory, no
//! database, each test in milliseconds.
//!
//! The in-memory store keeps the event log, the accounts and the tree, not the rollups or
//! maintenance, so it is not a whole `Store` and an `App` (which holds `Arc<dyn Store>`) cannot
//! be built over it. What needs only the event log takes `&dyn EventLog`, and runs over it as
//! over any backend: here, a reader's view of a log as every route makes it (the reader's
//! redaction set on the filter, `redact::of`, and applied to each copy, `redact::event`). The
//! same function over SQLite, reached through `Arc<dyn Store>` (which converts to
//! `&dyn EventLog`), shows the same events.

use std::sync::Arc;

use serde_json::json;
use trail_app::{AppConfig, access::Principal, redact};
use trail_core::{
    TenantId,
    event::StoredEvent,
    filter::{Filter, Page},
    ids::Scope,
    search::SearchQuery,
};
use trail_store::{Accounts, EventLog, NewTenant, PreparedEvent, Store, conformance::event, memory::MemStore};
use trail_store_sqlite::SqliteStore;

const PHONE: &str = "+447700900123";

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

fn new_tenant(t: &TenantId, plan: &str) -> NewTenant {
    NewTenant { id: t.clone(), name: "Acme".into(), plan: plan.into(), time_zone: "UTC".into() }
}

/// A key that reads but does not administer the tenant: it is shown phone numbers masked.
fn reader(t: &TenantId) -> Principal {
    Principal::ApiKey { tenant: t.clone(), key_id: "key_ro".into(), scopes: vec![Scope::Read] }
}

fn search(q: &str) -> Filter {
    Filter { q: Some(SearchQuery::parse(q).unwrap()), ..Filter::default() }
}

/// An SMS to [`PHONE`], a link visit with its visitor's details, and an upload.
fn history() -> Vec<PreparedEvent> {
    let sms = json!({"action": "sms.sent", "occurred_at": "2026-01-01T10:00:00Z",
        "description": format!("SMS to {PHONE}"), "metadata": {"phone": PHONE}});
    let visit = json!({"action": "link.viewed", "occurred_at": "2026-01-02T10:00:00Z",
        "actor": {"email": "visitor@example.com"}, "targets": [{"type": "link", "id": "lnk_1"}],
        "context": {"ip": "203.0.113.7", "location": {"country": "GB"}}});
    let upload = json!({"action": "file.uploaded", "occurred_at": "2026-01-03T10:00:00Z",
        "actor": {"id": "u_1", "email": "asha@example.com"}});
    [sms, visit, upload].iter().map(|e| event(&e.to_string())).collect()
}

/// The events of `tenant` (on plan `plan`) matching `filter`, newest first, as `who` is shown
/// them: what the events routes, the stream and exports do, needing only the event log.
async fn shown(log: &dyn EventLog, t: &TenantId, plan: &str, who: &Principal, mut filter: Filter) -> Vec<StoredEvent> {
    filter.redaction = redact::of(who, t, &config(), plan);
    let mut events = log.query(t, &filter, Page { limit: 100, cursor: None }).await.unwrap().events;
    for e in &mut events {
        redact::event(e, filter.redaction);
    }
    events
}

#[tokio::test]
async fn a_reader_finds_and_sees_phone_numbers_as_masked_over_the_memory_log() {
    let store = MemStore::new();
    let t = TenantId::parse("acme").unwrap();
    store.create_tenant(new_tenant(&t, "enterprise")).await.unwrap();
    store.append(&t, history()).await.unwrap();

    // The operator sees the number and finds the event by it.
    let full = shown(&store, &t, "enterprise", &Principal::Operator, search("447700900123")).await;
    assert_eq!(full.len(), 1);
    assert_eq!(full[0].body.metadata.as_ref().unwrap()["phone"], PHONE);

    // A reader who does not administer the tenant cannot confirm it by searching, finds the
    // event by what is shown, and is shown the last four digits only.
    assert!(shown(&store, &t, "enterprise", &reader(&t), search("447700900123")).await.is_empty());
    let masked = shown(&store, &t, "enterprise", &reader(&t), search("0123")).await;
    assert_eq!(masked.len(), 1);
    let body = serde_json::to_string(&masked[0].body).unwrap();
    assert!(!body.contains("7700900") && body.contains("0123"), "{body}");

    // The stored event is untouched.
    let stored = store.event(&t, 1).await.unwrap().unwrap();
    assert_eq!(stored.body.metadata.as_ref().unwrap()["phone"], PHONE);
}

#[tokio::test]
async fn the_memory_log_and_sqlite_show_readers_the_same_events() {
    let memory = MemStore::new();
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let t = TenantId::parse("acme").unwrap();
    let events = history();
    memory.create_tenant(new_tenant(&t, "basic")).await.unwrap();
    memory.append(&t, events.clone()).await.unwrap();
    sqlite.create_tenant(new_tenant(&t, "basic")).await.unwrap();
    sqlite.append(&t, events).await.unwrap();

    let gb = Filter { countries: vec!["GB".into()], ..Filter::default() };
    for (who, filter) in [
        (Principal::Operator, Filter::default()),
        (reader(&t), Filter::default()),
        (reader(&t), search("0123")),
        // A plan without link detail: the visit's country is not shown, so it is not found by it.
        (Principal::Operator, gb.clone()),
        (reader(&t), gb.clone()),
    ] {
        let from_memory = shown(&memory, &t, "basic", &who, filter.clone()).await;
        let from_sqlite = shown(&*sqlite, &t, "basic", &who, filter.clone()).await;
        assert_eq!(from_memory, from_sqlite, "{who:?} with {filter:?}");
    }
    // On that plan the visit shows its date, not who came from where, to anyone.
    let visits = shown(&memory, &t, "basic", &Principal::Operator, search("action:link.viewed")).await;
    assert_eq!(visits.len(), 1);
    let (actor, context) = (visits[0].body.actor.as_ref(), visits[0].body.context.as_ref());
    assert!(actor.is_none_or(|a| a.email.is_none()), "{actor:?}");
    assert!(context.is_none_or(|c| c.ip.is_none() && c.location.is_none()), "{context:?}");
    assert!(shown(&memory, &t, "basic", &Principal::Operator, gb).await.is_empty());
}
