//! The notice published after every durable append, and how subscribers must treat it.

use tokio::sync::broadcast;
use trail_core::TenantId;
use trail_store::{AppendReceipt, EventLog, PreparedEvent, StoreResult};

/// Notices the bus keeps for a subscriber that has not taken them yet. A subscriber further
/// behind gets `RecvError::Lagged` (the oldest notices are dropped for it) and must read the
/// log from its own cursor, as for any notice: so a lost notice delays a subscriber, it never
/// loses it an event.
pub const BUS_CAPACITY: usize = 1024;

/// Events were appended to `tenant`'s log and are durable: seqs `first_seq..=last_seq` are new
/// (some seqs between them may be another request's, committed in the same group), and the
/// tenant's tree had `tree_size` leaves after the append.
///
/// A subscriber treats a notice as "read the log from your cursor", never as the list of what
/// to read: notices of concurrent appends may arrive in either order, a lagging subscriber
/// loses some (`Lagged`), and appends by other processes publish none here. Reading from a
/// cursor makes all three harmless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub tenant: TenantId,
    pub first_seq: u64,
    pub last_seq: u64,
    pub tree_size: u64,
}

impl Appended {
    /// The notice of `receipt`, or `None` when it stored nothing new (only duplicates).
    pub(crate) fn of(tenant: &TenantId, receipt: &AppendReceipt) -> Option<Appended> {
        let mut new = receipt.events.iter().filter(|e| !e.duplicate).map(|e| e.seq);
        let first = new.next()?;
        let (first_seq, last_seq) = new.fold((first, first), |(lo, hi), s| (lo.min(s), hi.max(s)));
        Some(Appended { tenant: tenant.clone(), first_seq, last_seq, tree_size: receipt.tree_size })
    }
}

/// Appends `events` to `tenant`'s log and, once `log` has committed them durably, publishes
/// one notice on `bus` covering the new ones: the body of [`crate::App::append`], apart from
/// the application so that it can be tested over any event log (the in-memory one below).
pub(crate) async fn append(
    log: &dyn EventLog,
    bus: &broadcast::Sender<Appended>,
    tenant: &TenantId,
    events: Vec<PreparedEvent>,
) -> StoreResult<AppendReceipt> {
    let receipt = log.append(tenant, events).await?;
    if let Some(notice) = Appended::of(tenant, &receipt) {
        // No subscriber is not an error: no one needed to hear of it.
        let _ = bus.send(notice);
    }
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::broadcast::error::TryRecvError;
    use trail_store::{Accounts, NewTenant, conformance, memory::MemStore};

    use super::*;

    fn event(id: &str) -> PreparedEvent {
        conformance::event(&format!(r#"{{"action":"document.signed","id":"{id}"}}"#))
    }

    #[tokio::test]
    async fn one_notice_per_append_with_its_seqs_and_none_for_duplicates_or_failures() {
        let log = Arc::new(MemStore::new());
        let t = TenantId::parse("acme").unwrap();
        let tenant = NewTenant { id: t.clone(), name: "Acme".into(), plan: "basic".into(), time_zone: "UTC".into() };
        log.create_tenant(tenant).await.unwrap();
        let (bus, mut rx) = broadcast::channel(16);

        append(&*log, &bus, &t, vec![event("a"), event("b")]).await.unwrap();
        let n = rx.try_recv().unwrap();
        assert_eq!((n.first_seq, n.last_seq, n.tree_size), (1, 2, 2));
        assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);

        // Duplicates only: nothing stored, nothing announced.
        let receipt = append(&*log, &bus, &t, vec![event("a")]).await.unwrap();
        assert!(receipt.events[0].duplicate);
        assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);

        // A duplicate and a new event: the notice covers only the new one.
        append(&*log, &bus, &t, vec![event("b"), event("c")]).await.unwrap();
        let n = rx.try_recv().unwrap();
        assert_eq!((n.first_seq, n.last_seq, n.tree_size), (3, 3, 3));

        // A failed append (an unknown tenant) announces nothing.
        let other = TenantId::parse("nobody").unwrap();
        assert!(append(&*log, &bus, &other, vec![event("d")]).await.is_err());
        assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);
    }
}
