//! The plan of a filter whose reader is shown some events redacted (`trail_core::redaction`).
//!
//! The index holds the terms of stored events, but such a filter matches the copy its reader is
//! shown: a masked phone number's hidden digits are gone from it, and it holds words the stored
//! event lacks (`0123` of `+********0123`, `withheld`). A plan must still select a superset of
//! the matches, so each clause that the copy could satisfy where the stored event does not also
//! admits every event of the actions the redaction changes (`sms.*` when phones are masked,
//! `link.viewed` and `link.saved` when link detail is withheld), and a negated clause whose term
//! the copy could lose is left to the check of each candidate. Which words and values a copy can
//! add is the redaction's to say (`Redaction::may_add_word`, `may_add_value`; trail-core tests
//! both against random events), so most clauses stay as they are: `q=invoice` under a withheld
//! link detail still reads only events with that word.
//!
//! Such a plan is never exact: counts check each candidate against the filter, as pages always
//! do. A filter whose conditions look only at time, action, category and outcome, or whose
//! actions exclude every event the redaction changes, keeps the plan of the stored events.

use trail_core::{
    filter::Filter,
    redaction::{LINK_ACCESS_ACTIONS, SMS_ACTION_PREFIX},
    search::TermKind,
};

use super::{Alt, Clause, Plan, action, actor_terms, hash, kind, net_terms, target_terms, word};

/// `plan` (the plan of `f`'s conditions over stored events), widened to what `f`'s reader is
/// shown.
pub(super) fn seen_by_reader(f: &Filter, mut plan: Plan) -> Plan {
    let r = f.redaction;
    if !f.sees_redacted() {
        return plan;
    }
    plan.exact = false;
    // Terms of clauses a redacted copy may satisfy where the stored event does not.
    let mut gained: Vec<u64> = Vec::new();
    // Terms of negated clauses a redacted copy may lose.
    let mut lost: Vec<u64> = Vec::new();
    for a in f.actors.iter().filter(|a| r.may_add_value(a)) {
        gained.extend(actor_terms(a));
    }
    let target_gained = |t: &trail_core::filter::TargetRef| {
        r.may_add_value(&t.id) || t.kind.as_deref().is_some_and(|k| r.may_add_value(k))
    };
    gained.extend(f.targets.iter().filter(|t| target_gained(t)).map(target_terms));
    gained.extend(f.sessions.iter().filter(|s| r.may_add_value(s)).map(|s| hash(kind::SESSION, s.as_bytes())));
    for term in f.q.iter().flat_map(|q| &q.terms) {
        let (may_gain, terms): (bool, Vec<u64>) = match &term.kind {
            TermKind::Text(ws) if term.negated => (false, ws.iter().map(|w| word(w)).collect()),
            TermKind::Text(ws) => (true, ws.iter().filter(|w| r.may_add_word(w)).map(|w| word(w)).collect()),
            TermKind::Actor(a) => (r.may_add_value(a), actor_terms(a).to_vec()),
            TermKind::Target(t) => (target_gained(t), vec![target_terms(t)]),
            TermKind::Session(s) => (r.may_add_value(s), vec![hash(kind::SESSION, s.as_bytes())]),
            TermKind::Country(c) => (false, vec![hash(kind::COUNTRY, c.as_bytes())]),
            TermKind::Ip(net) => (false, net_terms(net).unwrap_or_default()),
            // No redaction changes an event's action, category or outcome.
            TermKind::Action(_) | TermKind::Category(_) | TermKind::Outcome(_) => continue,
        };
        if term.negated {
            lost.extend(terms);
        } else if may_gain {
            gained.extend(terms);
        }
    }
    let mut shown: Vec<Alt> = Vec::new();
    if r.mask_phones {
        shown.push(Alt::ActionPrefix(SMS_ACTION_PREFIX.to_owned()));
    }
    if r.hide_link_detail {
        shown.extend(LINK_ACCESS_ACTIONS.iter().map(|a| Alt::Term(action(a))));
    }
    let holds_any = |alts: &[Alt], terms: &[u64]| alts.iter().any(|a| matches!(a, Alt::Term(t) if terms.contains(t)));
    plan.clauses.retain_mut(|c| match c {
        Clause::AnyOf(alts) => {
            if holds_any(alts, &gained) {
                alts.extend(shown.iter().cloned());
            }
            true
        }
        Clause::NoneOf(alts) => !holds_any(alts, &lost),
    });
    plan
}

#[cfg(test)]
mod tests {
    use trail_core::{filter::parse_params, redaction::Redaction};

    use super::*;

    fn filter(query: &str, r: Redaction) -> Filter {
        let now: jiff::Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        let pairs = query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap());
        let mut f = parse_params(pairs, &jiff::tz::TimeZone::UTC, now, &[]).unwrap().0;
        f.redaction = r;
        f
    }

    const MASKED: Redaction = Redaction { mask_phones: true, hide_link_detail: false };
    const BASIC: Redaction = Redaction { mask_phones: false, hide_link_detail: true };

    /// Regression (search confirmed hidden values): counts came from the index's terms of the
    /// stored events, so the timeline counted an SMS event for its reader's search of the whole
    /// number they are shown masked.
    #[test]
    fn a_reader_shown_redacted_events_gets_no_exact_count() {
        for (query, r) in
            [("q=447700900123", MASKED), ("ip=203.0.113.7", BASIC), ("country=NL", BASIC), ("actor=u1", MASKED)]
        {
            assert!(Plan::of(&filter(query, Redaction::NONE)).exact, "{query}");
            assert!(!Plan::of(&filter(query, r)).exact, "{query}");
        }
        // Nothing the redaction changes is selected, or no condition looks at it.
        for (query, r) in [
            ("q=447700900123&action=auth.*", MASKED),
            ("ip=203.0.113.7&action=sms.*", BASIC),
            ("action=sms.*&outcome=failure", MASKED),
            ("", BASIC),
        ] {
            assert_eq!(Plan::of(&filter(query, r)), Plan::of(&filter(query, Redaction::NONE)), "{query}");
        }
        assert!(Plan::of(&filter("range=all", MASKED)).selects_all());
    }

    /// A word a masked copy may hold (the digits it shows) also admits every SMS event; a word
    /// no withheld detail writes keeps its clause as it is.
    #[test]
    fn clauses_a_copy_may_satisfy_admit_the_changed_actions() {
        let masked = Plan::of(&filter("q=0123", MASKED));
        assert_eq!(
            masked.clauses,
            vec![Clause::AnyOf(vec![Alt::Term(word("0123")), Alt::ActionPrefix(SMS_ACTION_PREFIX.into())])]
        );
        let basic = Plan::of(&filter("q=invoice", BASIC));
        assert_eq!(basic.clauses, vec![Clause::AnyOf(vec![Alt::Term(word("invoice"))])]);
        let withheld = Plan::of(&filter("q=withheld", BASIC));
        assert_eq!(
            withheld.clauses[0],
            Clause::AnyOf(vec![
                Alt::Term(word("withheld")),
                Alt::Term(action("link.viewed")),
                Alt::Term(action("link.saved"))
            ])
        );
        // The visitor's address may be gone from the copy: the negation is checked per event.
        assert!(Plan::of(&filter("q=-ip:203.0.113.7", BASIC)).clauses.is_empty());
        assert_eq!(Plan::of(&filter("q=-ip:203.0.113.7", Redaction::NONE)).clauses.len(), 1);
    }
}
