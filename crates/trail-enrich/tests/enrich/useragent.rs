//! User-agent parsing on real user agents from `shared/data/real-logs/apache_access_10k.log`.
//!
//! Each expected value was checked against the user agent by hand: Windows NT 6.1 is Windows 7 and
//! NT 6.3 is Windows 8.1; `Mac OS X 10_9_1` is 10.9; Safari's version is the `Version/` token;
//! GT-P3100 is a Galaxy Tab 2 7.0 (a tablet; its browser omits `Mobile`), GT-I9300 a Galaxy S III
//! and KFAPWI a Kindle Fire HDX 8.9.

use trail_enrich::{Client, Device, Enricher, parse_user_agent};

use crate::helpers::real_user_agents;

/// (user agent, os, browser, device)
const REAL: &[(&str, Option<&str>, Option<&str>, &str)] = &[
    (
        "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.107 Safari/537.36",
        Some("Windows 7"),
        Some("Chrome 32"),
        "desktop",
    ),
    (
        "Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.107 Safari/537.36",
        Some("Windows 8.1"),
        Some("Chrome 32"),
        "desktop",
    ),
    (
        "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; WOW64; Trident/5.0)",
        Some("Windows 7"),
        Some("IE 9"),
        "desktop",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:27.0) Gecko/20100101 Firefox/27.0",
        Some("Linux"),
        Some("Firefox 27"),
        "desktop",
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:27.0) Gecko/20100101 Firefox/27.0",
        Some("Ubuntu"),
        Some("Firefox 27"),
        "desktop",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.73.11 (KHTML, like Gecko) Version/7.0.1 Safari/537.73.11",
        Some("Mac OS X 10.9"),
        Some("Safari 7"),
        "desktop",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/33.0.1750.91 Safari/537.36",
        Some("Mac OS X 10.9"),
        Some("Chrome 33"),
        "desktop",
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 4920.83.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.103 Safari/537.36",
        Some("Chrome OS"),
        Some("Chrome 32"),
        "desktop",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 7_0_4 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) Version/7.0 Mobile/11B554a Safari/9537.53",
        Some("iOS 7.0"),
        Some("Mobile Safari 7"),
        "mobile",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 7_0_4 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) Version/7.0 Mobile/11B554a Safari/9537.53",
        Some("iOS 7.0"),
        Some("Mobile Safari 7"),
        "tablet",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 7_0 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) CriOS/32.0.1700.21 Mobile/11A465 Safari/9537.53",
        Some("iOS 7.0"),
        Some("Chrome Mobile iOS 32"),
        "tablet",
    ),
    (
        "Mozilla/5.0 (Linux; Android 4.4.2; Nexus 5 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.99 Mobile Safari/537.36",
        Some("Android 4.4"),
        Some("Chrome Mobile 32"),
        "mobile",
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 4.3; es-es; GT-I9300 Build/JSS15J) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
        Some("Android 4.3"),
        Some("Android 4"),
        "mobile",
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 4.1.2; it-it; GT-P3100 Build/JZO54K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30",
        Some("Android 4.1"),
        Some("Android 4"),
        "tablet",
    ),
    (
        "Mozilla/5.0 (Android; Tablet; rv:27.0) Gecko/27.0 Firefox/27.0",
        Some("Android"),
        Some("Firefox Mobile 27"),
        "tablet",
    ),
    (
        "Mozilla/5.0 (Android; Mobile; rv:27.0) Gecko/27.0 Firefox/27.0",
        Some("Android"),
        Some("Firefox Mobile 27"),
        "mobile",
    ),
    (
        "Mozilla/5.0 (Linux; U; en-us; KFAPWI Build/JDQ39) AppleWebKit/535.19 (KHTML, like Gecko) Silk/3.13 Safari/535.19 Silk-Accelerated=true",
        Some("Android"),
        Some("Amazon Silk 3"),
        "tablet",
    ),
    (
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)",
        Some("Windows Phone 8.0"),
        Some("IE Mobile 10"),
        "mobile",
    ),
    (
        "SAMSUNG-GT-E2232/1.0 Openwave/6.2.3 Profile/MIDP-2.0 Configuration/CLDC-1.1 UP.Browser/6.2.3.3.c.1.101 (GUI) MMP/2.0",
        None,
        Some("Openwave 6"),
        "mobile",
    ),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", None, Some("Googlebot 2"), "bot"),
    // Googlebot's smartphone crawler poses as an iPhone: the bot wins.
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 6_0 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Version/6.0 Mobile/10A5376e Safari/8536.25 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        Some("iOS 6.0"),
        Some("Googlebot 2"),
        "bot",
    ),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", None, Some("bingbot 2"), "bot"),
    ("UniversalFeedParser/4.2-pre-314-svn +http://feedparser.org/", None, None, "bot"),
    // Not in uap-core's crawler rules; caught by its contact address.
    ("Mozilla/5.0 (compatible; Ezooms/1.0; help@moz.com)", None, None, "bot"),
    (
        "curl/7.22.0 (i686-pc-linux-gnu) libcurl/7.22.0 OpenSSL/1.0.1 zlib/1.2.3.4 libidn/1.23 librtmp/2.3",
        Some("Linux"),
        Some("curl 7"),
        "other",
    ),
    (
        "python-requests/1.2.0 CPython/2.7.4 Linux/3.8.0-33-generic",
        Some("Linux 3.8"),
        Some("Python Requests 1"),
        "other",
    ),
    ("Wget/1.14 (linux-gnu)", Some("Linux"), Some("Wget 1"), "other"),
    // Apache's "no user agent".
    ("-", None, None, "other"),
    // The header's name sent as part of its value.
    (
        "User-Agent: Mozilla/5.0 (Windows NT 6.1; WOW64; rv:14.0) Gecko/20100101 Firefox/14.0.1",
        Some("Windows 7"),
        Some("Firefox 14"),
        "desktop",
    ),
];

fn check(cases: &[(&str, Option<&str>, Option<&str>, &str)]) {
    let mut failures = Vec::new();
    for &(ua, os, browser, device) in cases {
        let got = parse_user_agent(ua);
        let want =
            Client { os: os.map(str::to_owned), browser: browser.map(str::to_owned), device: Some(device.to_owned()) };
        if got != want {
            failures.push(format!("{ua}\n   got  {got:?}\n   want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} wrong:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn real_user_agents_parse_as_expected() {
    let log = real_user_agents();
    for (ua, ..) in REAL {
        assert!(log.iter().any(|line| line == ua), "not in the log: {ua}");
    }
    check(REAL);
}

/// Current user agents, written for this test (the log is from 2015): the forms browsers send today.
#[test]
fn current_user_agents_parse_as_expected() {
    check(&[
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
            Some("Windows 10"),
            Some("Edge 120"),
            "desktop",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            Some("Windows 10"),
            Some("Chrome 120"),
            "desktop",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
            Some("Linux"),
            Some("Firefox 115"),
            "desktop",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
            Some("Mac OS X 10.15"),
            Some("Safari 17"),
            "desktop",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            Some("iOS 17.1"),
            Some("Mobile Safari 17"),
            "mobile",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
            Some("Android 14"),
            Some("Chrome Mobile 120"),
            "mobile",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            Some("Android 13"),
            Some("Chrome 120"),
            "tablet",
        ),
        // A phone brand that ends in "bot".
        (
            "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
            Some("Android 10"),
            Some("Chrome Mobile 120"),
            "mobile",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
            Some("Linux"),
            Some("HeadlessChrome 120"),
            "bot",
        ),
        ("", None, None, "other"),
    ]);
}

#[test]
fn every_real_line_parses_to_one_of_the_five_devices() {
    let allowed: Vec<&str> = Device::ALL.iter().map(|d| d.as_str()).collect();
    let enricher = Enricher::new(None);
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let user_agents = real_user_agents();
    assert_eq!(user_agents.len(), 10_000);
    for ua in &user_agents {
        let client = enricher.client(ua);
        let device = client.device.expect("parse always sets the device");
        assert!(allowed.contains(&device.as_str()), "{device:?} for {ua}");
        assert_ne!(client.browser.as_deref(), Some("Other"), "{ua}");
        assert_ne!(client.os.as_deref(), Some("Other"), "{ua}");
        *counts.entry(device).or_default() += 1;
    }
    // This is a blog's log: about a quarter of its requests are crawlers and feed fetchers, and
    // most of the rest desktop browsers.
    let share = |d: &str| counts.get(d).copied().unwrap_or(0) as f64 / user_agents.len() as f64;
    assert!(share("bot") > 0.05 && share("bot") < 0.5, "{counts:?}");
    assert!(share("desktop") > 0.4, "{counts:?}");
    assert!(share("mobile") > 0.0 && share("tablet") > 0.0, "{counts:?}");
}

#[test]
fn client_serialises_without_empty_fields() {
    let client = parse_user_agent("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
    let json = serde_json::to_string(&client).unwrap();
    assert_eq!(json, r#"{"browser":"Googlebot 2","device":"bot"}"#);
    assert_eq!(serde_json::from_str::<Client>(&json).unwrap(), client);
}
