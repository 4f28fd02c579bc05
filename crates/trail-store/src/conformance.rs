//! The conformance suite: the contract of [`Store`], run against every backend.
//!
//! A backend's test file calls [`store_conformance_tests!`](crate::store_conformance_tests) with
//! an async function that makes a fresh, empty store; each case below becomes a test of its own.
//! The cases use only the traits, so a backend passes by behaving, not by sharing code.
//!
//! Each case asks only for the roles it uses (`S: EventLog + Accounts`, say), so a store of some
//! roles only runs the cases of those: [`event_log_conformance_tests!`](crate::event_log_conformance_tests)
//! and [`tree_conformance_tests!`](crate::tree_conformance_tests) (the in-memory store's
//! `tests/memory.rs`). A full store runs them all, as `Arc<dyn Store>`.

use std::{collections::HashSet, sync::Arc};

use jiff::Timestamp;
use trail_core::{
    TenantId,
    event::{Fields, NewEvent, StoredEvent},
    filter::{ActionPattern, Filter, Page},
    ids::Scope,
    time::TimeBounds,
};

use crate::{
    Accounts, EventLog, ExportReads, MemberPatch, NewApiKey, NewMember, NewTenant, PreparedEvent, PurgeRule,
    RecentPage, RollupKind, Session, Store, StoreError, TenantPatch, Tree,
};

/// Generates one `#[tokio::test]` per conformance case. `$make` is an async function returning
/// `(Arc<dyn Store>, G)`, where `G` is kept alive for the test (a temporary directory, say);
/// with `optional`, it returns `Option<(Arc<dyn Store>, G)>` (see the arm).
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:path) => {
        $crate::store_conformance_tests!(@list required $make);
    };
    // `$make` returns an `Option`: `None` when the backend's server is missing, which `$make`
    // must say loudly (and refuse in CI) before the case returns without checking anything.
    (optional $make:path) => {
        $crate::store_conformance_tests!(@list optional $make);
    };
    (@list $mode:ident $make:path) => {
        $crate::store_conformance_tests!(@cases $mode $make,
            tenants_are_created_listed_read_and_patched,
            api_keys_are_stored_hashed_listed_and_revoked,
            seq_starts_at_one_per_tenant_and_is_consecutive,
            resent_ids_are_duplicates_within_and_across_batches,
            a_conflicting_id_rejects_the_whole_batch,
            appending_to_an_unknown_tenant_is_not_found,
            events_round_trip_by_seq,
            queries_are_newest_first_with_ties_by_seq,
            every_filter_selects_exactly_its_events,
            paging_walks_every_event_once_while_events_arrive,
            filtered_pages_find_matches_spread_over_years,
            tenants_never_see_each_others_events,
            concurrent_appends_share_no_seq_and_leave_no_gap,
            settings_are_kept,
            context_and_search_filters_select_exactly,
            random_filters_agree_with_the_reference,
            events_after_follows_seq_order,
            buckets_count_matching_events,
            timelines_count_exactly_at_any_edges_and_after_a_purge,
            the_tree_is_the_rfc6962_tree_of_the_leaves,
            checkpoints_are_kept,
            members_are_kept_per_tenant_and_sessions_end_with_them,
            actors_and_actions_are_rolled_up_per_tenant,
            login_usage_and_link_rollups_follow_their_events,
            rollup_pages_walk_by_latest_activity,
            closed_ranges_list_rows_by_their_latest_activity_in_the_range,
            purges_remove_exactly_what_the_rule_selects,
            an_email_linked_to_an_id_is_one_person_in_the_login_rollup,
            an_email_linked_to_an_id_is_one_person_whichever_comes_first,
            an_email_linked_in_the_same_batch_is_one_person,
            person_finds_every_identifier_of_a_person,
            erasure_in_chunks_adds_up_to_one_request,
            erasure_is_idempotent,
            erased_values_are_gone_from_events_queries_and_search,
            erased_people_leave_the_rollups_identities_and_links,
            erasure_keeps_every_leaf_root_and_proof,
            erasure_stays_in_its_tenant,
            erasure_counts_only_fields_there_to_erase
        );
    };
    (@cases required $make:path, $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (store, _guard) = $make().await;
                $crate::conformance::$case(store).await;
            }
        )+
    };
    (@cases optional $make:path, $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, _guard)) = $make().await else { return };
                $crate::conformance::$case(store).await;
            }
        )+
    };
}

/// Generates one `#[tokio::test]` per conformance case of the event log and the accounts, for
/// a store that implements those roles and maybe no others (`memory::MemStore`): `$make` is an
/// async function returning `(Arc<S>, G)` with `S: EventLog + Accounts + ExportReads` (every
/// event log has the export reads, by their default bodies). The cases take the roles they use,
/// so [`store_conformance_tests!`](crate::store_conformance_tests) runs the same functions on
/// full stores, with all the others.
#[macro_export]
macro_rules! event_log_conformance_tests {
    ($make:path) => {
        $crate::store_conformance_tests!(@cases required $make,
            tenants_are_created_listed_read_and_patched,
            api_keys_are_stored_hashed_listed_and_revoked,
            seq_starts_at_one_per_tenant_and_is_consecutive,
            resent_ids_are_duplicates_within_and_across_batches,
            a_conflicting_id_rejects_the_whole_batch,
            appending_to_an_unknown_tenant_is_not_found,
            events_round_trip_by_seq,
            queries_are_newest_first_with_ties_by_seq,
            every_filter_selects_exactly_its_events,
            paging_walks_every_event_once_while_events_arrive,
            filtered_pages_find_matches_spread_over_years,
            tenants_never_see_each_others_events,
            concurrent_appends_share_no_seq_and_leave_no_gap,
            settings_are_kept,
            context_and_search_filters_select_exactly,
            random_filters_agree_with_the_reference,
            events_after_follows_seq_order,
            buckets_count_matching_events,
            members_are_kept_per_tenant_and_sessions_end_with_them
        );
    };
}

/// [`event_log_conformance_tests!`](crate::event_log_conformance_tests)'s counterpart for the
/// tree: the cases of a store that also implements [`Tree`] (`S: EventLog + Accounts + Tree`).
#[macro_export]
macro_rules! tree_conformance_tests {
    ($make:path) => {
        $crate::store_conformance_tests!(@cases required $make,
            the_tree_is_the_rfc6962_tree_of_the_leaves,
            checkpoints_are_kept
        );
    };
}

fn tid(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}

async fn tenant<S: Accounts + ?Sized>(store: &S, id: &str) -> TenantId {
    let id = tid(id);
    store
        .create_tenant(NewTenant {
            id: id.clone(),
            name: format!("Tenant {id}"),
            plan: "enterprise".into(),
            time_zone: "UTC".into(),
        })
        .await
        .unwrap();
    id
}

fn now() -> Timestamp {
    crate::types_now()
}

/// Builds a prepared event from JSON, as the ingest path would.
pub fn event(json: &str) -> PreparedEvent {
    let now = now();
    PreparedEvent::new(NewEvent::from_json(json, now).unwrap(), now, |_| {})
}

fn at(action: &str, actor: &str, occurred_at: &str) -> PreparedEvent {
    event(&format!(
        r#"{{"action":"{action}","occurred_at":"{occurred_at}","actor":{{"id":"{actor}","email":"{actor}@example.com"}}}}"#
    ))
}

/// Every event of the tenant, newest first, in pages of 1,000.
async fn all_events<S: EventLog + ?Sized>(store: &S, t: &TenantId) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    let mut page = Page { limit: 1000, cursor: None };
    loop {
        let p = store.query(t, &everything(), page).await.unwrap();
        out.extend(p.events);
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return out,
        }
    }
}

async fn all_seqs<S: EventLog + ?Sized>(store: &S, t: &TenantId, filter: &Filter, limit: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut page = Page { limit, cursor: None };
    loop {
        let p = store.query(t, filter, page).await.unwrap();
        out.extend(p.events.iter().map(|e| e.seq));
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return out,
        }
    }
}

fn everything() -> Filter {
    Filter { time: TimeBounds::default(), ..Filter::default() }
}

pub async fn tenants_are_created_listed_read_and_patched<S: Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    tenant(&*store, "beta").await;
    let dup = store
        .create_tenant(NewTenant { id: a.clone(), name: "x".into(), plan: "basic".into(), time_zone: "UTC".into() })
        .await;
    assert!(matches!(dup, Err(StoreError::AlreadyExists(_))), "{dup:?}");
    let list = store.tenants().await.unwrap();
    assert_eq!(list.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["acme", "beta"]);
    let got = store.tenant(&a).await.unwrap().unwrap();
    assert_eq!((got.name.as_str(), got.plan.as_str(), got.event_count), ("Tenant acme", "enterprise", 0));
    assert!(store.tenant(&tid("nobody")).await.unwrap().is_none());
    let mut settings = serde_json::Map::new();
    settings.insert("ip_truncation".into(), true.into());
    let patched = store
        .update_tenant(
            &a,
            TenantPatch {
                name: Some("Acme Ltd".into()),
                time_zone: Some("Asia/Kolkata".into()),
                settings: Some(settings),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((patched.name.as_str(), patched.plan.as_str()), ("Acme Ltd", "enterprise"));
    assert_eq!(patched.time_zone, "Asia/Kolkata");
    assert_eq!(patched.settings["ip_truncation"], true);
    assert_eq!(store.tenant(&a).await.unwrap().unwrap(), patched);
    let mut unset = serde_json::Map::new();
    unset.insert("ip_truncation".into(), serde_json::Value::Null);
    let cleared = store.update_tenant(&a, TenantPatch { settings: Some(unset), ..Default::default() }).await.unwrap();
    assert!(cleared.settings.is_empty());
    let missing = store.update_tenant(&tid("nobody"), TenantPatch::default()).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
}

pub async fn api_keys_are_stored_hashed_listed_and_revoked<S: Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let b = tenant(&*store, "beta").await;
    let k1 = store
        .create_api_key(
            &a,
            NewApiKey { id: "key_1".into(), name: "ingest".into(), scopes: vec![Scope::Ingest], token_hash: [1; 32] },
        )
        .await
        .unwrap();
    assert_eq!((k1.tenant.as_str(), k1.scopes.as_slice()), ("acme", &[Scope::Ingest][..]));
    store
        .create_api_key(
            &a,
            NewApiKey {
                id: "key_2".into(),
                name: "ro".into(),
                scopes: vec![Scope::Read, Scope::Admin],
                token_hash: [2; 32],
            },
        )
        .await
        .unwrap();
    store
        .create_api_key(
            &b,
            NewApiKey { id: "key_3".into(), name: "b".into(), scopes: vec![Scope::Read], token_hash: [3; 32] },
        )
        .await
        .unwrap();
    let keys = store.api_keys(&a).await.unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k.tenant == a));
    let found = store.api_key_by_token_hash(&[2; 32]).await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), found.scopes.as_slice()), ("key_2", &[Scope::Read, Scope::Admin][..]));
    assert!(store.api_key_by_token_hash(&[9; 32]).await.unwrap().is_none());
    // Revoking through another tenant does not reach the key.
    assert!(matches!(store.revoke_api_key(&b, "key_1").await, Err(StoreError::NotFound(_))));
    let revoked = store.revoke_api_key(&a, "key_1").await.unwrap();
    let when = revoked.revoked_at.expect("revoked_at is set");
    let again = store.revoke_api_key(&a, "key_1").await.unwrap();
    assert_eq!(again.revoked_at, Some(when));
    let by_hash = store.api_key_by_token_hash(&[1; 32]).await.unwrap().unwrap();
    assert!(!by_hash.is_active());
    assert!(matches!(store.revoke_api_key(&a, "key_404").await, Err(StoreError::NotFound(_))));
}

pub async fn seq_starts_at_one_per_tenant_and_is_consecutive<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let b = tenant(&*store, "beta").await;
    let r = store.append(&a, vec![event(r#"{"action":"a.one"}"#), event(r#"{"action":"a.two"}"#)]).await.unwrap();
    assert_eq!(r.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert!(r.events.iter().all(|e| !e.duplicate));
    assert_eq!(r.tree_size, 2);
    let r = store.append(&b, vec![event(r#"{"action":"b.one"}"#)]).await.unwrap();
    assert_eq!((r.events[0].seq, r.tree_size), (1, 1));
    let r = store.append(&a, vec![event(r#"{"action":"a.three"}"#)]).await.unwrap();
    assert_eq!((r.events[0].seq, r.tree_size), (3, 3));
    assert_eq!(store.tenant(&a).await.unwrap().unwrap().event_count, 3);
}

pub async fn resent_ids_are_duplicates_within_and_across_batches<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let b = tenant(&*store, "beta").await;
    let e1 = r#"{"id":"evt_1","action":"x.y","occurred_at":"2026-01-01T00:00:00Z"}"#;
    let r = store.append(&a, vec![event(e1), event(r#"{"id":"evt_2","action":"x.y"}"#), event(e1)]).await.unwrap();
    assert_eq!(r.events.iter().map(|e| (e.seq, e.duplicate)).collect::<Vec<_>>(), [(1, false), (2, false), (1, true)]);
    assert_eq!(r.tree_size, 2);
    // Same body with another key order: still the same event.
    let reordered = r#"{"occurred_at":"2026-01-01T00:00:00Z","action":"x.y","id":"evt_1"}"#;
    let r = store.append(&a, vec![event(r#"{"action":"x.z"}"#), event(reordered)]).await.unwrap();
    assert_eq!(r.events.iter().map(|e| (e.seq, e.duplicate)).collect::<Vec<_>>(), [(3, false), (1, true)]);
    assert_eq!(r.tree_size, 3);
    // Ids are per tenant.
    let r = store.append(&b, vec![event(e1)]).await.unwrap();
    assert_eq!((r.events[0].seq, r.events[0].duplicate), (1, false));
}

pub async fn a_conflicting_id_rejects_the_whole_batch<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    store.append(&a, vec![event(r#"{"id":"evt_1","action":"x.y"}"#)]).await.unwrap();
    let r =
        store.append(&a, vec![event(r#"{"action":"new.one"}"#), event(r#"{"id":"evt_1","action":"x.other"}"#)]).await;
    match r {
        Err(StoreError::Conflict { index, id, seq }) => assert_eq!((index, id.as_str(), seq), (1, "evt_1", 1)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Within one batch too.
    let r = store
        .append(&a, vec![event(r#"{"id":"evt_9","action":"x.y"}"#), event(r#"{"id":"evt_9","action":"x.z"}"#)])
        .await;
    assert!(matches!(r, Err(StoreError::Conflict { index: 1, .. })), "{r:?}");
    // Nothing of either batch was stored, and the next seq follows on.
    assert_eq!(all_seqs(&*store, &a, &everything(), 100).await, [1]);
    let r = store.append(&a, vec![event(r#"{"id":"evt_9","action":"x.z"}"#)]).await.unwrap();
    assert_eq!((r.events[0].seq, r.tree_size), (2, 2));
}

pub async fn appending_to_an_unknown_tenant_is_not_found<S: EventLog + ?Sized>(store: Arc<S>) {
    let r = store.append(&tid("ghost"), vec![event(r#"{"action":"x"}"#)]).await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    let q = store.query(&tid("ghost"), &everything(), Page::default()).await;
    assert!(matches!(q, Err(StoreError::NotFound(_))), "{q:?}");
}

pub async fn events_round_trip_by_seq<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let full = event(
        r#"{"id":"evt_full","occurred_at":"2026-11-22T10:15:30.120Z","action":"document.signed","category":"document",
        "outcome":"failure","actor":{"id":"u_42","name":"Asha Rao ✓","email":"asha@acme.example","type":"user"},
        "targets":[{"type":"document","id":"doc_9","name":"NDA 2026.pdf"}],"description":"Asha \"Rao\"\nsigned 🎉 مرحبا",
        "context":{"ip":"2001:db8::7","user_agent":"Mozilla/5.0","session_id":"s_77","url":"/d/9","method":"POST","status":200,
        "location":{"country":"IN","region":"Karnataka","city":"Bengaluru"}},"metadata":{"n":1.5,"deep":{"list":[1,"two",null,true]}}}"#,
    );
    let body = full.body.clone();
    store.append(&a, vec![full]).await.unwrap();
    let got = store.event(&a, 1).await.unwrap().unwrap();
    assert_eq!((got.tenant.as_str(), got.seq), ("acme", 1));
    assert_eq!(got.body, body);
    assert!(store.event(&a, 2).await.unwrap().is_none());
    assert!(store.event(&a, 0).await.unwrap().is_none());
}

pub async fn queries_are_newest_first_with_ties_by_seq<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    store
        .append(
            &a,
            vec![
                at("x.a", "u1", "2026-01-02T00:00:00Z"),
                at("x.b", "u1", "2026-01-01T00:00:00Z"),
                at("x.c", "u1", "2026-01-03T00:00:00Z"),
                at("x.d", "u1", "2026-01-02T00:00:00Z"),
                at("x.e", "u1", "2025-12-31T23:59:59.999999Z"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(all_seqs(&*store, &a, &everything(), 2).await, [3, 4, 1, 2, 5]);
    assert_eq!(all_seqs(&*store, &a, &everything(), 1000).await, [3, 4, 1, 2, 5]);
}

pub async fn every_filter_selects_exactly_its_events<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let batch = vec![
        /* 1 */ at("auth.login.succeeded", "u1", "2026-01-01T10:00:00Z"),
        /* 2 */ at("auth.login.failed", "u2", "2026-01-02T10:00:00Z"),
        /* 3 */ at("document.signed", "u1", "2026-01-03T10:00:00Z"),
        /* 4 */ at("document.rejected", "u3", "2026-01-04T10:00:00Z"),
        /* 5 */
        event(
            r#"{"action":"documents.x","occurred_at":"2026-01-05T10:00:00Z","outcome":"failure","category":"custom"}"#,
        ),
        /* 6 */
        event(
            r#"{"action":"panel.request","occurred_at":"2026-01-06T10:00:00Z","actor":{"email":"only@mail.example"}}"#,
        ),
    ];
    store.append(&a, batch).await.unwrap();
    let q = |f: Filter| {
        let store = store.clone();
        let a = a.clone();
        async move {
            let mut v = all_seqs(&*store, &a, &f, 3).await;
            v.sort();
            v
        }
    };
    let f = |build: fn(&mut Filter)| {
        let mut f = everything();
        build(&mut f);
        f
    };
    assert_eq!(q(f(|f| f.actors = vec!["u1".into()])).await, [1, 3]);
    assert_eq!(q(f(|f| f.actors = vec!["u3".into(), "only@mail.example".into()])).await, [4, 6]);
    // An actor with an id is that id's, whatever e-mail it carries: an e-mail alone finds only
    // actors without an id (the server adds the ids an e-mail is linked to).
    assert_eq!(q(f(|f| f.actors = vec!["u3@example.com".into()])).await, Vec::<u64>::new());
    assert_eq!(q(f(|f| f.actions = vec![ActionPattern::Prefix("document.".into())])).await, [3, 4]);
    assert_eq!(q(f(|f| f.actions = vec![ActionPattern::Prefix("doc".into())])).await, [3, 4, 5]);
    assert_eq!(
        q(f(|f| f.actions =
            vec![ActionPattern::Exact("auth.login.failed".into()), ActionPattern::Exact("panel.request".into())]))
        .await,
        [2, 6]
    );
    assert_eq!(q(f(|f| f.categories = vec![trail_core::event::Category::parse("auth").unwrap()])).await, [1, 2]);
    assert_eq!(q(f(|f| f.categories = vec![trail_core::event::Category::parse("custom").unwrap()])).await, [5]);
    assert_eq!(q(f(|f| f.outcomes = vec![trail_core::event::Outcome::Failure])).await, [5]);
    let mut timed = everything();
    timed.time = TimeBounds {
        from: Some("2026-01-02T10:00:00Z".parse().unwrap()),
        to: Some("2026-01-04T10:00:00Z".parse().unwrap()),
    };
    assert_eq!(q(timed.clone()).await, [2, 3]);
    timed.actors = vec!["u1".into()];
    assert_eq!(q(timed).await, [3]);
    // The reference implementation agrees with the backend on every event.
    let mut f = everything();
    f.actions = vec![ActionPattern::Prefix("auth.".into())];
    f.actors = vec!["u2".into()];
    let all = store.query(&a, &everything(), Page { limit: 100, cursor: None }).await.unwrap().events;
    let expected: Vec<u64> = all.iter().filter(|e| f.matches(&e.body)).map(|e| e.seq).collect();
    let got: Vec<u64> =
        store.query(&a, &f, Page { limit: 100, cursor: None }).await.unwrap().events.iter().map(|e| e.seq).collect();
    assert_eq!(got, expected);
    assert_eq!(got, [2]);
}

pub async fn paging_walks_every_event_once_while_events_arrive<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let base: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let stamp = |i: i64| (base + jiff::SignedDuration::from_secs(i / 3)).to_string();
    let first: Vec<PreparedEvent> = (0..250).map(|i| at("x.y", "u", &stamp(i))).collect();
    store.append(&a, first).await.unwrap();
    let mut seen = Vec::new();
    let mut page = Page { limit: 7, cursor: None };
    let mut round = 0;
    loop {
        let p = store.query(&a, &everything(), page).await.unwrap();
        seen.extend(p.events.iter().map(|e| e.seq));
        // Newer, older and same-instant events arrive between pages.
        let more: Vec<PreparedEvent> = (0..3).map(|k| at("x.y", "u", &stamp((round * 37 + k * 91) % 300))).collect();
        store.append(&a, more).await.unwrap();
        round += 1;
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    let unique: HashSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "an event was returned twice");
    assert_eq!(
        unique,
        (1..=250).collect::<HashSet<u64>>(),
        "the walk must return exactly the events present when it started"
    );
}

/// A filter whose matches are sparse and spread from minutes to years apart (a backend may look
/// in growing time windows): every page, walked by cursor at several sizes, and within time
/// bounds, holds exactly the matches, newest first.
pub async fn filtered_pages_find_matches_spread_over_years<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let base: Timestamp = "2021-01-01T00:00:00Z".parse().unwrap();
    // Gaps growing from a second to about a year, others' events in between.
    let mut events = Vec::new();
    let mut t = base;
    let mut expected = Vec::new();
    for i in 0..40u32 {
        t += jiff::SignedDuration::from_secs(1i64 << (i % 25));
        let who = if i % 3 == 0 { "rare" } else { "other" };
        events.push(at("x.y", who, &t.to_string()));
        if who == "rare" {
            expected.push(i as u64 + 1);
        }
    }
    events.reverse(); // arrival order is not time order
    store.append(&a, events).await.unwrap();
    // seq i+1 was appended in reverse: map each time-ordered index to its seq.
    let n = 40u64;
    let mut expected: Vec<u64> = expected.iter().map(|i| n + 1 - i).collect();
    expected.sort_by_key(|s| std::cmp::Reverse(n + 1 - s)); // newest (largest time index) first
    let rare = Filter { actors: vec!["rare".into()], ..everything() };
    for limit in [1, 2, 5, 50] {
        assert_eq!(all_seqs(&*store, &a, &rare, limit).await, expected, "pages of {limit}");
    }
    // Within bounds: only the matches inside.
    let from = base + jiff::SignedDuration::from_secs(1 << 20);
    let bounded = Filter { time: TimeBounds { from: Some(from), to: None }, ..rare.clone() };
    let inside: Vec<u64> = all_seqs(&*store, &a, &everything(), 100)
        .await
        .into_iter()
        .filter(|s| expected.contains(s))
        .collect::<Vec<_>>();
    let got = all_seqs(&*store, &a, &bounded, 3).await;
    assert!(!got.is_empty() && got.len() < inside.len(), "the bound must cut some matches: {got:?}");
    assert_eq!(got, inside[..got.len()].to_vec(), "the newest matches, in order");
}

pub async fn tenants_never_see_each_others_events<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let b = tenant(&*store, "beta").await;
    store.append(&a, vec![at("secret.a", "u1", "2026-01-01T00:00:00Z")]).await.unwrap();
    store
        .append(&b, vec![at("secret.b", "u1", "2026-01-01T00:00:00Z"), at("secret.b", "u1", "2026-01-01T00:00:01Z")])
        .await
        .unwrap();
    let pa = store.query(&a, &everything(), Page::default()).await.unwrap();
    assert_eq!(pa.events.len(), 1);
    assert!(pa.events.iter().all(|e| e.tenant == a && e.body.action.as_str() == "secret.a"));
    let pb = store.query(&b, &everything(), Page::default()).await.unwrap();
    assert_eq!(pb.events.len(), 2);
    assert!(pb.events.iter().all(|e| e.tenant == b));
    assert_eq!(store.event(&a, 2).await.unwrap(), None, "seq 2 exists only in beta");
}

pub async fn concurrent_appends_share_no_seq_and_leave_no_gap<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let b = tenant(&*store, "beta").await;
    let jobs = (0..40).map(|i| {
        let store = store.clone();
        let t = if i % 3 == 0 { b.clone() } else { a.clone() };
        async move {
            let batch = (0..25).map(|j| event(&format!(r#"{{"action":"load.test","id":"e{i}_{j}"}}"#))).collect();
            let receipt = store.append(&t, batch).await.unwrap();
            (t, receipt)
        }
    });
    let results = futures::future::join_all(jobs).await;
    for t in [&a, &b] {
        let mut seqs: Vec<u64> =
            results.iter().filter(|(rt, _)| rt == t).flat_map(|(_, r)| r.events.iter().map(|e| e.seq)).collect();
        seqs.sort();
        let n = seqs.len() as u64;
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "seqs of {t} must be 1..={n} exactly once");
        let mut stored = all_seqs(&*store, t, &everything(), 1000).await;
        stored.sort();
        assert_eq!(stored, seqs);
        assert_eq!(store.tenant(t).await.unwrap().unwrap().event_count, n);
    }
}

pub async fn settings_are_kept<S: Accounts + ?Sized>(store: Arc<S>) {
    assert_eq!(store.setting("operator_key_sha256").await.unwrap(), None);
    store.set_setting("operator_key_sha256", "abc").await.unwrap();
    store.set_setting("operator_key_sha256", "def").await.unwrap();
    assert_eq!(store.setting("operator_key_sha256").await.unwrap().as_deref(), Some("def"));
}

pub async fn context_and_search_filters_select_exactly<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let batch = vec![
        /* 1 */
        event(
            r#"{"action":"document.signed","occurred_at":"2026-01-01T10:00:00Z","description":"Asha Rao signed NDA 2026.pdf",
                 "actor":{"id":"u1","name":"Asha Rao","email":"asha@acme.example"},"targets":[{"type":"document","id":"doc_9","name":"NDA 2026.pdf"}],
                 "context":{"ip":"203.0.113.7","session_id":"s_1","location":{"country":"IN","city":"Bengaluru"}}}"#,
        ),
        /* 2 */
        event(
            r#"{"action":"document.rejected","occurred_at":"2026-01-02T10:00:00Z","description":"Ben rejected the NDA draft",
                 "actor":{"id":"u2","name":"Ben Khan"},"targets":[{"type":"folder","id":"doc_9"}],
                 "context":{"ip":"203.0.113.200","session_id":"s_2","location":{"country":"GB"}}}"#,
        ),
        /* 3 */
        event(
            r#"{"action":"panel.request","occurred_at":"2026-01-03T10:00:00Z","description":"GET /documents/doc_9/sign",
                 "context":{"ip":"2001:db8::1","session_id":"s_1","url":"/documents/doc_9/sign"}}"#,
        ),
        /* 4 */
        event(
            r#"{"action":"auth.login.failed","occurred_at":"2026-01-04T10:00:00Z","outcome":"failure","description":"signed in? no",
                 "context":{"ip":"198.51.100.1","location":{"country":"RU"}}}"#,
        ),
    ];
    store.append(&a, batch).await.unwrap();
    let q = |build: &dyn Fn(&mut Filter)| {
        let mut f = everything();
        build(&mut f);
        let (store, a) = (store.clone(), a.clone());
        async move {
            let mut v = all_seqs(&*store, &a, &f, 2).await;
            v.sort();
            v
        }
    };
    let search = |s: &str| trail_core::search::SearchQuery::parse(s).unwrap();
    assert_eq!(q(&|f| f.targets = vec![trail_core::filter::TargetRef::parse("doc_9").unwrap()]).await, [1, 2]);
    assert_eq!(q(&|f| f.targets = vec![trail_core::filter::TargetRef::parse("document:doc_9").unwrap()]).await, [1]);
    assert_eq!(q(&|f| f.ips = vec![trail_core::filter::parse_ip_filter("203.0.113.0/24").unwrap()]).await, [1, 2]);
    assert_eq!(q(&|f| f.ips = vec![trail_core::filter::parse_ip_filter("203.0.113.7").unwrap()]).await, [1]);
    assert_eq!(q(&|f| f.ips = vec![trail_core::filter::parse_ip_filter("2001:db8::/32").unwrap()]).await, [3]);
    assert_eq!(q(&|f| f.countries = vec!["GB".into(), "RU".into()]).await, [2, 4]);
    assert_eq!(q(&|f| f.sessions = vec!["s_1".into()]).await, [1, 3]);
    assert_eq!(q(&|f| f.q = Some(search("nda"))).await, [1, 2]);
    assert_eq!(q(&|f| f.q = Some(search("signed"))).await, [1, 4], "words match whole words: not \"sign\"");
    assert_eq!(q(&|f| f.q = Some(search("\"nda 2026\""))).await, [1]);
    assert_eq!(q(&|f| f.q = Some(search("NDA -rejected"))).await, [1]);
    assert_eq!(q(&|f| f.q = Some(search("asha@acme.example"))).await, [1]);
    assert_eq!(q(&|f| f.q = Some(search("doc_9"))).await, [1, 2, 3]);
    assert_eq!(q(&|f| f.q = Some(search("-action:document.* session:s_1"))).await, [3]);
    assert_eq!(
        q(&|f| f.q = Some(search("\"login failed\" country:ru outcome:failure"))).await,
        [4],
        "report type words are searchable"
    );
    assert_eq!(q(&|f| f.q = Some(search("ip:203.0.113.0/24 -target:folder:doc_9"))).await, [1]);
}

fn random_event(rng: &mut impl rand::Rng, i: usize) -> String {
    use rand::seq::IndexedRandom;
    let actions = [
        "document.signed",
        "document.rejected",
        "auth.login.failed",
        "auth.login.succeeded",
        "panel.request",
        "api.request",
        "link.viewed",
        "sms.sent",
    ];
    let words = ["nda", "contract", "signed", "invoice", "report", "q3", "lease", "draft", "final", "ndas"];
    let mut desc: Vec<&str> = (0..rng.random_range(0..6)).map(|_| *words.choose(rng).unwrap()).collect();
    // A phone number, which a reader who does not administer the tenant is shown masked.
    let phone = rng.random_bool(0.2).then(|| *["+447700900123", "+44 7700 900124"].choose(rng).unwrap());
    if let Some(p) = phone {
        desc.extend(["sms", "to", p]);
    }
    let mut e = serde_json::json!({
        "action": actions.choose(rng).unwrap(),
        "occurred_at": format!("2026-01-{:02}T{:02}:{:02}:00Z", rng.random_range(1..=28), rng.random_range(0..24), rng.random_range(0..60)),
        "outcome": if rng.random_bool(0.2) { "failure" } else { "success" },
        "description": desc.join(" "),
    });
    if rng.random_bool(0.8) {
        let n = rng.random_range(0..6);
        // Some products use the e-mail address as the user id: such an event matches an
        // e-mail filter by both its id and its e-mail, and must still come once.
        let id = if rng.random_bool(0.2) { format!("user{n}@x.example") } else { format!("u{n}") };
        e["actor"] =
            serde_json::json!({"id": id, "email": format!("user{n}@x.example"), "name": format!("User {}", words[n])});
    }
    if rng.random_bool(0.5) {
        let kind = *["document", "file"].choose(rng).unwrap();
        e["targets"] = serde_json::json!([{"type": kind, "id": format!("d{}", rng.random_range(0..5))}]);
    }
    if rng.random_bool(0.7) {
        let country = *["GB", "IN", "US"].choose(rng).unwrap();
        e["context"] = serde_json::json!({
            "ip": format!("10.{}.{}.{}", rng.random_range(0..3), rng.random_range(0..3), rng.random_range(0..4)),
            "session_id": format!("s{}", rng.random_range(0..8)),
            "location": {"country": country}
        });
    }
    if i.is_multiple_of(7) {
        e["id"] = format!("id{i}").into();
    }
    if let Some(p) = phone {
        e["metadata"] = serde_json::json!({"phone": p});
    }
    e.to_string()
}

fn random_filter(rng: &mut impl rand::Rng) -> Filter {
    use rand::seq::IndexedRandom;
    let mut f = everything();
    if rng.random_bool(0.3) {
        f.time = TimeBounds {
            from: Some(format!("2026-01-{:02}T00:00:00Z", rng.random_range(1..=14)).parse().unwrap()),
            to: Some(format!("2026-01-{:02}T00:00:00Z", rng.random_range(15..=28)).parse().unwrap()),
        };
    }
    if rng.random_bool(0.25) {
        f.actors = vec![format!("u{}", rng.random_range(0..6))];
        if rng.random_bool(0.3) {
            f.actors.push(format!("user{}@x.example", rng.random_range(0..6)));
        }
    }
    if rng.random_bool(0.25) {
        f.actions = vec![
            ActionPattern::parse(
                ["document.*", "auth.login.failed", "panel.request", "auth.*", "a*"].choose(rng).unwrap(),
            )
            .unwrap(),
        ];
    }
    if rng.random_bool(0.15) {
        f.outcomes = vec![trail_core::event::Outcome::Failure];
    }
    if rng.random_bool(0.2) {
        f.ips = vec![
            trail_core::filter::parse_ip_filter(["10.1.0.0/16", "10.0.2.3", "10.2.1.0/24"].choose(rng).unwrap())
                .unwrap(),
        ];
    }
    if rng.random_bool(0.15) {
        f.countries = vec![["GB", "IN", "US"].choose(rng).unwrap().to_string()];
    }
    if rng.random_bool(0.15) {
        f.sessions = vec![format!("s{}", rng.random_range(0..8))];
    }
    if rng.random_bool(0.15) {
        f.targets =
            vec![trail_core::filter::TargetRef::parse(["d1", "document:d2", "file:d0"].choose(rng).unwrap()).unwrap()];
    }
    if rng.random_bool(0.4) {
        let q = [
            "nda",
            "-draft",
            "\"nda contract\"",
            "signed -final",
            "user nda",
            "category:auth",
            "-country:gb",
            "report q3",
            "-action:panel.* lease",
            "ndas",
            "447700900123",
            "0123",
            "-447700900123",
            "withheld",
            "user1@x.example",
            "country:gb",
        ];
        let n = rng.random_range(1..=2);
        let text: Vec<&str> = (0..n).map(|_| *q.choose(rng).unwrap()).collect();
        f.q = Some(trail_core::search::SearchQuery::parse(&text.join(" ")).unwrap());
    }
    // A reader shown phones masked or link detail withheld: the filter matches what they see.
    f.redaction =
        trail_core::redaction::Redaction { mask_phones: rng.random_bool(0.3), hide_link_detail: rng.random_bool(0.3) };
    f
}

pub async fn random_filters_agree_with_the_reference<S: ExportReads + Accounts + ?Sized>(store: Arc<S>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261122);
    let a = tenant(&*store, "acme").await;
    let b = tenant(&*store, "beta").await;
    for (t, n) in [(&a, 700), (&b, 150)] {
        let events: Vec<PreparedEvent> = (0..n).map(|i| event(&random_event(&mut rng, i))).collect();
        for chunk in events.chunks(97) {
            store.append(t, chunk.to_vec()).await.unwrap();
        }
    }
    let all = all_events(&*store, &a).await;
    assert_eq!(all.len(), 700);
    // Large pages (a backend may read them differently: SQLite decodes them on two threads)
    // walk the same events in the same order as small ones.
    let one_by_one = all_seqs(&*store, &a, &everything(), 1).await;
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), one_by_one);
    assert_eq!(all_seqs(&*store, &a, &everything(), 256).await, one_by_one);
    for round in 0..300 {
        let f = random_filter(&mut rng);
        let expected: Vec<u64> = all.iter().filter(|e| f.matches(&e.body)).map(|e| e.seq).collect();
        let limit = if round % 4 == 0 { rng.random_range(256..300) } else { rng.random_range(1..40) };
        let got = all_seqs(&*store, &a, &f, limit).await;
        assert_eq!(got, expected, "round {round}: filter {f:?} with pages of {limit}");
        if round % 4 == 0 {
            // Counts (the timeline) agree with the matches, also for a redacted reader's filter.
            let days: Vec<jiff::Timestamp> =
                (1..=29).step_by(7).map(|d| format!("2026-01-{d:02}T00:00:00Z").parse().unwrap()).collect();
            let counted: Vec<u64> = days
                .windows(2)
                .map(|w| {
                    let day = |e: &&StoredEvent| e.body.occurred_at >= w[0] && e.body.occurred_at < w[1];
                    all.iter().filter(day).filter(|e| f.matches(&e.body)).count() as u64
                })
                .collect();
            assert_eq!(store.count_buckets(&a, &f, &days).await.unwrap(), counted, "round {round}: counts of {f:?}");
            // Reading only the activity fields (exports) finds the same events, whatever the
            // filter looks at (a session or a search needs fields the columns do not show).
            let page = Page { limit: 1000, cursor: None };
            let part = store.query_fields(&a, &f, page, Fields::Activity).await.unwrap();
            assert_eq!(part.events.iter().map(|e| e.seq).collect::<Vec<_>>(), expected, "round {round}: {f:?}");
            // Rows rendered by the store (exports of CSV and NDJSON): the same events, in the
            // same order, across pages, each rendered once and whole enough for its columns.
            let lines: Vec<String> = all
                .iter()
                .filter(|e| f.matches(&e.body))
                .map(|e| String::from_utf8(SeqActionTenant.line(e)).unwrap())
                .collect();
            let (large, small) = (rng.random_range(256..300), rng.random_range(1..40));
            for (limit, fields) in [(limit, Fields::Activity), (large, Fields::All), (small, Fields::All)] {
                let got = rendered_lines(&*store, &a, &f, limit, fields).await;
                assert_eq!(got, lines, "round {round}: {f:?}, rendered in pages of {limit}");
            }
        }
    }
}

/// Renders an event as `seq action tenant` on a line of its own.
struct SeqActionTenant;

impl SeqActionTenant {
    fn line(&self, e: &StoredEvent) -> Vec<u8> {
        format!("{} {} {}\n", e.seq, e.body.action, e.tenant).into_bytes()
    }
}

impl crate::RenderRow for SeqActionTenant {
    fn render(&self, event: &mut StoredEvent, out: &mut Vec<u8>) {
        out.extend(self.line(event));
    }
}

/// Every row `query_rendered` gives for `f`, a page of `limit` at a time, as lines.
async fn rendered_lines<S: ExportReads + ?Sized>(
    store: &S,
    t: &TenantId,
    f: &Filter,
    limit: usize,
    fields: Fields,
) -> Vec<String> {
    let render: Arc<dyn crate::RenderRow> = Arc::new(SeqActionTenant);
    let mut page = Page { limit, cursor: None };
    let mut lines = Vec::new();
    loop {
        let p = store.query_rendered(t, f, page, fields, render.clone()).await.unwrap();
        let before = lines.len();
        for (piece, n) in &p.pieces {
            let text = String::from_utf8(piece.clone()).unwrap();
            assert_eq!(text.lines().count() as u64, *n, "a piece's row count is its rows");
            lines.extend(text.lines().map(|l| format!("{l}\n")));
        }
        assert_eq!((lines.len() - before) as u64, p.rows(), "a page's row count is its rows");
        assert!(p.rows() <= limit as u64, "a page holds at most its limit");
        match p.next_cursor {
            Some(c) => {
                assert_eq!(p.rows(), limit as u64, "only a full page has a next one");
                page.cursor = Some(c);
            }
            None => return lines,
        }
    }
}

pub async fn events_after_follows_seq_order<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let b = tenant(&*store, "beta").await;
    store.append(&b, vec![at("b.one", "u", "2026-01-01T00:00:00Z")]).await.unwrap();
    let batch = (0..10).map(|i| at("x.y", "u", &format!("2026-01-{:02}T00:00:00Z", 20 - i))).collect();
    store.append(&a, batch).await.unwrap();
    let got = store.events_after(&a, 3, 4).await.unwrap();
    assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5, 6, 7]);
    assert!(got.iter().all(|e| e.tenant == a));
    assert_eq!(store.events_after(&a, 10, 100).await.unwrap().len(), 0);
    assert_eq!(store.events_after(&a, 0, 100).await.unwrap().len(), 10);
    assert_eq!(store.events_after(&b, 0, 100).await.unwrap().len(), 1);
}

/// Counts per interval against the events themselves, with edges on and off quarter hours
/// (a backend may count whole quarter hours from a rollup and the cut pieces row by row), with
/// and without a filter, before and after a purge whose cut is not on a quarter hour.
pub async fn timelines_count_exactly_at_any_edges_and_after_a_purge(store: Arc<dyn Store>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261201);
    let t = tenant(&*store, "acme").await;
    let other = tenant(&*store, "beta").await;
    let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let span_us: i64 = 3 * 86_400 * 1_000_000;
    let mut times = Vec::new();
    for _ in 0..4 {
        let batch: Vec<PreparedEvent> = (0..100)
            .map(|_| {
                // A third on a quarter hour exactly, the rest anywhere.
                let mut us = rng.random_range(0..span_us);
                if rng.random_bool(0.33) {
                    us -= us % 900_000_000;
                }
                let when = start + jiff::SignedDuration::from_micros(us);
                times.push(when);
                let who = if rng.random_bool(0.5) { "u1" } else { "u2" };
                at("x.y", who, &when.to_string())
            })
            .collect();
        store.append(&t, batch).await.unwrap();
    }
    store.append(&other, vec![at("x.y", "u1", "2026-01-02T00:00:00Z")]).await.unwrap();
    // The purge below cuts a quarter hour in two: events on both sides of the cut in it.
    let cut = start + jiff::SignedDuration::from_micros(span_us / 3 + 123_456_789);
    let around: Vec<Timestamp> = [-60_000_000, -1, 0, 1, 1_000_000, 60_000_000]
        .iter()
        .map(|&d| cut + jiff::SignedDuration::from_micros(d))
        .collect();
    times.extend(&around);
    store.append(&t, around.iter().map(|w| at("x.y", "u1", &w.to_string())).collect()).await.unwrap();
    // A link revoked early, and visits to it after the cut, which a link access purge removes.
    let link = |action: &str, when: Timestamp| {
        event(&format!(r#"{{"action":"{action}","occurred_at":"{when}","targets":[{{"type":"link","id":"lnk_t"}}]}}"#))
    };
    let visits: Vec<Timestamp> = (0..30)
        .map(|_| cut + jiff::SignedDuration::from_micros(rng.random_range(1..span_us - span_us / 3 - 123_456_789)))
        .collect();
    let mut linked =
        vec![link("link.created", start), link("link.revoked", start + jiff::SignedDuration::from_hours(1))];
    linked.extend(visits.iter().map(|&w| link("link.viewed", w)));
    store.append(&t, linked).await.unwrap();
    let edges = |rng: &mut rand::rngs::StdRng| -> Vec<Timestamp> {
        let mut e: Vec<i64> = (0..rng.random_range(2..9))
            .map(|_| {
                let us = rng.random_range(-3_600_000_000..span_us + 3_600_000_000);
                match rng.random_range(0..3) {
                    0 => us - us.rem_euclid(900_000_000),
                    1 => us - us.rem_euclid(86_400_000_000),
                    _ => us,
                }
            })
            .collect();
        e.sort_unstable();
        e.dedup();
        e.into_iter().map(|us| start + jiff::SignedDuration::from_micros(us)).collect()
    };
    let all = everything();
    let mut u1 = everything();
    u1.actors = vec!["u1".into()];
    for phase in ["before any purge", "after the retention purge", "after the link access purge"] {
        let events = all_events(&*store, &t).await;
        for round in 0..40 {
            let bounds = edges(&mut rng);
            if bounds.len() < 2 {
                continue;
            }
            let mut f = if round % 2 == 0 { all.clone() } else { u1.clone() };
            if round % 3 == 0 {
                let from = start + jiff::SignedDuration::from_micros(rng.random_range(0..span_us));
                f.time = TimeBounds { from: Some(from), to: None };
            }
            let expected: Vec<u64> = bounds
                .windows(2)
                .map(|w| {
                    events
                        .iter()
                        .filter(|e| f.matches(&e.body) && e.body.occurred_at >= w[0] && e.body.occurred_at < w[1])
                        .count() as u64
                })
                .collect();
            let got = store.count_buckets(&t, &f, &bounds).await.unwrap();
            assert_eq!(got, expected, "{phase}, round {round}, edges {bounds:?}, filter {f:?}");
        }
        if phase == "before any purge" {
            let rule = PurgeRule { before: Some(cut), link_access_ended_before: None };
            let report = store.purge(&t, &rule).await.unwrap();
            // The link's creation and revocation are before the cut too.
            assert_eq!(report.expired, times.iter().filter(|&&at| at < cut).count() as u64 + 2);
        } else if phase == "after the retention purge" {
            let rule =
                PurgeRule { before: None, link_access_ended_before: Some(start + jiff::SignedDuration::from_hours(2)) };
            let report = store.purge(&t, &rule).await.unwrap();
            assert_eq!(report.link_access, visits.len() as u64);
        }
    }
}

pub async fn buckets_count_matching_events<S: EventLog + Accounts + ?Sized>(store: Arc<S>) {
    let a = tenant(&*store, "acme").await;
    let batch = vec![
        at("x.a", "u1", "2026-01-01T00:00:00Z"),
        at("x.a", "u1", "2026-01-01T23:59:59.999999Z"),
        at("x.b", "u2", "2026-01-02T00:00:00Z"),
        at("x.a", "u2", "2026-01-03T12:00:00Z"),
        at("x.a", "u1", "2026-01-05T00:00:00Z"),
    ];
    store.append(&a, batch).await.unwrap();
    let days: Vec<Timestamp> = (1..=5).map(|d| format!("2026-01-{d:02}T00:00:00Z").parse().unwrap()).collect();
    assert_eq!(store.count_buckets(&a, &everything(), &days).await.unwrap(), [2, 1, 1, 0]);
    let mut f = everything();
    f.actors = vec!["u2".into()];
    assert_eq!(store.count_buckets(&a, &f, &days).await.unwrap(), [0, 1, 1, 0]);
    f.time = TimeBounds { from: Some("2026-01-03T00:00:00Z".parse().unwrap()), to: None };
    assert_eq!(store.count_buckets(&a, &f, &days).await.unwrap(), [0, 0, 1, 0]);
    assert_eq!(store.first_occurred_at(&a).await.unwrap(), Some("2026-01-01T00:00:00Z".parse().unwrap()));
}

pub async fn the_tree_is_the_rfc6962_tree_of_the_leaves<S: EventLog + Accounts + Tree + ?Sized>(store: Arc<S>) {
    use trail_core::merkle::{self, naive_root, verify_consistency, verify_inclusion};
    let a = tenant(&*store, "acme").await;
    let b = tenant(&*store, "beta").await;
    // Batches of many sizes (crossing 256-leaf tiles), with a duplicate that adds no leaf.
    let mut n = 0u64;
    for (k, size) in [1usize, 2, 300, 7, 256, 1, 600].into_iter().enumerate() {
        let batch: Vec<PreparedEvent> = (0..size)
            .map(|i| {
                event(&format!(
                    r#"{{"id":"e{k}-{i}","action":"x.y","actor":{{"name":"Asha {i}","email":"asha{i}@x.example"}},"description":"secret {k} {i}","context":{{"ip":"203.0.113.9"}}}}"#
                ))
            })
            .collect();
        n += size as u64;
        store.append(&a, batch).await.unwrap();
    }
    store.append(&a, vec![event(r#"{"id":"e0-0","action":"x.y","actor":{"name":"Asha 0","email":"asha0@x.example"},"description":"secret 0 0","context":{"ip":"203.0.113.9"}}"#)]).await.unwrap();
    store.append(&b, vec![event(r#"{"action":"other.tenant"}"#)]).await.unwrap();
    let mut leaves = Vec::new();
    for seq in 1..=n {
        let leaf = store.leaf_hash(&a, seq).await.unwrap().unwrap_or_else(|| panic!("leaf {seq}"));
        let data = store.leaf_data(&a, seq).await.unwrap().unwrap();
        assert_eq!(merkle::leaf_hash(&data), leaf, "leaf {seq} is the hash of its data");
        if seq % 97 == 1 {
            let text = String::from_utf8(data).unwrap();
            assert!(text.contains(&format!(r#","seq":{seq},"#)) && text.ends_with(r#","tenant":"acme"}"#), "{text}");
            assert!(
                !text.contains("Asha")
                    && !text.contains("asha")
                    && !text.contains("secret")
                    && !text.contains("203.0.113"),
                "personal values are committed, not shown: {text}"
            );
        }
        leaves.push(leaf);
    }
    assert!(store.leaf_hash(&a, n + 1).await.unwrap().is_none());
    for size in [1, 2, 3, 255, 256, 257, 512, 513, 1000, n] {
        let root = store.tree_root(&a, size).await.unwrap();
        assert_eq!(root, naive_root(&leaves[..size as usize]), "root of {size}");
    }
    let vecs = |p: Vec<merkle::Hash>| p.iter().map(|h| h.to_vec()).collect::<Vec<_>>();
    for (seq, size) in [(1, 1), (1, n), (n, n), (256, 257), (300, 1000), (777, 900)] {
        let proof = store.inclusion_proof(&a, seq, size).await.unwrap();
        let root = store.tree_root(&a, size).await.unwrap();
        verify_inclusion(seq - 1, size, &leaves[seq as usize - 1], &vecs(proof), &root).unwrap();
    }
    for (from, to) in [(1, 2), (3, 300), (256, 1000), (300, n), (n, n)] {
        let proof = store.consistency_proof(&a, from, to).await.unwrap();
        let (r1, r2) = (store.tree_root(&a, from).await.unwrap(), store.tree_root(&a, to).await.unwrap());
        verify_consistency(from, to, &vecs(proof), &r1, &r2).unwrap();
    }
    assert!(matches!(store.tree_root(&a, n + 1).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.inclusion_proof(&a, 5, 4).await, Err(StoreError::NotFound(_))));
    // Each tenant has a tree of its own.
    assert_eq!(store.tree_root(&b, 1).await.unwrap(), store.leaf_hash(&b, 1).await.unwrap().unwrap());
}

pub async fn checkpoints_are_kept<S: EventLog + Accounts + Tree + ?Sized>(store: Arc<S>) {
    use crate::StoredCheckpoint;
    let a = tenant(&*store, "acme").await;
    assert!(store.latest_checkpoint(&a).await.unwrap().is_none());
    let at = now();
    let cp =
        |size: u64| StoredCheckpoint { size, root: [size as u8; 32], note: format!("note {size}\n"), created_at: at };
    store.add_checkpoint(&a, cp(3)).await.unwrap();
    store.add_checkpoint(&a, cp(9)).await.unwrap();
    store.add_checkpoint(&a, cp(5)).await.unwrap();
    store.add_checkpoint(&a, cp(9)).await.unwrap();
    assert_eq!(store.latest_checkpoint(&a).await.unwrap(), Some(cp(9)));
}

pub async fn members_are_kept_per_tenant_and_sessions_end_with_them<S: Accounts + ?Sized>(store: Arc<S>) {
    use trail_core::ids::Role;
    let a = tenant(&*store, "acme").await;
    let b = tenant(&*store, "beta").await;
    let new = |id: &str, email: &str, role| NewMember {
        id: id.into(),
        email: email.into(),
        name: format!("Name {id}"),
        role,
        actor_id: None,
        password_hash: format!("hash-{id}"),
    };
    let m1 = store.create_member(&a, new("mem_1", "Asha@Acme.example", Role::Admin)).await.unwrap();
    assert_eq!((m1.tenant.as_str(), m1.role), ("acme", Role::Admin));
    store.create_member(&a, new("mem_2", "bo@acme.example", Role::Member)).await.unwrap();
    // The same e-mail in another tenant is another member; in the same tenant, a conflict
    // whatever its case.
    store.create_member(&b, new("mem_3", "asha@acme.example", Role::Owner)).await.unwrap();
    assert!(matches!(
        store.create_member(&a, new("mem_4", "ASHA@acme.example", Role::Manager)).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let listed = store.members(&a).await.unwrap();
    assert_eq!(listed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["mem_1", "mem_2"]);
    let (found, hash) = store.member_login(&a, "asha@ACME.example").await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), hash.as_str()), ("mem_1", "hash-mem_1"));
    assert!(store.member_login(&a, "nobody@acme.example").await.unwrap().is_none());
    assert!(store.member(&b, "mem_1").await.unwrap().is_none(), "another tenant's member is not found");

    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let session = |token: u8, member: &str, tenant: &TenantId| Session {
        id_hash: [token; 32],
        tenant: tenant.clone(),
        member_id: Some(member.into()),
        role: Role::Member,
        actor_id: Some("u_2".into()),
        email: Some("bo@acme.example".into()),
        name: "Bo".into(),
        csrf: "csrf-token".into(),
        expires_at: expires,
    };
    store.create_session(session(1, "mem_2", &a)).await.unwrap();
    store.create_session(session(2, "mem_2", &a)).await.unwrap();
    let mut expired = session(3, "mem_2", &a);
    expired.expires_at = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1);
    store.create_session(expired).await.unwrap();
    let want = session(1, "mem_2", &a);
    let got = store.session(&[1; 32]).await.unwrap().expect("the session is found");
    assert_eq!(got.expires_at.as_microsecond(), want.expires_at.as_microsecond());
    assert_eq!(Session { expires_at: want.expires_at, ..got }, want);
    assert!(store.session(&[3; 32]).await.unwrap().is_none(), "an expired session is no session");
    store.delete_session(&[1; 32]).await.unwrap();
    assert!(store.session(&[1; 32]).await.unwrap().is_none());

    // A changed role ends the member's sessions; so does removing the member.
    let changed = store
        .update_member(&a, "mem_2", MemberPatch { role: Some(Role::Manager), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(changed.role, Role::Manager);
    assert!(store.session(&[2; 32]).await.unwrap().is_none());
    store.create_session(session(4, "mem_2", &a)).await.unwrap();
    assert!(matches!(store.delete_member(&b, "mem_2").await, Err(StoreError::NotFound(_))));
    store.delete_member(&a, "mem_2").await.unwrap();
    assert!(store.session(&[4; 32]).await.unwrap().is_none());
    assert!(store.member(&a, "mem_2").await.unwrap().is_none());
}

pub async fn actors_and_actions_are_rolled_up_per_tenant(store: Arc<dyn Store>) {
    let t = tenant(&*store, "rollups").await;
    let other = tenant(&*store, "rollups-other").await;
    let batch = vec![
        event(
            r#"{"action":"auth.login.succeeded","occurred_at":"2026-01-02T10:00:00Z","actor":{"id":"u_1","name":"Old Name","email":"a@example.com"}}"#,
        ),
        event(
            r#"{"action":"file.uploaded","occurred_at":"2026-01-05T10:00:00Z","actor":{"id":"u_1","name":"New Name"}}"#,
        ),
        event(
            r#"{"action":"auth.login.failed","occurred_at":"2026-01-03T10:00:00Z","actor":{"email":"b@example.com"}}"#,
        ),
        event(r#"{"action":"file.uploaded","occurred_at":"2026-01-04T10:00:00Z"}"#),
    ];
    store.append(&t, batch).await.unwrap();
    // An older event arriving later changes counts and first-seen, not the newer name.
    store
        .append(&t, vec![
            event(r#"{"action":"file.uploaded","occurred_at":"2026-01-01T10:00:00Z","actor":{"id":"u_1","name":"Ancient"}}"#),
            event(r#"{"id":"once","action":"auth.logout","occurred_at":"2026-01-06T10:00:00Z","actor":{"id":"u_2"}}"#),
        ])
        .await
        .unwrap();
    // A duplicate adds nothing.
    store
        .append(
            &t,
            vec![event(
                r#"{"id":"once","action":"auth.logout","occurred_at":"2026-01-06T10:00:00Z","actor":{"id":"u_2"}}"#,
            )],
        )
        .await
        .unwrap();
    store.append(&other, vec![event(r#"{"action":"x.y","actor":{"id":"u_9"}}"#)]).await.unwrap();

    let actors = store.actors(&t, &RecentPage::first(10)).await.unwrap();
    let keys: Vec<&str> = actors.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["u_2", "u_1", "b@example.com"], "most recently active first");
    let u1 = &actors[1];
    assert_eq!(u1.actor_id.as_deref(), Some("u_1"));
    assert_eq!(u1.name.as_deref(), Some("New Name"));
    assert_eq!(u1.email.as_deref(), Some("a@example.com"));
    assert_eq!(u1.event_count, 3);
    assert_eq!(u1.first_seen_at, "2026-01-01T10:00:00Z".parse::<Timestamp>().unwrap());
    assert_eq!(u1.last_seen_at, "2026-01-05T10:00:00Z".parse::<Timestamp>().unwrap());
    assert_eq!(u1.last_login_at, Some("2026-01-02T10:00:00Z".parse::<Timestamp>().unwrap()));
    assert_eq!(actors[0].event_count, 1);
    assert_eq!(actors[2].actor_id, None);
    assert_eq!(actors[2].last_login_at, None);
    assert_eq!(store.actors(&t, &RecentPage::first(1)).await.unwrap().len(), 1);

    let actions: Vec<(String, u64)> =
        store.actions(&t).await.unwrap().into_iter().map(|a| (a.action, a.event_count)).collect();
    assert_eq!(
        actions,
        [
            ("auth.login.failed".to_string(), 1),
            ("auth.login.succeeded".to_string(), 1),
            ("auth.logout".to_string(), 1),
            ("file.uploaded".to_string(), 3)
        ]
    );
    let theirs = store.actors(&other, &RecentPage::first(10)).await.unwrap();
    assert_eq!(theirs.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["u_9"]);
}

pub async fn login_usage_and_link_rollups_follow_their_events(store: Arc<dyn Store>) {
    let t = tenant(&*store, "domain").await;
    let other = tenant(&*store, "domain-other").await;
    let ts = |s: &str| s.parse::<Timestamp>().unwrap();
    store
        .append(&t, vec![
            event(
                r#"{"action":"auth.login.failed","occurred_at":"2026-01-02T10:00:00Z","actor":{"id":"u_1","email":"a@example.com"},"context":{"ip":"203.0.113.9"}}"#,
            ),
            event(
                r#"{"action":"auth.login.succeeded","occurred_at":"2026-01-03T10:00:00Z","actor":{"id":"u_1","name":"Asha"},"context":{"ip":"203.0.113.7","location":{"country":"IN","city":"Bengaluru"}}}"#,
            ),
            event(r#"{"action":"file.uploaded","occurred_at":"2026-01-03T11:00:00Z","actor":{"id":"u_1"},"metadata":{"size_bytes":1000}}"#),
            event(r#"{"action":"file.uploaded","occurred_at":"2026-01-03T12:00:00Z","actor":{"id":"u_1"},"metadata":{"size_bytes":500}}"#),
            event(r#"{"action":"file.downloaded","occurred_at":"2026-01-03T13:00:00Z","actor":{"id":"u_1"}}"#),
            event(
                r#"{"action":"link.created","occurred_at":"2026-01-04T10:00:00Z","actor":{"email":"a@example.com"},"targets":[{"type":"link","id":"lnk_1","name":"Q1 pack"},{"type":"file","id":"f_1","name":"q1.pdf"}],"metadata":{"expires_at":"2026-02-01T00:00:00Z","require_email":true}}"#,
            ),
            event(r#"{"action":"link.viewed","occurred_at":"2026-01-05T10:00:00Z","actor":{"email":"v@example.org"},"targets":[{"type":"link","id":"lnk_1"}]}"#),
            event(r#"{"action":"link.saved","occurred_at":"2026-01-05T10:01:00Z","targets":[{"type":"link","id":"lnk_1"},{"type":"file","id":"f_1","name":"q1.pdf"}]}"#),
            event(r#"{"action":"link.viewed","occurred_at":"2026-01-05T10:02:00Z","targets":[{"type":"link","id":"lnk_1"}]}"#),
        ])
        .await
        .unwrap();
    // Later batches: an older failure (does not replace the latest attempt), a delete, the
    // link revoked then reported expired (the first ending stays), a duplicate that adds nothing.
    store
        .append(&t, vec![
            event(r#"{"action":"auth.login.failed","occurred_at":"2026-01-01T10:00:00Z","actor":{"id":"u_1"},"context":{"ip":"198.51.100.1"}}"#),
            event(r#"{"id":"del","action":"file.deleted","occurred_at":"2026-01-06T10:00:00Z","actor":{"id":"u_1"},"metadata":{"size_bytes":1000}}"#),
            event(r#"{"action":"link.revoked","occurred_at":"2026-01-07T10:00:00Z","targets":[{"type":"link","id":"lnk_1"}]}"#),
        ])
        .await
        .unwrap();
    store
        .append(&t, vec![
            event(r#"{"id":"del","action":"file.deleted","occurred_at":"2026-01-06T10:00:00Z","actor":{"id":"u_1"},"metadata":{"size_bytes":1000}}"#),
            event(r#"{"action":"link.expired","occurred_at":"2026-01-08T10:00:00Z","targets":[{"type":"link","id":"lnk_1"}]}"#),
        ])
        .await
        .unwrap();
    store.append(&other, vec![event(r#"{"action":"file.uploaded","actor":{"id":"u_9"}}"#)]).await.unwrap();

    let logins = store.logins(&t, &RecentPage::first(10)).await.unwrap();
    assert_eq!(logins.len(), 1);
    let l = &logins[0];
    assert_eq!((l.key.as_str(), l.name.as_deref(), l.email.as_deref()), ("u_1", Some("Asha"), Some("a@example.com")));
    assert!(l.last_succeeded);
    assert_eq!(l.last_attempt_at, ts("2026-01-03T10:00:00Z"));
    assert_eq!(l.last_success_at, Some(ts("2026-01-03T10:00:00Z")));
    assert_eq!(l.last_failure_at, Some(ts("2026-01-02T10:00:00Z")));
    assert_eq!(l.failed_total, 2);
    assert_eq!(
        (l.ip.as_deref(), l.country.as_deref(), l.city.as_deref()),
        (Some("203.0.113.7"), Some("IN"), Some("Bengaluru"))
    );

    let usage = store.usage(&t, &RecentPage::first(10)).await.unwrap();
    assert_eq!(usage.len(), 1);
    let u = &usage[0];
    assert_eq!((u.uploads, u.downloads, u.deletes, u.files, u.storage_bytes), (2, 1, 1, 1, 500));
    assert_eq!(u.last_activity_at, ts("2026-01-06T10:00:00Z"));

    let links = store.links(&t, &RecentPage::first(10)).await.unwrap();
    assert_eq!(links.len(), 1);
    let k = &links[0];
    assert_eq!((k.key.as_str(), k.name.as_deref(), k.file_name.as_deref()), ("lnk_1", Some("Q1 pack"), Some("q1.pdf")));
    assert_eq!((k.views, k.saves, k.state.as_str()), (2, 1, "revoked"));
    assert_eq!(k.created_by.as_deref(), Some("a@example.com"));
    assert_eq!(k.created_at, Some(ts("2026-01-04T10:00:00Z")));
    assert_eq!(k.expires_at.as_deref(), Some("2026-02-01T00:00:00Z"));
    assert!(k.require_email);
    assert_eq!(k.ended_at, Some(ts("2026-01-07T10:00:00Z")));
    assert_eq!(k.last_activity_at, ts("2026-01-08T10:00:00Z"));

    assert_eq!(store.usage(&other, &RecentPage::first(10)).await.unwrap()[0].key, "u_9");
    assert!(store.links(&other, &RecentPage::first(10)).await.unwrap().is_empty());
    assert!(store.logins(&other, &RecentPage::first(10)).await.unwrap().is_empty());
}

pub async fn rollup_pages_walk_by_latest_activity(store: Arc<dyn Store>) {
    let t = tenant(&*store, "pages").await;
    // Seven people, one upload each a day apart; two share a time (ties go by key).
    let days = ["01", "02", "03", "03", "04", "05", "06"];
    let batch = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            event(&format!(
                r#"{{"action":"file.uploaded","occurred_at":"2026-01-{d}T10:00:00Z","actor":{{"id":"u_{i}","email":"p{i}@example.com"}}}}"#
            ))
        })
        .collect();
    store.append(&t, batch).await.unwrap();
    let mut page = RecentPage::first(2);
    let mut seen = Vec::new();
    loop {
        let rows = store.usage(&t, &page).await.unwrap();
        if rows.is_empty() {
            break;
        }
        assert!(rows.len() <= 2);
        let last = rows.last().unwrap();
        page.after = Some((last.last_activity_at, last.key.clone()));
        seen.extend(rows.into_iter().map(|r| r.key));
    }
    assert_eq!(seen, ["u_6", "u_5", "u_4", "u_2", "u_3", "u_1", "u_0"]);
    let since = RecentPage { since: Some("2026-01-04T00:00:00Z".parse().unwrap()), ..RecentPage::first(10) };
    let keys = |rows: Vec<crate::UsageSummary>| rows.into_iter().map(|r| r.key).collect::<Vec<_>>();
    assert_eq!(keys(store.usage(&t, &since).await.unwrap()), ["u_6", "u_5", "u_4"]);
    let only =
        RecentPage { only: vec!["u_1".into(), "p5@example.com".into(), "nobody".into()], ..RecentPage::first(10) };
    assert_eq!(keys(store.usage(&t, &only).await.unwrap()), ["u_5", "u_1"]);
    let people = store.actors(&t, &only).await.unwrap();
    assert_eq!(people.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(), ["u_5", "u_1"]);
}

pub async fn closed_ranges_list_rows_by_their_latest_activity_in_the_range(store: Arc<dyn Store>) {
    let t = tenant(&*store, "active").await;
    let other = tenant(&*store, "active-other").await;
    let ts = |s: &str| s.parse::<Timestamp>().unwrap();
    // u_a: in the range twice and after it; u_b: once in it; u_c: only before; u_d: only after;
    // u_e: in it, at the same instant as u_b (ties go by key).
    let at = |who: &str, when: &str| {
        event(&format!(r#"{{"action":"file.uploaded","occurred_at":"{when}","actor":{{"id":"{who}"}}}}"#))
    };
    store
        .append(
            &t,
            vec![
                at("u_a", "2026-01-02T01:00:00Z"),
                at("u_a", "2026-01-02T05:00:00Z"),
                at("u_a", "2026-01-03T05:00:00Z"),
                at("u_b", "2026-01-02T03:00:00Z"),
                at("u_c", "2026-01-01T23:59:59Z"),
                at("u_d", "2026-01-03T00:00:00Z"),
            ],
        )
        .await
        .unwrap();
    store.append(&t, vec![at("u_e", "2026-01-02T03:00:00Z")]).await.unwrap();
    store.append(&other, vec![at("u_x", "2026-01-02T03:00:00Z")]).await.unwrap();
    let (from, to) = (ts("2026-01-02T00:00:00Z"), ts("2026-01-03T00:00:00Z"));
    let all = store.active_in(&t, RollupKind::Usage, from, to, None, 10).await.unwrap();
    let want = vec![
        (ts("2026-01-02T05:00:00Z"), "u_a".to_string()),
        (ts("2026-01-02T03:00:00Z"), "u_b".to_string()),
        (ts("2026-01-02T03:00:00Z"), "u_e".to_string()),
    ];
    assert_eq!(all, want);
    // Page by page, each row once.
    let mut after = None;
    let mut walked = Vec::new();
    loop {
        let page = store.active_in(&t, RollupKind::Usage, from, to, after.clone(), 1).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.clone());
        walked.extend(page);
    }
    assert_eq!(walked, want);
    assert!(store.active_in(&t, RollupKind::Logins, from, to, None, 10).await.unwrap().is_empty());
    assert_eq!(store.active_in(&other, RollupKind::Usage, from, to, None, 10).await.unwrap().len(), 1);
}

pub async fn purges_remove_exactly_what_the_rule_selects(store: Arc<dyn Store>) {
    let t = tenant(&*store, "purge").await;
    let other = tenant(&*store, "purge-other").await;
    let ts = |s: &str| s.parse::<Timestamp>().unwrap();
    let at = |day: u32, who: &str| {
        event(&format!(
            r#"{{"action":"file.uploaded","occurred_at":"2026-01-{day:02}T10:00:00Z","actor":{{"id":"{who}"}}}}"#
        ))
    };
    store.append(&t, vec![at(1, "u_old"), at(2, "u_both"), at(5, "u_both"), at(6, "u_new")]).await.unwrap();
    store.append(&other, vec![at(1, "u_x")]).await.unwrap();
    let rule = PurgeRule { before: Some(ts("2026-01-03T00:00:00Z")), link_access_ended_before: None };
    let report = store.purge(&t, &rule).await.unwrap();
    assert_eq!((report.expired, report.link_access), (2, 0));
    assert_eq!(report.rollup_rows, 2, "u_old's actor and usage rows");
    let all = Filter { time: TimeBounds::default(), ..Filter::default() };
    let left: Vec<u64> =
        store.query(&t, &all, Page { limit: 10, cursor: None }).await.unwrap().events.iter().map(|e| e.seq).collect();
    assert_eq!(left, [4, 3]);
    assert!(store.event(&t, 1).await.unwrap().is_none());
    let bounds = [ts("2026-01-01T00:00:00Z"), ts("2026-01-04T00:00:00Z"), ts("2026-01-10T00:00:00Z")];
    assert_eq!(store.count_buckets(&t, &all, &bounds).await.unwrap(), [0, 2]);
    let uploads = Filter { actions: vec![ActionPattern::Exact("file.uploaded".into())], ..all.clone() };
    assert_eq!(store.count_buckets(&t, &uploads, &bounds).await.unwrap(), [0, 2]);
    let people: Vec<String> =
        store.actors(&t, &RecentPage::first(10)).await.unwrap().into_iter().map(|a| a.key).collect();
    assert_eq!(people, ["u_new", "u_both"]);
    // The tree still holds every leaf.
    assert!(store.leaf_hash(&t, 1).await.unwrap().is_some());
    // Again: nothing more; the other tenant untouched.
    assert_eq!(store.purge(&t, &rule).await.unwrap().removed(), 0);
    assert!(store.event(&other, 1).await.unwrap().is_some());
    // New events after a purge get the next seq.
    let r = store.append(&t, vec![at(7, "u_new")]).await.unwrap();
    assert_eq!(r.events[0].seq, 5);
}

/// A login attempt, a file event or anything else by `actor` (JSON of an actor object) at `when`.
fn by(action: &str, actor: &str, when: &str) -> PreparedEvent {
    event(&format!(
        r#"{{"action":"{action}","occurred_at":"{when}","actor":{actor},"context":{{"ip":"203.0.113.9"}}}}"#
    ))
}

/// Regression (one person counted as two): failed sign-ins that name only the e-mail typed and
/// the application's events that name the id and the same e-mail were two rows of the login,
/// users and usage reports. Once an event pairs the e-mail with the id, the rows kept under the
/// e-mail are merged into the id's, and later e-mail-only events fold into it.
pub async fn an_email_linked_to_an_id_is_one_person_in_the_login_rollup(store: Arc<dyn Store>) {
    let t = tenant(&*store, "one-person").await;
    let ts = |s: &str| s.parse::<Timestamp>().unwrap();
    let email_only = r#"{"email":"ben.khan@example.com"}"#;
    store
        .append(
            &t,
            vec![
                by("auth.login.failed", email_only, "2026-01-02T10:00:00Z"),
                by("auth.login.failed", email_only, "2026-01-02T10:01:00Z"),
                by("file.downloaded", email_only, "2026-01-02T10:02:00Z"),
            ],
        )
        .await
        .unwrap();
    store
        .append(
            &t,
            vec![by(
                "auth.login.succeeded",
                r#"{"id":"u_1002","name":"Ben Khan","email":"ben.khan@example.com"}"#,
                "2026-01-03T10:00:00Z",
            )],
        )
        .await
        .unwrap();
    // Later attempts by e-mail alone, one spelt in another case, fold into the same row.
    store
        .append(
            &t,
            vec![
                by("auth.login.failed", r#"{"email":"Ben.Khan@example.com"}"#, "2026-01-04T10:00:00Z"),
                by("file.uploaded", email_only, "2026-01-04T11:00:00Z"),
            ],
        )
        .await
        .unwrap();

    let logins = store.logins(&t, &RecentPage::first(10)).await.unwrap();
    assert_eq!(logins.iter().map(|l| l.key.as_str()).collect::<Vec<_>>(), ["u_1002"], "one person, one row");
    let l = &logins[0];
    assert_eq!((l.actor_id.as_deref(), l.name.as_deref()), (Some("u_1002"), Some("Ben Khan")));
    assert_eq!(l.failed_total, 3);
    assert!(!l.last_succeeded);
    assert_eq!(l.last_attempt_at, ts("2026-01-04T10:00:00Z"));
    assert_eq!(l.last_success_at, Some(ts("2026-01-03T10:00:00Z")));

    let actors = store.actors(&t, &RecentPage::first(10)).await.unwrap();
    assert_eq!(actors.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["u_1002"]);
    assert_eq!(actors[0].event_count, 6);
    assert_eq!(actors[0].first_seen_at, ts("2026-01-02T10:00:00Z"));
    assert_eq!(actors[0].name.as_deref(), Some("Ben Khan"));

    let usage = store.usage(&t, &RecentPage::first(10)).await.unwrap();
    assert_eq!(usage.iter().map(|u| u.key.as_str()).collect::<Vec<_>>(), ["u_1002"]);
    assert_eq!((usage[0].uploads, usage[0].downloads), (1, 1));

    // The activity buckets name the person once too.
    let (from, to) = (ts("2026-01-01T00:00:00Z"), ts("2026-01-05T00:00:00Z"));
    let active = store.active_in(&t, RollupKind::Logins, from, to, None, 10).await.unwrap();
    assert_eq!(active, [(ts("2026-01-04T10:00:00Z"), "u_1002".to_string())]);
    let active = store.active_in(&t, RollupKind::Usage, from, to, None, 10).await.unwrap();
    assert_eq!(active, [(ts("2026-01-04T11:00:00Z"), "u_1002".to_string())]);
}

/// The same person whether the id arrives before or after the e-mail-only events, and an e-mail
/// nobody paired with an id stays a person of its own.
pub async fn an_email_linked_to_an_id_is_one_person_whichever_comes_first(store: Arc<dyn Store>) {
    let t = tenant(&*store, "id-first").await;
    store
        .append(&t, vec![by("file.uploaded", r#"{"id":"u_7","email":"ann@example.com"}"#, "2026-01-01T10:00:00Z")])
        .await
        .unwrap();
    store
        .append(
            &t,
            vec![
                by("auth.login.failed", r#"{"email":"ann@example.com"}"#, "2026-01-02T10:00:00Z"),
                by("auth.login.failed", r#"{"email":"ann@example.com"}"#, "2026-01-02T11:00:00Z"),
                by("file.deleted", r#"{"email":"ann@example.com"}"#, "2026-01-02T12:00:00Z"),
                by("auth.login.failed", r#"{"email":"eve@example.com"}"#, "2026-01-02T13:00:00Z"),
            ],
        )
        .await
        .unwrap();
    let logins = store.logins(&t, &RecentPage::first(10)).await.unwrap();
    let rows: Vec<(&str, Option<&str>, u64)> =
        logins.iter().map(|l| (l.key.as_str(), l.actor_id.as_deref(), l.failed_total)).collect();
    assert_eq!(rows, [("eve@example.com", None, 1), ("u_7", Some("u_7"), 2)]);
    let actors = store.actors(&t, &RecentPage::first(10)).await.unwrap();
    let rows: Vec<(&str, u64)> = actors.iter().map(|a| (a.key.as_str(), a.event_count)).collect();
    assert_eq!(rows, [("eve@example.com", 1), ("u_7", 4)]);
    let usage = store.usage(&t, &RecentPage::first(10)).await.unwrap();
    let rows: Vec<(&str, u64, u64)> = usage.iter().map(|u| (u.key.as_str(), u.uploads, u.deletes)).collect();
    assert_eq!(rows, [("u_7", 1, 1)]);
}

/// E-mail-only events and the event that links the e-mail, in one batch (any order).
pub async fn an_email_linked_in_the_same_batch_is_one_person(store: Arc<dyn Store>) {
    let t = tenant(&*store, "same-batch").await;
    store
        .append(
            &t,
            vec![
                by("auth.login.failed", r#"{"email":"raj@example.com"}"#, "2026-01-02T10:00:00Z"),
                by("auth.login.succeeded", r#"{"id":"u_3","email":"raj@example.com"}"#, "2026-01-01T10:00:00Z"),
                by("file.uploaded", r#"{"email":"raj@example.com"}"#, "2026-01-03T10:00:00Z"),
            ],
        )
        .await
        .unwrap();
    let logins = store.logins(&t, &RecentPage::first(10)).await.unwrap();
    assert_eq!(logins.iter().map(|l| (l.key.as_str(), l.failed_total)).collect::<Vec<_>>(), [("u_3", 1)]);
    let actors = store.actors(&t, &RecentPage::first(10)).await.unwrap();
    assert_eq!(actors.iter().map(|a| (a.key.as_str(), a.event_count)).collect::<Vec<_>>(), [("u_3", 3)]);
    let usage = store.usage(&t, &RecentPage::first(10)).await.unwrap();
    assert_eq!(
        usage.iter().map(|u| (u.key.as_str(), u.actor_id.as_deref())).collect::<Vec<_>>(),
        [("u_3", Some("u_3"))]
    );
}

/// `Store::person` with `value` as an id or an e-mail, as the `actor` filter asks.
async fn either(store: &dyn Store, t: &TenantId, value: &str) -> crate::identity::Person {
    store.person(t, &[value.to_string()], &[value.to_string()]).await.unwrap()
}

/// `Store::person`: an id gives every spelling of the e-mails linked to it, an e-mail (in any
/// case) gives the id it is linked to and its spellings; an e-mail that moved to another id
/// belongs to the latest pairing; nothing crosses tenants.
pub async fn person_finds_every_identifier_of_a_person(store: Arc<dyn Store>) {
    let t = tenant(&*store, "person").await;
    let other = tenant(&*store, "person-other").await;
    store
        .append(
            &t,
            vec![
                by("auth.login.failed", r#"{"email":"Ben.Khan@example.com"}"#, "2026-01-01T10:00:00Z"),
                by("auth.login.succeeded", r#"{"id":"u_1","email":"ben.khan@example.com"}"#, "2026-01-02T10:00:00Z"),
                by("x.y", r#"{"id":"u_1","email":"ben@personal.example"}"#, "2026-01-02T11:00:00Z"),
                by("x.y", r#"{"id":"u_2","email":"shared@example.com"}"#, "2026-01-02T10:00:00Z"),
            ],
        )
        .await
        .unwrap();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let p = either(&*store, &t, "u_1").await;
    assert_eq!(p.ids, ["u_1"]);
    assert_eq!(sorted(p.emails), ["Ben.Khan@example.com", "ben.khan@example.com", "ben@personal.example"]);
    let p = either(&*store, &t, "BEN.KHAN@example.com").await;
    assert_eq!(p.ids, ["u_1"]);
    assert_eq!(sorted(p.emails), ["Ben.Khan@example.com", "ben.khan@example.com", "ben@personal.example"]);
    assert_eq!(either(&*store, &t, "nobody@example.com").await, Default::default());
    assert_eq!(either(&*store, &other, "u_1").await, Default::default());

    // The e-mail moves to u_3 (a later pairing); an older pairing arriving late does not undo it.
    store
        .append(
            &t,
            vec![
                by("x.y", r#"{"id":"u_3","email":"shared@example.com"}"#, "2026-01-05T10:00:00Z"),
                by("x.y", r#"{"id":"u_4","email":"shared@example.com"}"#, "2026-01-01T10:00:00Z"),
            ],
        )
        .await
        .unwrap();
    let p = either(&*store, &t, "shared@example.com").await;
    assert_eq!(p.ids, ["u_3"]);
    // Given as an id only, a value that reads like a linked e-mail finds nobody.
    let as_id = store.person(&t, &["shared@example.com".to_string()], &[]).await.unwrap();
    assert_eq!(as_id, Default::default());
    assert!(either(&*store, &t, "u_2").await.emails.is_empty());
}

// Erasure (`Store::erase`): the application layer erases a person a page at a time (an
// `ErasureRequest` of one page's events each), then their identifiers in one last request; an
// interrupted erasure is finished by running it again. These cases hold every backend to what
// that needs: chunks add up to one request, a second request changes nothing, the values are
// gone from every read, the tree is untouched, nothing crosses tenants.

const ASHA: &str = r#"{"id":"u_42","name":"Asha Rao","email":"asha.rao@x.example"}"#;
const BEN: &str = r#"{"id":"u_7","name":"Ben Okafor","email":"ben@x.example"}"#;

/// Asha's events (seqs 1 to 4), Ben's (5 to 7, of which 5 and 6 name her in their remarks), and
/// what erasing her asks for: every personal field of hers, the description of his remarks,
/// and her identifiers (`events` in seq order).
async fn erasure_fixture(store: &dyn Store, t: &TenantId) -> crate::ErasureRequest {
    use trail_core::canonical::Personal;
    let ev = |action: &str, actor: &str, when: &str, rest: &str| {
        event(&format!(r#"{{"action":"{action}","occurred_at":"2026-01-0{when}T10:00:00Z","actor":{actor}{rest}}}"#))
    };
    let ip = r#","context":{"ip":"198.51.100.77","location":{"country":"IN"}}"#;
    let r = store
        .append(
            t,
            vec![
                ev("auth.login.succeeded", ASHA, "1", ip),
                ev(
                    "file.uploaded",
                    ASHA,
                    "2",
                    &format!(r#","description":"Asha Rao uploaded q1.pdf","metadata":{{"size_bytes":1000}}{ip}"#),
                ),
                ev(
                    "link.created",
                    r#"{"email":"asha.rao@x.example"}"#,
                    "3",
                    r#","targets":[{"type":"link","id":"l1"}]"#,
                ),
                ev("auth.login.failed", r#"{"id":"u_42"}"#, "4", ip),
                ev(
                    "document.reviewed",
                    BEN,
                    "5",
                    r#","description":"Reviewed what ASHA RAO signed","context":{"ip":"203.0.113.9"}"#,
                ),
                ev("message.sent", BEN, "6", r#","description":"Sent to asha.rao@x.example""#),
                ev("link.created", BEN, "7", r#","targets":[{"type":"link","id":"l2"}],"description":"Q1 pack""#),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7]);
    let mut events: Vec<(u64, Vec<Personal>)> = (1..=4).map(|s| (s, Personal::ALL.to_vec())).collect();
    events.extend([5, 6].map(|s| (s, vec![Personal::Description])));
    crate::ErasureRequest {
        events,
        keys: vec!["u_42".into(), "asha.rao@x.example".into()],
        emails: vec!["asha.rao@x.example".into()],
        names: vec!["Asha Rao".into()],
    }
}

/// Every event of the tenant as JSON, oldest first, without the time each was received.
async fn bodies(store: &dyn Store, t: &TenantId) -> Vec<serde_json::Value> {
    let mut all = all_events(store, t).await;
    all.sort_by_key(|e| e.seq);
    all.into_iter()
        .map(|e| {
            let mut v = serde_json::to_value(&e.body).unwrap();
            v.as_object_mut().unwrap().remove("received_at");
            v
        })
        .collect()
}

/// The tenant's users, login and usage rollups, and its links, as text.
async fn rollups(store: &dyn Store, t: &TenantId) -> String {
    let page = RecentPage::first(100);
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        store.actors(t, &page).await.unwrap(),
        store.logins(t, &page).await.unwrap(),
        store.usage(t, &page).await.unwrap(),
        store.links(t, &page).await.unwrap()
    )
}

fn searched(q: &str) -> Filter {
    Filter { q: Some(trail_core::search::SearchQuery::parse(q).unwrap()), ..everything() }
}

/// One request, or the same events one page (here, two events) at a time followed by the
/// identifiers alone, erase the same fields and rows: the reports add up, the events and
/// rollups end the same. A seq the log does not hold is skipped.
pub async fn erasure_in_chunks_adds_up_to_one_request(store: Arc<dyn Store>) {
    let whole = tenant(&*store, "whole").await;
    let paged = tenant(&*store, "paged").await;
    let request = erasure_fixture(&*store, &whole).await;
    assert_eq!(erasure_fixture(&*store, &paged).await, request);
    let one = store.erase(&whole, &request).await.unwrap();
    assert_eq!((one.events, one.fields), (6, 3 + 4 + 1 + 1 + 1 + 1), "{one:?}");
    assert!(one.rollup_rows >= 4, "users, logins, usage and a link's creator: {one:?}");

    let mut sum = crate::ErasureReport::default();
    let mut events = request.events.clone();
    events.push((99, trail_core::canonical::Personal::ALL.to_vec()));
    for chunk in events.chunks(2) {
        let r =
            store.erase(&paged, &crate::ErasureRequest { events: chunk.to_vec(), ..Default::default() }).await.unwrap();
        assert_eq!(r.rollup_rows, 0, "a request without identifiers drops no row");
        sum.events += r.events;
        sum.fields += r.fields;
    }
    let last = crate::ErasureRequest { events: Vec::new(), ..request.clone() };
    let r = store.erase(&paged, &last).await.unwrap();
    assert_eq!((r.events, r.fields), (0, 0));
    sum.rollup_rows = r.rollup_rows;
    assert_eq!(sum, one);
    assert_eq!(bodies(&*store, &paged).await, bodies(&*store, &whole).await);
    assert_eq!(rollups(&*store, &paged).await, rollups(&*store, &whole).await);
}

/// A request run again (a rerun that finishes an interrupted erasure) changes nothing more and
/// says so; a field already erased is skipped when a request asks for it among others.
pub async fn erasure_is_idempotent(store: Arc<dyn Store>) {
    use trail_core::canonical::Personal;
    let t = tenant(&*store, "again").await;
    let request = erasure_fixture(&*store, &t).await;
    // Half done: one description already gone.
    let first = crate::ErasureRequest { events: vec![(2, vec![Personal::Description])], ..Default::default() };
    assert_eq!(store.erase(&t, &first).await.unwrap().fields, 1);
    let done = store.erase(&t, &request).await.unwrap();
    assert_eq!((done.events, done.fields), (6, 11 - 1));
    let (after, kept) = (bodies(&*store, &t).await, rollups(&*store, &t).await);
    assert_eq!(store.erase(&t, &request).await.unwrap(), crate::ErasureReport::default());
    assert_eq!(bodies(&*store, &t).await, after);
    assert_eq!(rollups(&*store, &t).await, kept);
}

/// After erasure the values are in no answer: the event reads `[erased]` in each erased text
/// field, has no address, and lists what was erased; no search or filter finds it by them; the
/// remarks naming the person lose their description and nothing else.
pub async fn erased_values_are_gone_from_events_queries_and_search(store: Arc<dyn Store>) {
    use trail_core::event::ERASED;
    let t = tenant(&*store, "gone").await;
    let request = erasure_fixture(&*store, &t).await;
    let n = |q: &str| {
        let (store, t, f) = (store.clone(), t.clone(), searched(q));
        async move { all_seqs(&*store, &t, &f, 10).await }
    };
    assert_eq!(n("actor:asha.rao@x.example").await, [3, 2, 1]);
    let named = n("\"Asha Rao\"").await;
    assert!([1, 2, 5].iter().all(|s| named.contains(s)), "{named:?}");
    store.erase(&t, &request).await.unwrap();

    let e = store.event(&t, 2).await.unwrap().unwrap().body;
    let a = e.actor.as_ref().unwrap();
    assert_eq!((a.id.as_deref(), a.name.as_deref(), a.email.as_deref()), (Some("u_42"), Some(ERASED), Some(ERASED)));
    assert_eq!(e.description.as_deref(), Some(ERASED));
    assert!(e.context.as_ref().is_none_or(|c| c.ip.is_none()), "{:?}", e.context);
    assert_eq!(e.context.as_ref().and_then(|c| c.location.as_ref()).and_then(|l| l.country.as_deref()), Some("IN"));
    assert_eq!(e.metadata.as_ref().unwrap()["size_bytes"], 1000, "metadata is not erased");
    let mut erased = e.erased.clone();
    erased.sort();
    assert_eq!(erased, ["actor.email", "actor.name", "context.ip", "description"]);
    for q in [
        "actor:asha.rao@x.example",
        "\"Asha Rao\"",
        "asha",
        "\"uploaded q1\"",
        "ip:198.51.100.77",
        "ip:198.51.100.0/24",
    ] {
        assert_eq!(n(q).await, Vec::<u64>::new(), "{q} finds nothing");
    }
    let by_address = Filter { ips: vec!["198.51.100.77/32".parse().unwrap()], ..everything() };
    assert!(all_seqs(&*store, &t, &by_address, 10).await.is_empty());
    // Ids are not personal fields: her events are still hers.
    assert_eq!(n("actor:u_42").await, [4, 2, 1]);

    // Ben's remarks: only the description goes.
    for seq in [5, 6] {
        let e = store.event(&t, seq).await.unwrap().unwrap().body;
        let a = e.actor.as_ref().unwrap();
        assert_eq!((a.name.as_deref(), a.email.as_deref()), (Some("Ben Okafor"), Some("ben@x.example")));
        assert_eq!(e.description.as_deref(), Some(ERASED));
        assert_eq!(e.erased, ["description"]);
    }
    let five = store.event(&t, 5).await.unwrap().unwrap().body;
    assert_eq!(five.context.and_then(|c| c.ip).map(|ip| ip.to_string()).as_deref(), Some("203.0.113.9"));
    assert_eq!(n("Ben").await, [7, 6, 5]);
    let seven = store.event(&t, 7).await.unwrap().unwrap().body;
    assert_eq!((seven.description.as_deref(), seven.erased.len()), (Some("Q1 pack"), 0));
}

/// The person's rows leave the users, login and usage rollups and the identity table; links
/// they created forget who did; everyone else's rows stay as they were.
pub async fn erased_people_leave_the_rollups_identities_and_links(store: Arc<dyn Store>) {
    let t = tenant(&*store, "rows").await;
    let request = erasure_fixture(&*store, &t).await;
    let page = RecentPage::first(100);
    let keys = |v: Vec<String>| v.into_iter().collect::<HashSet<_>>();
    assert_eq!(
        keys(store.actors(&t, &page).await.unwrap().into_iter().map(|a| a.key).collect()),
        keys(vec!["u_42".into(), "u_7".into()])
    );
    assert_eq!(store.logins(&t, &page).await.unwrap().len(), 1);
    assert_eq!(store.usage(&t, &page).await.unwrap().len(), 1);
    assert_eq!(either(&*store, &t, "u_42").await.emails, ["asha.rao@x.example"]);
    let ben_before =
        (store.actors(&t, &page).await.unwrap().into_iter().find(|a| a.key == "u_7"), either(&*store, &t, "u_7").await);

    let r = store.erase(&t, &request).await.unwrap();
    assert!(r.rollup_rows >= 4, "{r:?}");
    let actors = store.actors(&t, &page).await.unwrap();
    assert_eq!(actors.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["u_7"]);
    assert!(store.logins(&t, &page).await.unwrap().is_empty());
    assert!(store.usage(&t, &page).await.unwrap().is_empty());
    assert_eq!(either(&*store, &t, "u_42").await, Default::default());
    assert_eq!(either(&*store, &t, "asha.rao@x.example").await, Default::default());
    assert_eq!((actors.into_iter().next(), either(&*store, &t, "u_7").await), ben_before);
    let text = rollups(&*store, &t).await;
    assert!(!text.contains("u_42") && !text.contains("asha") && !text.contains("Asha"), "{text}");

    let mut links = store.links(&t, &page).await.unwrap();
    links.sort_by(|a, b| a.key.cmp(&b.key));
    let creators: Vec<(&str, Option<&str>)> = links.iter().map(|l| (l.key.as_str(), l.created_by.as_deref())).collect();
    assert_eq!(creators, [("l1", None), ("l2", Some("ben@x.example"))]);
}

/// Erasure rewrites no leaf: every leaf, root and proof is what it was, a checkpoint signed
/// before still verifies, and the whole log verifies.
pub async fn erasure_keeps_every_leaf_root_and_proof(store: Arc<dyn Store>) {
    use trail_core::checkpoint::Checkpoint;
    let t = tenant(&*store, "tree").await;
    let request = erasure_fixture(&*store, &t).await;
    let leaves = |store: Arc<dyn Store>, t: TenantId| async move {
        let mut out = Vec::new();
        for seq in 1..=7 {
            out.push((store.leaf_hash(&t, seq).await.unwrap(), store.leaf_data(&t, seq).await.unwrap()));
        }
        (out, store.tree_root(&t, 7).await.unwrap(), store.inclusion_proof(&t, 2, 7).await.unwrap())
    };
    let before = leaves(store.clone(), t.clone()).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let root = store.tree_root(&t, 7).await.unwrap();
    let note = Checkpoint { origin: format!("trail/test/{t}"), size: 7, root }.sign("trail/test", &key);
    store.add_checkpoint(&t, crate::StoredCheckpoint { size: 7, root, note, created_at: now() }).await.unwrap();

    store.erase(&t, &request).await.unwrap();
    assert_eq!(leaves(store.clone(), t.clone()).await, before);
    let report = store.verify_log(&t, key.verifying_key().as_bytes()).await.unwrap();
    assert_eq!((report.events, report.checkpoints, report.problem), (7, 1, None));
}

/// Another tenant's events and rows with the same person's identifiers are not touched, and
/// a request naming the other tenant's seqs erases the requesting tenant's events only.
pub async fn erasure_stays_in_its_tenant(store: Arc<dyn Store>) {
    let t = tenant(&*store, "here").await;
    let other = tenant(&*store, "there").await;
    let request = erasure_fixture(&*store, &t).await;
    erasure_fixture(&*store, &other).await;
    let (events, rows) = (bodies(&*store, &other).await, rollups(&*store, &other).await);
    store.erase(&t, &request).await.unwrap();
    assert_eq!(bodies(&*store, &other).await, events);
    assert_eq!(rollups(&*store, &other).await, rows);
    assert_eq!(either(&*store, &other, "u_42").await.emails, ["asha.rao@x.example"]);
    assert_eq!(all_seqs(&*store, &other, &searched("actor:asha.rao@x.example"), 10).await, [3, 2, 1]);
    assert!(rows.contains("Asha Rao"), "{rows}");
}

/// A request for one field of an event erases that field and counts it once; asking for a
/// field the event does not have (no address, no description) erases nothing and is no error.
pub async fn erasure_counts_only_fields_there_to_erase(store: Arc<dyn Store>) {
    use trail_core::canonical::Personal;
    let t = tenant(&*store, "fields").await;
    erasure_fixture(&*store, &t).await;
    let ask = |events: Vec<(u64, Vec<Personal>)>| crate::ErasureRequest { events, ..Default::default() };
    // Seq 3 has an e-mail only; seq 4 an id and an address.
    let r = store.erase(&t, &ask(vec![(3, vec![Personal::Ip, Personal::Description])])).await.unwrap();
    assert_eq!(r, crate::ErasureReport::default());
    let r = store.erase(&t, &ask(vec![(3, Personal::ALL.to_vec()), (4, Personal::ALL.to_vec())])).await.unwrap();
    assert_eq!((r.events, r.fields, r.rollup_rows), (2, 2, 0));
    assert_eq!(store.event(&t, 3).await.unwrap().unwrap().body.erased, ["actor.email"]);
    assert_eq!(store.event(&t, 4).await.unwrap().unwrap().body.erased, ["context.ip"]);
    // The rollups keep her rows until a request names her.
    assert_eq!(store.logins(&t, &RecentPage::first(10)).await.unwrap().len(), 1);
}
