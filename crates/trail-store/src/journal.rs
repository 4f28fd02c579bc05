//! The checkpoint journal: an append-only file of every checkpoint a server signed, kept beside
//! its signing key (`checkpoints.log`), outside the database.
//!
//! The checkpoints table lives in the same database as the events, so whoever can rewrite the
//! events can also delete the checkpoints that would betray the rewrite. The journal is the
//! server's own memory of what it vouched for: before signing a tree, the signer proves that
//! the tree extends the last one the journal holds, and refuses to sign otherwise; `trail
//! verify` checks every journal entry against the log and the table.
//!
//! One line per checkpoint, JSON: `{"tenant": "acme", "size": 400, "root": "<base64>",
//! "note": "<the signed note>"}`. A line is written with one `write` on a file opened for
//! appending and then fsynced, so several processes (a server and `trail ingest`) can append to
//! it; a crash can leave at most a torn last line without its newline, which reading ignores.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};
use trail_core::merkle::Hash;

/// The journal's file name, in the signing key's directory.
pub const FILE: &str = "checkpoints.log";

/// Where the journal of the server whose signing key is at `signing_key` lives.
pub fn path_beside(signing_key: &Path) -> PathBuf {
    signing_key.parent().map(|d| d.join(FILE)).unwrap_or_else(|| PathBuf::from(FILE))
}

/// One signed checkpoint as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub tenant: String,
    pub size: u64,
    #[serde(with = "b64")]
    pub root: Hash,
    pub note: String,
}

mod b64 {
    use super::*;

    pub fn serialize<S: serde::Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(h))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(&text)
            .ok()
            .and_then(|b| Hash::try_from(b.as_slice()).ok())
            .ok_or_else(|| serde::de::Error::custom("root is base64 of 32 bytes"))
    }
}

/// Why a journal cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot use the checkpoint journal {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the checkpoint journal {path} is damaged at line {line}: {message}")]
    Damaged { path: PathBuf, line: usize, message: String },
}

/// Every entry of the journal at `path`, in the order written (none if there is no file).
pub fn read(path: &Path) -> Result<Vec<Entry>, JournalError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(JournalError::Io { path: path.to_owned(), source }),
    };
    parse(&text).map_err(|(line, message)| JournalError::Damaged { path: path.to_owned(), line, message })
}

/// The entries of a journal's text; a last line without its newline (a write a crash cut
/// short) is ignored. Errors name the 1-based line.
pub fn parse(text: &str) -> Result<Vec<Entry>, (usize, String)> {
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    let mut out = Vec::new();
    for (i, line) in complete.split('\n').enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(line).map_err(|e| (i + 1, e.to_string()))?);
    }
    Ok(out)
}

/// The latest (largest) entry of each tenant.
pub fn latest_by_tenant(entries: &[Entry]) -> BTreeMap<String, Entry> {
    let mut out: BTreeMap<String, Entry> = BTreeMap::new();
    for e in entries {
        if out.get(&e.tenant).is_none_or(|l| l.size <= e.size) {
            out.insert(e.tenant.clone(), e.clone());
        }
    }
    out
}

/// Appends `entry` durably (one write, then fsync), creating the file readable only by its
/// owner.
pub fn append(path: &Path, entry: &Entry) -> Result<(), JournalError> {
    let io = |source| JournalError::Io { path: path.to_owned(), source };
    let mut line = serde_json::to_string(entry).expect("an entry serialises");
    line.push('\n');
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io)?;
    f.write_all(line.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tenant: &str, size: u64) -> Entry {
        Entry { tenant: tenant.into(), size, root: [size as u8; 32], note: format!("trail/x/{tenant}\n{size}\n...\n") }
    }

    #[test]
    fn appended_entries_read_back_and_a_torn_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE);
        assert!(read(&p).unwrap().is_empty(), "no file is an empty journal");
        for e in [entry("acme", 3), entry("beta", 1), entry("acme", 9)] {
            append(&p, &e).unwrap();
        }
        let all = read(&p).unwrap();
        assert_eq!(all, vec![entry("acme", 3), entry("beta", 1), entry("acme", 9)]);
        let latest = latest_by_tenant(&all);
        assert_eq!(latest["acme"].size, 9);
        assert_eq!(latest["beta"].size, 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // A crash in the middle of a write leaves a line without its newline.
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str("{\"tenant\":\"acme\",\"si");
        std::fs::write(&p, &text).unwrap();
        assert_eq!(read(&p).unwrap().len(), 3);
        // A damaged complete line is an error naming it.
        std::fs::write(&p, "{\"tenant\":1}\n").unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("damaged at line 1"), "{e}");
    }
}
