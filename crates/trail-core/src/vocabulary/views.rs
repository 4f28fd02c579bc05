//! The views an export or a log page is made of (docs/api.md): each one's name in `view=` and in
//! file names, its title, its columns, and the actions an event view holds.
//!
//! Here, beside the actions and categories, because a view is named by the same vocabulary: the
//! API, the console, the CLI and the export writers all take a [`ViewKind`]. How an event or a
//! report row becomes a row of cells is the export crate's (`trail_export::views::View`); the
//! columns are here with their widths because they are the view's definition, the same for
//! every format.

use super::actions::{self, pattern};

/// One column of a view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    /// The heading, as docs/api.md names it (`Report Type`, or `linkSessionId` for the link access log).
    pub title: &'static str,
    /// The key of this value in NDJSON rows that are not events (report rows).
    pub key: &'static str,
    /// A sensible width, in characters: XLSX column widths and PDF/DOCX proportions.
    pub width: f32,
}

impl Column {
    pub const fn new(title: &'static str, key: &'static str, width: f32) -> Column {
        Column { title, key, width }
    }
}

/// Which view: its name in `view=` and in file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewKind {
    Activity,
    Api,
    Panel,
    Messages,
    Sms,
    Documents,
    LinkAccess,
    Logins,
    Usage,
    Users,
}

const ACTIVITY: &[Column] = &[
    Column::new("Seq", "seq", 9.0),
    Column::new("Date", "occurred_at", 20.0),
    Column::new("User", "user", 18.0),
    Column::new("Email", "email", 24.0),
    Column::new("Report Type", "report_type", 20.0),
    Column::new("Category", "category", 11.0),
    Column::new("Remarks", "remarks", 44.0),
    Column::new("Targets", "targets", 24.0),
    Column::new("IP Address", "ip", 16.0),
    Column::new("Country", "country", 12.0),
    Column::new("Region", "region", 12.0),
    Column::new("City", "city", 12.0),
    Column::new("OS", "os", 11.0),
    Column::new("Browser", "browser", 11.0),
    Column::new("Outcome", "outcome", 9.0),
];

const API: &[Column] = &[
    Column::new("Seq", "seq", 9.0),
    Column::new("Date", "occurred_at", 20.0),
    Column::new("Method", "method", 8.0),
    Column::new("URL", "url", 44.0),
    Column::new("Status", "status", 7.0),
    Column::new("IP Address", "ip", 16.0),
    Column::new("User", "user", 18.0),
    Column::new("Email", "email", 24.0),
    Column::new("Outcome", "outcome", 9.0),
];

const PANEL: &[Column] = &[
    Column::new("Seq", "seq", 9.0),
    Column::new("Date", "occurred_at", 20.0),
    Column::new("User", "user", 18.0),
    Column::new("Email", "email", 24.0),
    Column::new("Method", "method", 8.0),
    Column::new("URL", "url", 40.0),
    Column::new("Status", "status", 7.0),
    Column::new("IP Address", "ip", 16.0),
    Column::new("Browser", "browser", 11.0),
    Column::new("OS", "os", 11.0),
];

const MESSAGES: &[Column] = &[
    Column::new("Seq", "seq", 9.0),
    Column::new("Date", "occurred_at", 20.0),
    Column::new("User", "user", 18.0),
    Column::new("Email", "email", 24.0),
    Column::new("Event", "report_type", 16.0),
    Column::new("Message", "message", 24.0),
    Column::new("Recipients", "recipients", 32.0),
    Column::new("Expires", "expires_at", 20.0),
    Column::new("IP Address", "ip", 16.0),
    Column::new("Country", "country", 12.0),
    Column::new("City", "city", 12.0),
    Column::new("Browser", "browser", 11.0),
];

const SMS: &[Column] = &[
    Column::new("Seq", "seq", 9.0),
    Column::new("Date", "occurred_at", 20.0),
    Column::new("Message Id", "message_id", 16.0),
    Column::new("Campaign", "campaign", 18.0),
    Column::new("Phone", "phone", 16.0),
    Column::new("Gateway", "gateway", 12.0),
    Column::new("Status", "status", 8.0),
    Column::new("Error", "error", 28.0),
    Column::new("User", "user", 18.0),
];

const DOCUMENTS: &[Column] = &[
    Column::new("Seq", "seq", 9.0),
    Column::new("Date", "occurred_at", 20.0),
    Column::new("Document", "document", 24.0),
    Column::new("Event", "report_type", 18.0),
    Column::new("User", "user", 18.0),
    Column::new("Email", "email", 24.0),
    Column::new("IP Address", "ip", 16.0),
    Column::new("Remarks", "remarks", 40.0),
];

/// The link access log's fixed header, exactly (docs/api.md).
const LINK_ACCESS: &[Column] = &[
    Column::new("timestamp", "timestamp", 20.0),
    Column::new("linkSessionId", "linkSessionId", 18.0),
    Column::new("event", "event", 8.0),
    Column::new("email", "email", 24.0),
    Column::new("ipAddress", "ipAddress", 16.0),
    Column::new("country", "country", 12.0),
    Column::new("city", "city", 12.0),
    Column::new("osName", "osName", 11.0),
    Column::new("clientName", "clientName", 11.0),
    Column::new("fileName", "fileName", 24.0),
];

const LOGINS: &[Column] = &[
    Column::new("User", "name", 18.0),
    Column::new("Email", "email", 24.0),
    Column::new("Last Status", "last_status", 10.0),
    Column::new("Last Successful Login", "last_success_at", 20.0),
    Column::new("Last Failed Login", "last_failure_at", 20.0),
    Column::new("Failed Attempts", "failed_count", 9.0),
    Column::new("IP Address", "ip", 16.0),
    Column::new("Country", "country", 12.0),
    Column::new("Region", "region", 12.0),
    Column::new("City", "city", 12.0),
];

const USAGE: &[Column] = &[
    Column::new("User", "name", 18.0),
    Column::new("Email", "email", 24.0),
    Column::new("Files", "files", 8.0),
    Column::new("Storage (bytes)", "storage_bytes", 14.0),
    Column::new("Storage", "storage", 10.0),
    Column::new("Uploads", "uploads", 8.0),
    Column::new("Downloads", "downloads", 9.0),
    Column::new("Deletes", "deletes", 8.0),
    Column::new("Last Activity", "last_activity_at", 20.0),
];

const USERS: &[Column] = &[
    Column::new("User", "name", 18.0),
    Column::new("Email", "email", 24.0),
    Column::new("User Id", "actor_id", 16.0),
    Column::new("First Seen", "first_seen_at", 20.0),
    Column::new("Last Seen", "last_seen_at", 20.0),
    Column::new("Events", "event_count", 9.0),
    Column::new("Last Login", "last_login_at", 20.0),
];

impl ViewKind {
    pub const ALL: [ViewKind; 10] = [
        ViewKind::Activity,
        ViewKind::Api,
        ViewKind::Panel,
        ViewKind::Messages,
        ViewKind::Sms,
        ViewKind::Documents,
        ViewKind::LinkAccess,
        ViewKind::Logins,
        ViewKind::Usage,
        ViewKind::Users,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ViewKind::Activity => "activity",
            ViewKind::Api => "api",
            ViewKind::Panel => "panel",
            ViewKind::Messages => "messages",
            ViewKind::Sms => "sms",
            ViewKind::Documents => "documents",
            ViewKind::LinkAccess => "link-access",
            ViewKind::Logins => "logins",
            ViewKind::Usage => "usage",
            ViewKind::Users => "users",
        }
    }

    pub fn parse(s: &str) -> Result<ViewKind, String> {
        ViewKind::ALL.into_iter().find(|v| v.name() == s).ok_or_else(|| {
            let names: Vec<_> = ViewKind::ALL.iter().map(|v| v.name()).collect();
            format!("view {s:?} is unknown: use one of {}", names.join(", "))
        })
    }

    /// The title printed on PDF and DOCX files.
    pub fn title(self) -> &'static str {
        match self {
            ViewKind::Activity => "Activity log",
            ViewKind::Api => "API log",
            ViewKind::Panel => "Panel log",
            ViewKind::Messages => "Message log",
            ViewKind::Sms => "SMS log",
            ViewKind::Documents => "Document trail",
            ViewKind::LinkAccess => "Link access log",
            ViewKind::Logins => "Login report",
            ViewKind::Usage => "Usage report",
            ViewKind::Users => "Users",
        }
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            ViewKind::Activity => ACTIVITY,
            ViewKind::Api => API,
            ViewKind::Panel => PANEL,
            ViewKind::Messages => MESSAGES,
            ViewKind::Sms => SMS,
            ViewKind::Documents => DOCUMENTS,
            ViewKind::LinkAccess => LINK_ACCESS,
            ViewKind::Logins => LOGINS,
            ViewKind::Usage => USAGE,
            ViewKind::Users => USERS,
        }
    }

    /// The actions an event view holds (added to the caller's filters), or `None` for all.
    pub fn actions(self) -> Option<&'static [&'static str]> {
        match self {
            ViewKind::Api => Some(&[pattern::API]),
            ViewKind::Panel => Some(&[pattern::PANEL]),
            ViewKind::Messages => Some(&[pattern::MESSAGE]),
            ViewKind::Sms => Some(&[pattern::SMS]),
            ViewKind::Documents => Some(&[pattern::DOCUMENT]),
            ViewKind::LinkAccess => Some(&[actions::LINK_VIEWED, actions::LINK_SAVED]),
            _ => None,
        }
    }

    /// Whether the view is made of report rows rather than events.
    pub fn is_report(self) -> bool {
        matches!(self, ViewKind::Logins | ViewKind::Usage | ViewKind::Users)
    }
}
