//! Console members: password hashing (argon2id), the rules for adding, changing and removing
//! members, shared by the HTTP routes, the console's settings and the demo.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use serde_json::json;
use trail_core::{TenantId, ids::Role, vocabulary::actions};
use trail_store::{Member, MemberPatch, NewMember};

use crate::{
    App, AppError, AppResult, Invalid,
    access::Principal,
    own_events::{self, Origin},
    secrets,
    tenants::check_name,
};

pub const MIN_PASSWORD: usize = 12;
const MAX_PASSWORD: usize = 1024;

/// An argon2id PHC string of `password` (the crate's defaults: 19 MiB, 2 passes). Slow on
/// purpose: run it on a blocking thread.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 with default parameters").to_string()
}

/// Whether `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash that never matches, verified when an e-mail is unknown so that sign-in takes as long
/// either way (the time does not say which e-mails exist).
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password anyone has: the dummy"))
}

pub fn check_password(password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(AppError::invalid(
            Invalid::Password,
            format!(
                "a password has at least {MIN_PASSWORD} characters (this one has {n}): a few words make a good one"
            ),
        )
        .with_field("password"));
    }
    Ok(())
}

pub fn check_email(email: &str) -> AppResult<()> {
    let ok = email.len() <= 256
        && email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(Invalid::Email, format!("{email:?} is not an e-mail address such as asha@acme.example"))
            .with_field("email"))
    }
}

pub fn parse_role(role: &str) -> AppResult<Role> {
    Role::parse(role).map_err(|e| AppError::invalid(Invalid::Role, e.0).with_field("role"))
}

/// Only an owner (or the operator) makes, changes or removes owners (admins do
/// everything but change owners).
pub fn check_may_touch(who: &Principal, role: Role) -> AppResult<()> {
    if role == Role::Owner && who.role() != Role::Owner {
        return Err(AppError::Forbidden("only an owner can add, change or remove an owner".into()));
    }
    Ok(())
}

/// What is asked for when adding a member.
pub struct MemberRequest {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
    pub actor_id: Option<String>,
}

/// Checks and adds a member, and records `trail.member.added`.
pub async fn add_member(
    app: &App,
    origin: &Origin,
    who: &Principal,
    tenant: &TenantId,
    req: MemberRequest,
) -> AppResult<Member> {
    let store = &**app.store();
    check_email(&req.email)?;
    check_name(&req.name)?;
    let role = parse_role(&req.role)?;
    check_may_touch(who, role)?;
    check_password(&req.password)?;
    if let Some(a) = &req.actor_id
        && (a.is_empty() || a.len() > 256)
    {
        return Err(AppError::invalid(Invalid::ActorId, "actor_id is 1 to 256 characters").with_field("actor_id"));
    }
    let password = req.password;
    let password_hash =
        tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(AppError::internal)?;
    let member = store
        .create_member(
            tenant,
            NewMember {
                id: secrets::new_id("mem_"),
                email: req.email,
                name: req.name,
                role,
                actor_id: req.actor_id,
                password_hash,
            },
        )
        .await?;
    own_events::record(
        app,
        tenant,
        origin,
        who.actor(),
        actions::TRAIL_MEMBER_ADDED,
        format!("Added {} ({}) as {}", member.name, member.email, member.role),
        json!({"member_id": member.id, "email": member.email, "role": member.role}),
    )
    .await?;
    Ok(member)
}

/// Checks and applies a change to a member, and records `trail.member.changed`.
pub async fn change_member(
    app: &App,
    origin: &Origin,
    who: &Principal,
    tenant: &TenantId,
    id: &str,
    mut patch: MemberPatch,
    password: Option<String>,
) -> AppResult<Member> {
    let store = &**app.store();
    let current = store.member(tenant, id).await?.ok_or_else(|| AppError::NotFound(format!("member {id}")))?;
    check_may_touch(who, current.role)?;
    if let Some(role) = patch.role {
        check_may_touch(who, role)?;
    }
    if let Some(name) = &patch.name {
        check_name(name)?;
    }
    if let Some(p) = password {
        check_password(&p)?;
        patch.password_hash =
            Some(tokio::task::spawn_blocking(move || hash_password(&p)).await.map_err(AppError::internal)?);
    }
    let changed_password = patch.password_hash.is_some();
    let member = store.update_member(tenant, id, patch).await?;
    own_events::record(
        app,
        tenant,
        origin,
        who.actor(),
        actions::TRAIL_MEMBER_CHANGED,
        format!("Changed {} ({})", member.name, member.email),
        json!({"member_id": member.id, "role": member.role, "password_changed": changed_password}),
    )
    .await?;
    Ok(member)
}

/// Removes a member (ending their sessions) and records `trail.member.removed`.
pub async fn remove_member(app: &App, origin: &Origin, who: &Principal, tenant: &TenantId, id: &str) -> AppResult<()> {
    let store = &**app.store();
    let current = store.member(tenant, id).await?.ok_or_else(|| AppError::NotFound(format!("member {id}")))?;
    check_may_touch(who, current.role)?;
    store.delete_member(tenant, id).await?;
    own_events::record(
        app,
        tenant,
        origin,
        who.actor(),
        actions::TRAIL_MEMBER_REMOVED,
        format!("Removed {} ({})", current.name, current.email),
        json!({"member_id": current.id, "email": current.email}),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use trail_core::ids::Scope;

    #[test]
    fn passwords_and_emails_are_checked() {
        assert!(check_password("twelve chars").is_ok());
        let e = check_password("short").unwrap_err();
        assert!(e.to_string().contains("at least 12 characters (this one has 5)"), "{e}");
        assert!(matches!(e, AppError::Invalid { what: Invalid::Password, .. }));
        assert!(check_email("asha@acme.example").is_ok());
        for bad in ["asha", "@acme.example", "asha@acme", "asha@.example", "a sha@acme.example"] {
            assert!(
                matches!(check_email(bad), Err(AppError::Invalid { what: Invalid::Email, .. })),
                "{bad:?} accepted"
            );
        }
        assert!(matches!(parse_role("king"), Err(AppError::Invalid { what: Invalid::Role, .. })));
    }

    #[test]
    fn only_owners_touch_owners() {
        let admin_key = Principal::ApiKey {
            tenant: TenantId::parse("acme").unwrap(),
            key_id: "key_1".into(),
            scopes: vec![Scope::Admin],
        };
        assert!(check_may_touch(&admin_key, Role::Admin).is_ok());
        assert!(matches!(check_may_touch(&admin_key, Role::Owner), Err(AppError::Forbidden(_))));
        assert!(check_may_touch(&Principal::Operator, Role::Owner).is_ok());
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery", dummy_hash()));
        assert!(!verify_password("wrong horse battery", &hash));
    }
}
