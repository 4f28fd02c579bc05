//! Every action Trail knows by name: the catalogue's (docs/events.md), which products send and
//! Trail's views and reports read, and Trail's own `trail.*` events, which Trail writes.
//!
//! Code names an action through these constants, never by a string of its own: a misspelt
//! constant does not compile, where a misspelt string silently matches nothing (an empty report
//! rather than an error). A test in this crate (`tests/vocabulary.rs`) fails if a quoted
//! catalogue action appears in the source of any crate outside this module.

// Sign-in.
pub const AUTH_LOGIN_SUCCEEDED: &str = "auth.login.succeeded";
pub const AUTH_LOGIN_FAILED: &str = "auth.login.failed";
pub const AUTH_LOGOUT: &str = "auth.logout";
pub const AUTH_PASSWORD_CHANGED: &str = "auth.password.changed";
pub const AUTH_MFA_FAILED: &str = "auth.mfa.failed";

// Requests.
pub const PANEL_REQUEST: &str = "panel.request";
pub const API_REQUEST: &str = "api.request";

// Secure messages.
pub const MESSAGE_SENT: &str = "message.sent";
pub const MESSAGE_OPENED: &str = "message.opened";
pub const MESSAGE_DOWNLOADED: &str = "message.downloaded";
pub const MESSAGE_SIGNED: &str = "message.signed";
pub const MESSAGE_DELETED: &str = "message.deleted";
pub const MESSAGE_EXPIRED: &str = "message.expired";

// Text messages.
pub const SMS_SENT: &str = "sms.sent";
pub const SMS_FAILED: &str = "sms.failed";

// Shared links.
pub const LINK_CREATED: &str = "link.created";
pub const LINK_VIEWED: &str = "link.viewed";
pub const LINK_SAVED: &str = "link.saved";
pub const LINK_REVOKED: &str = "link.revoked";
pub const LINK_EXPIRED: &str = "link.expired";

// Files.
pub const FILE_UPLOADED: &str = "file.uploaded";
pub const FILE_DOWNLOADED: &str = "file.downloaded";
pub const FILE_DELETED: &str = "file.deleted";

// Documents sent for signature.
pub const DOCUMENT_CREATED: &str = "document.created";
pub const DOCUMENT_INVITED: &str = "document.invited";
pub const DOCUMENT_RESENT: &str = "document.resent";
pub const DOCUMENT_REINVITED: &str = "document.reinvited";
pub const DOCUMENT_SIGNED: &str = "document.signed";
pub const DOCUMENT_REJECTED: &str = "document.rejected";
pub const DOCUMENT_COMPLETED: &str = "document.completed";
pub const DOCUMENT_DELETED: &str = "document.deleted";
pub const DOCUMENT_INVITATION_TIMED_OUT: &str = "document.invitation_timed_out";
pub const DOCUMENT_VERIFICATION_FAILED: &str = "document.verification_failed";

// Trail's own events: what people do with Trail.
pub const TRAIL_LOGS_VIEWED: &str = "trail.logs.viewed";
pub const TRAIL_LOGS_EXPORTED: &str = "trail.logs.exported";
pub const TRAIL_SETTINGS_CHANGED: &str = "trail.settings.changed";
pub const TRAIL_MEMBER_ADDED: &str = "trail.member.added";
pub const TRAIL_MEMBER_CHANGED: &str = "trail.member.changed";
pub const TRAIL_MEMBER_REMOVED: &str = "trail.member.removed";
pub const TRAIL_MEMBER_SIGNED_IN: &str = "trail.member.signed_in";
pub const TRAIL_MEMBER_SIGN_IN_FAILED: &str = "trail.member.sign_in_failed";
pub const TRAIL_KEY_CREATED: &str = "trail.key.created";
pub const TRAIL_KEY_REVOKED: &str = "trail.key.revoked";
pub const TRAIL_INTEGRITY_VERIFIED: &str = "trail.integrity.verified";
pub const TRAIL_RETENTION_PURGED: &str = "trail.retention.purged";
pub const TRAIL_ERASURE_COMPLETED: &str = "trail.erasure.completed";
/// Not written to any log: the placeholder a reader is shown for a stored event that cannot be
/// read back (`EventBody::unreadable`).
pub const TRAIL_EVENT_UNREADABLE: &str = "trail.event.unreadable";

/// Every action above, catalogue first, then Trail's own.
pub const ALL: &[&str] = &[
    AUTH_LOGIN_SUCCEEDED,
    AUTH_LOGIN_FAILED,
    AUTH_LOGOUT,
    AUTH_PASSWORD_CHANGED,
    AUTH_MFA_FAILED,
    PANEL_REQUEST,
    API_REQUEST,
    MESSAGE_SENT,
    MESSAGE_OPENED,
    MESSAGE_DOWNLOADED,
    MESSAGE_SIGNED,
    MESSAGE_DELETED,
    MESSAGE_EXPIRED,
    SMS_SENT,
    SMS_FAILED,
    LINK_CREATED,
    LINK_VIEWED,
    LINK_SAVED,
    LINK_REVOKED,
    LINK_EXPIRED,
    FILE_UPLOADED,
    FILE_DOWNLOADED,
    FILE_DELETED,
    DOCUMENT_CREATED,
    DOCUMENT_INVITED,
    DOCUMENT_RESENT,
    DOCUMENT_REINVITED,
    DOCUMENT_SIGNED,
    DOCUMENT_REJECTED,
    DOCUMENT_COMPLETED,
    DOCUMENT_DELETED,
    DOCUMENT_INVITATION_TIMED_OUT,
    DOCUMENT_VERIFICATION_FAILED,
    TRAIL_LOGS_VIEWED,
    TRAIL_LOGS_EXPORTED,
    TRAIL_SETTINGS_CHANGED,
    TRAIL_MEMBER_ADDED,
    TRAIL_MEMBER_CHANGED,
    TRAIL_MEMBER_REMOVED,
    TRAIL_MEMBER_SIGNED_IN,
    TRAIL_MEMBER_SIGN_IN_FAILED,
    TRAIL_KEY_CREATED,
    TRAIL_KEY_REVOKED,
    TRAIL_INTEGRITY_VERIFIED,
    TRAIL_RETENTION_PURGED,
    TRAIL_ERASURE_COMPLETED,
    TRAIL_EVENT_UNREADABLE,
];

/// The start every action of a family shares, for `starts_with`: `sms.` begins `sms.sent` and
/// `sms.failed`. Each is its category's name and a dot.
pub mod prefix {
    pub const AUTH: &str = "auth.";
    pub const PANEL: &str = "panel.";
    pub const API: &str = "api.";
    pub const MESSAGE: &str = "message.";
    pub const SMS: &str = "sms.";
    pub const LINK: &str = "link.";
    pub const FILE: &str = "file.";
    pub const DOCUMENT: &str = "document.";
    pub const TRAIL: &str = "trail.";

    /// Every prefix above.
    pub const ALL: &[&str] = &[AUTH, PANEL, API, MESSAGE, SMS, LINK, FILE, DOCUMENT, TRAIL];
}

/// The action patterns naming a whole family, as a query's `action=` takes them (`sms.*`): the
/// family's [`prefix`] and a `*`.
pub mod pattern {
    pub const AUTH: &str = "auth.*";
    pub const PANEL: &str = "panel.*";
    pub const API: &str = "api.*";
    pub const MESSAGE: &str = "message.*";
    pub const SMS: &str = "sms.*";
    pub const LINK: &str = "link.*";
    pub const FILE: &str = "file.*";
    pub const DOCUMENT: &str = "document.*";
    pub const TRAIL: &str = "trail.*";

    /// Every pattern above, in the order of [`super::prefix::ALL`].
    pub const ALL: &[&str] = &[AUTH, PANEL, API, MESSAGE, SMS, LINK, FILE, DOCUMENT, TRAIL];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{event::Action, vocabulary::categories};

    #[test]
    fn every_action_is_valid_and_named_once() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(Action::parse(a).is_ok(), "{a} is not a valid action");
            assert!(!ALL[..i].contains(a), "{a} is listed twice");
            assert!(prefix::ALL.iter().any(|p| a.starts_with(p)), "{a} belongs to no family");
        }
    }

    #[test]
    fn families_are_categories() {
        assert_eq!(prefix::ALL.len(), categories::KNOWN.len());
        for ((p, pat), c) in prefix::ALL.iter().zip(pattern::ALL).zip(categories::KNOWN) {
            assert_eq!(*p, format!("{c}."));
            assert_eq!(*pat, format!("{c}.*"));
        }
    }
}
