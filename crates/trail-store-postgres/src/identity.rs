//! The identity table (`trail_store::identity`), as the SQLite store keeps it: per tenant, one
//! row per e-mail spelling seen, with the actor id it is linked to; every spelling of one
//! e-mail (`email_key`) carries the same link. Kept by every append in its transaction (under
//! the tenant's row lock, so appends of one tenant never race on it), before the rollups, which
//! are folded with the links it returns.

use std::collections::HashSet;

use tokio_postgres::{GenericClient, Transaction};
use trail_core::TenantId;
use trail_store::{
    StoreResult,
    identity::{Person, Resolved, email_key, fold_emails},
    rollup::Seen,
};

use crate::{PgStore, error::PgResultExt};

/// Records the e-mails of one append's new events and the ids they are paired with, merges the
/// rollup rows of any e-mail linked (or moved) to an id by them, and returns the id each e-mail
/// of the batch is linked to.
pub(crate) async fn link<'a>(
    tx: &Transaction<'_>,
    tenant: &str,
    seen: impl Iterator<Item = &'a Seen>,
) -> StoreResult<Resolved> {
    let mut resolved = Resolved::default();
    for (key, f) in fold_emails(seen) {
        let before = current(tx, tenant, &key).await?;
        let (id, at) = match &before {
            Some((id, at)) => (Some(id.as_str()), Some(*at)),
            None => (None, None),
        };
        for spelling in &f.spellings {
            tx.execute(
                "INSERT INTO identities (tenant_id, email, email_key, actor_id, linked_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant_id, email) DO NOTHING",
                &[&tenant, spelling, &key, &id, &at],
            )
            .await
            .pg()?;
        }
        let mut now = before.as_ref().map(|(id, _)| id.clone());
        if let Some((at, id)) = f.pairing
            && before.as_ref().is_none_or(|(was, was_at)| at >= *was_at && (was != id || at > *was_at))
        {
            tx.execute(
                "UPDATE identities SET actor_id = $3, linked_at = $4 WHERE tenant_id = $1 AND email_key = $2",
                &[&tenant, &key, &id, &at],
            )
            .await
            .pg()?;
            if now.as_deref() != Some(id) {
                // A new link (or a moved e-mail): what was kept under the e-mail is the id's.
                for spelling in spellings(tx, tenant, &key).await? {
                    if spelling != id {
                        crate::rollups::merge(tx, tenant, &spelling, id).await?;
                    }
                }
                tracing::debug!(tenant, "linked an e-mail to an actor id");
            }
            now = Some(id.to_owned());
        }
        if let Some(id) = now {
            for spelling in &f.spellings {
                resolved.insert(spelling, &id);
            }
        }
    }
    Ok(resolved)
}

/// The id an e-mail (by key) is linked to, and since when.
async fn current(c: &impl GenericClient, tenant: &str, key: &str) -> StoreResult<Option<(String, i64)>> {
    let row = c
        .query_opt(
            "SELECT actor_id, linked_at FROM identities
             WHERE tenant_id = $1 AND email_key = $2 AND actor_id IS NOT NULL LIMIT 1",
            &[&tenant, &key],
        )
        .await
        .pg()?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

async fn spellings(c: &impl GenericClient, tenant: &str, key: &str) -> StoreResult<Vec<String>> {
    let rows =
        c.query("SELECT email FROM identities WHERE tenant_id = $1 AND email_key = $2", &[&tenant, &key]).await.pg()?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// See `Store::person`.
pub(crate) async fn person(
    store: &PgStore,
    tenant: &TenantId,
    ids: &[String],
    emails: &[String],
) -> StoreResult<Person> {
    let client = store.client().await?;
    PgStore::next_seq(&client, tenant).await?;
    let t = tenant.as_str();
    let mut p = Person::default();
    let mut keys: HashSet<String> = HashSet::new();
    let mut all: Vec<String> = ids.to_vec();
    for e in emails {
        let key = email_key(e);
        if let Some((id, _)) = current(&**client, t, &key).await? {
            all.push(id);
        }
        keys.insert(key);
    }
    for id in &all {
        let rows = client
            .query("SELECT DISTINCT email_key FROM identities WHERE tenant_id = $1 AND actor_id = $2", &[&t, id])
            .await
            .pg()?;
        if !rows.is_empty() || !ids.contains(id) {
            p.add_id(id);
        }
        keys.extend(rows.iter().map(|r| r.get::<_, String>(0)));
    }
    let mut keys: Vec<String> = keys.into_iter().collect();
    keys.sort();
    for key in keys {
        for spelling in spellings(&**client, t, &key).await? {
            p.add_email(&spelling);
        }
    }
    Ok(p)
}

/// Fills the table from the rollups of a database written before it existed, as the SQLite
/// store's migration does: every row naming an id and an e-mail links them (the latest by
/// activity wins), every e-mail kept without an id is a spelling, and rows kept under a linked
/// e-mail are merged into the id's.
pub(crate) async fn rebuild(tx: &Transaction<'_>) -> StoreResult<()> {
    let rows = tx
        .query(
            "SELECT tenant_id, actor_id, email, last_seen FROM actors WHERE email IS NOT NULL
             UNION ALL SELECT tenant_id, actor_id, email, last_at FROM logins WHERE email IS NOT NULL
             UNION ALL SELECT tenant_id, actor_id, email, last_at FROM usage WHERE email IS NOT NULL
             UNION ALL SELECT tenant_id, NULL, key, last_seen FROM actors WHERE actor_id IS NULL
             UNION ALL SELECT tenant_id, NULL, key, last_at FROM logins WHERE actor_id IS NULL
             UNION ALL SELECT tenant_id, NULL, key, last_at FROM usage WHERE actor_id IS NULL
             ORDER BY 1, 4",
            &[],
        )
        .await
        .pg()?;
    let rows: Vec<(String, Option<String>, String, i64)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect();
    let mut start = 0;
    while start < rows.len() {
        let tenant = rows[start].0.clone();
        let end = start + rows[start..].iter().take_while(|r| r.0 == tenant).count();
        let seen: Vec<Seen> =
            rows[start..end].iter().map(|(_, id, email, at)| Seen::pairing(id.clone(), email.clone(), *at)).collect();
        link(tx, &tenant, seen.iter()).await?;
        start = end;
    }
    Ok(())
}
