//! The catalogue of well-known actions (docs/events.md) and the "report type" labels shown to
//! people in place of action names.

/// The categories Trail builds views on, in the order the console shows them.
pub const KNOWN_CATEGORIES: [&str; 9] = ["auth", "panel", "api", "message", "sms", "link", "file", "document", "trail"];

/// Labels for the actions of the catalogue; any other action gets a label made from its words.
const LABELS: &[(&str, &str)] = &[
    ("auth.login.succeeded", "Login succeeded"),
    ("auth.login.failed", "Login failed"),
    ("auth.logout", "Logout"),
    ("auth.password.changed", "Password changed"),
    ("auth.mfa.failed", "MFA failed"),
    ("panel.request", "Panel request"),
    ("api.request", "API request"),
    ("message.sent", "Message sent"),
    ("message.opened", "Message opened"),
    ("message.downloaded", "Message downloaded"),
    ("message.signed", "Message signed"),
    ("message.deleted", "Message deleted"),
    ("message.expired", "Message expired"),
    ("sms.sent", "SMS sent"),
    ("sms.failed", "SMS failed"),
    ("link.created", "Link created"),
    ("link.viewed", "Link viewed"),
    ("link.saved", "Link saved"),
    ("link.revoked", "Link revoked"),
    ("link.expired", "Link expired"),
    ("file.uploaded", "File uploaded"),
    ("file.downloaded", "File downloaded"),
    ("file.deleted", "File deleted"),
    ("document.created", "Document created"),
    ("document.invited", "Signer invited"),
    ("document.resent", "Invitation resent"),
    ("document.reinvited", "Signer reinvited"),
    ("document.signed", "Document signed"),
    ("document.rejected", "Document rejected"),
    ("document.completed", "Document completed"),
    ("document.deleted", "Document deleted"),
    ("document.invitation_timed_out", "Invitation timed out"),
    ("document.verification_failed", "Verification failed"),
    ("trail.logs.viewed", "Logs viewed"),
    ("trail.logs.exported", "Logs exported"),
    ("trail.settings.changed", "Settings changed"),
    ("trail.member.added", "Member added"),
    ("trail.member.changed", "Member changed"),
    ("trail.member.removed", "Member removed"),
    ("trail.member.signed_in", "Signed in to the console"),
    ("trail.key.created", "API key created"),
    ("trail.key.revoked", "API key revoked"),
    ("trail.integrity.verified", "Log verified"),
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
