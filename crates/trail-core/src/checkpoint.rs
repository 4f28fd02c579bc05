//! Checkpoints: a tenant's tree size and root, signed by the server, in the C2SP
//! `tlog-checkpoint` format wrapped as a C2SP `signed-note`.
//!
//! ```text
//! trail/acme-prod/acme          origin: trail/{server name}/{tenant}
//! 1234                          tree size
//! zW3h0vJ1...=                  root hash, base64
//!                               (blank line)
//! — trail/acme-prod AbCd...=    signature line: key name, base64(key hash || Ed25519 signature)
//! ```
//!
//! The key hash is the first four bytes of `SHA-256(name || "\n" || 0x01 || public key)`, 0x01
//! naming Ed25519. The verifier key is written `name+hex(key hash)+base64(0x01 || public key)`,
//! as note verifiers (Go's `golang.org/x/mod/sumdb/note`) expect.

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// A checkpoint's signed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// A note that does not verify, or is not a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoteError(pub String);

fn note_err(s: impl Into<String>) -> NoteError {
    NoteError(s.into())
}

const ED25519: u8 = 0x01;

/// The four-byte hash identifying a key in signature lines.
pub fn key_hash(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(public.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The verifier key string: `name+hex(key hash)+base64(0x01 || public key)`.
pub fn verifier_key(name: &str, public: &VerifyingKey) -> String {
    let mut raw = vec![ED25519];
    raw.extend_from_slice(public.as_bytes());
    format!("{name}+{}+{}", hex::encode(key_hash(name, public)), STANDARD.encode(raw))
}

impl Checkpoint {
    /// The note text: origin, size and root, each on its own line.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root))
    }

    /// The signed note: the body, a blank line, the signature line.
    pub fn sign(&self, key_name: &str, key: &SigningKey) -> String {
        let body = self.body();
        let sig: Signature = key.sign(body.as_bytes());
        let mut blob = key_hash(key_name, &key.verifying_key()).to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        format!("{body}\n\u{2014} {key_name} {}\n", STANDARD.encode(blob))
    }

    /// Parses and verifies a signed note with the server's key; the note must carry a valid
    /// signature by `key_name`.
    pub fn verify(note: &str, key_name: &str, public: &VerifyingKey) -> Result<Checkpoint, NoteError> {
        let (body, sigs) =
            note.split_once("\n\n").ok_or_else(|| note_err("a signed note has a blank line before its signatures"))?;
        let body = format!("{body}\n");
        let want = key_hash(key_name, public);
        let mut verified = false;
        for line in sigs.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(note_err(format!("not a signature line: {line:?}")));
            };
            let (name, b64) = rest.rsplit_once(' ').ok_or_else(|| note_err("a signature line is: — name signature"))?;
            let blob = STANDARD.decode(b64).map_err(|_| note_err("a signature is not base64"))?;
            if name != key_name || blob.len() != 68 || blob[..4] != want {
                continue;
            }
            let sig = Signature::from_slice(&blob[4..]).map_err(|_| note_err("not an Ed25519 signature"))?;
            public
                .verify(body.as_bytes(), &sig)
                .map_err(|_| note_err(format!("the signature by {key_name} does not verify")))?;
            verified = true;
        }
        if !verified {
            return Err(note_err(format!("no signature by {key_name}")));
        }
        Checkpoint::parse_body(&body)
    }

    /// Reads a checkpoint body (without checking any signature).
    pub fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
        // Lines end at `\n` alone: `str::lines` would also drop a `\r` ending the origin, and
        // a signed origin would then read back as another.
        let mut lines = body.split('\n');
        let origin =
            lines.next().filter(|l| !l.is_empty()).ok_or_else(|| note_err("a checkpoint starts with its origin"))?;
        let size = lines
            .next()
            .and_then(|l| l.parse().ok())
            .ok_or_else(|| note_err("a checkpoint's second line is its tree size"))?;
        let root = lines
            .next()
            .and_then(|l| STANDARD.decode(l).ok())
            .and_then(|r| Hash::try_from(r.as_slice()).ok())
            .ok_or_else(|| note_err("a checkpoint's third line is its base64 root hash"))?;
        Ok(Checkpoint { origin: origin.to_owned(), size, root })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    /// Regression (found by the checkpoint fuzz target): an origin ending in `\r` was signed
    /// as it is but read back without it.
    #[test]
    fn an_origin_ending_in_a_carriage_return_reads_back_as_signed() {
        let cp = Checkpoint { origin: "trail/test/acme\r".into(), size: 1, root: [3; 32] };
        let note = cp.sign("trail/test", &key());
        assert_eq!(Checkpoint::verify(&note, "trail/test", &key().verifying_key()).unwrap(), cp);
    }

    #[test]
    fn sign_and_verify() {
        let cp = Checkpoint { origin: "trail/test/acme".into(), size: 42, root: [9; 32] };
        let note = cp.sign("trail/test", &key());
        assert!(note.starts_with("trail/test/acme\n42\nCQkJ"), "{note}");
        assert!(note.contains("\n\n\u{2014} trail/test "));
        let public = key().verifying_key();
        assert_eq!(Checkpoint::verify(&note, "trail/test", &public).unwrap(), cp);
        // A changed root, size or origin breaks the signature.
        let tampered = note.replacen("\n42\n", "\n43\n", 1);
        assert!(Checkpoint::verify(&tampered, "trail/test", &public).is_err());
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(Checkpoint::verify(&note, "trail/test", &other).is_err());
        assert!(Checkpoint::verify(&note, "trail/other", &public).is_err());
        let vkey = verifier_key("trail/test", &public);
        assert!(vkey.starts_with("trail/test+") && vkey.split('+').count() == 3, "{vkey}");
    }
}
