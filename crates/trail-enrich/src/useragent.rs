//! User agents: from a `User-Agent` header to an operating system, a browser and a kind of device.
//!
//! Parsing uses the uap-core rules (`data/regexes.yaml`, from the npm package `uap-core`, see
//! `data/README.md`) with the `ua-parser` crate. The rules are compiled into the binary and built
//! into a parser once, on first use, behind a [`OnceLock`]: building takes 100-150 ms on the
//! 2-core development machine, parsing afterwards 7.5-8 µs per user agent in a release or a dev
//! build (the 10,000 lines of the real Apache log in `shared/data`, one thread, measured with
//! `examples/ua_speed.rs`). `Enricher::new` builds the parser eagerly so the first event does not
//! pay for it.
//!
//! There is no cache of parsed user agents: at 8 µs a parse is cheaper than the rest of ingest
//! (a durable write costs 0.1 ms or more here), and a cache would add a lock on the hot path.
//! Parsing time is linear in the length of the user agent (about 1 ms for a 64 KiB one, the most
//! an event can carry), so no cap is needed either.
//!
//! The YAML is read with `serde_yaml_ng`, the maintained fork of the archived `serde_yaml`
//! (`ua-parser` itself ships no loader, on purpose). The browser and OS names are uap-core's own
//! families (`Mobile Safari`, `Chrome Mobile`, `IE`), so they match every other uap port.
//!
//! uap-core says which browser, OS and device model a user agent names, but not whether the device
//! is a phone, a tablet or a computer; [`Device`] is decided here from what it found, see
//! [`classify`].

use std::sync::OnceLock;

use ua_parser::{Extractor, Regexes, device, os, user_agent};

/// uap-core's rules, version in `data/README.md`.
const REGEXES_YAML: &str = include_str!("../data/regexes.yaml");

/// What a user agent says about the client: trail-core's `context.client` (`os` like
/// `Windows 10`, `Mac OS X 10.15`, `iOS 17.1`; `browser` like `Chrome 120`, `Mobile Safari 17`,
/// `Googlebot 2`; `device` one of [`Device::as_str`]'s values, always set by [`parse`]).
pub use trail_core::event::Client;

/// The kind of device, as stored in [`Client::device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// A Windows, Mac, Linux or ChromeOS browser.
    Desktop,
    /// A phone.
    Mobile,
    /// A tablet (iPad, Android tablets, Kindle).
    Tablet,
    /// A crawler, feed fetcher or monitor.
    Bot,
    /// Anything else: HTTP libraries and tools, TVs, consoles, unknown or empty user agents.
    Other,
}

impl Device {
    /// Every value, in a fixed order.
    pub const ALL: [Device; 5] = [Device::Desktop, Device::Mobile, Device::Tablet, Device::Bot, Device::Other];

    /// The stored name: `desktop`, `mobile`, `tablet`, `bot` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Bot => "bot",
            Device::Other => "other",
        }
    }
}

/// Parses a `User-Agent` header. Never fails: what cannot be recognised is `None`, and the
/// device is then `other`. An empty header, or Apache's `-`, gives `{device: "other"}`.
pub fn parse(user_agent: &str) -> Client {
    let ua = user_agent.trim();
    // Some clients send the header's name as part of its value.
    let ua = ua.strip_prefix("User-Agent:").or_else(|| ua.strip_prefix("user-agent:")).map_or(ua, str::trim_start);
    if ua.is_empty() || ua == "-" {
        return Client { os: None, browser: None, device: Some(Device::Other.as_str().to_owned()) };
    }
    let parser = parser();
    let agent = parser.ua.extract(ua);
    let os = parser.os.extract(ua);
    let dev = parser.dev.extract(ua);
    let device = classify(ua, agent.as_ref(), os.as_ref(), dev.as_ref());
    Client {
        os: os.as_ref().and_then(os_name),
        browser: agent.as_ref().and_then(browser_name),
        device: Some(device.as_str().to_owned()),
    }
}

/// Builds the parser on first use. The rules are compiled into the binary and covered by tests,
/// so a failure here is a build defect, not a runtime condition: it panics.
pub(crate) fn parser() -> &'static Extractor<'static> {
    static PARSER: OnceLock<Extractor<'static>> = OnceLock::new();
    PARSER.get_or_init(|| {
        let regexes: Regexes<'static> =
            serde_yaml_ng::from_str(REGEXES_YAML).expect("embedded data/regexes.yaml is valid YAML");
        Extractor::try_from(regexes).expect("embedded data/regexes.yaml compiles")
    })
}

/// `Chrome 120`: the family and the major version; `Other` (uap's "unknown") is no browser.
fn browser_name(agent: &user_agent::ValueRef<'_>) -> Option<String> {
    with_version(&agent.family, agent.major, None)
}

/// `Mac OS X 10.15`, `Windows 10`, `Android 14`: the family, the major version and the minor one
/// when there is one. Chrome OS reports a platform build number (`4920.83.0`) that means nothing to
/// a reader, so it is left out.
fn os_name(os: &os::ValueRef<'_>) -> Option<String> {
    if os.os == "Chrome OS" {
        return Some("Chrome OS".to_owned());
    }
    with_version(&os.os, os.major.as_deref(), os.minor.as_deref())
}

fn with_version(family: &str, major: Option<&str>, minor: Option<&str>) -> Option<String> {
    let family = family.trim();
    if family.is_empty() || family == "Other" {
        return None;
    }
    let major = major.map(str::trim).filter(|v| !v.is_empty());
    let minor = minor.map(str::trim).filter(|v| !v.is_empty());
    Some(match (major, minor) {
        (Some(major), Some(minor)) => format!("{family} {major}.{minor}"),
        (Some(major), None) => format!("{family} {major}"),
        (None, _) => family.to_owned(),
    })
}

/// Decides the kind of device, in this order:
///
/// 1. **bot**: uap's device family is `Spider` (its rules know hundreds of crawlers, including
///    ones posing as an iPhone, like Googlebot's smartphone crawler); or the user agent names itself
///    a bot, crawler, spider, feed fetcher, validator, ... ([`BOT_WORDS`]); or it carries a URL or
///    an e-mail address, as crawlers, feed fetchers and scripts announcing a contact do and browsers
///    never do.
/// 2. **tablet**: an iPad, a Kindle, an Android browser whose user agent lacks the `Mobile` token
///    (Google's rule for telling Android tablets from phones), or a user agent that says `Tablet`
///    (Firefox on Android tablets) outside Windows (where `Tablet PC` marks touch-capable PCs).
/// 3. **mobile**: an iPhone or iPod, any other Android client (apps' HTTP clients do not say
///    `Mobile`; most are phones), Windows Phone, BlackBerry and other phone systems, a feature-phone
///    token (`MIDP`, `WAP`, `Opera Mini`, ...), or any other user agent with `Mobi` in it (Mozilla's
///    advice for detecting phones). uap-core's `Generic Feature Phone` family is not trusted on its
///    own: it also matches HTTP libraries such as `fetch libfetch/2.0`.
/// 4. **desktop**: a browser (the user agent starts `Mozilla/` or `Opera/`, as every current
///    browser's does and no HTTP library's) on Windows, macOS, Linux, a BSD, Solaris or ChromeOS.
/// 5. **other**: everything else, e.g. `curl`, `python-requests`, text-mode browsers, TVs,
///    consoles, and an empty user agent.
///
/// iPadOS 13 and later send a Mac user agent by default, so they count as desktop: nothing in the
/// string tells them apart.
pub(crate) fn classify(
    ua: &str,
    agent: Option<&user_agent::ValueRef<'_>>,
    os: Option<&os::ValueRef<'_>>,
    dev: Option<&device::ValueRef<'_>>,
) -> Device {
    let family = dev.map(|d| d.device.as_ref()).unwrap_or("Other");
    let model = dev.and_then(|d| d.model.as_deref()).unwrap_or("");
    let os = os.map(|o| o.os.as_ref()).unwrap_or("Other");
    let browser = agent.map(|a| a.family.as_ref()).unwrap_or("Other");

    if family == "Spider" || names_itself_a_bot(ua) || has_contact(ua) {
        return Device::Bot;
    }

    let is_browser = ua.starts_with("Mozilla/") || ua.starts_with("Opera/");
    let is_windows = os.starts_with("Windows");
    let is_android = os == "Android" || ua.contains("Android");
    let says_mobile = ua.contains("Mobi");
    if family == "iPad"
        || model.starts_with("iPad")
        || family.starts_with("Kindle")
        || browser == "Amazon Silk" && !says_mobile
        || is_android && is_browser && !says_mobile
        || ua.contains("Tablet") && !is_windows
    {
        return Device::Tablet;
    }

    const PHONE_OS: [&str; 9] = [
        "iOS",
        "Android",
        "Windows Phone",
        "Windows Mobile",
        "BlackBerry OS",
        "Symbian OS",
        "Firefox OS",
        "KaiOS",
        "Tizen",
    ];
    const PHONE_TOKENS: [&str; 8] = ["MIDP", "CLDC", "WAP", "MAUI", "Maui", "UP.Browser", "Opera Mini", "J2ME"];
    if family.starts_with("iPhone")
        || family.starts_with("iPod")
        || is_android
        || PHONE_OS.contains(&os)
        || os.starts_with("Windows Phone")
        || PHONE_TOKENS.iter().any(|token| ua.contains(token))
        || says_mobile
    {
        return Device::Mobile;
    }

    if is_browser && is_desktop_os(os) {
        return Device::Desktop;
    }
    Device::Other
}

fn is_desktop_os(os: &str) -> bool {
    const DESKTOP_OS: [&str; 19] = [
        "Mac OS X",
        "macOS",
        "Linux",
        "Ubuntu",
        "Kubuntu",
        "Debian",
        "Fedora",
        "Red Hat",
        "CentOS",
        "Mint",
        "Linux Mint",
        "Arch Linux",
        "Gentoo",
        "Slackware",
        "SUSE",
        "openSUSE",
        "Solaris",
        "Chrome OS",
        "ChromeOS",
    ];
    let windows = os.starts_with("Windows") && !os.contains("Phone") && !os.contains("Mobile") && os != "Windows CE";
    windows || DESKTOP_OS.contains(&os) || os.contains("BSD")
}

/// Words crawlers and other robots use to name themselves, for those uap-core's `Spider` rules
/// miss. Matched case-insensitively anywhere in the user agent.
const BOT_WORDS: [&str; 10] =
    ["bot", "crawl", "spider", "slurp", "feed", "archiver", "validator", "monitor", "scanner", "headless"];

fn names_itself_a_bot(ua: &str) -> bool {
    let lower = ua.to_ascii_lowercase();
    BOT_WORDS.iter().any(|&word| {
        // `bot` is also the end of a phone brand, Cubot.
        lower.match_indices(word).any(|(at, _)| !(word == "bot" && lower[..at].ends_with("cu")))
    })
}

/// A URL or an e-mail address: robots put one in their user agent so that site owners can reach
/// whoever runs them. Browsers never do.
fn has_contact(ua: &str) -> bool {
    if ua.contains("http://") || ua.contains("https://") || ua.contains("www.") {
        return true;
    }
    // `name@host.tld`
    ua.match_indices('@').any(|(at, _)| {
        let before = ua[..at].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
        let domain = ua[at + 1..].split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-')).next();
        before && domain.is_some_and(|d| d.contains('.') && !d.ends_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_addresses() {
        assert!(has_contact("Foo/1.0 (+http://example.com/bot.html)"));
        assert!(has_contact("Foo/1.0 (https://example.com)"));
        assert!(has_contact("Mozilla/5.0 (compatible; Ezooms/1.0; help@moz.com)"));
        assert!(!has_contact("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0.0.0"));
        assert!(!has_contact("Foo @ bar"));
        assert!(!has_contact("Foo user@localhost"));
        assert!(!has_contact("Foo a@b."));
    }

    #[test]
    fn bot_words() {
        assert!(names_itself_a_bot("Mozilla/5.0 (compatible; YandexBot/3.0)"));
        assert!(names_itself_a_bot("Sogou web spider/4.0"));
        assert!(names_itself_a_bot("Mozilla/5.0 (compatible; Yahoo! Slurp)"));
        assert!(!names_itself_a_bot("Mozilla/5.0 (Linux; Android 10; CUBOT X30) Mobile"));
        assert!(names_itself_a_bot("Cubot-crawler/1.0 robot"));
    }

    #[test]
    fn device_names() {
        let names: Vec<_> = Device::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(names, ["desktop", "mobile", "tablet", "bot", "other"]);
    }

    #[test]
    fn versions() {
        assert_eq!(with_version("Chrome", Some("120"), None), Some("Chrome 120".to_owned()));
        assert_eq!(with_version("iOS", Some("17"), Some("1")), Some("iOS 17.1".to_owned()));
        assert_eq!(with_version("Linux", None, Some("3")), Some("Linux".to_owned()));
        assert_eq!(with_version("Other", Some("1"), None), None);
        assert_eq!(with_version("", None, None), None);
    }
}
