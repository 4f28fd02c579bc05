//! Property tests for the `q` parser.

use proptest::prelude::*;
use trail_core::{
    event::{Category, Outcome},
    filter::{ActionPattern, TargetRef},
    search::{SearchQuery, Term, TermKind},
};

/// A word as `words` yields it: letters and digits in lower case (Latin, Greek, Cyrillic).
fn word() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9]{1,8}", "[à-ÿ]{1,4}", "[α-ω]{1,5}", "[а-я]{1,5}"]
        .prop_filter("a single lower-case word", |w| trail_core::search::words(w).collect::<Vec<_>>() == [w.clone()])
}

fn term() -> impl Strategy<Value = Term> {
    let kind = prop_oneof![
        prop::collection::vec(word(), 1..4).prop_map(TermKind::Text),
        "[a-z0-9_@.]{1,12}".prop_map(TermKind::Actor),
        "[a-z]{1,6}(\\.[a-z_]{1,6}){0,2}".prop_map(|a| TermKind::Action(ActionPattern::Exact(a))),
        "[a-z]{1,6}\\.".prop_map(|p| TermKind::Action(ActionPattern::Prefix(p))),
        "[a-z_]{1,8}".prop_map(|c| TermKind::Category(Category::parse(&c).unwrap())),
        ("[a-z]{1,6}", "[a-z0-9_]{1,8}").prop_map(|(k, id)| TermKind::Target(TargetRef { kind: Some(k), id })),
        (any::<[u8; 4]>(), 8u8..=32)
            .prop_map(|(a, p)| { TermKind::Ip(ipnet::IpNet::new(std::net::IpAddr::from(a), p).unwrap().trunc()) }),
        "[A-Z]{2}".prop_map(TermKind::Country),
        prop_oneof![Just(Outcome::Success), Just(Outcome::Failure)].prop_map(TermKind::Outcome),
        "[a-z0-9_]{1,10}".prop_map(TermKind::Session),
    ];
    (any::<bool>(), kind).prop_map(|(negated, kind)| Term { negated, kind })
}

/// Writes a term the way a person would type it.
fn render(t: &Term) -> String {
    let body = match &t.kind {
        TermKind::Text(ws) if ws.len() == 1 => ws[0].clone(),
        TermKind::Text(ws) => format!("\"{}\"", ws.join(" ")),
        TermKind::Actor(a) => format!("actor:{a}"),
        TermKind::Action(ActionPattern::Exact(a)) => format!("action:{a}"),
        TermKind::Action(ActionPattern::Prefix(p)) => format!("action:{p}*"),
        TermKind::Category(c) => format!("category:{c}"),
        TermKind::Target(r) => format!("target:{}:{}", r.kind.as_deref().unwrap(), r.id),
        TermKind::Ip(n) => format!("ip:{n}"),
        TermKind::Country(c) => format!("country:{}", c.to_lowercase()),
        TermKind::Outcome(o) => format!("outcome:{}", o.as_str()),
        TermKind::Session(s) => format!("session:\"{s}\""),
    };
    if t.negated { format!("-{body}") } else { body }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_parses_or_names_a_position_inside_it(q in "\\PC{0,40}") {
        match SearchQuery::parse(&q) {
            Ok(parsed) => prop_assert_eq!(parsed.source, q),
            Err(e) => {
                let len = q.chars().count();
                prop_assert!(e.position >= 1 && e.position <= len, "position {} of {len} in {q:?}", e.position);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn rendered_queries_parse_back(terms in prop::collection::vec(term(), 0..6), sep in "[ \t]{1,3}") {
        let text: Vec<String> = terms.iter().map(render).collect();
        let q = text.join(&sep);
        let parsed = SearchQuery::parse(&q).map_err(|e| TestCaseError::fail(format!("{q:?}: {e}")))?;
        prop_assert_eq!(parsed.terms, terms, "{:?}", q);
    }

    #[test]
    fn an_unclosed_quote_is_reported_where_it_opens(prefix in "[a-z ]{0,10}", rest in "[a-z ]{0,10}") {
        let q = format!("{prefix} \"{rest}");
        let e = SearchQuery::parse(&q).unwrap_err();
        prop_assert_eq!(e.position, prefix.chars().count() + 2);
    }
}
