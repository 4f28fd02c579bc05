//! Tenants, API keys, console members and sessions, server settings: plain SQL, every statement
//! scoped by `tenant_id` except the token look-ups, which go through `token_tenants` first.

use jiff::Timestamp;
use tokio_postgres::{GenericClient, Row};
use trail_core::{
    TenantId,
    ids::{Role, Scope},
};
use trail_store::{
    ApiKey, Member, MemberPatch, NewApiKey, NewMember, NewTenant, Session, StoreError, StoreResult, Tenant, TenantPatch,
};

use crate::{
    PgStore,
    error::{PgResultExt, corrupt, is_unique_violation},
    store::{now_us, ts},
};

const TENANT_COLUMNS: &str = "tenant_id, name, plan, time_zone, settings, created_at, next_seq";

fn tenant_id(s: &str) -> StoreResult<TenantId> {
    TenantId::parse(s).map_err(|e| corrupt(format!("a stored tenant id is not valid: {e}")))
}

fn tenant_row(r: &Row) -> StoreResult<Tenant> {
    let settings: String = r.get(4);
    Ok(Tenant {
        id: tenant_id(r.get(0))?,
        name: r.get(1),
        plan: r.get(2),
        time_zone: r.get(3),
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        created_at: ts(r.get(5)),
        event_count: (r.get::<_, i64>(6) - 1) as u64,
    })
}

pub(crate) async fn tenant(c: &impl GenericClient, id: &TenantId) -> StoreResult<Option<Tenant>> {
    let row = c
        .query_opt(&format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE tenant_id = $1"), &[&id.as_str()])
        .await
        .pg()?;
    row.as_ref().map(tenant_row).transpose()
}

pub(crate) async fn create_tenant(store: &PgStore, t: NewTenant) -> StoreResult<Tenant> {
    let client = store.client().await?;
    let n = client
        .execute(
            "INSERT INTO tenants (tenant_id, name, plan, time_zone, settings, created_at, next_seq)
             VALUES ($1, $2, $3, $4, '{}', $5, 1) ON CONFLICT (tenant_id) DO NOTHING",
            &[&t.id.as_str(), &t.name, &t.plan, &t.time_zone, &now_us()],
        )
        .await
        .pg()?;
    if n == 0 {
        return Err(StoreError::AlreadyExists(format!("tenant {}", t.id)));
    }
    tenant(&**client, &t.id).await?.ok_or_else(|| StoreError::NotFound(format!("tenant {}", t.id)))
}

pub(crate) async fn tenants(store: &PgStore) -> StoreResult<Vec<Tenant>> {
    let client = store.client().await?;
    let rows = client.query(&format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY tenant_id"), &[]).await.pg()?;
    rows.iter().map(tenant_row).collect()
}

pub(crate) async fn update_tenant(store: &PgStore, id: &TenantId, patch: TenantPatch) -> StoreResult<Tenant> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.pg()?;
    let row = tx
        .query_opt(
            &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE tenant_id = $1 FOR NO KEY UPDATE"),
            &[&id.as_str()],
        )
        .await
        .pg()?
        .ok_or_else(|| StoreError::NotFound(format!("tenant {id}")))?;
    let mut t = tenant_row(&row)?;
    t.apply(patch);
    let settings = serde_json::to_string(&t.settings).map_err(StoreError::internal)?;
    tx.execute(
        "UPDATE tenants SET name = $1, plan = $2, time_zone = $3, settings = $4 WHERE tenant_id = $5",
        &[&t.name, &t.plan, &t.time_zone, &settings, &id.as_str()],
    )
    .await
    .pg()?;
    tx.commit().await.pg()?;
    Ok(t)
}

/// `NotFound` unless the tenant exists.
async fn must_exist(c: &impl GenericClient, tenant: &TenantId) -> StoreResult<()> {
    match c.query_opt("SELECT 1 FROM tenants WHERE tenant_id = $1", &[&tenant.as_str()]).await.pg()? {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound(format!("tenant {tenant}"))),
    }
}

const KEY_COLUMNS: &str = "id, tenant_id, name, scopes, created_at, revoked_at";

fn key_row(r: &Row) -> StoreResult<ApiKey> {
    let scopes: String = r.get(3);
    Ok(ApiKey {
        id: r.get(0),
        tenant: tenant_id(r.get(1))?,
        name: r.get(2),
        scopes: scopes.split(',').filter_map(|s| Scope::parse(s).ok()).collect(),
        created_at: ts(r.get(4)),
        revoked_at: r.get::<_, Option<i64>>(5).map(ts),
    })
}

pub(crate) async fn create_api_key(store: &PgStore, tenant: &TenantId, key: NewApiKey) -> StoreResult<ApiKey> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.pg()?;
    must_exist(&*tx, tenant).await?;
    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
    let created = now_us();
    let taken = |e: tokio_postgres::Error| {
        if is_unique_violation(&e) {
            StoreError::AlreadyExists(format!("api key {}", key.id))
        } else {
            crate::error::from_pg(e)
        }
    };
    // A key id is unique across tenants, as in the SQLite store.
    if tx.query_opt("SELECT 1 FROM api_keys WHERE id = $1", &[&key.id]).await.pg()?.is_some() {
        return Err(StoreError::AlreadyExists(format!("api key {}", key.id)));
    }
    tx.execute(
        "INSERT INTO token_tenants (token_hash, tenant_id) VALUES ($1, $2)",
        &[&&key.token_hash[..], &tenant.as_str()],
    )
    .await
    .map_err(taken)?;
    tx.execute(
        "INSERT INTO api_keys (tenant_id, id, name, scopes, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&tenant.as_str(), &key.id, &key.name, &scopes.join(","), &&key.token_hash[..], &created],
    )
    .await
    .map_err(taken)?;
    tx.commit().await.pg()?;
    Ok(ApiKey {
        id: key.id,
        tenant: tenant.clone(),
        name: key.name,
        scopes: key.scopes,
        created_at: ts(created),
        revoked_at: None,
    })
}

pub(crate) async fn api_keys(store: &PgStore, tenant: &TenantId) -> StoreResult<Vec<ApiKey>> {
    let client = store.client().await?;
    must_exist(&**client, tenant).await?;
    let rows = client
        .query(
            &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id"),
            &[&tenant.as_str()],
        )
        .await
        .pg()?;
    rows.iter().map(key_row).collect()
}

pub(crate) async fn revoke_api_key(store: &PgStore, tenant: &TenantId, key_id: &str) -> StoreResult<ApiKey> {
    let client = store.client().await?;
    must_exist(&**client, tenant).await?;
    client
        .execute(
            "UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
            &[&now_us(), &tenant.as_str(), &key_id],
        )
        .await
        .pg()?;
    let row = client
        .query_opt(
            &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2"),
            &[&tenant.as_str(), &key_id],
        )
        .await
        .pg()?
        .ok_or_else(|| StoreError::NotFound(format!("api key {key_id}")))?;
    key_row(&row)
}

/// Whose token this is (API key or session), from the reference table.
async fn token_tenant(c: &impl GenericClient, hash: &[u8; 32]) -> StoreResult<Option<String>> {
    let row = c.query_opt("SELECT tenant_id FROM token_tenants WHERE token_hash = $1", &[&&hash[..]]).await.pg()?;
    Ok(row.map(|r| r.get(0)))
}

pub(crate) async fn api_key_by_token_hash(store: &PgStore, hash: &[u8; 32]) -> StoreResult<Option<ApiKey>> {
    let client = store.client().await?;
    let Some(tenant) = token_tenant(&**client, hash).await? else { return Ok(None) };
    let row = client
        .query_opt(
            &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND token_hash = $2"),
            &[&tenant, &&hash[..]],
        )
        .await
        .pg()?;
    row.as_ref().map(key_row).transpose()
}

const MEMBER_COLUMNS: &str = "id, tenant_id, email, name, role, actor_id, created_at";

fn member_row(r: &Row) -> StoreResult<Member> {
    Ok(Member {
        id: r.get(0),
        tenant: tenant_id(r.get(1))?,
        email: r.get(2),
        name: r.get(3),
        role: Role::parse(r.get(4)).map_err(|e| corrupt(format!("a stored role is not valid: {e}")))?,
        actor_id: r.get(5),
        created_at: ts(r.get(6)),
    })
}

pub(crate) async fn create_member(store: &PgStore, tenant: &TenantId, m: NewMember) -> StoreResult<Member> {
    let client = store.client().await?;
    must_exist(&**client, tenant).await?;
    let created = now_us();
    client
        .execute(
            "INSERT INTO members (tenant_id, id, email, email_key, name, role, actor_id, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &tenant.as_str(),
                &m.id,
                &m.email,
                &m.email.to_lowercase(),
                &m.name,
                &m.role.as_str(),
                &m.actor_id,
                &m.password_hash,
                &created,
            ],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::AlreadyExists(format!("member with e-mail {}", m.email))
            } else {
                crate::error::from_pg(e)
            }
        })?;
    Ok(Member {
        id: m.id,
        tenant: tenant.clone(),
        email: m.email,
        name: m.name,
        role: m.role,
        actor_id: m.actor_id,
        created_at: ts(created),
    })
}

pub(crate) async fn members(store: &PgStore, tenant: &TenantId) -> StoreResult<Vec<Member>> {
    let client = store.client().await?;
    must_exist(&**client, tenant).await?;
    let rows = client
        .query(
            &format!("SELECT {MEMBER_COLUMNS} FROM members WHERE tenant_id = $1 ORDER BY email_key"),
            &[&tenant.as_str()],
        )
        .await
        .pg()?;
    rows.iter().map(member_row).collect()
}

pub(crate) async fn member(c: &impl GenericClient, tenant: &TenantId, id: &str) -> StoreResult<Option<Member>> {
    must_exist(c, tenant).await?;
    let row = c
        .query_opt(
            &format!("SELECT {MEMBER_COLUMNS} FROM members WHERE tenant_id = $1 AND id = $2"),
            &[&tenant.as_str(), &id],
        )
        .await
        .pg()?;
    row.as_ref().map(member_row).transpose()
}

pub(crate) async fn member_login(
    store: &PgStore,
    tenant: &TenantId,
    email: &str,
) -> StoreResult<Option<(Member, String)>> {
    let client = store.client().await?;
    must_exist(&**client, tenant).await?;
    let row = client
        .query_opt(
            &format!("SELECT {MEMBER_COLUMNS}, password_hash FROM members WHERE tenant_id = $1 AND email_key = $2"),
            &[&tenant.as_str(), &email.to_lowercase()],
        )
        .await
        .pg()?;
    row.map(|r| Ok((member_row(&r)?, r.get::<_, String>(7)))).transpose()
}

pub(crate) async fn update_member(store: &PgStore, tenant: &TenantId, id: &str, p: MemberPatch) -> StoreResult<Member> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.pg()?;
    let mut m = member(&*tx, tenant, id).await?.ok_or_else(|| StoreError::NotFound(format!("member {id}")))?;
    m.apply(&p);
    tx.execute(
        "UPDATE members SET name = $1, role = $2, actor_id = $3, password_hash = COALESCE($4, password_hash)
         WHERE tenant_id = $5 AND id = $6",
        &[&m.name, &m.role.as_str(), &m.actor_id, &p.password_hash, &tenant.as_str(), &id],
    )
    .await
    .pg()?;
    // A changed role or password ends the member's sessions: they sign in again.
    end_sessions(&*tx, tenant, id).await?;
    tx.commit().await.pg()?;
    Ok(m)
}

/// Ends a member's sessions (and forgets whose their tokens were). Two single-table statements,
/// not one with a subquery, so each routes to one shard on Citus.
async fn end_sessions(c: &impl GenericClient, tenant: &TenantId, member_id: &str) -> StoreResult<()> {
    let ended = c
        .query(
            "DELETE FROM sessions WHERE tenant_id = $1 AND member_id = $2 RETURNING id_hash",
            &[&tenant.as_str(), &member_id],
        )
        .await
        .pg()?;
    forget_tokens(c, &ended).await
}

/// Removes the `token_tenants` rows of the tokens in `rows` (column 0: the hash).
async fn forget_tokens(c: &impl GenericClient, rows: &[Row]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let hashes: Vec<&[u8]> = rows.iter().map(|r| r.get(0)).collect();
    c.execute("DELETE FROM token_tenants WHERE token_hash = ANY($1)", &[&hashes]).await.pg()?;
    Ok(())
}

pub(crate) async fn delete_member(store: &PgStore, tenant: &TenantId, id: &str) -> StoreResult<()> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.pg()?;
    must_exist(&*tx, tenant).await?;
    end_sessions(&*tx, tenant, id).await?;
    let n = tx.execute("DELETE FROM members WHERE tenant_id = $1 AND id = $2", &[&tenant.as_str(), &id]).await.pg()?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("member {id}")));
    }
    tx.commit().await.pg()
}

pub(crate) async fn create_session(store: &PgStore, s: Session) -> StoreResult<()> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.pg()?;
    must_exist(&*tx, &s.tenant).await?;
    // The tenant's expired sessions go as new ones come.
    let now = Timestamp::now().as_microsecond();
    let expired = tx
        .query(
            "DELETE FROM sessions WHERE tenant_id = $1 AND expires_at < $2 RETURNING id_hash",
            &[&s.tenant.as_str(), &now],
        )
        .await
        .pg()?;
    forget_tokens(&*tx, &expired).await?;
    tx.execute(
        "INSERT INTO token_tenants (token_hash, tenant_id) VALUES ($1, $2)",
        &[&&s.id_hash[..], &s.tenant.as_str()],
    )
    .await
    .pg()?;
    tx.execute(
        "INSERT INTO sessions (tenant_id, id_hash, member_id, role, actor_id, email, name, csrf, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &s.tenant.as_str(),
            &&s.id_hash[..],
            &s.member_id,
            &s.role.as_str(),
            &s.actor_id,
            &s.email,
            &s.name,
            &s.csrf,
            &s.expires_at.as_microsecond(),
        ],
    )
    .await
    .pg()?;
    tx.commit().await.pg()
}

pub(crate) async fn session(store: &PgStore, id_hash: &[u8; 32]) -> StoreResult<Option<Session>> {
    let client = store.client().await?;
    let Some(tenant) = token_tenant(&**client, id_hash).await? else { return Ok(None) };
    let row = client
        .query_opt(
            "SELECT tenant_id, member_id, role, actor_id, email, name, csrf, expires_at FROM sessions
             WHERE tenant_id = $1 AND id_hash = $2 AND expires_at > $3",
            &[&tenant, &&id_hash[..], &Timestamp::now().as_microsecond()],
        )
        .await
        .pg()?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Session {
        id_hash: *id_hash,
        tenant: tenant_id(r.get(0))?,
        member_id: r.get(1),
        role: Role::parse(r.get(2)).map_err(|e| corrupt(format!("a stored role is not valid: {e}")))?,
        actor_id: r.get(3),
        email: r.get(4),
        name: r.get(5),
        csrf: r.get(6),
        expires_at: ts(r.get(7)),
    }))
}

pub(crate) async fn delete_session(store: &PgStore, id_hash: &[u8; 32]) -> StoreResult<()> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.pg()?;
    if let Some(tenant) = token_tenant(&*tx, id_hash).await? {
        tx.execute("DELETE FROM sessions WHERE tenant_id = $1 AND id_hash = $2", &[&tenant, &&id_hash[..]])
            .await
            .pg()?;
        tx.execute("DELETE FROM token_tenants WHERE token_hash = $1", &[&&id_hash[..]]).await.pg()?;
    }
    tx.commit().await.pg()
}
