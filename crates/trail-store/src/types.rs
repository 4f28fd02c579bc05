//! The values that cross the [`crate::Store`] boundary.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
use trail_core::{
    TenantId,
    canonical::{Layout, LeafHasher},
    event::{EventBody, NewEvent, StoredEvent},
    filter::Cursor,
    ids::{Role, Scope},
    time::{serde_rfc3339, serde_rfc3339_opt},
    vocabulary::actions,
};

/// A customer account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub plan: String,
    /// IANA time zone name.
    pub time_zone: String,
    /// Per-tenant options (IP truncation, retention overrides, ...), as a JSON object.
    pub settings: Map<String, Value>,
    #[serde(with = "serde_rfc3339")]
    pub created_at: Timestamp,
    /// How many events the tenant's log holds: the size of its Merkle tree.
    pub event_count: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTenant {
    pub id: TenantId,
    pub name: String,
    pub plan: String,
    pub time_zone: String,
}

/// A change to a tenant; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub plan: Option<String>,
    pub time_zone: Option<String>,
    /// Keys to set in `settings` (a `null` value removes the key).
    pub settings: Option<Map<String, Value>>,
}

impl Tenant {
    /// The tenant with `patch` applied (what a backend then writes).
    pub fn apply(&mut self, patch: TenantPatch) {
        if let Some(name) = patch.name {
            self.name = name;
        }
        if let Some(plan) = patch.plan {
            self.plan = plan;
        }
        if let Some(tz) = patch.time_zone {
            self.time_zone = tz;
        }
        for (k, v) in patch.settings.unwrap_or_default() {
            if v.is_null() {
                self.settings.remove(&k);
            } else {
                self.settings.insert(k, v);
            }
        }
    }
}

/// An API key as Trail keeps it: the token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub tenant: TenantId,
    pub name: String,
    pub scopes: Vec<Scope>,
    #[serde(with = "serde_rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "serde_rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewApiKey {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub token_hash: [u8; 32],
}

/// A person who signs in to the console for one tenant. The password hash is never part of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub id: String,
    pub tenant: TenantId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Matches the member to their own events (`actor.id`); without it, `actor.email` is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    #[serde(with = "serde_rfc3339")]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewMember {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub actor_id: Option<String>,
    /// An argon2id PHC string.
    pub password_hash: String,
}

/// A change to a member; `None` leaves a field as it is (`actor_id: Some(None)` clears it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MemberPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub actor_id: Option<Option<String>>,
    pub password_hash: Option<String>,
}

impl Member {
    /// The member with `patch` applied (the password hash is the backend's to write).
    pub fn apply(&mut self, patch: &MemberPatch) {
        if let Some(name) = &patch.name {
            self.name = name.clone();
        }
        if let Some(role) = patch.role {
            self.role = role;
        }
        if let Some(actor) = &patch.actor_id {
            self.actor_id = actor.clone();
        }
    }
}

/// A signed-in console session. The cookie holds a random token; the store keeps its SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id_hash: [u8; 32],
    pub tenant: TenantId,
    /// The member signed in, or `None` for a session opened by a viewer token.
    pub member_id: Option<String>,
    pub role: Role,
    /// Whose events a `member` sees: an actor id, or (when `None`) `email`.
    pub actor_id: Option<String>,
    pub email: Option<String>,
    pub name: String,
    /// The token every form of this session must carry (CSRF).
    pub csrf: String,
    pub expires_at: Timestamp,
}

/// An event ready to append: validated, defaults filled in, enriched, and written in canonical
/// form once (on the request's thread, not the single writer's).
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedEvent {
    pub body: EventBody,
    /// `body` in canonical form (RFC 8785), which is what backends store.
    pub canonical: Vec<u8>,
    /// Where the seq goes and the personal values are in `canonical`.
    pub layout: Layout,
    /// The random secret the event's personal-field salts derive from.
    pub secret: [u8; 16],
    /// [`NewEvent::request_digest`] of the event as sent, for the idempotency check.
    pub digest: [u8; 16],
}

impl PreparedEvent {
    /// Prepares a validated event received at `received_at`; `enrich` may add to the body
    /// (location, client) before it is frozen.
    pub fn new(event: NewEvent, received_at: Timestamp, enrich: impl FnOnce(&mut EventBody)) -> Self {
        let digest = event.request_digest();
        let mut body = event.into_body(received_at);
        enrich(&mut body);
        let (canonical, layout) = trail_core::canonical::write(&body);
        let mut secret = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        PreparedEvent { body, canonical, layout, secret, digest }
    }

    /// The leaf hasher of this event in `tenant`'s tree (everything but the seq hashed).
    pub fn leaf_hasher(&self, tenant: &TenantId) -> LeafHasher {
        let salts = trail_core::canonical::SaltsOf::new(&self.secret);
        trail_core::canonical::leaf_hasher(&self.canonical, &self.layout, tenant.as_str(), &salts)
            .expect("a prepared event's layout fits its bytes")
    }
}

/// Where one event of an appended batch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Appended {
    pub seq: u64,
    /// The event's `id` was seen before (with the same body): nothing new was stored and `seq`
    /// is the first event's.
    pub duplicate: bool,
}

/// The answer to an append: one entry per event, in order, and the tree size after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendReceipt {
    pub events: Vec<Appended>,
    pub tree_size: u64,
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    pub events: Vec<StoredEvent>,
    /// Where the next page starts, or `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

impl EventPage {
    /// A page of `events` (newest first); when `more` match, the cursor continues after the
    /// last one, on the same `snapshot` (newest seq) and time range.
    pub fn new(events: Vec<StoredEvent>, more: bool, snapshot: u64, time: trail_core::time::TimeBounds) -> EventPage {
        let last = events.last().map(|e| (e.body.occurred_at.as_microsecond(), e.seq));
        EventPage { next_cursor: crate::rendered::cursor_after(more, last, snapshot, time), events }
    }
}

/// A signed checkpoint of a tenant's tree, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: trail_core::merkle::Hash,
    /// The signed note (`trail_core::checkpoint`).
    pub note: String,
    pub created_at: Timestamp,
}

/// One person seen as an actor in a tenant's log (the users report), kept as a rollup
/// that every append updates, so listing people costs O(people), not O(events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActorSummary {
    /// What the `actor` filter matches them by: their actor id, or their e-mail when their
    /// events carry no id.
    pub key: String,
    pub actor_id: Option<String>,
    /// The latest name and e-mail their events gave.
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(with = "serde_rfc3339")]
    pub first_seen_at: Timestamp,
    #[serde(with = "serde_rfc3339")]
    pub last_seen_at: Timestamp,
    pub event_count: u64,
    /// Their latest `auth.login.succeeded`.
    #[serde(with = "serde_rfc3339_opt")]
    pub last_login_at: Option<Timestamp>,
}

impl ActorSummary {
    /// How the console names them: name, else e-mail, else key.
    pub fn label(&self) -> &str {
        self.name.as_deref().or(self.email.as_deref()).unwrap_or(&self.key)
    }
}

/// How many events of one action a tenant's log holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionCount {
    pub action: String,
    pub event_count: u64,
}

/// What a full check of one tenant's log found (`trail verify`, or the console's Verify now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub events: u64,
    pub checkpoints: u64,
    /// The first seq at which the log and its tree or checkpoints disagree, and how.
    pub problem: Option<(u64, String)>,
}

/// One person's logins (the login rollup behind the login report): their latest attempt
/// and where it came from, their latest success and failure, their failures in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginSummary {
    /// What the `actor` filter matches them by: their actor id, or their e-mail.
    pub key: String,
    pub actor_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(with = "serde_rfc3339")]
    pub last_attempt_at: Timestamp,
    pub last_succeeded: bool,
    #[serde(with = "serde_rfc3339_opt")]
    pub last_success_at: Option<Timestamp>,
    #[serde(with = "serde_rfc3339_opt")]
    pub last_failure_at: Option<Timestamp>,
    pub failed_total: u64,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
}

/// Which page of a rollup to read (the login, usage, users and link reports): rows whose
/// latest activity is at or after `since`, latest first (ties by key), after the row `after`
/// (`(latest activity, key)` of the previous page's last row), at most `limit`; only those named
/// in `only` (by key, or by e-mail for people) when it is not empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentPage {
    pub since: Option<Timestamp>,
    pub after: Option<(Timestamp, String)>,
    pub limit: usize,
    pub only: Vec<String>,
}

impl RecentPage {
    /// The first `limit` rows, most recent first.
    pub fn first(limit: usize) -> RecentPage {
        RecentPage { limit, ..RecentPage::default() }
    }
}

/// One person's files (the usage rollup behind the usage report), from `file.uploaded`
/// [`size_bytes`], `file.downloaded` and `file.deleted` [`size_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageSummary {
    pub key: String,
    pub actor_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Uploaded minus deleted (never below zero).
    pub files: u64,
    /// Bytes uploaded minus bytes deleted (never below zero).
    pub storage_bytes: u64,
    pub uploads: u64,
    pub downloads: u64,
    pub deletes: u64,
    /// Their latest `file.*` event.
    #[serde(with = "serde_rfc3339")]
    pub last_activity_at: Timestamp,
}

/// One shared link (the link rollup behind the link list): what `link.created` said about it,
/// how often it was viewed and saved, and whether it has ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkSummary {
    /// The link's target id.
    pub key: String,
    pub name: Option<String>,
    /// The file it shares (the latest `file` target named with it).
    pub file_name: Option<String>,
    /// Who created it.
    pub created_by: Option<String>,
    #[serde(with = "serde_rfc3339_opt")]
    pub created_at: Option<Timestamp>,
    /// `metadata.expires_at` of `link.created`, as given.
    pub expires_at: Option<String>,
    pub require_email: bool,
    pub views: u64,
    pub saves: u64,
    /// `revoked` or `expired` once such an event arrives, else `active`.
    pub state: String,
    #[serde(with = "serde_rfc3339_opt")]
    pub ended_at: Option<Timestamp>,
    /// Its latest `link.*` event.
    #[serde(with = "serde_rfc3339")]
    pub last_activity_at: Timestamp,
}

/// The rollups whose rows can be listed by activity within a closed time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RollupKind {
    Logins = 1,
    Usage = 2,
    Links = 3,
}

/// Rollup rows are listed by activity within a closed range exactly only when the range's ends
/// fall on these boundaries (microseconds): 15 minutes, which every time zone's day boundary is
/// a multiple of. Other ranges take the slower exact path.
pub const ACTIVITY_BUCKET_US: i64 = 15 * 60 * 1_000_000;

/// What a retention purge removes from one tenant. Leaf hashes stay in the tree, so
/// trees, checkpoints and proofs of the remaining events stay valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeRule {
    /// Events whose `occurred_at` is before this (the plan's retention).
    pub before: Option<Timestamp>,
    /// `link.viewed` / `link.saved` events of links that were revoked or expired before this.
    pub link_access_ended_before: Option<Timestamp>,
}

impl PurgeRule {
    /// The events of a link's access log that retention removes once the link has ended long
    /// enough ago: its `link.viewed` and `link.saved` events.
    pub fn link_access(link_id: String) -> trail_core::filter::Filter {
        use trail_core::filter::{ActionPattern, Filter, TargetRef};
        Filter {
            targets: vec![TargetRef { kind: Some("link".into()), id: link_id }],
            actions: [actions::LINK_VIEWED, actions::LINK_SAVED]
                .iter()
                .map(|a| ActionPattern::Exact((*a).into()))
                .collect(),
            ..Filter::default()
        }
    }
}

/// The filter and interval edges (microseconds) a backend counts with for
/// `EventLog::count_buckets`: the filter's time range narrowed to the boundaries', and each
/// boundary clamped into it.
pub fn bucket_bounds(
    filter: &trail_core::filter::Filter,
    boundaries: &[Timestamp],
) -> (trail_core::filter::Filter, Vec<i64>) {
    let (first, last) = (boundaries[0], boundaries[boundaries.len() - 1]);
    let lo = first.max(filter.time.from.unwrap_or(first));
    // A filter starting after the last boundary (or ending before the first) counts nothing.
    let hi = last.min(filter.time.to.unwrap_or(last)).max(lo);
    let mut f = filter.clone();
    f.time = trail_core::time::TimeBounds { from: Some(lo), to: Some(hi) };
    let edges = boundaries.iter().map(|b| b.as_microsecond().clamp(lo.as_microsecond(), hi.as_microsecond())).collect();
    (f, edges)
}

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Events past the retention.
    pub expired: u64,
    /// Link access events of links that ended long enough ago.
    pub link_access: u64,
    /// People and links whose rollup rows went with their last events.
    pub rollup_rows: u64,
}

impl PurgeReport {
    pub fn removed(&self) -> u64 {
        self.expired + self.link_access
    }
}

/// An erasure: personal fields to remove from events, and the person's identifiers,
/// whose rollup rows go too. Leaves keep the fields' commitments, so the tree still verifies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErasureRequest {
    /// Each event, and the personal fields to erase from it.
    pub events: Vec<(u64, Vec<trail_core::canonical::Personal>)>,
    /// Rollup keys (actor ids, or e-mails for people without one).
    pub keys: Vec<String>,
    pub emails: Vec<String>,
    pub names: Vec<String>,
}

/// What an erasure changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    /// Events with at least one field erased now.
    pub events: u64,
    /// Fields erased.
    pub fields: u64,
    /// Rollup rows dropped or cleared.
    pub rollup_rows: u64,
}
