//! Who is a person: one person may appear in events by actor id, by e-mail, or by both (a
//! failed sign-in names only the e-mail that was typed; the application's later events name
//! the id and the e-mail). Every backend keeps a small per-tenant identity table, one row per
//! e-mail spelling seen, holding the actor id the e-mail is linked to, and uses it the same way:
//!
//! - an e-mail is linked to an id once any event of the tenant carries both; if an e-mail later
//!   comes with another id, the pairing with the latest `occurred_at` wins (an e-mail that
//!   moved to another account);
//! - e-mails are compared case-insensitively: spellings that differ only in case share one link
//!   (`email_key`, the lower-cased e-mail), and every spelling is kept because the term index
//!   and the stored events hold the spelling as sent;
//! - the rollups (users, logins, usage, activity buckets) are keyed by the linked id: an event
//!   with only an e-mail folds into its person's row, and when a link is made (or moves) the
//!   rows kept under the e-mail before are merged into the id's row in the same transaction;
//! - the `actor` filter and a member's own events are expanded through the table
//!   ([`Person`]), so `actor=u_1002` and `actor=ben.khan@example.com` select the same events.
//!
//! This module holds what the backends share: folding a batch's e-mails, and the mapping from
//! e-mail to id a batch's rollups are folded with.

use std::collections::HashMap;

use trail_core::vocabulary::actions::prefix;

use crate::rollup::Seen;

/// The key e-mails are compared by: the e-mail lower-cased.
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

/// One e-mail (all its spellings) in a batch.
#[derive(Debug, Default)]
pub struct EmailFold<'a> {
    /// The spellings the batch used.
    pub spellings: Vec<&'a str>,
    /// The latest id the batch paired it with, and when.
    pub pairing: Option<(i64, &'a str)>,
}

/// A batch's e-mails by [`email_key`]: every event whose actor has an e-mail (a link's
/// visitors too, which are not in the rollups but are the same person).
pub fn fold_emails<'a>(seen: impl Iterator<Item = &'a Seen>) -> HashMap<String, EmailFold<'a>> {
    let mut out: HashMap<String, EmailFold<'a>> = HashMap::new();
    for s in seen {
        let Some(email) = s.email.as_deref() else { continue };
        let f = out.entry(email_key(email)).or_default();
        if !f.spellings.contains(&email) {
            f.spellings.push(email);
        }
        // Trail's own events name console members by their member id, which is not an id of
        // the product's: a console sign-in must not move the person's e-mail to it.
        if let Some(id) = s.actor_id.as_deref()
            && !s.action.starts_with(prefix::TRAIL)
            && f.pairing.is_none_or(|(at, _)| at <= s.occurred_at)
        {
            f.pairing = Some((s.occurred_at, id));
        }
    }
    out
}

/// The id each e-mail of a batch is linked to (by spelling, as the events give it): what the
/// rollups of an event that carries only an e-mail are keyed by.
#[derive(Debug, Default)]
pub struct Resolved(HashMap<String, String>);

impl Resolved {
    pub fn insert(&mut self, email: &str, id: &str) {
        self.0.insert(email.to_owned(), id.to_owned());
    }

    /// The rollup key of an actor: `key` (its id, else its e-mail) unless it has no id and its
    /// e-mail is linked to one.
    pub fn key<'a>(&'a self, key: &'a str, id: Option<&'a str>) -> &'a str {
        match id {
            Some(_) => key,
            None => self.0.get(key).map_or(key, String::as_str),
        }
    }

    /// The actor id of an actor: its own, else the one its e-mail (`key`) is linked to.
    pub fn id<'a>(&'a self, key: &'a str, id: Option<&'a str>) -> Option<&'a str> {
        id.or_else(|| self.0.get(key).map(String::as_str))
    }
}

/// Every identifier of one person, or of the people some values name (see
/// `Rollups::person`): the ids and every e-mail spelling linked to them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    pub ids: Vec<String>,
    pub emails: Vec<String>,
}

impl Person {
    /// Adds values not held yet.
    pub fn add_id(&mut self, id: &str) {
        if !self.ids.iter().any(|i| i == id) {
            self.ids.push(id.to_owned());
        }
    }

    pub fn add_email(&mut self, email: &str) {
        if !self.emails.iter().any(|e| e == email) {
            self.emails.push(email.to_owned());
        }
    }

    /// Ids, then e-mails, without repeats (an `actor` filter matches a value as either).
    pub fn values(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(self.ids.len() + self.emails.len());
        for v in self.ids.iter().chain(&self.emails) {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(json: &str) -> Seen {
        let now = jiff::Timestamp::now();
        let e = trail_core::event::NewEvent::from_json(json, now).unwrap();
        Seen::of(&e.into_body(now))
    }

    #[test]
    fn spellings_share_a_key_and_the_latest_pairing_wins() {
        let batch = [
            seen(
                r#"{"action":"auth.login.failed","actor":{"email":"Ben@x.example"},"occurred_at":"2026-01-01T00:00:00Z"}"#,
            ),
            seen(
                r#"{"action":"a.b","actor":{"id":"u_2","email":"ben@x.example"},"occurred_at":"2026-01-03T00:00:00Z"}"#,
            ),
            seen(
                r#"{"action":"a.b","actor":{"id":"u_1","email":"ben@x.example"},"occurred_at":"2026-01-02T00:00:00Z"}"#,
            ),
        ];
        let folded = fold_emails(batch.iter());
        assert_eq!(folded.len(), 1);
        let f = &folded["ben@x.example"];
        assert_eq!(f.spellings, ["Ben@x.example", "ben@x.example"]);
        assert_eq!(f.pairing.map(|p| p.1), Some("u_2"));
    }

    /// Regression: a console member's sign-in (`trail.*`, actor = their member id and e-mail)
    /// moved the person's e-mail from their product id to the member id.
    #[test]
    fn trails_own_events_link_no_email() {
        let batch = [
            seen(
                r#"{"action":"a.b","actor":{"id":"u_1","email":"ben@x.example"},"occurred_at":"2026-01-01T00:00:00Z"}"#,
            ),
            seen(
                r#"{"action":"trail.member.signed_in","actor":{"id":"m_7","email":"ben@x.example"},"occurred_at":"2026-01-02T00:00:00Z"}"#,
            ),
        ];
        let folded = fold_emails(batch.iter());
        assert_eq!(folded["ben@x.example"].pairing.map(|p| p.1), Some("u_1"));
    }

    #[test]
    fn resolved_rekeys_only_actors_without_an_id() {
        let mut r = Resolved::default();
        r.insert("ben@x.example", "u_1");
        assert_eq!(r.key("ben@x.example", None), "u_1");
        assert_eq!(r.id("ben@x.example", None), Some("u_1"));
        assert_eq!(r.key("u_9", Some("u_9")), "u_9");
        assert_eq!(r.key("ann@x.example", None), "ann@x.example");
    }
}
