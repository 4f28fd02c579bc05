//! The schema, as numbered migrations applied at open (`PRAGMA user_version` holds the number).
//!
//! Migrations are append-only: a released migration is never edited; a change is a new one.

use rusqlite::Connection;

use crate::error::SqlResultExt;
use trail_store::StoreResult;

const MIGRATIONS: &[&str] = &[
    // 1: tenants, keys, events, Merkle tiles, checkpoints, compression dictionaries, settings.
    r#"
    CREATE TABLE tenants (
        tid        INTEGER PRIMARY KEY,          -- internal tenant number, part of event keys
        id         TEXT NOT NULL UNIQUE,
        name       TEXT NOT NULL,
        plan       TEXT NOT NULL,
        time_zone  TEXT NOT NULL,
        settings   TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,            -- microseconds since the epoch
        next_seq   INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE api_keys (
        id         TEXT PRIMARY KEY,
        tid        INTEGER NOT NULL REFERENCES tenants(tid),
        name       TEXT NOT NULL,
        scopes     TEXT NOT NULL,                -- comma-separated
        token_hash BLOB NOT NULL UNIQUE,         -- SHA-256 of the token
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    CREATE INDEX api_keys_by_tenant ON api_keys(tid, created_at);
    CREATE TABLE events (
        pos         INTEGER PRIMARY KEY,         -- tid << 40 | seq
        digest      INTEGER,                     -- 8 bytes of the digest of the event as sent,
                                                 -- when it has a client id (idempotency)
        body        BLOB NOT NULL                -- the stored event (codec.rs)
    );
    CREATE TABLE tree_tiles (
        tid    INTEGER NOT NULL,
        level  INTEGER NOT NULL,
        idx    INTEGER NOT NULL,
        hashes BLOB NOT NULL,                    -- up to 256 SHA-256 hashes (tree.rs)
        PRIMARY KEY (tid, level, idx)
    ) WITHOUT ROWID;
    CREATE TABLE checkpoints (
        tid        INTEGER NOT NULL,
        size       INTEGER NOT NULL,
        root       BLOB NOT NULL,
        note       TEXT NOT NULL,                -- the signed note
        created_at INTEGER NOT NULL,
        PRIMARY KEY (tid, size)
    ) WITHOUT ROWID;
    CREATE TABLE dictionaries (
        id         INTEGER PRIMARY KEY,
        created_at INTEGER NOT NULL,
        data       BLOB NOT NULL                 -- a zstd dictionary (codec.rs)
    );
    CREATE TABLE server_settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: console members and their sessions.
    r#"
    CREATE TABLE members (
        id            TEXT PRIMARY KEY,
        tid           INTEGER NOT NULL REFERENCES tenants(tid),
        email         TEXT NOT NULL,
        email_key     TEXT NOT NULL,             -- lower-cased: e-mails are unique per tenant
        name          TEXT NOT NULL,
        role          TEXT NOT NULL,
        actor_id      TEXT,
        password_hash TEXT NOT NULL,             -- argon2id PHC string
        created_at    INTEGER NOT NULL,
        UNIQUE (tid, email_key)
    );
    CREATE TABLE sessions (
        id_hash    BLOB PRIMARY KEY,             -- SHA-256 of the cookie's token
        tid        INTEGER NOT NULL REFERENCES tenants(tid),
        member_id  TEXT,                         -- NULL for a viewer-token session
        role       TEXT NOT NULL,
        actor_id   TEXT,
        email      TEXT,
        name       TEXT NOT NULL,
        csrf       TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sessions_by_member ON sessions(tid, member_id);
    "#,
    // 3: rollups kept by every append (rollups.rs): people seen as actors, actions held.
    r#"
    CREATE TABLE actors (
        tid         INTEGER NOT NULL,
        key         TEXT NOT NULL,               -- actor id, or e-mail when the events carry no id
        actor_id    TEXT,
        name        TEXT,
        email       TEXT,
        first_seen  INTEGER NOT NULL,            -- occurred_at, microseconds
        last_seen   INTEGER NOT NULL,
        event_count INTEGER NOT NULL,
        last_login  INTEGER,
        PRIMARY KEY (tid, key)
    ) WITHOUT ROWID;
    CREATE INDEX actors_by_last_seen ON actors(tid, last_seen);
    CREATE TABLE action_counts (
        tid         INTEGER NOT NULL,
        action      TEXT NOT NULL,
        event_count INTEGER NOT NULL,
        PRIMARY KEY (tid, action)
    ) WITHOUT ROWID;
    "#,
    // 4: the login rollup (logins.rs).
    r#"
    CREATE TABLE logins (
        tid          INTEGER NOT NULL,
        key          TEXT NOT NULL,              -- actor id, or e-mail when the events carry no id
        actor_id     TEXT,
        name         TEXT,
        email        TEXT,
        last_at      INTEGER NOT NULL,           -- the latest attempt's occurred_at, microseconds
        last_ok      INTEGER NOT NULL,           -- whether it succeeded
        last_success INTEGER,
        last_failure INTEGER,
        failed_total INTEGER NOT NULL,
        ip           TEXT,                       -- where the latest attempt came from
        country      TEXT,
        region       TEXT,
        city         TEXT,
        PRIMARY KEY (tid, key)
    ) WITHOUT ROWID;
    CREATE INDEX logins_by_last ON logins(tid, last_at);
    CREATE INDEX logins_by_email ON logins(tid, email);
    "#,
    // 5: the usage and link rollups (usage.rs, links.rs); people found by e-mail in the users
    // report.
    r#"
    CREATE TABLE usage (
        tid        INTEGER NOT NULL,
        key        TEXT NOT NULL,                -- actor id, or e-mail when the events carry no id
        actor_id   TEXT,
        name       TEXT,
        email      TEXT,
        uploads    INTEGER NOT NULL,
        downloads  INTEGER NOT NULL,
        deletes    INTEGER NOT NULL,
        bytes_in   INTEGER NOT NULL,             -- size_bytes uploaded
        bytes_out  INTEGER NOT NULL,             -- size_bytes deleted
        last_at    INTEGER NOT NULL,             -- the latest file event's occurred_at
        PRIMARY KEY (tid, key)
    ) WITHOUT ROWID;
    CREATE INDEX usage_by_last ON usage(tid, last_at);
    CREATE INDEX usage_by_email ON usage(tid, email);
    CREATE TABLE links (
        tid           INTEGER NOT NULL,
        key           TEXT NOT NULL,             -- the link target's id
        name          TEXT,
        file_name     TEXT,
        created_by    TEXT,
        created_at    INTEGER,
        expires_at    TEXT,                      -- as link.created gave it
        require_email INTEGER NOT NULL,
        views         INTEGER NOT NULL,
        saves         INTEGER NOT NULL,
        state         TEXT NOT NULL,             -- active, revoked or expired
        ended_at      INTEGER,
        last_at       INTEGER NOT NULL,
        PRIMARY KEY (tid, key)
    ) WITHOUT ROWID;
    CREATE INDEX links_by_last ON links(tid, last_at);
    CREATE INDEX actors_by_email ON actors(tid, email);
    "#,
    // 6: activity buckets (buckets.rs): who was active in a closed range, newest first.
    r#"
    CREATE TABLE activity_buckets (
        tid      INTEGER NOT NULL,
        kind     INTEGER NOT NULL,               -- 1 logins, 2 usage, 3 links
        key      TEXT NOT NULL,                  -- the rollup row's key
        bucket   INTEGER NOT NULL,               -- occurred_at / 15 minutes
        last_at  INTEGER NOT NULL,               -- the latest occurred_at in it, microseconds
        PRIMARY KEY (tid, kind, key, bucket)
    ) WITHOUT ROWID;
    CREATE INDEX activity_by_last ON activity_buckets(tid, kind, last_at);
    "#,
    // 7: retention (purge.rs): the positions (seq - 1) of each tenant's purged events.
    r#"
    CREATE TABLE purged (
        tid   INTEGER PRIMARY KEY,
        seqs  BLOB NOT NULL,                     -- a serialised roaring bitmap
        n     INTEGER NOT NULL                   -- how many: another process's purge shows as a change
    );
    "#,
    // 8: the identity table (identity.rs): which actor id each e-mail spelling is linked to,
    // filled from the rollups, whose rows kept under a linked e-mail are merged into the id's
    // (`identity::rebuild`, run after this step).
    r#"
    CREATE TABLE identities (
        tid       INTEGER NOT NULL,
        email     TEXT NOT NULL,                 -- as the events spell it
        email_key TEXT NOT NULL,                 -- lower-cased: every spelling shares one link
        actor_id  TEXT,                          -- the id it is linked to, if any
        linked_at INTEGER,                       -- occurred_at of the latest pairing, microseconds
        PRIMARY KEY (tid, email)
    ) WITHOUT ROWID;
    CREATE INDEX identities_by_key ON identities(tid, email_key);
    CREATE INDEX identities_by_actor ON identities(tid, actor_id);
    "#,
    // 9: compression dictionaries carry a header with a version and a checksum (codec.rs);
    // those stored before without one are given it (`codec::seal_old_dicts`, run after this
    // step). The schema's version changes so that an older Trail, which would read the header as
    // part of the dictionary, refuses the database instead ("upgrade Trail").
    r#"
    SELECT 1;
    "#,
];

/// The migration that creates the identity table, after which it is filled from the rollups.
const IDENTITIES: usize = 8;
/// The migration after which stored dictionaries are given their header.
const DICTIONARY_HEADERS: usize = 9;

/// The schema version this build writes.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`VERSION`]; refuses a database written by a newer Trail.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    migrate_to(conn, VERSION)
}

/// Brings the database up to `version` (a test builds a database of an older schema with it).
pub(crate) fn migrate_to(conn: &mut Connection, version: i64) -> StoreResult<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).sql()?;
    if current > VERSION {
        return Err(trail_store::StoreError::Unavailable(format!(
            "the database has schema version {current}, newer than this Trail's {VERSION}: upgrade Trail"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().take(version as usize).skip(current as usize) {
        let tx = conn.transaction().sql()?;
        tx.execute_batch(sql).sql()?;
        if i + 1 == IDENTITIES {
            crate::identity::rebuild(&tx)?;
        }
        if i + 1 == DICTIONARY_HEADERS {
            crate::codec::seal_old_dicts(&tx)?;
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64).sql()?;
        tx.commit().sql()?;
        tracing::info!(version = i + 1, "applied sqlite migration");
    }
    Ok(())
}
