//! The notice published after every durable append, and how subscribers must treat it.

use trail_core::TenantId;
use trail_store::AppendReceipt;

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
