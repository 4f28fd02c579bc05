//! Identifiers that cross Trail's edges, each parsed once into a type that cannot hold a bad value.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid identifier. The message says what the rule is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdError(pub String);

/// A tenant id: `[a-z0-9][a-z0-9_-]{0,62}`, chosen by the operator (usually the SaaS's own account id).
///
/// Every store method that touches a tenant's data takes a `&TenantId`, so scoping is a matter of
/// types rather than of remembering to add a `WHERE` clause.
///
/// Shared, not copied: every event a query returns carries its tenant, and a copy of the id
/// was an allocation and a free per exported row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(std::sync::Arc<str>);

impl TenantId {
    /// The longest id.
    pub const MAX_LEN: usize = 63;

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let b = s.as_bytes();
        let ok_first = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        let ok_rest = |c: u8| ok_first(c) || c == b'_' || c == b'-';
        if b.is_empty() || b.len() > Self::MAX_LEN || !ok_first(b[0]) || !b[1..].iter().all(|&c| ok_rest(c)) {
            return Err(IdError(format!(
                "tenant id {s:?} is invalid: use 1 to 63 characters of a-z, 0-9, '_' and '-', starting with a letter or digit"
            )));
        }
        Ok(Self(s.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for TenantId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TenantId::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// What an API key may do. `admin` includes `read` and `ingest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Ingest,
    Read,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Ingest, Scope::Read, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        Scope::ALL
            .into_iter()
            .find(|sc| sc.as_str() == s)
            .ok_or_else(|| IdError(format!("unknown scope {s:?}: use ingest, read or admin")))
    }

    /// Whether holding `self` grants `needed`.
    pub fn grants(self, needed: Scope) -> bool {
        self == needed || self == Scope::Admin
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A console member's role. `owner` does everything; `admin` everything but deleting
/// the tenant or changing owners; `manager` reads and exports every log and report; `member`
/// sees only their own events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Manager,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Manager, Role::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| IdError(format!("unknown role {s:?}: use owner, admin, manager or member")))
    }

    /// The API scope this role holds: admins and owners administer, managers and members read
    /// (a member only their own events, which the caller enforces).
    pub fn scope(self) -> Scope {
        match self {
            Role::Owner | Role::Admin => Scope::Admin,
            Role::Manager | Role::Member => Scope::Read,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids() {
        for ok in ["a", "acme", "0", "acme-corp_2", &"a".repeat(63)] {
            assert!(TenantId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "_a", "Acme", "a b", "a.b", "é", &"a".repeat(64)] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn admin_grants_everything() {
        assert!(Scope::Admin.grants(Scope::Read));
        assert!(Scope::Admin.grants(Scope::Ingest));
        assert!(!Scope::Read.grants(Scope::Ingest));
        assert!(!Scope::Ingest.grants(Scope::Read));
    }
}
