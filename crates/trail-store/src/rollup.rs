//! What each event adds to the rollups every backend keeps in its append transaction (the
//! users, login, usage and link reports, the action counts, the activity buckets), and how a
//! batch is folded in memory before it is written: a batch of 1,000 events usually names a
//! handful of people, actions and links, so each backend writes one upsert per distinct row
//! instead of one per event. The backends differ only in their SQL; what a row means is here.
//!
//! Events may arrive out of `occurred_at` order, so every "latest" value (a name, an e-mail, the
//! latest login's address) is kept with its time, and a backend's upsert replaces the stored
//! value only with one at least as recent.

use std::collections::HashMap;

use serde_json::Value;
use trail_core::{
    event::EventBody,
    vocabulary::actions::{self, prefix},
};

use crate::{ACTIVITY_BUCKET_US, RollupKind, identity::Resolved};

/// Keeps in `slot` the value given at the latest time: folding a batch, a person's name or
/// e-mail is the one their most recent event gave (not every event carries them).
pub fn keep_latest<'a>(slot: &mut Option<(i64, &'a str)>, at: i64, value: Option<&'a str>) {
    if let Some(v) = value
        && slot.is_none_or(|(t, _)| t <= at)
    {
        *slot = Some((at, v));
    }
}

/// What one event adds to the actors rollup and the action counts.
pub struct Seen {
    pub action: String,
    pub occurred_at: i64,
    pub actor: Option<SeenActor>,
    /// The actor's id and e-mail, whoever they are (a link's visitors too): what links an
    /// e-mail to an id (`crate::identity`).
    pub actor_id: Option<String>,
    pub email: Option<String>,
}

pub struct SeenActor {
    /// The actor id, or the e-mail when the event carries no id.
    pub key: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The event is an `auth.login.succeeded`.
    pub login: bool,
}

impl Seen {
    /// An event that only pairs an actor id (if any) with an e-mail at `occurred_at`: how the
    /// identity migration replays a rollup row to link its e-mail.
    pub fn pairing(actor_id: Option<String>, email: String, occurred_at: i64) -> Seen {
        Seen { action: String::new(), occurred_at, actor: None, actor_id, email: Some(email) }
    }

    pub fn of(body: &EventBody) -> Seen {
        // A shared link's visitors are not the product's users: they are listed in the link's
        // access log (where a plan may hide them), not among the people who act.
        let visitor = matches!(body.action.as_str(), actions::LINK_VIEWED | actions::LINK_SAVED);
        let actor = body.actor.as_ref().filter(|_| !visitor).and_then(|a| {
            let key = a.id.clone().or_else(|| a.email.clone())?;
            Some(SeenActor {
                key,
                id: a.id.clone(),
                name: a.name.clone(),
                email: a.email.clone(),
                login: body.action.as_str() == actions::AUTH_LOGIN_SUCCEEDED,
            })
        });
        Seen {
            action: body.action.as_str().to_owned(),
            occurred_at: body.occurred_at.as_microsecond(),
            actor,
            actor_id: body.actor_id().map(str::to_owned),
            email: body.actor_email().map(str::to_owned),
        }
    }
}

/// One person's part of a batch, for the actors rollup.
#[derive(Default)]
pub struct ActorFold<'a> {
    pub id: Option<&'a str>,
    /// The latest name and e-mail given, with when.
    pub name: Option<(i64, &'a str)>,
    pub email: Option<(i64, &'a str)>,
    pub first: i64,
    pub last: i64,
    pub count: i64,
    /// Their latest successful login in the batch.
    pub login: Option<i64>,
}

/// A batch folded: events per action, and per person (by key; an actor with only an e-mail
/// linked to an id is folded under the id).
pub fn fold_seen<'a>(
    seen: impl Iterator<Item = &'a Seen>,
    ids: &'a Resolved,
) -> (HashMap<&'a str, i64>, HashMap<&'a str, ActorFold<'a>>) {
    let mut actions: HashMap<&str, i64> = HashMap::new();
    let mut actors: HashMap<&str, ActorFold<'_>> = HashMap::new();
    for s in seen {
        *actions.entry(&s.action).or_default() += 1;
        let Some(a) = &s.actor else { continue };
        let at = s.occurred_at;
        let key = ids.key(&a.key, a.id.as_deref());
        let f = actors.entry(key).or_insert_with(|| ActorFold { first: at, last: at, ..ActorFold::default() });
        f.id = f.id.or(ids.id(&a.key, a.id.as_deref()));
        keep_latest(&mut f.name, at, a.name.as_deref());
        keep_latest(&mut f.email, at, a.email.as_deref());
        f.first = f.first.min(at);
        f.last = f.last.max(at);
        f.count += 1;
        if a.login {
            f.login = Some(f.login.map_or(at, |l| l.max(at)));
        }
    }
    (actions, actors)
}

/// What one event tells the domain rollups (logins, usage, links). An event feeds at most one
/// of them: the catalogue's actions for each are disjoint (`auth.login.*`, `file.*`, `link.*`).
pub enum Fact {
    Login(Attempt),
    File(FileUse),
    Link(LinkUse),
}

impl Fact {
    pub fn of(body: &EventBody) -> Option<Fact> {
        let action = body.action.as_str();
        if action.starts_with(prefix::AUTH) {
            Attempt::of(body).map(Fact::Login)
        } else if action.starts_with(prefix::FILE) {
            FileUse::of(body).map(Fact::File)
        } else if action.starts_with(prefix::LINK) {
            LinkUse::of(body).map(Fact::Link)
        } else {
            None
        }
    }

    /// The rollup row it touches (a person's by their linked id), and when.
    pub fn activity<'a>(&'a self, ids: &'a Resolved) -> (RollupKind, &'a str, i64) {
        match self {
            Fact::Login(a) => (RollupKind::Logins, ids.key(&a.key, a.actor_id.as_deref()), a.at),
            Fact::File(u) => (RollupKind::Usage, ids.key(&u.key, u.actor_id.as_deref()), u.at),
            Fact::Link(l) => (RollupKind::Links, &l.key, l.at),
        }
    }
}

/// The facts of a batch, split by rollup.
pub fn split<'a>(facts: impl Iterator<Item = &'a Fact>) -> (Vec<&'a Attempt>, Vec<&'a FileUse>, Vec<&'a LinkUse>) {
    let (mut logins, mut files, mut links) = (Vec::new(), Vec::new(), Vec::new());
    for f in facts {
        match f {
            Fact::Login(a) => logins.push(a),
            Fact::File(u) => files.push(u),
            Fact::Link(l) => links.push(l),
        }
    }
    (logins, files, links)
}

/// Activity buckets: the latest `occurred_at` per `(kind, key, bucket)` of a batch, where a
/// bucket is `occurred_at / ACTIVITY_BUCKET_US`.
pub fn fold_buckets<'a>(
    seen: impl Iterator<Item = (RollupKind, &'a str, i64)>,
) -> HashMap<(RollupKind, &'a str, i64), i64> {
    let mut latest: HashMap<(RollupKind, &str, i64), i64> = HashMap::new();
    for (kind, key, at) in seen {
        let slot = latest.entry((kind, key, at.div_euclid(ACTIVITY_BUCKET_US))).or_insert(at);
        *slot = (*slot).max(at);
    }
    latest
}

/// One login attempt by someone identifiable (`auth.login.succeeded` / `auth.login.failed`).
pub struct Attempt {
    pub key: String,
    pub actor_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub at: i64,
    pub ok: bool,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
}

impl Attempt {
    pub fn of(body: &EventBody) -> Option<Attempt> {
        let ok = match body.action.as_str() {
            actions::AUTH_LOGIN_SUCCEEDED => true,
            actions::AUTH_LOGIN_FAILED => false,
            _ => return None,
        };
        let actor = body.actor.as_ref()?;
        let key = actor.id.clone().or_else(|| actor.email.clone())?;
        let ctx = body.context.as_deref();
        let loc = ctx.and_then(|c| c.location.as_ref());
        Some(Attempt {
            key,
            actor_id: actor.id.clone(),
            name: actor.name.clone(),
            email: actor.email.clone(),
            at: body.occurred_at.as_microsecond(),
            ok,
            ip: ctx.and_then(|c| c.ip).map(|ip| ip.to_string()),
            country: loc.and_then(|l| l.country.clone()),
            region: loc.and_then(|l| l.region.clone()),
            city: loc.and_then(|l| l.city.clone()),
        })
    }
}

/// One person's attempts in a batch.
pub struct LoginFold<'a> {
    pub name: Option<(i64, &'a str)>,
    pub email: Option<(i64, &'a str)>,
    /// Their actor id (their own, or the one their e-mail is linked to).
    pub id: Option<&'a str>,
    /// Their latest attempt: its time, outcome and place replace the stored ones when at least
    /// as recent.
    pub latest: &'a Attempt,
    pub success: Option<i64>,
    pub failure: Option<i64>,
    pub failed: i64,
}

pub fn fold_logins<'a>(
    attempts: impl IntoIterator<Item = &'a Attempt>,
    ids: &'a Resolved,
) -> HashMap<&'a str, LoginFold<'a>> {
    let mut people: HashMap<&str, LoginFold<'_>> = HashMap::new();
    for a in attempts {
        let f = people.entry(ids.key(&a.key, a.actor_id.as_deref())).or_insert(LoginFold {
            id: None,
            name: None,
            email: None,
            latest: a,
            success: None,
            failure: None,
            failed: 0,
        });
        f.id = f.id.or(ids.id(&a.key, a.actor_id.as_deref()));
        keep_latest(&mut f.name, a.at, a.name.as_deref());
        keep_latest(&mut f.email, a.at, a.email.as_deref());
        if a.at >= f.latest.at {
            f.latest = a;
        }
        let slot = if a.ok { &mut f.success } else { &mut f.failure };
        *slot = Some(slot.map_or(a.at, |t| t.max(a.at)));
        f.failed += i64::from(!a.ok);
    }
    people
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Upload,
    Download,
    Delete,
}

/// One file event by someone identifiable (`file.uploaded`, `file.downloaded`, `file.deleted`).
pub struct FileUse {
    pub key: String,
    pub actor_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub at: i64,
    pub kind: FileKind,
    /// `metadata.size_bytes` when it is a whole number of bytes, else 0.
    pub bytes: i64,
}

impl FileUse {
    pub fn of(body: &EventBody) -> Option<FileUse> {
        let kind = match body.action.as_str() {
            actions::FILE_UPLOADED => FileKind::Upload,
            actions::FILE_DOWNLOADED => FileKind::Download,
            actions::FILE_DELETED => FileKind::Delete,
            _ => return None,
        };
        let actor = body.actor.as_ref()?;
        let key = actor.id.clone().or_else(|| actor.email.clone())?;
        let bytes = body
            .metadata
            .as_ref()
            .and_then(|m| m.get("size_bytes"))
            .and_then(Value::as_u64)
            .map_or(0, |b| b.min(i64::MAX as u64) as i64);
        Some(FileUse {
            key,
            actor_id: actor.id.clone(),
            name: actor.name.clone(),
            email: actor.email.clone(),
            at: body.occurred_at.as_microsecond(),
            kind,
            bytes,
        })
    }
}

/// One person's file events in a batch.
pub struct UsageFold<'a> {
    /// Their actor id (their own, or the one their e-mail is linked to).
    pub id: Option<&'a str>,
    pub name: Option<(i64, &'a str)>,
    pub email: Option<(i64, &'a str)>,
    pub latest: &'a FileUse,
    pub uploads: i64,
    pub downloads: i64,
    pub deletes: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
}

pub fn fold_usage<'a>(
    uses: impl IntoIterator<Item = &'a FileUse>,
    ids: &'a Resolved,
) -> HashMap<&'a str, UsageFold<'a>> {
    let mut people: HashMap<&str, UsageFold<'_>> = HashMap::new();
    for u in uses {
        let f = people.entry(ids.key(&u.key, u.actor_id.as_deref())).or_insert(UsageFold {
            id: None,
            name: None,
            email: None,
            latest: u,
            uploads: 0,
            downloads: 0,
            deletes: 0,
            bytes_in: 0,
            bytes_out: 0,
        });
        f.id = f.id.or(ids.id(&u.key, u.actor_id.as_deref()));
        keep_latest(&mut f.name, u.at, u.name.as_deref());
        keep_latest(&mut f.email, u.at, u.email.as_deref());
        if u.at >= f.latest.at {
            f.latest = u;
        }
        match u.kind {
            FileKind::Upload => {
                f.uploads += 1;
                f.bytes_in = f.bytes_in.saturating_add(u.bytes);
            }
            FileKind::Download => f.downloads += 1,
            FileKind::Delete => {
                f.deletes += 1;
                f.bytes_out = f.bytes_out.saturating_add(u.bytes);
            }
        }
    }
    people
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Created,
    Viewed,
    Saved,
    Ended,
    Other,
}

/// One `link.*` event that names its link (a `link` target with an id).
pub struct LinkUse {
    pub key: String,
    pub name: Option<String>,
    pub file_name: Option<String>,
    /// Who acted: their e-mail, else name, else id.
    pub actor: Option<String>,
    pub at: i64,
    pub kind: LinkKind,
    /// `revoked` / `expired` for an ending event, else `active`.
    pub state: &'static str,
    pub expires_at: Option<String>,
    pub require_email: bool,
}

impl LinkUse {
    pub fn of(body: &EventBody) -> Option<LinkUse> {
        let (kind, state) = match body.action.as_str() {
            actions::LINK_CREATED => (LinkKind::Created, "active"),
            actions::LINK_VIEWED => (LinkKind::Viewed, "active"),
            actions::LINK_SAVED => (LinkKind::Saved, "active"),
            actions::LINK_REVOKED => (LinkKind::Ended, "revoked"),
            actions::LINK_EXPIRED => (LinkKind::Ended, "expired"),
            _ => (LinkKind::Other, "active"),
        };
        let link = body.targets.iter().find(|t| t.kind == "link")?;
        let file = body.targets.iter().find(|t| t.kind == "file");
        let meta = |k: &str| body.metadata.as_ref().and_then(|m| m.get(k));
        let actor =
            body.actor.as_ref().and_then(|a| a.email.clone().or_else(|| a.name.clone()).or_else(|| a.id.clone()));
        Some(LinkUse {
            key: link.id.clone()?,
            name: link.name.clone(),
            file_name: file.and_then(|f| f.name.clone().or_else(|| f.id.clone())),
            actor,
            at: body.occurred_at.as_microsecond(),
            kind,
            state,
            expires_at: meta("expires_at").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
            require_email: meta("require_email").and_then(Value::as_bool).unwrap_or(false),
        })
    }
}

/// One link's events in a batch. The first ending wins (a link revoked and later reported
/// expired was revoked).
#[derive(Default)]
pub struct LinkFold<'a> {
    pub name: Option<&'a str>,
    pub file_name: Option<&'a str>,
    pub created: Option<&'a LinkUse>,
    pub ended: Option<&'a LinkUse>,
    pub views: i64,
    pub saves: i64,
    pub last_at: i64,
}

pub fn fold_links<'a>(uses: impl IntoIterator<Item = &'a LinkUse>) -> HashMap<&'a str, LinkFold<'a>> {
    let mut links: HashMap<&str, LinkFold<'_>> = HashMap::new();
    for u in uses {
        let f = links.entry(&u.key).or_insert(LinkFold { last_at: i64::MIN, ..LinkFold::default() });
        f.name = u.name.as_deref().or(f.name);
        f.file_name = u.file_name.as_deref().or(f.file_name);
        f.last_at = f.last_at.max(u.at);
        match u.kind {
            LinkKind::Created => f.created = Some(u),
            LinkKind::Viewed => f.views += 1,
            LinkKind::Saved => f.saves += 1,
            LinkKind::Ended => {
                if f.ended.is_none_or(|e| e.at > u.at) {
                    f.ended = Some(u)
                }
            }
            LinkKind::Other => {}
        }
    }
    links
}
