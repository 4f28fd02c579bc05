//! Tokens: 256 random bits, shown once, stored only as SHA-256.
//!
//! A token is long and random, so a fast hash is the right tool (a password hash would only slow
//! every request down); comparing hashes means the store never holds a usable credential.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of operator keys.
pub const OPERATOR_PREFIX: &str = "trail_op_";
/// Prefix of tenant API keys.
pub const API_KEY_PREFIX: &str = "trail_key_";

/// A new token: `prefix` followed by 256 random bits in base64url.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new public id with `prefix` (`key_3f9a...`): not secret, just unique.
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares two hashes in constant time.
pub fn hashes_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_prefixed() {
        let a = new_token(API_KEY_PREFIX);
        let b = new_token(API_KEY_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("trail_key_") && a.len() == 10 + 43, "{a}");
        assert!(hashes_equal(&hash_token(&a), &hash_token(&a)));
        assert!(!hashes_equal(&hash_token(&a), &hash_token(&b)));
    }
}
