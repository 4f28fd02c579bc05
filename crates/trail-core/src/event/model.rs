//! The typed parts of an event. Each newtype can only hold a value that satisfies the event format's rules (docs/events.md).

use std::{fmt, net::IpAddr};

use serde::{Deserialize, Serialize};

/// An action name: `[a-z0-9_]+(\.[a-z0-9_]+)*`, at most 128 characters (`document.signed`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Action(String);

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'
}

/// Whether `s` is words of [`is_word_byte`]s joined by single dots (no empty word), in one pass:
/// every stored event read checks its action.
fn is_dotted_words(s: &str) -> bool {
    // Before the first byte counts as after a dot, so a leading dot makes an empty word.
    let mut after_dot = true;
    for &c in s.as_bytes() {
        if c == b'.' {
            if after_dot {
                return false;
            }
            after_dot = true;
        } else if is_word_byte(c) {
            after_dot = false;
        } else {
            return false;
        }
    }
    !after_dot
}

impl Action {
    pub const MAX_LEN: usize = 128;

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_str(s)?;
        Ok(Self(s.to_owned()))
    }

    /// Whether `s` is a valid action, and what is wrong with it if not.
    fn parse_str(s: &str) -> Result<(), String> {
        if s.is_empty() {
            return Err("action must not be empty: use a dotted name such as document.signed".into());
        }
        if s.len() > Self::MAX_LEN {
            return Err(format!(
                "action is {} characters long; at most {} are allowed",
                s.chars().count(),
                Self::MAX_LEN
            ));
        }
        if !is_dotted_words(s) {
            return Err(format!(
                "action {s:?} is invalid: use lowercase words of a-z, 0-9 and '_' separated by single dots, such as document.signed"
            ));
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The action's part before the first dot: the category it implies.
    fn first_word(&self) -> &str {
        self.0.split('.').next().unwrap_or(&self.0)
    }

    /// The category an action implies: its part before the first dot. A first word longer
    /// than a category may be ([`Category::MAX_LEN`]) cannot be one: ingest refuses such an
    /// action without a category ([`Action::implied_category_error`]), and an event made in
    /// code gets the word's first 64 characters, so a stored category is always one the
    /// stored-event reader accepts.
    pub fn default_category(&self) -> Category {
        let word = self.first_word();
        Category(word[..word.len().min(Category::MAX_LEN)].to_owned())
    }

    /// Why this action cannot stand without a category, if it cannot: its first word, the
    /// category it implies, is longer than a category may be. (An event whose category broke
    /// that rule was once accepted, and no list holding it could be read back.)
    pub fn implied_category_error(&self) -> Option<String> {
        let word = self.first_word();
        (word.len() > Category::MAX_LEN).then(|| {
            format!(
                "category is required for this action: its first word (before the first dot), which would be the category, is {} characters long and a category is at most {}; set category to at most {} characters of a-z, 0-9 and '_', or shorten the action's first word",
                word.len(),
                Category::MAX_LEN,
                Category::MAX_LEN
            )
        })
    }
}

impl<'de> Deserialize<'de> for Action {
    /// Checked like [`Action::parse`], keeping the string read (every stored event read
    /// passes here: a second copy showed in exports).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Action::parse_str(&s).map_err(serde::de::Error::custom)?;
        Ok(Action(s))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A category: `[a-z0-9_]+`, at most 64 characters (`document`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Category(String);

impl Category {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_str(s)?;
        Ok(Self(s.to_owned()))
    }

    fn parse_str(s: &str) -> Result<(), String> {
        if s.is_empty() || s.len() > Self::MAX_LEN || !s.bytes().all(is_word_byte) {
            return Err(format!(
                "category {s:?} is invalid: use 1 to {} characters of a-z, 0-9 and '_', such as document",
                Self::MAX_LEN
            ));
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Category::parse_str(&s).map_err(serde::de::Error::custom)?;
        Ok(Category(s))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether what happened succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    #[default]
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "success" => Ok(Outcome::Success),
            "failure" => Ok(Outcome::Failure),
            _ => Err(format!("outcome {s:?} is invalid: use success or failure")),
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    #[default]
    User,
    ApiKey,
    System,
    Anonymous,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::ApiKey => "api_key",
            ActorType::System => "system",
            ActorType::Anonymous => "anonymous",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        [ActorType::User, ActorType::ApiKey, ActorType::System, ActorType::Anonymous]
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("actor type {s:?} is invalid: use user, api_key, system or anonymous"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: ActorType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// HTTP methods a `context.method` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

impl Method {
    pub const ALL: [Method; 7] =
        [Method::Get, Method::Head, Method::Post, Method::Put, Method::Patch, Method::Delete, Method::Options];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Method::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| {
            format!("method {s:?} is invalid: use one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (in capitals)")
        })
    }
}

/// Where an event came from. `client` is never sent: Trail derives it from `user_agent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Context {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
}

/// A place: given by the client, or looked up from the IP address at ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Location {
    /// ISO 3166-1 alpha-2 code, upper case (`IN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

/// The software an event came from, parsed from the user agent at ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Client {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The one-pass check says what splitting at the dots says.
        #[test]
        fn dotted_words_are_what_splitting_finds(s in "[a-z_.A/]{0,12}") {
            let split = s.split('.').all(|w| !w.is_empty() && w.bytes().all(is_word_byte));
            prop_assert_eq!(is_dotted_words(&s), split, "{:?}", s);
        }
    }

    /// Regression: an action of 65 or more characters without a dot implied a category the
    /// stored-event reader refuses (at most 64), so the event was stored and then broke every
    /// list it was in.
    #[test]
    fn the_implied_category_is_always_a_valid_one() {
        let long = Action::parse(&"a".repeat(65)).unwrap();
        assert!(long.implied_category_error().unwrap().contains("set category"), "the error says how to fix it");
        assert!(Category::parse(long.default_category().as_str()).is_ok());
        let fits = Action::parse(&format!("{}.{}", "a".repeat(64), "b".repeat(60))).unwrap();
        assert_eq!(fits.implied_category_error(), None);
        assert_eq!(fits.default_category().as_str(), "a".repeat(64));
    }

    #[test]
    fn actions_are_checked() {
        for good in ["document.signed", "a", "a_1.b2.c_"] {
            assert!(Action::parse(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "a.", ".a", "a..b", "A.b", "a-b", "a b"] {
            assert!(Action::parse(bad).is_err(), "{bad:?}");
        }
    }
}
