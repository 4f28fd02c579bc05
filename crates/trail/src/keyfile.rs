//! The checkpoint signing key: an Ed25519 seed in a file only its owner can read.
//!
//! Created by `trail init` (or by the first `trail serve`), base64 on one line. Losing it does
//! not lose data, but checkpoints signed with it can then only be verified with its public key
//! (`GET /v1/keys/public` shows it; keep a copy beside your backups).

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::SigningKey;
use rand::RngCore;

/// The key file's name inside a data directory.
pub const FILE: &str = "signing.key";

/// Where the key is: the configured path, or `signing.key` in the data directory.
pub fn path(configured: Option<&Path>, data: &Path) -> PathBuf {
    configured.map(Path::to_owned).unwrap_or_else(|| data.join(FILE))
}

/// Reads the key at `path`. A key others may read is refused, as ssh refuses such a key: anyone
/// who can read it can sign checkpoints as this server.
pub fn load(path: &Path) -> anyhow::Result<SigningKey> {
    let text = read_private(path, "the signing key")?;
    let seed = STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .with_context(|| format!("{} is not a Trail signing key (base64 of 32 bytes)", path.display()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads the key at `path`, creating it (readable only by its owner) if there is none.
/// Returns the key and whether it was created now.
pub fn load_or_create(path: &Path) -> anyhow::Result<(SigningKey, bool)> {
    if path.exists() {
        return Ok((load(path)?, false));
    }
    if let Some(dir) = path.parent() {
        // The data directory, when the key is the first thing in it: private, as the store
        // makes it.
        trail_store_sqlite::perms::create_private_dir(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let mut f = create_private(path).with_context(|| format!("cannot create the signing key {}", path.display()))?;
    writeln!(f, "{}", STANDARD.encode(seed))?;
    f.sync_all()?;
    let key = load(path)?;
    if key.to_bytes() != seed {
        bail!("the signing key {} did not read back", path.display());
    }
    Ok((key, true))
}

/// Reads a secret file (`what` names it in errors). One others may read is refused, as ssh
/// refuses such a key: anyone who can read it holds the secret.
pub fn read_private(path: &Path, what: &str) -> anyhow::Result<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot read {what} {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "{what} {} can be read by others (mode {:o}); make it private with `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Creates a new file readable only by its owner; fails if one is there.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_key_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE);
        load_or_create(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("can be read by others (mode 644)") && e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load(&p).is_ok());
    }

    #[test]
    fn created_once_readable_only_by_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k").join(FILE);
        let (k1, created) = load_or_create(&p).unwrap();
        assert!(created);
        let (k2, again) = load_or_create(&p).unwrap();
        assert!(!again);
        assert_eq!(k1.to_bytes(), k2.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&p, "nonsense").unwrap();
        assert!(load(&p).is_err());
    }
}
