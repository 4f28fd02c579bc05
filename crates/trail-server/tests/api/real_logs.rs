//! Every filter and every `q` form on real data: the 10,000 lines of a real Apache access log
//! become `api.request` events, and each answer is checked against a computation written here,
//! independently of Trail's own matcher.

use std::{collections::HashSet, net::Ipv4Addr};

use serde_json::{Value, json};

use crate::helpers::*;

/// One parsed log line, with what the test needs to compute answers by hand.
struct Line {
    seq: u64,
    at: jiff::Timestamp,
    ip: Ipv4Addr,
    method: String,
    path: String,
    status: u16,
    agent: String,
    country: &'static str,
    session: String,
    section: String,
}

impl Line {
    fn description(&self) -> String {
        format!("{} {} returned {}", self.method, self.path, self.status)
    }

    /// The words Trail should see: description, target id, action and report type.
    fn text_words(&self) -> Vec<Vec<String>> {
        let split = |s: &str| -> Vec<String> {
            s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).collect()
        };
        vec![split(&self.description()), split(&self.section), split("api.request"), split("API request")]
    }

    fn has_word(&self, w: &str) -> bool {
        self.text_words().iter().any(|ws| ws.iter().any(|x| x == w))
    }

    fn has_phrase(&self, p: &[&str]) -> bool {
        self.text_words().iter().any(|ws| ws.windows(p.len()).any(|win| win.iter().zip(p).all(|(a, b)| a == b)))
    }

    fn in_cidr(&self, net: Ipv4Addr, bits: u32) -> bool {
        let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
        u32::from(self.ip) & mask == u32::from(net) & mask
    }
}

const COUNTRIES: [&str; 5] = ["US", "GB", "DE", "FR", "IN"];

fn parse(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    for raw in text.lines() {
        // 83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /path HTTP/1.1" 200 203023 "ref" "agent"
        let Some((ip, rest)) = raw.split_once(" - - [") else { continue };
        let Ok(ip) = ip.parse::<Ipv4Addr>() else { continue };
        let Some((stamp, rest)) = rest.split_once("] \"") else { continue };
        let Ok(at) = jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", stamp).and_then(|t| t.to_timestamp()) else {
            continue;
        };
        let Some((request, rest)) = rest.split_once("\" ") else { continue };
        let mut req = request.split(' ');
        let (Some(method), Some(path)) = (req.next(), req.next()) else { continue };
        if !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].contains(&method) {
            continue;
        }
        let Some(status) = rest.split(' ').next().and_then(|s| s.parse::<u16>().ok()) else { continue };
        let agent = rest.rsplit('"').nth(1).unwrap_or("").to_owned();
        let section = path
            .trim_start_matches('/')
            .split(['/', '?'])
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("root")
            .to_owned();
        let country = COUNTRIES[ip.octets()[0] as usize % COUNTRIES.len()];
        let session = format!("{ip}-{}", at.to_zoned(jiff::tz::TimeZone::UTC).date());
        out.push(Line {
            seq: out.len() as u64 + 1,
            at,
            ip,
            method: method.to_owned(),
            path: path.chars().take(4000).collect(),
            status,
            agent: agent.chars().take(1000).collect(),
            country,
            session,
            section,
        });
    }
    out
}

fn event(l: &Line) -> Value {
    json!({
        "action": "api.request",
        "occurred_at": l.at.to_string(),
        "outcome": if l.status >= 400 { "failure" } else { "success" },
        "actor": {"id": l.ip.to_string(), "type": "anonymous"},
        "targets": [{"type": "section", "id": l.section}],
        "description": l.description(),
        "context": {"ip": l.ip.to_string(), "user_agent": l.agent, "url": l.path, "method": l.method, "status": l.status,
                    "session_id": l.session, "location": {"country": l.country}}
    })
}

/// The expected answer: matching lines, newest first (occurred_at, then seq, descending).
fn expect(lines: &[Line], pred: impl Fn(&Line) -> bool) -> Vec<u64> {
    let mut m: Vec<&Line> = lines.iter().filter(|l| pred(l)).collect();
    m.sort_by_key(|l| std::cmp::Reverse((l.at, l.seq)));
    m.iter().map(|l| l.seq).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_filter_and_q_form_is_exact_on_a_real_access_log() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/real-logs/apache_access_10k.log");
    let text =
        std::fs::read_to_string(path).expect("testdata/real-logs/apache_access_10k.log is part of the repository");
    let lines = parse(&text);
    assert!(lines.len() > 9_900, "parsed {} lines", lines.len());
    let s = TestServer::start().await;
    s.tenant("logs").await;
    for chunk in lines.chunks(1000) {
        s.ingest("logs", chunk.iter().map(event).collect::<Vec<_>>().into()).await;
    }
    let busiest_ip = {
        let mut counts = std::collections::HashMap::new();
        for l in &lines {
            *counts.entry(l.ip).or_insert(0) += 1;
        }
        counts.into_iter().max_by_key(|(ip, n)| (*n, *ip)).unwrap().0
    };
    let some_session = lines[4321].session.clone();
    let ip16 = Ipv4Addr::from(u32::from(busiest_ip) & 0xFFFF_0000);
    let ip8 = Ipv4Addr::from(u32::from(busiest_ip) & 0xFF00_0000);
    let day2 = lines.iter().map(|l| l.at).min().unwrap() + jiff::SignedDuration::from_hours(24);
    let day3 = day2 + jiff::SignedDuration::from_hours(24);

    let checks: Vec<(String, Vec<u64>)> = vec![
        ("range=all".into(), expect(&lines, |_| true)),
        (format!("range=all&actor={busiest_ip}"), expect(&lines, |l| l.ip == busiest_ip)),
        ("range=all&action=api.*&outcome=failure".into(), expect(&lines, |l| l.status >= 400)),
        ("range=all&action=api.request&outcome=success&outcome=failure".into(), expect(&lines, |_| true)),
        ("range=all&action=auth.*".into(), vec![]),
        ("range=all&target=section:presentations".into(), expect(&lines, |l| l.section == "presentations")),
        (
            "range=all&target=images&target=favicon.ico".into(),
            expect(&lines, |l| l.section == "images" || l.section == "favicon.ico"),
        ),
        ("range=all&target=other:images".into(), vec![]),
        (format!("range=all&ip={busiest_ip}"), expect(&lines, |l| l.ip == busiest_ip)),
        (format!("range=all&ip={ip16}/16"), expect(&lines, |l| l.in_cidr(ip16, 16))),
        (format!("range=all&ip={ip8}/8"), expect(&lines, |l| l.in_cidr(ip8, 8))),
        ("range=all&ip=66.249.64.0/19".into(), expect(&lines, |l| l.in_cidr(Ipv4Addr::new(66, 249, 64, 0), 19))),
        ("range=all&ip=2001:db8::/32".into(), vec![]),
        ("range=all&country=GB&country=in".into(), expect(&lines, |l| l.country == "GB" || l.country == "IN")),
        (format!("range=all&session={some_session}"), expect(&lines, |l| l.session == some_session)),
        (format!("from={day2}&to={day3}"), expect(&lines, |l| l.at >= day2 && l.at < day3)),
        (
            "from=2015-05-18&to=2015-05-18".into(),
            expect(&lines, |l| l.at.to_zoned(jiff::tz::TimeZone::UTC).date().to_string() == "2015-05-18"),
        ),
        ("range=all&q=kibana".into(), expect(&lines, |l| l.has_word("kibana"))),
        ("range=all&q=KIBANA+dashboard".into(), expect(&lines, |l| l.has_word("kibana") && l.has_word("dashboard"))),
        ("range=all&q=%22logstash+monitorama%22".into(), expect(&lines, |l| l.has_phrase(&["logstash", "monitorama"]))),
        ("range=all&q=kibana-search.png".into(), expect(&lines, |l| l.has_phrase(&["kibana", "search", "png"]))),
        ("range=all&q=png+-images".into(), expect(&lines, |l| l.has_word("png") && !l.has_word("images"))),
        ("range=all&q=-%22returned+200%22".into(), expect(&lines, |l| !l.has_phrase(&["returned", "200"]))),
        ("range=all&q=request+404".into(), expect(&lines, |l| l.has_word("404"))),
        ("range=all&q=outcome:failure+robots".into(), expect(&lines, |l| l.status >= 400 && l.has_word("robots"))),
        (format!("range=all&q=ip:{ip16}/16+-png"), expect(&lines, |l| l.in_cidr(ip16, 16) && !l.has_word("png"))),
        (
            "range=all&q=country:de+target:section:blog".into(),
            expect(&lines, |l| l.country == "DE" && l.section == "blog"),
        ),
        (format!("range=all&q=session:{some_session}"), expect(&lines, |l| l.session == some_session)),
        (format!("range=all&q=actor:{busiest_ip}+-action:api.*"), vec![]),
        ("range=all&q=category:api+xmlrpc".into(), expect(&lines, |l| l.has_word("xmlrpc"))),
        (
            format!("range=all&q=images&actor={busiest_ip}&outcome=success"),
            expect(&lines, |l| l.has_word("images") && l.ip == busiest_ip && l.status < 400),
        ),
    ];
    for (query, expected) in &checks {
        let got: Vec<u64> = s.events("logs", query).await.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(got.len(), expected.len(), "{query}: {} events, expected {}", got.len(), expected.len());
        assert_eq!(&got, expected, "{query}");
    }
    // The checks must mean something: most select a proper, non-empty part of the log.
    let proper = checks.iter().filter(|(_, e)| !e.is_empty() && e.len() < lines.len()).count();
    assert!(proper >= 20, "only {proper} checks select a proper subset");
    let distinct: HashSet<usize> = checks.iter().map(|(_, e)| e.len()).collect();
    assert!(distinct.len() > 15);
}
