//! Erasure of one person's personal data (docs/api.md, `POST /v1/tenants/{t}/erasure`, and
//! `trail erase`), streaming over their events: memory depends on how many identifiers, names
//! and e-mails the person has, never on how many events, and each event is read a fixed number
//! of times, so the time is linear in their events.
//!
//! The person is named by an actor id or an e-mail ([`Subject`]). Their events are those whose
//! actor carries one of their keys as its id or e-mail: the key given, every id and e-mail their
//! events carried, and every one the tenant's identity table links to those. From their events
//! the e-mail, name, IP address and description are erased; the remarks of other events that
//! name them (a description holding one of their names or e-mails, found with the search index
//! and checked word for word, case-insensitively) lose their description. Their rows in the
//! rollups (users, logins, usage) and identity links go, and links they created forget who did.
//! Each erased field keeps only its salted commitment in the leaf and loses its salt, so the
//! tree and every proof stay valid and the value can be neither read nor confirmed by guessing.
//!
//! Not erased (documented): values a client put in `metadata`, target names, or a user agent,
//! which the leaf holds without a commitment; console accounts (members) with that e-mail.
//!
//! The steps, each paging through the store 1,000 events at a time and handing the events to
//! erase to [`Store::erase`] in requests of [`CHUNK`] events (`events` only):
//!
//! 1. **Find** (read only): page through the events carrying each key (and none read before),
//!    collecting the keys, names and e-mails they show, until no new key appears; then the keys
//!    the identity table links to them, and again until nothing new appears.
//! 2. **Remarks**: for each name and e-mail, page through the events whose text holds it and
//!    whose actor is not the person's; one whose description holds it loses its description.
//! 3. **Links by name**: links whose creator is recorded by one of the person's names forget it.
//! 4. **Their events**: for each key, page through the events carrying it and erase every
//!    personal field. The search leaves out events carrying a key done before (`-actor:`,
//!    which the index decides), so each event is read and erased once with no set of seen
//!    events kept; were one asked twice, the store would find nothing left to erase.
//! 5. **Rollups**: one request with no events and the person's keys, e-mails and names.
//! 6. `trail.erasure.completed` is recorded, with the counts and the actor ids, never the values.
//!
//! **An interrupted erasure is finished by running it again.** Every step is idempotent (a
//! field erased stays erased, and the store skips it), and the order keeps what a rerun needs to
//! find the person: ids are never erased, so their events are found again by id; e-mails stay in
//! the identity table until the last step; names are only needed by the remarks and links steps,
//! which run before the person's own events lose their names. A rerun after the person's events
//! were all erased but before their rollup rows went finds no event, finishes the last step, and
//! succeeds; with nothing left at all it is "not found", as for someone who never had events.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use trail_core::{
    TenantId,
    canonical::Personal,
    event::{ERASED, StoredEvent},
    filter::{Cursor, Filter, Page},
    search::{SearchQuery, Term, TermKind},
    vocabulary::actions,
};
use trail_store::{ErasureReport, ErasureRequest, Store};

use crate::{App, AppError, AppResult, Invalid, own_events::Origin};

/// Events read per page.
pub const PAGE: usize = 1000;

/// Events per [`Store::erase`] request. Each request costs the store a durable commit (and
/// SQLite an emptied write-ahead log), and holds in memory the pages it rewrites until it
/// commits. Measured on SQLite with 200,000 events of one person (`trail-bench erase`, dev
/// build): requests of 1,000 events peaked at 72-82 MB and took 3.4-3.7 s; of 5,000, 82-95 MB
/// and 3.1-3.3 s. Memory is the promise here, so a page at a time.
pub const CHUNK: usize = PAGE;

/// The person to erase, as a request names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    ActorId(String),
    Email(String),
}

impl Subject {
    /// The person a request names with exactly one of an actor id and an e-mail (a blank one
    /// counts as not given), or [`Invalid::ErasureSubject`].
    pub fn from_request(actor_id: Option<String>, email: Option<String>) -> AppResult<Subject> {
        match (actor_id.filter(|v| !v.is_empty()), email.filter(|v| !v.is_empty())) {
            (Some(id), None) => Ok(Subject::ActorId(id)),
            (None, Some(email)) => Ok(Subject::Email(email)),
            _ => Err(AppError::invalid(
                Invalid::ErasureSubject,
                "name the person with exactly one of actor_id or email: {\"actor_id\": \"u_42\"}",
            )),
        }
    }

    /// The id or e-mail, as given.
    pub fn value(&self) -> &str {
        match self {
            Subject::ActorId(v) | Subject::Email(v) => v,
        }
    }

    /// How the request named the person, as the recorded event says it.
    fn requested_by(&self) -> &'static str {
        match self {
            Subject::ActorId(_) => "actor_id",
            Subject::Email(_) => "email",
        }
    }
}

/// Which step an erasure is at (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Finding,
    Remarks,
    Events,
    Rollups,
}

/// How far an erasure has gone, reported after each page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub step: Step,
    /// Events read so far, in every step.
    pub read: u64,
    /// The person's events erased so far.
    pub events: u64,
    /// Other events' remarks erased so far.
    pub remarks: u64,
}

/// What an erasure did. The counts are what this run changed: a run that finishes an
/// interrupted one counts only what was left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErasureOutcome {
    /// The person's events that had fields erased.
    pub events: u64,
    /// Other events whose description (naming the person) was erased.
    pub remarks: u64,
    /// Fields erased, in both.
    pub fields_erased: u64,
    /// Rollup rows dropped or cleared.
    pub rollup_rows: u64,
    /// The actor ids found for the person (ids are not erased).
    pub actor_ids: Vec<String>,
    /// The seq of the `trail.erasure.completed` event.
    pub recorded_seq: u64,
}

/// What identifies the person: small sets, however many events they have.
#[derive(Default)]
struct Person {
    /// Every id and e-mail their events' actors carry (what `actor:` finds them by).
    keys: BTreeSet<String>,
    ids: BTreeSet<String>,
    emails: BTreeSet<String>,
    names: BTreeSet<String>,
}

impl Person {
    /// Notes what `e`'s actor shows; returns whether it added a key.
    fn note(&mut self, e: &StoredEvent) -> bool {
        let Some(a) = &e.body.actor else { return false };
        let known = |v: &Option<String>| v.as_deref().filter(|v| !v.is_empty() && *v != ERASED).map(str::to_owned);
        let mut added = false;
        if let Some(id) = known(&a.id) {
            self.ids.insert(id.clone());
            added |= self.keys.insert(id);
        }
        if let Some(email) = known(&a.email) {
            self.emails.insert(email.clone());
            added |= self.keys.insert(email);
        }
        if let Some(name) = known(&a.name) {
            self.names.insert(name);
        }
        added
    }

    /// Whether `e` is one of the person's own events: its actor carries one of their keys.
    fn owns(&self, e: &StoredEvent) -> bool {
        e.body.actor.as_ref().is_some_and(|a| {
            a.id.as_ref().is_some_and(|v| self.keys.contains(v))
                || a.email.as_ref().is_some_and(|v| self.keys.contains(v))
        })
    }

    fn list(set: &BTreeSet<String>) -> Vec<String> {
        set.iter().cloned().collect()
    }
}

/// Every event whose actor carries `key` as its id or as its e-mail, over all time: what
/// `actor:` searches, the value as written. (The `actor` filter's person rule, an actor with an
/// id is that id's, would miss the events of the person's id that also carry an e-mail.)
/// Events carrying one of `done` are left out: they were read under that key already. The
/// index leaves them out itself (`-actor:` is decided by it), so none is read twice.
fn carrying<'k>(key: &str, done: impl IntoIterator<Item = &'k String>) -> Filter {
    let actor = |negated: bool, key: &str| Term { negated, kind: TermKind::Actor(key.to_owned()) };
    let mut q = SearchQuery { terms: vec![actor(false, key)], source: format!("actor:{key}") };
    for k in done {
        q.terms.push(actor(true, k));
        q.source.push_str(&format!(" -actor:{k}"));
    }
    Filter { q: Some(q), ..Filter::default() }
}

/// Every event whose text holds `phrase` (its words in order) and whose actor carries none of
/// `keys`, over all time; `None` for a phrase the search cannot express. Leaving the person's
/// own events out in the index matters: their name is in every one of them.
fn naming(phrase: &str, keys: &BTreeSet<String>) -> Option<Filter> {
    let mut q = SearchQuery::parse(&format!("\"{}\"", phrase.replace('"', " "))).ok()?;
    if q.is_empty() {
        return None;
    }
    for k in keys {
        q.terms.push(Term { negated: true, kind: TermKind::Actor(k.clone()) });
        q.source.push_str(&format!(" -actor:{k}"));
    }
    Some(Filter { q: Some(q), ..Filter::default() })
}

/// The pages of one query, newest first, fetched one at a time: each page may be erased before
/// the next is read, which the cursor (a position and a snapshot, not an offset) allows.
struct Pages<'a> {
    store: &'a dyn Store,
    tenant: &'a TenantId,
    filter: Filter,
    cursor: Option<Cursor>,
    done: bool,
}

impl<'a> Pages<'a> {
    fn new(store: &'a dyn Store, tenant: &'a TenantId, filter: Filter) -> Self {
        Pages { store, tenant, filter, cursor: None, done: false }
    }

    async fn next(&mut self) -> AppResult<Option<Vec<StoredEvent>>> {
        if self.done {
            return Ok(None);
        }
        let page = Page { limit: PAGE, cursor: self.cursor };
        let r = self.store.query(self.tenant, &self.filter, page).await?;
        self.cursor = r.next_cursor;
        self.done = self.cursor.is_none();
        Ok(Some(r.events))
    }
}

/// Erases `chunk`'s fields (one [`Store::erase`] request), adds what it did to `sum`, and
/// empties it.
async fn erase_chunk(
    store: &dyn Store,
    tenant: &TenantId,
    chunk: &mut Vec<(u64, Vec<Personal>)>,
    sum: &mut ErasureReport,
) -> AppResult<()> {
    if !chunk.is_empty() {
        let request = ErasureRequest { events: std::mem::take(chunk), ..Default::default() };
        add(sum, store.erase(tenant, &request).await?);
    }
    Ok(())
}

fn add(sum: &mut ErasureReport, r: ErasureReport) {
    sum.events += r.events;
    sum.fields += r.fields;
    sum.rollup_rows += r.rollup_rows;
}

/// Erases `person`'s personal data in `tenant` (see the module's documentation) and records
/// it as `trail.erasure.completed` by `by` (an actor as an event holds it) from `origin`.
/// `progress` is told how far it has gone after each page.
///
/// Fails with `NotFound` for an unknown tenant, or a person no event carries (and with nothing
/// left of an interrupted erasure to finish).
pub async fn erase(
    app: &App,
    tenant: &TenantId,
    person: &Subject,
    by: Value,
    origin: &Origin,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> AppResult<ErasureOutcome> {
    let store = &**app.store();
    store.tenant(tenant).await?.ok_or_else(|| AppError::NotFound(format!("tenant {tenant}")))?;
    let mut at = Progress { step: Step::Finding, read: 0, events: 0, remarks: 0 };

    // 1. Who they are: keys until no new one appears, through their events and the identity links.
    let mut who = Person::default();
    who.keys.insert(person.value().to_owned());
    if let Subject::Email(e) = person {
        who.emails.insert(e.clone());
    }
    let mut visited: BTreeSet<String> = BTreeSet::new();
    let mut found = 0u64;
    loop {
        let Some(key) = who.keys.difference(&visited).next().cloned() else {
            // Every key's events were read: the identity table may know more of them.
            let keys = Person::list(&who.keys);
            let linked = store.person(tenant, &keys, &keys).await?;
            let before = who.keys.len();
            who.ids.extend(linked.ids.iter().cloned());
            who.emails.extend(linked.emails.iter().cloned());
            who.keys.extend(linked.ids.into_iter().chain(linked.emails));
            if who.keys.len() == before {
                break;
            }
            continue;
        };
        let mut pages = Pages::new(store, tenant, carrying(&key, &visited));
        visited.insert(key.clone());
        while let Some(events) = pages.next().await? {
            for e in &events {
                who.note(e);
            }
            found += events.len() as u64;
            at.read += events.len() as u64;
            progress(at);
        }
    }

    let mut own = ErasureReport::default();
    let mut remarks = ErasureReport::default();
    let mut rollups = ErasureReport::default();
    if found == 0 {
        // Nobody, or an erasure interrupted after every event was erased: its last step.
        add(&mut rollups, store.erase(tenant, &last_request(&who)).await?);
        if rollups.rollup_rows == 0 {
            return Err(AppError::NotFound(format!(
                "a person {:?}: no event has this actor id or e-mail",
                person.value()
            )));
        }
    } else {
        // 2. Remarks of other events that name them, while their own events still hold their
        // names (a rerun finds them there).
        at.step = Step::Remarks;
        let mut chunk = Vec::new();
        for phrase in who.names.iter().chain(&who.emails) {
            let Some(filter) = naming(phrase, &who.keys) else { continue };
            let needle = phrase.to_lowercase();
            let mut pages = Pages::new(store, tenant, filter);
            while let Some(events) = pages.next().await? {
                at.read += events.len() as u64;
                chunk.extend(
                    events
                        .iter()
                        .filter(|e| {
                            !who.owns(e)
                                && e.body.description.as_deref().is_some_and(|d| d.to_lowercase().contains(&needle))
                        })
                        .map(|e| (e.seq, vec![Personal::Description])),
                );
                if chunk.len() >= CHUNK {
                    erase_chunk(store, tenant, &mut chunk, &mut remarks).await?;
                }
                at.remarks = remarks.events;
                progress(at);
            }
            erase_chunk(store, tenant, &mut chunk, &mut remarks).await?;
            at.remarks = remarks.events;
            progress(at);
        }

        // 3. Links they created, by the names their events are about to lose.
        if !who.names.is_empty() {
            let names = ErasureRequest { names: Person::list(&who.names), ..Default::default() };
            add(&mut rollups, store.erase(tenant, &names).await?);
        }

        // 4. Their events, key by key.
        at.step = Step::Events;
        for (i, key) in who.keys.iter().enumerate() {
            let mut pages = Pages::new(store, tenant, carrying(key, who.keys.iter().take(i)));
            while let Some(events) = pages.next().await? {
                at.read += events.len() as u64;
                chunk.extend(events.iter().map(|e| (e.seq, Personal::ALL.to_vec())));
                if chunk.len() >= CHUNK {
                    erase_chunk(store, tenant, &mut chunk, &mut own).await?;
                }
                at.events = own.events;
                progress(at);
            }
            erase_chunk(store, tenant, &mut chunk, &mut own).await?;
            at.events = own.events;
            progress(at);
        }

        // 5. Their rollup rows and identity links, last: until then the links find them again.
        at.step = Step::Rollups;
        progress(at);
        add(&mut rollups, store.erase(tenant, &last_request(&who)).await?);
    }

    // 6. The request is logged without the values it erased: the actor ids found (ids are not
    // among the erased fields) and the counts.
    let outcome = ErasureOutcome {
        events: own.events,
        remarks: remarks.events,
        fields_erased: own.fields + remarks.fields,
        rollup_rows: rollups.rollup_rows,
        actor_ids: Person::list(&who.ids),
        recorded_seq: 0,
    };
    let recorded_seq = crate::own_events::record(
        app,
        tenant,
        origin,
        by,
        actions::TRAIL_ERASURE_COMPLETED,
        format!(
            "Erased a person's personal data from {} of their events and {} remarks naming them",
            outcome.events, outcome.remarks
        ),
        json!({
            "requested_by": person.requested_by(),
            "actor_ids": outcome.actor_ids,
            "events": outcome.events,
            "remarks": outcome.remarks,
            "fields": outcome.fields_erased,
            "rollup_rows": outcome.rollup_rows,
        }),
    )
    .await?;
    Ok(ErasureOutcome { recorded_seq, ..outcome })
}

/// The last step's request: no events, the person's keys, e-mails and names (their rollup
/// rows, identity links, and links' creators).
fn last_request(who: &Person) -> ErasureRequest {
    ErasureRequest {
        events: Vec::new(),
        keys: Person::list(&who.keys),
        emails: Person::list(&who.emails),
        names: Person::list(&who.names),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_exactly_one_identifier() {
        assert_eq!(Subject::from_request(Some("u_42".into()), None).unwrap(), Subject::ActorId("u_42".into()));
        assert_eq!(
            Subject::from_request(Some(String::new()), Some("a@x.example".into())).unwrap().value(),
            "a@x.example"
        );
        for (id, email) in [(None, None), (Some("u_42"), Some("a@x.example")), (Some(""), Some(""))] {
            let e = Subject::from_request(id.map(Into::into), email.map(Into::into)).unwrap_err();
            assert!(matches!(e, AppError::Invalid { what: Invalid::ErasureSubject, .. }), "{e:?}");
        }
    }

    #[test]
    fn a_phrase_with_quotes_or_no_words_is_searched_safely() {
        let keys = BTreeSet::from(["u_42".to_owned()]);
        let f = naming("Asha \"the\" Rao", &keys).unwrap();
        assert_eq!(f.q.unwrap().terms.len(), 2, "the phrase, and not the person's own events");
        assert!(naming("\"", &keys).is_none());
    }
}
