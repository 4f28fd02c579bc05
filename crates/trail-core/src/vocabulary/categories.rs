//! The categories Trail builds views on. An event's category is the first word of its action
//! unless the event names another (`auth.login.failed` is in `auth`), so each is also the name
//! of an action family ([`super::actions::prefix`]).

pub const AUTH: &str = "auth";
pub const PANEL: &str = "panel";
pub const API: &str = "api";
pub const MESSAGE: &str = "message";
pub const SMS: &str = "sms";
pub const LINK: &str = "link";
pub const FILE: &str = "file";
pub const DOCUMENT: &str = "document";
/// Trail's own events (who viewed and changed the logs).
pub const TRAIL: &str = "trail";

/// Every category above, in the order the console shows them.
pub const KNOWN: [&str; 9] = [AUTH, PANEL, API, MESSAGE, SMS, LINK, FILE, DOCUMENT, TRAIL];
