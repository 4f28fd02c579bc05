//! `POST /v1/tenants/{t}/erasure` (docs/api.md): erase one person's personal data while the tree
//! still verifies.
//!
//! The person is named by `actor_id` or `email`. Their events are those whose actor is them (by
//! id, and by every e-mail their events carried); from those, their e-mail, name, IP address and
//! description are erased. The remarks of other events that name them (a description holding
//! one of their names or e-mails, found with the search index and checked word for word) lose
//! their description. Their rows in the rollups (users, logins, usage) go, and links they
//! created forget who did. Each erased field keeps only its salted commitment in the leaf, and
//! its salt is deleted, so the value can neither be read nor confirmed by guessing; the event
//! reads `[erased]` in those fields and lists them in `erased`.
//!
//! Not erased (documented): values a client put in `metadata`, target names, or a user agent,
//! which the leaf holds without a commitment; console accounts (members) with that e-mail.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use trail_core::{
    TenantId,
    canonical::Personal,
    event::StoredEvent,
    filter::{Filter, Page},
    search::{SearchQuery, Term, TermKind},
    time::TimeBounds,
};
use trail_store::{ErasureRequest, Store};

use crate::{
    AppState,
    api::extract::{JsonBody, TenantPath},
    auth::Principal,
    error::{ApiError, ApiResult},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureBody {
    actor_id: Option<String>,
    email: Option<String>,
}

/// Every event `filter` selects, over all time.
async fn all(store: &dyn Store, t: &TenantId, mut filter: Filter) -> ApiResult<Vec<StoredEvent>> {
    filter.time = TimeBounds::default();
    let mut out = Vec::new();
    let mut page = Page { limit: 1000, cursor: None };
    loop {
        let r = store.query(t, &filter, page).await?;
        out.extend(r.events);
        match r.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Every event whose actor carries `key` as its id or as its e-mail: what `actor:` searches,
/// the value as written. The `actor` filter's person rule (an actor with an id is that id's)
/// would miss the events of the person's id that also carry the e-mail being erased.
fn carrying(key: &str) -> Filter {
    let term = Term { negated: false, kind: TermKind::Actor(key.to_owned()) };
    Filter { q: Some(SearchQuery { terms: vec![term], source: format!("actor:{key}") }), ..Filter::default() }
}

fn push_new(list: &mut Vec<String>, v: Option<&str>) {
    if let Some(v) = v.filter(|v| !v.is_empty() && *v != trail_core::event::ERASED)
        && !list.iter().any(|x| x == v)
    {
        list.push(v.to_owned());
    }
}

pub async fn erase(
    State(s): State<AppState>,
    who: Principal,
    origin: trail_app::own_events::Origin,
    TenantPath(t): TenantPath,
    JsonBody(body): JsonBody<ErasureBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    who.require_manage(&t, "erase a person's data")?;
    let subject = match (body.actor_id.filter(|v| !v.is_empty()), body.email.filter(|v| !v.is_empty())) {
        (Some(id), None) => id,
        (None, Some(email)) => email,
        _ => {
            return Err(ApiError::unprocessable(
                "invalid_erasure",
                "name the person with exactly one of actor_id or email: {\"actor_id\": \"u_42\"}",
            ));
        }
    };
    let store = &*s.store;
    crate::api::events_tenant(&s, &t).await?;

    // The person's events: by the identifier given, then by every e-mail and id they carried.
    let mut keys = vec![subject.clone()];
    let (mut emails, mut names, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    let mut own: Vec<u64> = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        for e in all(store, &t, carrying(&keys[i])).await? {
            if let Some(a) = &e.body.actor {
                push_new(&mut emails, a.email.as_deref());
                push_new(&mut names, a.name.as_deref());
                push_new(&mut ids, a.id.as_deref());
                for k in a.id.iter().chain(a.email.iter()) {
                    if !keys.contains(k) && k != trail_core::event::ERASED {
                        keys.push(k.clone());
                    }
                }
            }
            if !own.contains(&e.seq) {
                own.push(e.seq);
            }
        }
        i += 1;
    }
    if own.is_empty() {
        return Err(ApiError::not_found(format!("a person {subject:?}: no event has this actor id or e-mail")));
    }
    if subject.contains('@') {
        push_new(&mut emails, Some(&subject));
    }
    // Remarks of other events that name them.
    let mut remarks: Vec<u64> = Vec::new();
    for phrase in names.iter().chain(&emails) {
        let quoted = format!("\"{}\"", phrase.replace('"', " "));
        let Ok(q) = SearchQuery::parse(&quoted) else { continue };
        let filter = Filter { q: Some(q), ..Filter::default() };
        let needle = phrase.to_lowercase();
        for e in all(store, &t, filter).await? {
            if !own.contains(&e.seq)
                && !remarks.contains(&e.seq)
                && e.body.description.as_deref().is_some_and(|d| d.to_lowercase().contains(&needle))
            {
                remarks.push(e.seq);
            }
        }
    }
    let mut events: Vec<(u64, Vec<Personal>)> = own.iter().map(|seq| (*seq, Personal::ALL.to_vec())).collect();
    events.extend(remarks.iter().map(|seq| (*seq, vec![Personal::Description])));
    let request = ErasureRequest { events, keys: keys.clone(), emails: emails.clone(), names: names.clone() };
    let report = store.erase(&t, &request).await?;

    // The request is logged, without the values it erased: the actor ids it found (ids are
    // not among the erased fields) and the counts.
    trail_app::own_events::record(
        &s.app,
        &t,
        &origin,
        who.actor(),
        trail_core::vocabulary::actions::TRAIL_ERASURE_COMPLETED,
        format!(
            "Erased a person's personal data from {} of their events and {} remarks naming them",
            own.len(),
            remarks.len()
        ),
        json!({
            "requested_by": if subject.contains('@') { "email" } else { "actor_id" },
            "actor_ids": ids,
            "events": own.len(),
            "remarks": remarks.len(),
            "fields": report.fields,
            "rollup_rows": report.rollup_rows,
        }),
    )
    .await?;
    Ok((
        StatusCode::OK,
        Json(json!({
            "events": own.len(),
            "remarks": remarks.len(),
            "fields_erased": report.fields,
            "rollup_rows": report.rollup_rows,
        })),
    ))
}
