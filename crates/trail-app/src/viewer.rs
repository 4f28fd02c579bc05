//! Viewer tokens (docs/api.md): short-lived, signed tokens a SaaS backend mints for one of its
//! users, so the console can be embedded without a second password.
//!
//! `trail_vt_<payload>.<mac>`: the payload is base64url JSON `{t, r, a?, n, e}` (tenant, role,
//! actor id, display name, expiry in Unix seconds) and the MAC is HMAC-SHA256 over it with a key
//! derived from the server's signing key. Nothing is stored: a token is valid until it expires
//! (at most an hour), which is why it is short-lived.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use trail_core::{TenantId, ids::Role};

use crate::access::Person;

pub const PREFIX: &str = "trail_vt_";
/// The longest life a viewer token may have, and the default.
pub const MAX_TTL_S: u64 = 3600;
pub const DEFAULT_TTL_S: u64 = 300;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "t")]
    pub tenant: String,
    #[serde(rename = "r")]
    pub role: Role,
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    #[serde(rename = "n", default)]
    pub name: String,
    /// Expiry, Unix seconds.
    #[serde(rename = "e")]
    pub expires: i64,
}

impl Claims {
    /// The person the token lets in.
    pub fn person(&self) -> Person {
        Person {
            tenant: TenantId::parse(&self.tenant).expect("checked when verified"),
            role: self.role,
            member_id: None,
            actor_id: self.actor_id.clone(),
            name: if self.name.is_empty() { "Viewer".into() } else { self.name.clone() },
            email: None,
            owner: Person::owner_of(self.role, None, self.actor_id.as_deref(), None),
            csrf: None,
        }
    }
}

fn mac(signing_key: &ed25519_dalek::SigningKey) -> Hmac<Sha256> {
    let key: [u8; 32] =
        Sha256::new_with_prefix(b"trail-viewer-token-key\0").chain_update(signing_key.to_bytes()).finalize().into();
    Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length")
}

pub fn sign(signing_key: &ed25519_dalek::SigningKey, claims: &Claims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
    let tag = mac(signing_key).chain_update(payload.as_bytes()).finalize().into_bytes();
    format!("{PREFIX}{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The claims of a valid, unexpired token, or what is wrong with it.
pub fn verify(signing_key: &ed25519_dalek::SigningKey, token: &str) -> Result<Claims, String> {
    let body = token.strip_prefix(PREFIX).ok_or("it is not a viewer token")?;
    let (payload, tag) = body.split_once('.').ok_or("it is not whole: copy the whole token")?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| "it is not whole: copy the whole token")?;
    mac(signing_key).chain_update(payload.as_bytes()).verify_slice(&tag).map_err(|_| "its signature does not match")?;
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).map_err(|_| "it is damaged")?)
        .map_err(|_| "it is damaged")?;
    TenantId::parse(&claims.tenant).map_err(|_| "it names no valid tenant")?;
    if claims.expires <= Timestamp::now().as_second() {
        return Err("it has expired: ask for a new one".into());
    }
    if claims.role == Role::Member && claims.actor_id.as_deref().unwrap_or("").is_empty() {
        return Err("a member's token must carry their actor id".into());
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[7; 32])
    }

    fn claims(expires: i64) -> Claims {
        Claims { tenant: "acme".into(), role: Role::Member, actor_id: Some("u_1".into()), name: "Asha".into(), expires }
    }

    #[test]
    fn a_signed_token_verifies_and_a_changed_one_does_not() {
        let later = Timestamp::now().as_second() + 60;
        let token = sign(&key(), &claims(later));
        assert_eq!(verify(&key(), &token).unwrap(), claims(later));
        assert!(verify(&ed25519_dalek::SigningKey::from_bytes(&[8; 32]), &token).unwrap_err().contains("signature"));
        // Another payload under the same MAC: refused.
        let (_, tag) = token.rsplit_once('.').unwrap();
        let mut forged = claims(later);
        forged.role = Role::Owner;
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert!(verify(&key(), &format!("{PREFIX}{payload}.{tag}")).is_err());
        assert!(verify(&key(), &sign(&key(), &claims(later - 120))).unwrap_err().contains("expired"));
        assert!(verify(&key(), "trail_vt_nonsense").is_err());
    }
}
