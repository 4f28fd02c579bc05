//! The demo's operator key, kept across restarts.
//!
//! `trail serve --demo` with no configured key must always say how to get in, but printing a
//! new key at every start silently killed the one printed before (in scripts, notes, a browser's
//! history). So the demo's key is kept, in clear, in `demo-operator.key` in the data directory
//! (readable only by its owner, like `signing.key`), and every `--demo` start on that directory
//! uses and prints the same key. Only a hash of it is in the store, as for any generated
//! operator key, so a later `trail serve` without `--demo` accepts it too.
//!
//! A new key is made only when there is no kept one, or when the stored operator key is no
//! longer the kept one (`trail init --new-operator-key` replaced it); the banner then says that
//! the previous key no longer works. On PostgreSQL there is no data directory to keep it in, so
//! each `--demo` start there makes a new key and says so.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use trail_app::{
    keys::{OPERATOR_KEY_SETTING, OperatorKey},
    secrets,
};
use trail_store::{Store, StoreLocation};

/// The kept key's file name inside a data directory.
pub const FILE: &str = "demo-operator.key";

/// The demo's operator key as settled at start-up.
pub struct DemoKey {
    pub token: String,
    pub hash: [u8; 32],
    /// Where it is kept (`None` on PostgreSQL, where it is not).
    pub kept_at: Option<PathBuf>,
    /// The same key as at the previous start.
    pub same_as_before: bool,
    /// Another operator key was in force and no longer works.
    pub replaced_another: bool,
}

impl DemoKey {
    pub fn operator_key(&self) -> OperatorKey {
        OperatorKey::Generated { hash: self.hash, token: self.token.clone() }
    }

    /// What the banner says about the key, before the key itself.
    pub fn describe(&self) -> String {
        match (&self.kept_at, self.same_as_before) {
            (Some(path), true) => {
                format!("the demo's key, the same as at the last start; kept in {}", path.display())
            }
            (Some(path), false) => format!(
                "the demo's new key{}; kept in {} and used again at every `serve --demo` on this data directory",
                if self.replaced_another { ", the previous operator key no longer works" } else { "" },
                path.display()
            ),
            (None, _) => "a new key at every `serve --demo` on a database; the previous one no longer works".into(),
        }
    }
}

/// Settles the demo's operator key for the store at `location` (see the module's comment).
pub async fn settle(store: &dyn Store, location: &StoreLocation) -> anyhow::Result<DemoKey> {
    let stored = store.setting(OPERATOR_KEY_SETTING).await?;
    let dir = match location {
        StoreLocation::Sqlite(dir) => dir,
        StoreLocation::Postgres(_) => {
            let (token, hash) = new_key(store).await?;
            return Ok(DemoKey {
                token,
                hash,
                kept_at: None,
                same_as_before: false,
                replaced_another: stored.is_some(),
            });
        }
    };
    let path = dir.join(FILE);
    if path.exists() {
        let token = load(&path)?;
        let hash = secrets::hash_token(&token);
        match stored.as_deref().map(str::trim) {
            Some(h) if h == hex::encode(hash) => {
                return Ok(DemoKey { token, hash, kept_at: Some(path), same_as_before: true, replaced_another: false });
            }
            // Kept, but never stored (a crash between the two writes): store it now.
            None => {
                store.set_setting(OPERATOR_KEY_SETTING, &hex::encode(hash)).await?;
                return Ok(DemoKey { token, hash, kept_at: Some(path), same_as_before: true, replaced_another: false });
            }
            // The operator key was replaced since: the kept one is dead; make a new one below.
            Some(_) => {}
        }
    }
    // The file first, then the store: a crash between them leaves a kept key that the next
    // start stores, never a stored key nobody can read.
    let token = secrets::new_token(secrets::OPERATOR_PREFIX);
    save(&path, &token)?;
    let hash = secrets::hash_token(&token);
    store.set_setting(OPERATOR_KEY_SETTING, &hex::encode(hash)).await?;
    Ok(DemoKey { token, hash, kept_at: Some(path), same_as_before: false, replaced_another: stored.is_some() })
}

async fn new_key(store: &dyn Store) -> anyhow::Result<(String, [u8; 32])> {
    let token = secrets::new_token(secrets::OPERATOR_PREFIX);
    let hash = secrets::hash_token(&token);
    store.set_setting(OPERATOR_KEY_SETTING, &hex::encode(hash)).await?;
    Ok((token, hash))
}

/// Reads the kept key. One others may read is refused, as the signing key is.
fn load(path: &Path) -> anyhow::Result<String> {
    let text = crate::keyfile::read_private(path, "the demo's operator key")?;
    let token = text.trim();
    if !token.starts_with(secrets::OPERATOR_PREFIX) || token.len() < 16 || token.contains(char::is_whitespace) {
        bail!(
            "{} is not a Trail operator key (one line starting {}): remove it, and the next `serve --demo` makes a \
             new key",
            path.display(),
            secrets::OPERATOR_PREFIX
        );
    }
    Ok(token.to_owned())
}

/// Writes the key readable only by its owner, replacing any file there (written beside it and
/// renamed, so a crash never leaves half a key).
fn save(path: &Path, token: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("key.partial");
    let _ = std::fs::remove_file(&tmp);
    let mut f = crate::keyfile::create_private(&tmp)
        .with_context(|| format!("cannot create the demo's operator key {}", tmp.display()))?;
    writeln!(f, "{token}")?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot create the demo's operator key {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE);
        save(&p, "trail_op_0123456789abcdef").unwrap();
        assert_eq!(load(&p).unwrap(), "trail_op_0123456789abcdef");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(load(&p).unwrap_err().to_string().contains("chmod 600"));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&p, "nonsense\n").unwrap();
        assert!(load(&p).unwrap_err().to_string().contains("is not a Trail operator key"));
    }
}
