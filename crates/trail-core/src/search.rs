//! The `q` search syntax (docs/api.md), and the word rules shared by matching and indexing.
//!
//! ```text
//! q       = term (whitespace term)*
//! term    = ["-"] (phrase | qualifier ":" value | word)
//! phrase  = '"' any characters but '"' '"'
//! value   = phrase | characters up to whitespace
//! ```
//!
//! - A **word** matches an event when it is one of the event's words (case-insensitive) in its
//!   description, actor name or e-mail, target names or ids, action, or report type. Words are
//!   runs of letters and digits ([`words`]); a bare term with punctuation inside
//!   (`kibana-search.png`, `asha@acme.example`) is a phrase of its words.
//! - A **phrase** matches when its words appear consecutively in one of those fields.
//! - A **qualifier** (`actor:` `action:` `category:` `target:` `ip:` `country:` `outcome:`
//!   `session:`) matches like the query parameter of the same name.
//! - A leading `-` negates any term. All terms must match.
//!
//! An unterminated quote, an empty value, an unknown qualifier or an invalid value is an error
//! that names the character position (1-based) where the term starts.

use std::fmt;

use ipnet::IpNet;
use serde::{Serialize, Serializer};

use crate::{
    event::{Category, EventBody, Outcome},
    filter::{ActionPattern, TargetRef, parse_country, parse_ip_filter},
};

/// The words of a text: maximal runs of alphanumeric characters, lower-cased.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// The texts `q` words and phrases are matched against, each matched separately (a phrase
/// does not run from one field into the next).
pub fn searchable_texts(e: &EventBody) -> impl Iterator<Item = &str> {
    let actor = e.actor.as_ref();
    e.description
        .as_deref()
        .into_iter()
        .chain(actor.and_then(|a| a.name.as_deref()))
        .chain(actor.and_then(|a| a.email.as_deref()))
        .chain(e.targets.iter().flat_map(|t| t.name.as_deref().into_iter().chain(t.id.as_deref())))
        .chain(std::iter::once(e.action.as_str()))
        .chain(std::iter::once(e.report_type.as_str()))
}

/// One term of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub negated: bool,
    pub kind: TermKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermKind {
    /// One word, or a phrase: words that must appear consecutively.
    Text(Vec<String>),
    Actor(String),
    Action(ActionPattern),
    Category(Category),
    Target(TargetRef),
    Ip(IpNet),
    Country(String),
    Outcome(Outcome),
    Session(String),
}

/// A parsed `q`: every term must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    pub terms: Vec<Term>,
    /// The text as given, for display (filters used, in exports).
    pub source: String,
}

impl Serialize for SearchQuery {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

/// A malformed `q`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchError {
    /// 1-based character position where the bad term starts.
    pub position: usize,
    pub message: String,
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "q: at character {}: {}", self.position, self.message)
    }
}

pub const QUALIFIERS: [&str; 8] = ["actor", "action", "category", "target", "ip", "country", "outcome", "session"];

fn contains_sequence(haystack: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

impl Term {
    /// Whether the term (before negation) holds for the event.
    fn holds(&self, e: &EventBody) -> bool {
        let ctx = e.context.as_ref();
        match &self.kind {
            TermKind::Text(ws) => searchable_texts(e).any(|t| contains_sequence(&words(t).collect::<Vec<_>>(), ws)),
            TermKind::Actor(a) => e.actor_id() == Some(a.as_str()) || e.actor_email() == Some(a.as_str()),
            TermKind::Action(p) => p.matches(e.action.as_str()),
            TermKind::Category(c) => &e.category == c,
            TermKind::Target(t) => e.targets.iter().any(|x| t.matches(x)),
            TermKind::Ip(net) => ctx.and_then(|c| c.ip).is_some_and(|ip| net.contains(&ip)),
            TermKind::Country(c) => {
                ctx.and_then(|c| c.location.as_ref()).and_then(|l| l.country.as_deref()) == Some(c.as_str())
            }
            TermKind::Outcome(o) => &e.outcome == o,
            TermKind::Session(s) => ctx.and_then(|c| c.session_id.as_deref()) == Some(s.as_str()),
        }
    }

    pub fn matches(&self, e: &EventBody) -> bool {
        self.holds(e) != self.negated
    }
}

impl SearchQuery {
    pub fn matches(&self, e: &EventBody) -> bool {
        self.terms.iter().all(|t| t.matches(e))
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Parses `q`. Empty or blank text is an empty query (matches everything).
    pub fn parse(q: &str) -> Result<SearchQuery, SearchError> {
        let chars: Vec<char> = q.chars().collect();
        let mut i = 0;
        let mut terms = Vec::new();
        let err = |position: usize, message: String| SearchError { position: position + 1, message };
        // Reads a quoted string starting at `chars[at] == '"'`; returns the content and the index after it.
        let quoted = |at: usize| -> Result<(String, usize), SearchError> {
            match chars[at + 1..].iter().position(|&c| c == '"') {
                Some(len) => Ok((chars[at + 1..at + 1 + len].iter().collect(), at + 2 + len)),
                None => Err(err(at, "this quote is never closed: add the closing \"".into())),
            }
        };
        while i < chars.len() {
            if chars[i].is_whitespace() {
                i += 1;
                continue;
            }
            let start = i;
            let negated = chars[i] == '-';
            if negated {
                i += 1;
                if i == chars.len() || chars[i].is_whitespace() {
                    return Err(err(
                        start,
                        "a lone - negates nothing: write -word, -\"a phrase\" or -action:panel.*".into(),
                    ));
                }
            }
            if chars[i] == '"' {
                let (text, next) = quoted(i)?;
                i = next;
                let ws: Vec<String> = words(&text).collect();
                if ws.is_empty() {
                    return Err(err(start, "this phrase holds no words: put words between the quotes".into()));
                }
                terms.push(Term { negated, kind: TermKind::Text(ws) });
                continue;
            }
            let token_start = i;
            while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ':' && chars[i] != '"' {
                i += 1;
            }
            let head: String = chars[token_start..i].iter().collect();
            if i < chars.len()
                && chars[i] == ':'
                && !head.is_empty()
                && head.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                if !QUALIFIERS.contains(&head.as_str()) {
                    return Err(err(
                        start,
                        format!(
                            "unknown qualifier {head:?}: use one of {}; to search for text with a colon, put it in quotes",
                            QUALIFIERS.join(", ")
                        ),
                    ));
                }
                i += 1;
                let value = if i < chars.len() && chars[i] == '"' {
                    let (v, next) = quoted(i)?;
                    i = next;
                    v
                } else {
                    let v_start = i;
                    while i < chars.len() && !chars[i].is_whitespace() {
                        i += 1;
                    }
                    chars[v_start..i].iter().collect()
                };
                if value.is_empty() {
                    return Err(err(start, format!("{head}: needs a value, such as {}", example(&head))));
                }
                let kind = qualifier(&head, &value).map_err(|m| err(start, m))?;
                terms.push(Term { negated, kind });
                continue;
            }
            // A bare word (which may contain punctuation, and quotes that do not start it).
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            let text: String = chars[token_start..i].iter().collect();
            let ws: Vec<String> = words(&text).collect();
            if !ws.is_empty() {
                terms.push(Term { negated, kind: TermKind::Text(ws) });
            }
        }
        Ok(SearchQuery { terms, source: q.to_owned() })
    }
}

fn example(q: &str) -> &'static str {
    match q {
        "actor" => "actor:u_42 or actor:asha@acme.example",
        "action" => "action:document.signed or action:document.*",
        "category" => "category:auth",
        "target" => "target:document:doc_9 or target:doc_9",
        "ip" => "ip:203.0.113.7 or ip:203.0.113.0/24",
        "country" => "country:GB",
        "outcome" => "outcome:failure",
        _ => "session:s_77",
    }
}

fn qualifier(name: &str, value: &str) -> Result<TermKind, String> {
    Ok(match name {
        "actor" => TermKind::Actor(value.to_owned()),
        "action" => TermKind::Action(ActionPattern::parse(value)?),
        "category" => TermKind::Category(Category::parse(value)?),
        "target" => TermKind::Target(TargetRef::parse(value)?),
        "ip" => TermKind::Ip(parse_ip_filter(value)?),
        "country" => TermKind::Country(parse_country(value)?),
        "outcome" => TermKind::Outcome(Outcome::parse(value)?),
        "session" => TermKind::Session(value.to_owned()),
        _ => unreachable!("checked against QUALIFIERS"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Vec<Term> {
        SearchQuery::parse(q).unwrap().terms
    }

    fn text(neg: bool, ws: &[&str]) -> Term {
        Term { negated: neg, kind: TermKind::Text(ws.iter().map(|s| s.to_string()).collect()) }
    }

    #[test]
    fn words_phrases_qualifiers_negation() {
        assert_eq!(p("  NDA signed "), vec![text(false, &["nda"]), text(false, &["signed"])]);
        assert_eq!(p("\"NDA 2026\" -draft"), vec![text(false, &["nda", "2026"]), text(true, &["draft"])]);
        assert_eq!(p("kibana-search.png"), vec![text(false, &["kibana", "search", "png"])]);
        assert_eq!(
            p("-action:panel.* actor:\"asha@acme.example\" country:gb"),
            vec![
                Term { negated: true, kind: TermKind::Action(ActionPattern::Prefix("panel.".into())) },
                Term { negated: false, kind: TermKind::Actor("asha@acme.example".into()) },
                Term { negated: false, kind: TermKind::Country("GB".into()) },
            ]
        );
        assert_eq!(
            p("target:document:doc_9")[0].kind,
            TermKind::Target(TargetRef { kind: Some("document".into()), id: "doc_9".into() })
        );
        assert_eq!(p("ip:203.0.113.0/24")[0].kind, TermKind::Ip("203.0.113.0/24".parse().unwrap()));
        assert_eq!(p("-> ... !!"), vec![]);
        assert_eq!(p(""), vec![]);
    }

    #[test]
    fn errors_name_the_position() {
        let e = |q: &str| SearchQuery::parse(q).unwrap_err();
        assert_eq!(e("signed \"NDA 2026").position, 8);
        assert_eq!(e("a -").position, 3);
        assert_eq!(e("x acton:login").position, 3);
        assert!(e("x acton:login").message.contains("unknown qualifier"));
        assert_eq!(e("outcome:maybe").position, 1);
        assert_eq!(e("ok ip:999.1.1.1").position, 4);
        assert_eq!(e("actor:").position, 1);
        assert_eq!(e("\"\"").position, 1);
        assert_eq!(e("é \"x").position, 3, "positions count characters, not bytes");
    }
}
