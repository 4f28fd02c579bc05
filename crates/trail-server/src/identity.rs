//! Who is a person, at the edge: the `actor` filter and a member's own events are widened
//! through the tenant's identity links (`trail_store::identity`), so a person is found by their
//! actor id or by any e-mail linked to it alike, in the events list, the stream, exports, the
//! reports' counts and the console. Every route that filters by person goes through here.

use trail_core::{
    TenantId,
    filter::{Filter, Owner},
};
use trail_store::{Store, StoreResult};

/// Adds to `filter.actors` every identifier linked to the people it names, and widens its
/// owner (see [`owner`]).
pub async fn resolve(store: &dyn Store, t: &TenantId, filter: &mut Filter) -> StoreResult<()> {
    if !filter.actors.is_empty() {
        // A value may be either: an id, or an e-mail (linked to an id or not).
        let linked = store.person(t, &filter.actors, &filter.actors).await?;
        for v in linked.values() {
            if !filter.actors.contains(&v) {
                filter.actors.push(v);
            }
        }
    }
    if let Some(o) = &filter.owner {
        filter.owner = Some(owner(store, t, o).await?);
    }
    Ok(())
}

/// A member's own events as a person: their actor id and every e-mail linked to it, or (for a
/// member without an actor id) their e-mail and the id it is linked to. A viewer without an
/// actor id stays nobody.
pub async fn owner(store: &dyn Store, t: &TenantId, o: &Owner) -> StoreResult<Owner> {
    let (ids, emails) = match o {
        Owner::ActorId(id) if id.is_empty() => return Ok(o.clone()),
        Owner::ActorId(id) => (vec![id.clone()], vec![]),
        Owner::Email(e) => (vec![], vec![e.clone()]),
        Owner::Person { .. } => return Ok(o.clone()),
    };
    // A member's actor id is only an id: an e-mail that happens to read the same is not theirs.
    let mut p = store.person(t, &ids, &emails).await?;
    for id in &ids {
        p.add_id(id);
    }
    for e in &emails {
        p.add_email(e);
    }
    Ok(Owner::Person { ids: p.ids, emails: p.emails })
}
