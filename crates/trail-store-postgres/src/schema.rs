//! The schema, as numbered migrations applied at start (`trail_schema` holds the number).
//! Several servers may start at once: the migrations run under an advisory lock.
//!
//! Every table is keyed by `tenant_id` first and every statement this crate runs names the
//! tenant, so each table can be distributed by `tenant_id` on Citus
//! (`create_distributed_table(t, 'tenant_id')`); `token_tenants`, `server_settings` and
//! `trail_schema` are the server-wide reference tables. Times are microseconds since the epoch
//! (`bigint`), as in the SQLite store. Migrations are append-only.

use tokio_postgres::Client;
use trail_store::{StoreError, StoreResult};

use crate::error::PgResultExt;

/// The advisory lock key migrations and partition changes run under ("trail" in ASCII).
pub(crate) const DDL_LOCK: i64 = 0x0074_7261_696c;

const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite store's migrations 1-7 hold, in one step.
    r#"
    CREATE TABLE tenants (
        tenant_id  text PRIMARY KEY,
        name       text NOT NULL,
        plan       text NOT NULL,
        time_zone  text NOT NULL,
        settings   text NOT NULL DEFAULT '{}',
        created_at bigint NOT NULL,
        next_seq   bigint NOT NULL DEFAULT 1   -- the append lock: SELECT ... FOR UPDATE
    );
    -- Tokens (API keys, console sessions) are looked up before the tenant is known: this
    -- reference table says whose they are.
    CREATE TABLE token_tenants (
        token_hash bytea PRIMARY KEY,
        tenant_id  text NOT NULL
    );
    CREATE TABLE api_keys (
        tenant_id  text NOT NULL,
        id         text NOT NULL,
        name       text NOT NULL,
        scopes     text NOT NULL,
        token_hash bytea NOT NULL,
        created_at bigint NOT NULL,
        revoked_at bigint,
        PRIMARY KEY (tenant_id, id)
    );
    CREATE TABLE members (
        tenant_id     text NOT NULL,
        id            text NOT NULL,
        email         text NOT NULL,
        email_key     text NOT NULL,
        name          text NOT NULL,
        role          text NOT NULL,
        actor_id      text,
        password_hash text NOT NULL,
        created_at    bigint NOT NULL,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, email_key)
    );
    CREATE TABLE sessions (
        tenant_id  text NOT NULL,
        id_hash    bytea NOT NULL,
        member_id  text,
        role       text NOT NULL,
        actor_id   text,
        email      text,
        name       text NOT NULL,
        csrf       text NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (tenant_id, id_hash)
    );
    -- Events, partitioned by month of occurred_at (partitions.rs); a partition's local
    -- indexes find an event by seq, in time order, and by its terms.
    CREATE TABLE events (
        tenant_id   text NOT NULL,
        occurred_at bigint NOT NULL,
        seq         bigint NOT NULL,
        action      text NOT NULL,
        terms       bigint[] NOT NULL,         -- trail_index::doc(body).terms
        -- The actor's id and e-mail terms again (also in `terms`), under B-trees with the time:
        -- one person's newest events are then an index walk, whatever the planner guesses
        -- about the rest of the terms.
        actor_id_term    bigint,
        actor_email_term bigint,
        body        bytea NOT NULL,            -- trail_store::record
        PRIMARY KEY (tenant_id, occurred_at, seq)
    ) PARTITION BY RANGE (occurred_at);
    CREATE INDEX events_by_seq ON events (tenant_id, seq);
    CREATE INDEX events_by_terms ON events USING gin (terms);
    CREATE INDEX events_by_actor_id ON events (tenant_id, actor_id_term, occurred_at, seq);
    CREATE INDEX events_by_actor_email ON events (tenant_id, actor_email_term, occurred_at, seq);
    -- Client-given ids (idempotency). Not partitioned: a unique key of a partitioned table
    -- must hold the partition key, and an id must be unique whatever its event's time.
    CREATE TABLE event_ids (
        tenant_id text NOT NULL,
        id        text NOT NULL,
        seq       bigint NOT NULL,
        digest    bytea NOT NULL,
        PRIMARY KEY (tenant_id, id)
    );
    CREATE TABLE tree_tiles (
        tenant_id text NOT NULL,
        level     smallint NOT NULL,
        idx       bigint NOT NULL,
        hashes    bytea NOT NULL,
        PRIMARY KEY (tenant_id, level, idx)
    );
    CREATE TABLE checkpoints (
        tenant_id  text NOT NULL,
        size       bigint NOT NULL,
        root       bytea NOT NULL,
        note       text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (tenant_id, size)
    );
    CREATE TABLE purged (
        tenant_id text PRIMARY KEY,
        seqs      bytea NOT NULL,              -- a roaring bitmap of positions (seq - 1)
        n         bigint NOT NULL
    );
    CREATE TABLE server_settings (
        key   text PRIMARY KEY,
        value text NOT NULL
    );
    CREATE TABLE actors (
        tenant_id   text NOT NULL,
        key         text NOT NULL,
        actor_id    text,
        name        text,
        email       text,
        first_seen  bigint NOT NULL,
        last_seen   bigint NOT NULL,
        event_count bigint NOT NULL,
        last_login  bigint,
        name_at     bigint,                    -- when the batch that last wrote the row gave
        email_at    bigint,                    -- its name / e-mail (read only by the upsert)
        PRIMARY KEY (tenant_id, key)
    );
    CREATE INDEX actors_by_last_seen ON actors (tenant_id, last_seen DESC, key);
    CREATE INDEX actors_by_email ON actors (tenant_id, email);
    CREATE TABLE action_counts (
        tenant_id   text NOT NULL,
        action      text NOT NULL,
        event_count bigint NOT NULL,
        PRIMARY KEY (tenant_id, action)
    );
    CREATE TABLE logins (
        tenant_id    text NOT NULL,
        key          text NOT NULL,
        actor_id     text,
        name         text,
        email        text,
        last_at      bigint NOT NULL,
        last_ok      boolean NOT NULL,
        last_success bigint,
        last_failure bigint,
        failed_total bigint NOT NULL,
        ip           text,
        country      text,
        region       text,
        city         text,
        PRIMARY KEY (tenant_id, key)
    );
    CREATE INDEX logins_by_last ON logins (tenant_id, last_at DESC, key);
    CREATE INDEX logins_by_email ON logins (tenant_id, email);
    CREATE TABLE usage (
        tenant_id text NOT NULL,
        key       text NOT NULL,
        actor_id  text,
        name      text,
        email     text,
        uploads   bigint NOT NULL,
        downloads bigint NOT NULL,
        deletes   bigint NOT NULL,
        bytes_in  bigint NOT NULL,
        bytes_out bigint NOT NULL,
        last_at   bigint NOT NULL,
        PRIMARY KEY (tenant_id, key)
    );
    CREATE INDEX usage_by_last ON usage (tenant_id, last_at DESC, key);
    CREATE INDEX usage_by_email ON usage (tenant_id, email);
    CREATE TABLE links (
        tenant_id     text NOT NULL,
        key           text NOT NULL,
        name          text,
        file_name     text,
        created_by    text,
        created_at    bigint,
        expires_at    text,
        require_email boolean NOT NULL,
        views         bigint NOT NULL,
        saves         bigint NOT NULL,
        state         text NOT NULL,
        ended_at      bigint,
        last_at       bigint NOT NULL,
        PRIMARY KEY (tenant_id, key)
    );
    CREATE INDEX links_by_last ON links (tenant_id, last_at DESC, key);
    CREATE TABLE activity_buckets (
        tenant_id text NOT NULL,
        kind      smallint NOT NULL,
        key       text NOT NULL,
        bucket    bigint NOT NULL,
        last_at   bigint NOT NULL,
        PRIMARY KEY (tenant_id, kind, key, bucket)
    );
    CREATE INDEX activity_by_last ON activity_buckets (tenant_id, kind, last_at DESC, key);
    "#,
    // 2: events per tenant and 15-minute bucket of `occurred_at` (`counts.rs`), filled from
    // the events already stored. `tenants` is locked first: that waits for appends and purges
    // in flight (they hold a tenant's row) and holds new ones until the counts are complete.
    // Servers older than this migration must be stopped before it runs: they would append
    // without counting (docs/postgres.md, "Upgrading").
    r#"
    CREATE TABLE event_counts (
        tenant_id text NOT NULL,
        bucket    bigint NOT NULL,   -- occurred_at divided by 15 minutes, rounded down
        n         bigint NOT NULL,
        PRIMARY KEY (tenant_id, bucket)
    );
    LOCK TABLE tenants IN EXCLUSIVE MODE;
    INSERT INTO event_counts (tenant_id, bucket, n)
        SELECT tenant_id, occurred_at / 900000000 - (occurred_at % 900000000 < 0)::int AS bucket, count(*)
        FROM events GROUP BY tenant_id, bucket;
    "#,
    // 3: the identity table (identity.rs): which actor id each e-mail spelling is linked to,
    // filled from the rollups, whose rows kept under a linked e-mail are merged into the id's
    // (`identity::rebuild`, run after this step). `tenants` is locked first, as in 2, so no
    // append folds rollups while they are merged.
    r#"
    CREATE TABLE identities (
        tenant_id text NOT NULL,
        email     text NOT NULL,               -- as the events spell it
        email_key text NOT NULL,               -- lower-cased: every spelling shares one link
        actor_id  text,                        -- the id it is linked to, if any
        linked_at bigint,                      -- occurred_at of the latest pairing
        PRIMARY KEY (tenant_id, email)
    );
    CREATE INDEX identities_by_key ON identities (tenant_id, email_key);
    CREATE INDEX identities_by_actor ON identities (tenant_id, actor_id);
    LOCK TABLE tenants IN EXCLUSIVE MODE;
    "#,
];

/// The migration that creates the identity table, after which it is filled from the rollups.
const IDENTITIES: usize = 3;

/// The schema version this build writes.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`VERSION`]; refuses a database written by a newer Trail.
pub(crate) async fn migrate(client: &mut Client) -> StoreResult<()> {
    let tx = client.transaction().await.pg()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK]).await.pg()?;
    let exists: Option<String> = tx.query_one("SELECT to_regclass('trail_schema')::text", &[]).await.pg()?.get(0);
    if exists.is_none() {
        tx.batch_execute("CREATE TABLE trail_schema (version bigint NOT NULL)").await.pg()?;
    }
    let current: i64 = match tx.query_opt("SELECT version FROM trail_schema", &[]).await.pg()? {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO trail_schema (version) VALUES (0)", &[]).await.pg()?;
            0
        }
    };
    if current > VERSION {
        return Err(StoreError::Unavailable(format!(
            "the database has schema version {current}, newer than this Trail's {VERSION}: upgrade Trail"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(sql).await.pg()?;
        if i + 1 == IDENTITIES {
            crate::identity::rebuild(&tx).await?;
        }
        tx.execute("UPDATE trail_schema SET version = $1", &[&((i + 1) as i64)]).await.pg()?;
        tracing::info!(version = i + 1, "applied postgres migration");
    }
    tx.commit().await.pg()
}
