//! Console members and their sessions: plain SQL over the `members` and `sessions` tables
//! (migration 2). Every statement is scoped by the tenant's number, like every other table.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use trail_core::{TenantId, ids::Role};
use trail_store::{Member, MemberPatch, NewMember, Session, StoreError, StoreResult};

use crate::error::{SqlResultExt, from_sqlite};

const COLUMNS: &str = "m.id, t.id, m.email, m.name, m.role, m.actor_id, m.created_at";

fn bad(col: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
}

fn member_row(r: &Row<'_>) -> rusqlite::Result<Member> {
    let tenant: String = r.get(1)?;
    let role: String = r.get(4)?;
    Ok(Member {
        id: r.get(0)?,
        tenant: TenantId::parse(&tenant).map_err(|e| bad(1, e))?,
        email: r.get(2)?,
        name: r.get(3)?,
        role: Role::parse(&role).map_err(|e| bad(4, e))?,
        actor_id: r.get(5)?,
        created_at: Timestamp::from_microsecond(r.get(6)?).unwrap_or(Timestamp::UNIX_EPOCH),
    })
}

pub(crate) fn create(tx: &Transaction<'_>, tenant: &TenantId, tid: i64, m: NewMember) -> StoreResult<Member> {
    let created = Timestamp::now().as_microsecond();
    tx.execute(
        "INSERT INTO members (id, tid, email, email_key, name, role, actor_id, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            m.id,
            tid,
            m.email,
            m.email.to_lowercase(),
            m.name,
            m.role.as_str(),
            m.actor_id,
            m.password_hash,
            created
        ],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::AlreadyExists(format!("member with e-mail {}", m.email))
        }
        e => from_sqlite(e),
    })?;
    Ok(Member {
        id: m.id,
        tenant: tenant.clone(),
        email: m.email,
        name: m.name,
        role: m.role,
        actor_id: m.actor_id,
        created_at: Timestamp::from_microsecond(created).unwrap_or(Timestamp::UNIX_EPOCH),
    })
}

pub(crate) fn list(c: &Connection, tid: i64) -> StoreResult<Vec<Member>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM members m JOIN tenants t ON t.tid = m.tid WHERE m.tid = ?1 ORDER BY m.email_key"
    ))
    .sql()?
    .query_map([tid], member_row)
    .sql()?
    .collect::<rusqlite::Result<Vec<_>>>()
    .sql()
}

pub(crate) fn one(c: &Connection, tid: i64, id: &str) -> StoreResult<Option<Member>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM members m JOIN tenants t ON t.tid = m.tid WHERE m.tid = ?1 AND m.id = ?2"
    ))
    .sql()?
    .query_row(params![tid, id], member_row)
    .optional()
    .sql()
}

pub(crate) fn login(c: &Connection, tid: i64, email: &str) -> StoreResult<Option<(Member, String)>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS}, m.password_hash FROM members m JOIN tenants t ON t.tid = m.tid
         WHERE m.tid = ?1 AND m.email_key = ?2"
    ))
    .sql()?
    .query_row(params![tid, email.to_lowercase()], |r| Ok((member_row(r)?, r.get::<_, String>(7)?)))
    .optional()
    .sql()
}

pub(crate) fn update(tx: &Transaction<'_>, tid: i64, id: &str, p: MemberPatch) -> StoreResult<Member> {
    let mut m = one(tx, tid, id)?.ok_or_else(|| StoreError::NotFound(format!("member {id}")))?;
    m.apply(&p);
    tx.execute(
        "UPDATE members SET name = ?1, role = ?2, actor_id = ?3, password_hash = COALESCE(?4, password_hash)
         WHERE tid = ?5 AND id = ?6",
        params![m.name, m.role.as_str(), m.actor_id, p.password_hash, tid, id],
    )
    .sql()?;
    // A changed role or password ends the member's sessions: they sign in again.
    tx.execute("DELETE FROM sessions WHERE tid = ?1 AND member_id = ?2", params![tid, id]).sql()?;
    Ok(m)
}

pub(crate) fn delete(tx: &Transaction<'_>, tid: i64, id: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM sessions WHERE tid = ?1 AND member_id = ?2", params![tid, id]).sql()?;
    let n = tx.execute("DELETE FROM members WHERE tid = ?1 AND id = ?2", params![tid, id]).sql()?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("member {id}")));
    }
    Ok(())
}

pub(crate) fn create_session(tx: &Transaction<'_>, tid: i64, s: &Session) -> StoreResult<()> {
    // Expired sessions go as new ones come.
    tx.execute("DELETE FROM sessions WHERE expires_at < ?1", [Timestamp::now().as_microsecond()]).sql()?;
    tx.execute(
        "INSERT INTO sessions (id_hash, tid, member_id, role, actor_id, email, name, csrf, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            &s.id_hash[..],
            tid,
            s.member_id,
            s.role.as_str(),
            s.actor_id,
            s.email,
            s.name,
            s.csrf,
            s.expires_at.as_microsecond()
        ],
    )
    .sql()?;
    Ok(())
}

pub(crate) fn session(c: &Connection, id_hash: &[u8; 32]) -> StoreResult<Option<Session>> {
    c.prepare_cached(
        "SELECT s.id_hash, t.id, s.member_id, s.role, s.actor_id, s.email, s.name, s.csrf, s.expires_at
         FROM sessions s JOIN tenants t ON t.tid = s.tid WHERE s.id_hash = ?1 AND s.expires_at > ?2",
    )
    .sql()?
    .query_row(params![&id_hash[..], Timestamp::now().as_microsecond()], |r| {
        let tenant: String = r.get(1)?;
        let role: String = r.get(3)?;
        Ok(Session {
            id_hash: *id_hash,
            tenant: TenantId::parse(&tenant).map_err(|e| bad(1, e))?,
            member_id: r.get(2)?,
            role: Role::parse(&role).map_err(|e| bad(3, e))?,
            actor_id: r.get(4)?,
            email: r.get(5)?,
            name: r.get(6)?,
            csrf: r.get(7)?,
            expires_at: Timestamp::from_microsecond(r.get(8)?).unwrap_or(Timestamp::UNIX_EPOCH),
        })
    })
    .optional()
    .sql()
}

pub(crate) fn delete_session(tx: &Transaction<'_>, id_hash: &[u8; 32]) -> StoreResult<()> {
    tx.execute("DELETE FROM sessions WHERE id_hash = ?1", [&id_hash[..]]).sql()?;
    Ok(())
}
