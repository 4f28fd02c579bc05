//! The catalogue of well-known actions (docs/events.md) and the "report type" labels shown to
//! people in place of action names.

use super::actions;

/// The categories Trail builds views on, in the order the console shows them.
pub use super::categories::KNOWN as KNOWN_CATEGORIES;

/// Labels for the actions of the catalogue; any other action gets a label made from its words.
const LABELS: &[(&str, &str)] = &[
    (actions::AUTH_LOGIN_SUCCEEDED, "Login succeeded"),
    (actions::AUTH_LOGIN_FAILED, "Login failed"),
    (actions::AUTH_LOGOUT, "Logout"),
    (actions::AUTH_PASSWORD_CHANGED, "Password changed"),
    (actions::AUTH_MFA_FAILED, "MFA failed"),
    (actions::PANEL_REQUEST, "Panel request"),
    (actions::API_REQUEST, "API request"),
    (actions::MESSAGE_SENT, "Message sent"),
    (actions::MESSAGE_OPENED, "Message opened"),
    (actions::MESSAGE_DOWNLOADED, "Message downloaded"),
    (actions::MESSAGE_SIGNED, "Message signed"),
    (actions::MESSAGE_DELETED, "Message deleted"),
    (actions::MESSAGE_EXPIRED, "Message expired"),
    (actions::SMS_SENT, "SMS sent"),
    (actions::SMS_FAILED, "SMS failed"),
    (actions::LINK_CREATED, "Link created"),
    (actions::LINK_VIEWED, "Link viewed"),
    (actions::LINK_SAVED, "Link saved"),
    (actions::LINK_REVOKED, "Link revoked"),
    (actions::LINK_EXPIRED, "Link expired"),
    (actions::FILE_UPLOADED, "File uploaded"),
    (actions::FILE_DOWNLOADED, "File downloaded"),
    (actions::FILE_DELETED, "File deleted"),
    (actions::DOCUMENT_CREATED, "Document created"),
    (actions::DOCUMENT_INVITED, "Signer invited"),
    (actions::DOCUMENT_RESENT, "Invitation resent"),
    (actions::DOCUMENT_REINVITED, "Signer reinvited"),
    (actions::DOCUMENT_SIGNED, "Document signed"),
    (actions::DOCUMENT_REJECTED, "Document rejected"),
    (actions::DOCUMENT_COMPLETED, "Document completed"),
    (actions::DOCUMENT_DELETED, "Document deleted"),
    (actions::DOCUMENT_INVITATION_TIMED_OUT, "Invitation timed out"),
    (actions::DOCUMENT_VERIFICATION_FAILED, "Verification failed"),
    (actions::TRAIL_LOGS_VIEWED, "Logs viewed"),
    (actions::TRAIL_LOGS_EXPORTED, "Logs exported"),
    (actions::TRAIL_SETTINGS_CHANGED, "Settings changed"),
    (actions::TRAIL_MEMBER_ADDED, "Member added"),
    (actions::TRAIL_MEMBER_CHANGED, "Member changed"),
    (actions::TRAIL_MEMBER_REMOVED, "Member removed"),
    (actions::TRAIL_MEMBER_SIGNED_IN, "Signed in to the console"),
    (actions::TRAIL_KEY_CREATED, "API key created"),
    (actions::TRAIL_KEY_REVOKED, "API key revoked"),
    (actions::TRAIL_INTEGRITY_VERIFIED, "Log verified"),
];

/// The human label for an action: the catalogue's, or the action's words as a sentence
/// (`stamp.applied` is "Stamp applied", `user.role_changed` is "User role changed").
pub fn report_type(action: &str) -> String {
    if let Some((_, label)) = LABELS.iter().find(|(a, _)| *a == action) {
        return (*label).to_owned();
    }
    let mut out = String::with_capacity(action.len());
    for (i, word) in action.split(['.', '_']).filter(|w| !w.is_empty()).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    let mut chars = out.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => out,
    }
}

/// Every action of the catalogue with its label, for pickers and documentation.
pub fn known_actions() -> impl Iterator<Item = (&'static str, &'static str)> {
    LABELS.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(report_type("document.signed"), "Document signed");
        assert_eq!(report_type("auth.login.failed"), "Login failed");
        assert_eq!(report_type("stamp.applied"), "Stamp applied");
        assert_eq!(report_type("user.role_changed"), "User role changed");
        assert_eq!(report_type("x"), "X");
    }
}
