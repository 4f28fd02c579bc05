//! `trail_app::erasure` over SQLite: a person found by id, by e-mail and through the identity
//! links, the remarks naming them, other people and tenants left alone, the log still
//! verifying, and an interrupted erasure finished by running it again. (That memory does not
//! grow with the person's events is measured by `trail-bench erase`.)

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use serde_json::{Value, json};
use trail_app::{
    App, AppConfig, AppError,
    erasure::{ErasureOutcome, PAGE, Progress, Subject, erase},
    own_events::Origin,
};
use trail_core::{
    TenantId,
    event::{ERASED, StoredEvent},
    filter::{Filter, Page},
    search::SearchQuery,
};
use trail_store::{ErasureRequest, NewTenant, RecentPage, Store, conformance::event};
use trail_store_sqlite::SqliteStore;

const KEY: [u8; 32] = [42; 32];

async fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    for t in ["acme", "beta"] {
        let new = NewTenant { id: tid(t), name: t.into(), plan: "enterprise".into(), time_zone: "UTC".into() };
        store.create_tenant(new).await.unwrap();
    }
    let config = AppConfig {
        server_name: "test".into(),
        plans: trail_app::plans::builtin(),
        default_plan: "enterprise".into(),
        limits: Default::default(),
        signing_key: Arc::new(ed25519_dalek::SigningKey::from_bytes(&KEY)),
        checkpoint_journal: None,
    };
    (dir, App::new(store, config))
}

fn tid(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}

fn operator() -> Value {
    json!({"id": "operator", "name": "Operator key", "type": "system"})
}

async fn add(app: &App, t: &str, events: &[Value]) {
    let batch = events.iter().map(|e| event(&e.to_string())).collect();
    app.append(&tid(t), batch).await.unwrap();
}

async fn run(app: &App, t: &str, person: Subject) -> Result<ErasureOutcome, AppError> {
    erase(app, &tid(t), &person, operator(), &Origin::none(), &|_| {}).await
}

/// Every event `q` finds in tenant `t`, oldest first.
async fn found(app: &App, t: &str, q: &str) -> Vec<StoredEvent> {
    let filter = Filter { q: Some(SearchQuery::parse(q).unwrap()), ..Filter::default() };
    let mut page = Page { limit: 1000, cursor: None };
    let mut out = Vec::new();
    loop {
        let r = app.store().query(&tid(t), &filter, page).await.unwrap();
        out.extend(r.events);
        match r.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    out.reverse();
    out
}

async fn verifies(app: &App, t: &str) {
    let public = ed25519_dalek::SigningKey::from_bytes(&KEY).verifying_key();
    let report = app.store().verify_log(&tid(t), public.as_bytes()).await.unwrap();
    assert_eq!(report.problem, None);
}

fn asha() -> Value {
    json!({"id": "u_42", "name": "Asha Rao", "email": "asha@acme.example"})
}

fn ben() -> Value {
    json!({"id": "u_7", "name": "Ben Okafor", "email": "ben@acme.example"})
}

/// Asha in every way a person appears, Ben's remarks about her, and his own events.
fn history() -> Vec<Value> {
    vec![
        json!({"action": "auth.login.failed", "actor": {"email": "Asha@Acme.example"}, "context": {"ip": "198.51.100.77"}}),
        json!({"action": "auth.login.succeeded", "actor": asha(), "context": {"ip": "198.51.100.77"}}),
        json!({"action": "document.signed", "actor": asha(), "description": "Asha Rao signed NDA.pdf"}),
        json!({"action": "link.created", "actor": {"email": "asha@acme.example"}, "targets": [{"type": "link", "id": "l1"}]}),
        json!({"action": "file.uploaded", "actor": {"id": "u_42"}, "context": {"ip": "198.51.100.77"}}),
        json!({"action": "file.uploaded", "actor": {"id": "u_42", "email": "asha.home@mail.example"}}),
        json!({"action": "file.downloaded", "actor": {"name": "Asha R.", "email": "asha.home@mail.example"}}),
        json!({"action": "document.reviewed", "actor": ben(), "description": "Reviewed what asha rao signed"}),
        json!({"action": "message.sent", "actor": ben(), "description": "Sent the pack to asha.home@mail.example"}),
        json!({"action": "document.signed", "actor": ben(), "description": "Ben signed", "context": {"ip": "203.0.113.9"}}),
    ]
}

/// Asha's events read `[erased]` in every text field they had, Ben's are whole but for the
/// remarks that named her.
async fn asha_is_gone(app: &App) {
    for e in found(app, "acme", "actor:u_42").await {
        let a = e.body.actor.as_ref().unwrap();
        assert!(
            a.email.as_deref().is_none_or(|v| v == ERASED) && a.name.as_deref().is_none_or(|v| v == ERASED),
            "{e:?}"
        );
        assert!(e.body.context.as_ref().is_none_or(|c| c.ip.is_none()), "{e:?}");
    }
    for q in
        ["asha", "actor:asha@acme.example", "actor:Asha@Acme.example", "actor:asha.home@mail.example", "\"asha r\""]
    {
        assert!(found(app, "acme", q).await.is_empty(), "{q} still finds something");
    }
    let theirs = found(app, "acme", "actor:u_7").await;
    assert_eq!(theirs.len(), 3);
    assert_eq!(theirs.iter().map(|e| e.body.erased.len()).collect::<Vec<_>>(), [1, 1, 0]);
    assert_eq!(theirs[2].body.description.as_deref(), Some("Ben signed"));
    assert!(theirs.iter().all(|e| e.body.actor.as_ref().unwrap().name.as_deref() == Some("Ben Okafor")));
    let page = RecentPage::first(100);
    let store = app.store();
    // (The operator is there for the erasure's own event.)
    let users: Vec<String> = store.actors(&tid("acme"), &page).await.unwrap().into_iter().map(|a| a.key).collect();
    assert_eq!(users, ["operator", "u_7"]);
    assert!(store.logins(&tid("acme"), &page).await.unwrap().iter().all(|l| l.key != "u_42"));
    assert!(store.usage(&tid("acme"), &page).await.unwrap().is_empty());
    assert!(store.links(&tid("acme"), &page).await.unwrap().iter().all(|l| l.created_by.is_none()));
    assert_eq!(store.person(&tid("acme"), &["u_42".into()], &[]).await.unwrap(), Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_is_found_by_id_by_email_and_through_their_links() {
    for person in [Subject::Email("asha@acme.example".into()), Subject::ActorId("u_42".into())] {
        let (_dir, app) = app().await;
        add(&app, "acme", &history()).await;
        add(&app, "beta", &history()).await;
        let beta_before = found(&app, "beta", "").await;

        let done = run(&app, "acme", person.clone()).await.unwrap();
        // The e-mail typed in another case is hers through the identity links; the second
        // e-mail through the events of her id; the name-only event by that e-mail.
        assert_eq!((done.events, done.remarks), (7, 2), "{person:?}: {done:?}");
        assert_eq!(done.actor_ids, ["u_42"]);
        assert!(done.rollup_rows >= 3, "{done:?}");
        asha_is_gone(&app).await;
        verifies(&app, "acme").await;

        // Logged, without what was erased.
        let logged = found(&app, "acme", "action:trail.erasure.completed").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].seq, done.recorded_seq);
        let m = logged[0].body.metadata.as_ref().unwrap();
        assert_eq!(m["actor_ids"], json!(["u_42"]));
        let by = if matches!(person, Subject::Email(_)) { "email" } else { "actor_id" };
        assert_eq!(
            (m["requested_by"].as_str(), m["events"].as_u64(), m["remarks"].as_u64()),
            (Some(by), Some(7), Some(2))
        );
        let text = serde_json::to_string(&logged[0].body).unwrap();
        assert!(!text.contains("asha") && !text.contains("Asha"), "{text}");

        // Another tenant with the same person is untouched.
        assert_eq!(found(&app, "beta", "").await.len(), beta_before.len());
        assert!(found(&app, "beta", "").await.iter().all(|e| e.body.erased.is_empty()));

        // Again: by id there is nothing left to erase; by e-mail nobody carries it any more.
        let again = run(&app, "acme", Subject::ActorId("u_42".into())).await.unwrap();
        assert_eq!((again.events, again.remarks, again.fields_erased, again.rollup_rows), (0, 0, 0, 0));
        let e = run(&app, "acme", Subject::Email("asha@acme.example".into())).await.unwrap_err();
        assert!(matches!(&e, AppError::NotFound(what) if what.contains("asha@acme.example")), "{e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_and_no_tenant_are_not_found() {
    let (_dir, app) = app().await;
    add(&app, "acme", &history()).await;
    let e = run(&app, "acme", Subject::ActorId("u_nobody".into())).await.unwrap_err();
    assert!(matches!(&e, AppError::NotFound(what) if what.contains("u_nobody")), "{e:?}");
    let e = run(&app, "gamma", Subject::ActorId("u_42".into())).await.unwrap_err();
    assert!(matches!(&e, AppError::NotFound(what) if what == "tenant gamma"), "{e:?}");
    // Nothing was erased or recorded.
    assert!(found(&app, "acme", "").await.iter().all(|e| e.body.erased.is_empty()));
    assert!(found(&app, "acme", "action:trail.erasure.completed").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_erasure_is_finished_by_running_it_again() {
    let (_dir, app) = app().await;
    add(&app, "acme", &history()).await;
    // Enough of her events for several pages.
    let many = 3 * PAGE + 10;
    for chunk in (0..many).collect::<Vec<_>>().chunks(1000) {
        let events: Vec<Value> = chunk
            .iter()
            .map(|i| json!({"action": "page.viewed", "actor": asha(), "description": format!("Asha Rao opened page {i}"), "context": {"ip": "198.51.100.77"}}))
            .collect();
        add(&app, "acme", &events).await;
    }

    // Stopped after the first page of her own events was erased, as a killed process would be.
    let erased = AtomicU64::new(0);
    let stop = tokio::sync::Notify::new();
    let on_progress = |p: Progress| {
        erased.store(p.events, Ordering::SeqCst);
        if p.events > 0 {
            stop.notify_one();
        }
    };
    let person = Subject::Email("asha@acme.example".into());
    let (acme, origin) = (tid("acme"), Origin::none());
    let interrupted = erase(&app, &acme, &person, operator(), &origin, &on_progress);
    tokio::select! {
        biased;
        _ = stop.notified() => {}
        r = interrupted => panic!("the erasure was meant to be stopped, but finished: {r:?}"),
    }
    let first = erased.load(Ordering::SeqCst);
    assert!(first > 0 && first < many as u64, "{first}");
    let left = found(&app, "acme", "actor:asha@acme.example").await.len();
    assert!(left > 0, "part of her events are left");
    assert!(found(&app, "acme", "action:trail.erasure.completed").await.is_empty());

    // Run again: it finds her by what is left (her id, the identity links) and finishes.
    let done = run(&app, "acme", person).await.unwrap();
    asha_is_gone(&app).await;
    // The rerun erased what the first run left: at most what it had not reported (a request
    // under way when it stopped may still have been committed), and not everything.
    let all = many as u64 + 7;
    assert!(done.events + first <= all && done.events < all, "{first} then {done:?}");
    assert_eq!(done.remarks, 0, "the remarks went in the first run, before her own events");
    verifies(&app, "acme").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_after_every_event_was_erased_finishes_the_rollups() {
    let (_dir, app) = app().await;
    let carol = json!({"email": "carol@acme.example", "name": "Carol"});
    add(
        &app,
        "acme",
        &[json!({"action": "file.uploaded", "actor": carol}), json!({"action": "file.uploaded", "actor": carol})],
    )
    .await;
    // Stopped just before the last step: her events are erased, her rollup rows are not.
    let events =
        vec![(1, trail_core::canonical::Personal::ALL.to_vec()), (2, trail_core::canonical::Personal::ALL.to_vec())];
    app.store().erase(&tid("acme"), &ErasureRequest { events, ..Default::default() }).await.unwrap();
    assert_eq!(app.store().usage(&tid("acme"), &RecentPage::first(10)).await.unwrap().len(), 1);

    let person = Subject::Email("carol@acme.example".into());
    let done = run(&app, "acme", person.clone()).await.unwrap();
    assert_eq!((done.events, done.remarks), (0, 0));
    assert!(done.rollup_rows >= 2, "{done:?}");
    assert!(app.store().usage(&tid("acme"), &RecentPage::first(10)).await.unwrap().is_empty());
    let users = app.store().actors(&tid("acme"), &RecentPage::first(10)).await.unwrap();
    assert_eq!(users.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["operator"]);
    // Nothing left of her at all now.
    assert!(matches!(run(&app, "acme", person).await, Err(AppError::NotFound(_))));
}
