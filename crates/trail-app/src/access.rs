//! Who is calling, and what they may do.
//!
//! A caller is the operator (operator key), a tenant's API key, or a person: a console member
//! signed in (session cookie) or someone a SaaS let in with a viewer token. Every check is
//! here: a key or person of another tenant gets the same "not found" as a tenant that does not
//! exist, and a `member` is narrowed to their own events by [`Principal::owner`], which every
//! query applies. How a caller is recognised from a request (headers, cookies) is the HTTP
//! server's (`trail-server/src/auth.rs`).

use serde_json::{Value, json};
use trail_core::{
    TenantId,
    filter::Owner,
    ids::{Role, Scope},
};

use crate::{AppError, AppResult};

/// A person in one tenant, from a console session or a viewer token.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub tenant: TenantId,
    pub role: Role,
    /// The console member, or `None` for a viewer token.
    pub member_id: Option<String>,
    /// The SaaS user a viewer token names (any role), or a member's own actor id: events this
    /// person causes are attributed to it when there is no member id.
    pub actor_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    /// For role `member`: whose events they see.
    pub owner: Option<Owner>,
    /// The session's CSRF token (forms and state-changing API calls must carry it); `None`
    /// for a viewer token used as a bearer token.
    pub csrf: Option<String>,
}

impl Person {
    /// Whose own events a person with `role` sees, from their actor id or e-mail (roles:
    /// docs/console.md), and a console member's own console activity, which Trail's events
    /// name by their `member_id`.
    pub fn owner_of(role: Role, member_id: Option<&str>, actor_id: Option<&str>, email: Option<&str>) -> Option<Owner> {
        if role != Role::Member {
            return None;
        }
        let mut ids: Vec<String> = actor_id.filter(|id| !id.is_empty()).into_iter().map(str::to_owned).collect();
        // An e-mail finds them only while they have no actor id: with one, the e-mails linked
        // to it are theirs (`identity::owner`), not whatever e-mail the console has.
        let emails: Vec<String> =
            if ids.is_empty() { email.into_iter().map(str::to_owned).collect() } else { Vec::new() };
        ids.extend(member_id.filter(|id| !id.is_empty()).map(str::to_owned));
        // With nothing to match them by, a member sees nothing (an empty person).
        Some(Owner::Person { ids, emails })
    }
}

impl Person {
    /// Whether this person came in with a viewer token (as a bearer token or through the
    /// console's viewer link) rather than as a console member: such a person has no member id.
    pub fn is_viewer(&self) -> bool {
        self.member_id.is_none()
    }
}

/// The caller.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The operator key: everything, on every tenant.
    Operator,
    /// A tenant's API key.
    ApiKey { tenant: TenantId, key_id: String, scopes: Vec<Scope> },
    /// A console member or viewer-token holder.
    Person(Person),
}

impl Principal {
    /// Allows the call on `tenant` if the caller holds `needed` there. A key of another tenant
    /// gets the same 404 as a tenant that does not exist, so tenant ids cannot be probed.
    pub fn require(&self, tenant: &TenantId, needed: Scope) -> AppResult<()> {
        match self {
            Principal::Operator => Ok(()),
            Principal::ApiKey { tenant: own, .. } | Principal::Person(Person { tenant: own, .. }) if own != tenant => {
                Err(AppError::NotFound(format!("tenant {tenant}")))
            }
            Principal::ApiKey { scopes, .. } if scopes.iter().any(|s| s.grants(needed)) => Ok(()),
            Principal::ApiKey { key_id, .. } => Err(AppError::Forbidden(format!(
                "API key {key_id} lacks the {needed} scope needed here: create a key with scopes [\"{needed}\"]"
            ))),
            // People read and administer; events come from the SaaS's keys only.
            Principal::Person(p) if needed != Scope::Ingest && p.role.scope().grants(needed) => Ok(()),
            Principal::Person(p) => Err(AppError::Forbidden(format!(
                "role {} cannot do this: it needs {}",
                p.role,
                if needed == Scope::Ingest { "an API key with the ingest scope" } else { "role admin or owner" }
            ))),
        }
    }

    /// Allows a change to how `tenant` is administered (API keys, members, viewer tokens, the
    /// tenant's settings, erasure): the admin scope, and never through a viewer token. A viewer
    /// token is stateless and cannot be revoked before it expires, so one that leaked must not
    /// be able to mint a permanent key or account; whatever its role, it is for viewing.
    pub fn require_manage(&self, tenant: &TenantId, what: &str) -> AppResult<()> {
        self.require(tenant, Scope::Admin)?;
        match self {
            Principal::Person(p) if p.is_viewer() => Err(AppError::Forbidden(format!(
                "a viewer token is for viewing: it cannot {what}, whatever its role; use an admin API key, or sign in to the console as an owner or admin member"
            ))),
            _ => Ok(()),
        }
    }

    /// Whether the caller holds `scope` on `tenant` (without failing).
    pub fn grants(&self, tenant: &TenantId, scope: Scope) -> bool {
        self.require(tenant, scope).is_ok()
    }

    /// Allows operator-only calls.
    pub fn require_operator(&self, what: &str) -> AppResult<()> {
        match self {
            Principal::Operator => Ok(()),
            _ => Err(AppError::Forbidden(format!("only the operator key can {what}"))),
        }
    }

    /// The narrowing every query of this caller gets: `Some` for a `member`.
    pub fn owner(&self) -> Option<&Owner> {
        match self {
            Principal::Person(p) => p.owner.as_ref(),
            _ => None,
        }
    }

    /// The role the caller acts with: the operator is an owner, an admin key an admin.
    pub fn role(&self) -> Role {
        match self {
            Principal::Operator => Role::Owner,
            Principal::ApiKey { scopes, .. } if scopes.contains(&Scope::Admin) => Role::Admin,
            Principal::ApiKey { .. } => Role::Manager,
            Principal::Person(p) => p.role,
        }
    }

    /// The caller as the `actor` of the events Trail writes about what they did.
    pub fn actor(&self) -> Value {
        match self {
            Principal::Operator => json!({"id": "operator", "name": "Operator key", "type": "system"}),
            Principal::ApiKey { key_id, .. } => json!({"id": key_id, "type": "api_key"}),
            Principal::Person(p) => {
                let mut a = json!({"name": p.name, "type": "user"});
                // A member by their member id; a viewer by the actor id their token carries.
                match (&p.member_id, &p.actor_id) {
                    (Some(id), _) | (None, Some(id)) if !id.is_empty() => a["id"] = json!(id),
                    _ => {}
                }
                if let Some(e) = &p.email {
                    a["email"] = json!(e);
                }
                a
            }
        }
    }
}
