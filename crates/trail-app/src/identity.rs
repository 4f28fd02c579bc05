//! Who is a person, at the edge: the `actor` filter and a member's own events are widened
//! through the tenant's identity links (`trail_store::identity`), so a person is found by their
//! actor id or by any e-mail linked to it alike, in the events list, the stream, exports, the
//! reports' counts and the console. Every route that filters by person goes through here. The
//! widened filter matches by `trail_core::filter::is_actor`: an event with an actor id is that
//! id's, whatever e-mail it carries, as the reports count it.

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

/// A member's own events as a person: their ids (actor id and member id) with every e-mail
/// linked to them, or (for a member without an actor id) their e-mail and the id it is linked
/// to. A member who has nothing to be matched by stays nobody.
pub async fn owner(store: &dyn Store, t: &TenantId, o: &Owner) -> StoreResult<Owner> {
    let (ids, emails) = match o {
        Owner::Person { ids, emails } if ids.is_empty() && emails.is_empty() => return Ok(o.clone()),
        Owner::Person { ids, emails } => (ids.clone(), emails.clone()),
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
