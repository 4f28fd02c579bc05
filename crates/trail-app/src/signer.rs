//! Checkpoints: each tenant's tree is signed at most a second after it grows, and never unless
//! it extends the last tree this server signed.
//!
//! The signer looks at every tenant twice a second (one query) and signs the trees that grew
//! since their last checkpoint, whoever appended (this server, another one on the same
//! database, or `trail ingest`).
//!
//! **Signing only what extends what was signed.** Whoever can rewrite the events table can
//! rebuild the stored tree and delete the checkpoints too; a signer that signed whatever tree
//! it found would then vouch for the rewritten history. So each signature is first written to
//! the checkpoint journal beside the signing key (`trail_store::journal`, outside the
//! database), and before signing a tree the signer proves, with a consistency proof, that it
//! extends the last tree the journal holds for that tenant (the checkpoints table's latest, for
//! a tenant the journal has not seen yet). When it does not (a rewritten or truncated log), the
//! signer refuses, logs why at error level on every change, tells whoever counts refusals (the
//! server's `trail_checkpoint_refusals_total`), and keeps refusing until the log is restored.
//! The refusals in force are the App's ([`crate::App::refusals`]), where the API and the
//! console read them.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use jiff::Timestamp;
use trail_core::{
    TenantId,
    checkpoint::Checkpoint,
    merkle::{Hash, verify_consistency},
    time::truncate_us,
};
use trail_store::{
    StoreError, StoreResult, StoredCheckpoint,
    journal::{self, Entry},
};

use crate::App;

/// How often the signer looks for grown trees.
pub const SIGN_EVERY: Duration = Duration::from_millis(500);

/// Why the signer will not sign a tenant's tree.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The log is not an extension of what this server signed before.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
}

/// Called once for every refusal (a tenant's tree refused in one pass): the server counts them.
type OnRefusal = Box<dyn Fn() + Send + Sync>;

/// The last tree signed per tenant, and why any tenant's tree is refused now.
#[derive(Default)]
pub struct Signer {
    /// The journal's file, when the server keeps one (always, outside tests).
    journal: Option<PathBuf>,
    /// The last tree this server vouched for, per tenant: `(size, root)`.
    anchors: HashMap<TenantId, (u64, Hash)>,
    /// Whether the journal has been read.
    loaded: bool,
    /// The tenants the journal holds an entry of.
    in_journal: std::collections::HashSet<TenantId>,
    /// The refusal last logged per tenant, so each is logged once, not twice a second.
    refused: HashMap<TenantId, String>,
    on_refusal: Option<OnRefusal>,
}

/// The refusals in force, readable by the API and console (through [`crate::App::refusals`]).
#[derive(Default, Debug)]
pub struct Refusals(Mutex<HashMap<TenantId, String>>);

impl Refusals {
    /// Why `tenant`'s tree is not being signed, if it is not.
    pub fn get(&self, tenant: &TenantId) -> Option<String> {
        self.0.lock().expect("not poisoned").get(tenant).cloned()
    }

    fn set(&self, tenant: &TenantId, why: Option<String>) {
        let mut map = self.0.lock().expect("not poisoned");
        match why {
            Some(w) => map.insert(tenant.clone(), w),
            None => map.remove(tenant),
        };
    }
}

impl Signer {
    pub fn new(journal: Option<PathBuf>) -> Signer {
        Signer { journal, ..Signer::default() }
    }

    /// The same signer calling `count` at every refusal (the server's metric of refusals).
    pub fn counting_refusals(mut self, count: impl Fn() + Send + Sync + 'static) -> Signer {
        self.on_refusal = Some(Box::new(count));
        self
    }

    fn load(&mut self) -> Result<(), SignError> {
        if self.loaded {
            return Ok(());
        }
        if let Some(path) = &self.journal {
            for (tenant, e) in journal::latest_by_tenant(&journal::read(path)?) {
                if let Ok(t) = TenantId::parse(&tenant) {
                    self.anchors.insert(t.clone(), (e.size, e.root));
                    self.in_journal.insert(t);
                }
            }
        }
        self.loaded = true;
        Ok(())
    }

    fn journaled(&self, tenant: &TenantId) -> bool {
        self.journal.is_none() || self.in_journal.contains(tenant)
    }

    /// Signs `tenant`'s tree at `size` events if it extends the last tree signed; returns the
    /// new checkpoint (`None` when that tree was signed already).
    pub async fn sign(
        &mut self,
        app: &App,
        tenant: &TenantId,
        size: u64,
    ) -> Result<Option<StoredCheckpoint>, SignError> {
        self.load()?;
        let store = app.store();
        let table = store.latest_checkpoint(tenant).await?;
        let anchor = match self.anchors.get(tenant) {
            Some(&a) => Some(a),
            // A tenant the journal has not seen (a log older than the journal): its latest
            // stored checkpoint is trusted on first use.
            None => table.as_ref().map(|c| (c.size, c.root)),
        };
        let root = store.tree_root(tenant, size).await?;
        if let Some((signed, signed_root)) = anchor {
            if size < signed {
                return Err(SignError::Refused(format!(
                    "the log holds {size} events but this server signed a tree of {signed}: events {}..={signed} \
                     were removed",
                    size + 1
                )));
            }
            let extends = if size == signed {
                root == signed_root
            } else {
                let proof: Vec<Vec<u8>> =
                    store.consistency_proof(tenant, signed, size).await?.iter().map(|h| h.to_vec()).collect();
                verify_consistency(signed, size, &proof, &signed_root, &root).is_ok()
            };
            if !extends {
                let what = if size == signed {
                    format!("the tree of {size} events is not the tree of {signed} events this server signed")
                } else {
                    format!("the tree of {size} events does not extend the tree of {signed} events this server signed")
                };
                return Err(SignError::Refused(format!(
                    "{what}: the log's history was rewritten (or the tree rebuilt from other events)"
                )));
            }
            if size == signed {
                self.anchors.insert(tenant.clone(), (signed, signed_root));
                if !self.journaled(tenant) {
                    // Trusted on first use: from now on the journal holds this tenant too.
                    if let (Some(path), Some(c)) = (&self.journal, &table) {
                        journal::append(
                            path,
                            &Entry { tenant: tenant.to_string(), size: c.size, root: c.root, note: c.note.clone() },
                        )?;
                        self.in_journal.insert(tenant.clone());
                    }
                    return Ok(None);
                }
                // Nothing new to sign; a journal entry the table lost (a crash between the
                // two writes, or rows deleted) is put back, since the log still matches it.
                if table.as_ref().is_none_or(|c| c.size < signed)
                    && let Some(path) = &self.journal
                    && let Some(e) = journal::read(path)?.into_iter().rev().find(|e| e.tenant == tenant.as_str())
                    && e.size == signed
                {
                    let restored =
                        StoredCheckpoint { size, root, note: e.note, created_at: truncate_us(Timestamp::now()) };
                    store.add_checkpoint(tenant, restored.clone()).await?;
                    return Ok(Some(restored));
                }
                return Ok(None);
            }
        }
        let config = app.config();
        let cp = Checkpoint { origin: config.origin(tenant), size, root };
        let note = cp.sign(&config.key_name(), &config.signing_key);
        // The journal first: a checkpoint in the table but not the journal would be one this
        // server cannot hold the log to after a restart.
        if let Some(path) = &self.journal {
            journal::append(path, &Entry { tenant: tenant.to_string(), size, root, note: note.clone() })?;
        }
        let stored = StoredCheckpoint { size, root, note, created_at: truncate_us(Timestamp::now()) };
        store.add_checkpoint(tenant, stored.clone()).await?;
        self.anchors.insert(tenant.clone(), (size, root));
        if self.journal.is_some() {
            self.in_journal.insert(tenant.clone());
        }
        Ok(Some(stored))
    }

    /// One pass: signs every tree that grew. Returns how many were signed; a refusal is logged
    /// (once per change), set in `app`'s refusals, and does not stop the others.
    pub async fn sign_grown(&mut self, app: &App) -> StoreResult<usize> {
        let mut n = 0;
        for t in app.store().tenants().await? {
            if t.event_count == 0 {
                continue;
            }
            let up_to_date =
                self.anchors.get(&t.id).is_some_and(|&(s, _)| s == t.event_count) && !self.refused.contains_key(&t.id);
            if up_to_date {
                continue;
            }
            match self.sign(app, &t.id, t.event_count).await {
                Ok(signed) => {
                    n += usize::from(signed.is_some());
                    if self.refused.remove(&t.id).is_some() {
                        tracing::warn!(tenant = %t.id, size = t.event_count, "checkpoint signing resumed");
                        app.refusals().set(&t.id, None);
                    }
                }
                Err(SignError::Refused(why)) => {
                    if let Some(count) = &self.on_refusal {
                        count();
                    }
                    if self.refused.get(&t.id) != Some(&why) {
                        tracing::error!(tenant = %t.id, size = t.event_count, reason = %why, "REFUSING TO SIGN a checkpoint");
                        app.refusals().set(&t.id, Some(why.clone()));
                        self.refused.insert(t.id.clone(), why);
                    }
                }
                Err(SignError::Store(e)) => return Err(e),
                Err(e @ SignError::Journal(_)) => {
                    return Err(StoreError::Unavailable(e.to_string()));
                }
            }
        }
        Ok(n)
    }
}

/// Runs the signer until `stop` completes, then signs once more (what was appended last is
/// signed before a graceful stop). `on_refusal` is called at every refusal (the server counts
/// them).
pub async fn run_signer(
    app: Arc<App>,
    on_refusal: impl Fn() + Send + Sync + 'static,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut signer = Signer::new(app.config().checkpoint_journal.clone()).counting_refusals(on_refusal);
    let mut stop = std::pin::pin!(stop);
    loop {
        if let Err(e) = signer.sign_grown(&app).await {
            tracing::warn!(error = %e, "cannot sign checkpoints now; retrying");
        }
        tokio::select! {
            _ = tokio::time::sleep(SIGN_EVERY) => {}
            _ = &mut stop => break,
        }
    }
    if let Err(e) = signer.sign_grown(&app).await {
        tracing::warn!(error = %e, "cannot sign the last checkpoints before stopping");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    use trail_store::{NewTenant, Store, conformance::event};

    use super::*;
    use crate::AppConfig;

    async fn app(journal: PathBuf) -> (tempfile::TempDir, App, TenantId) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(trail_store_sqlite::SqliteStore::open(dir.path()).unwrap());
        let t = TenantId::parse("acme").unwrap();
        let new = NewTenant { id: t.clone(), name: "Acme".into(), plan: "enterprise".into(), time_zone: "UTC".into() };
        store.create_tenant(new).await.unwrap();
        let config = AppConfig {
            server_name: "test".into(),
            plans: crate::plans::builtin(),
            default_plan: "enterprise".into(),
            limits: Default::default(),
            signing_key: Arc::new(ed25519_dalek::SigningKey::from_bytes(&[42; 32])),
            checkpoint_journal: Some(journal),
        };
        (dir, App::new(store, config), t)
    }

    fn batch(ids: &[&str]) -> Vec<trail_store::PreparedEvent> {
        ids.iter().map(|id| event(&format!(r#"{{"action":"file.uploaded","id":"{id}"}}"#))).collect()
    }

    #[tokio::test]
    async fn a_grown_tree_is_signed_once_and_journaled() {
        let keys = tempfile::tempdir().unwrap();
        let journal = keys.path().join("checkpoints.log");
        let (_dir, app, t) = app(journal.clone()).await;
        app.append(&t, batch(&["a", "b"])).await.unwrap();
        let mut signer = Signer::new(app.config().checkpoint_journal.clone());
        assert_eq!(signer.sign_grown(&app).await.unwrap(), 1);
        assert_eq!(signer.sign_grown(&app).await.unwrap(), 0, "nothing grew");
        app.append(&t, batch(&["c"])).await.unwrap();
        assert_eq!(signer.sign_grown(&app).await.unwrap(), 1);
        let sizes: Vec<u64> = journal::read(&journal).unwrap().iter().map(|e| e.size).collect();
        assert_eq!(sizes, [2, 3]);
        assert_eq!(app.store().latest_checkpoint(&t).await.unwrap().unwrap().size, 3);
        assert_eq!(app.refusals().get(&t), None);
    }

    /// A journal whose last tree the log does not extend: the signer refuses, the App's
    /// refusals say why, and every refused pass is counted.
    #[tokio::test]
    async fn a_log_that_does_not_extend_the_journal_is_refused() {
        let keys = tempfile::tempdir().unwrap();
        let journal = keys.path().join("checkpoints.log");
        let (_dir, app, t) = app(journal.clone()).await;
        app.append(&t, batch(&["a", "b"])).await.unwrap();
        journal::append(&journal, &Entry { tenant: t.to_string(), size: 2, root: [7; 32], note: "forged".into() })
            .unwrap();
        let counted = Arc::new(AtomicU64::new(0));
        let count = counted.clone();
        let mut signer = Signer::new(Some(journal)).counting_refusals(move || {
            count.fetch_add(1, Relaxed);
        });
        assert_eq!(signer.sign_grown(&app).await.unwrap(), 0);
        assert_eq!(signer.sign_grown(&app).await.unwrap(), 0);
        let why = app.refusals().get(&t).expect("refused");
        assert!(why.contains("is not the tree of 2 events this server signed"), "{why}");
        assert_eq!(counted.load(Relaxed), 2, "each refused pass counts");
        assert!(app.store().latest_checkpoint(&t).await.unwrap().is_none(), "nothing signed");
    }
}
