//! The real Apache access log of the shared data (or the repository's copy), parsed.

use std::path::Path;

use serde_json::{Value, json};
use trail_core::vocabulary::actions;

#[derive(Clone)]
pub struct LogLine {
    pub ip: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub agent: String,
    pub at: Option<jiff::Timestamp>,
}

fn parse_line(line: &str) -> Option<LogLine> {
    let (ip, rest) = line.split_once(' ')?;
    ip.parse::<std::net::Ipv4Addr>().ok()?;
    let ts_start = rest.find('[')? + 1;
    let ts_end = rest.find(']')?;
    let at = jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", &rest[ts_start..ts_end])
        .ok()
        .and_then(|t| t.to_timestamp().ok());
    let quoted: Vec<&str> = rest[ts_end..].split('"').collect();
    let mut parts = quoted.get(1)?.split(' ');
    let method = parts.next()?;
    let path = parts.next().unwrap_or("/");
    let status: u16 = quoted.get(2)?.split_whitespace().next()?.parse().ok()?;
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
        _ => "GET",
    };
    Some(LogLine {
        ip: ip.to_owned(),
        method: method.to_owned(),
        path: path.chars().take(2000).collect(),
        status: status.clamp(100, 599),
        agent: quoted.get(5).copied().unwrap_or("").chars().take(1000).collect(),
        at,
    })
}

/// The log's lines, from `shared/real-logs` or else the repository's `testdata/real-logs`.
pub fn parse_apache(shared: &Path) -> Vec<LogLine> {
    let candidates = [
        shared.join("real-logs/apache_access_10k.log"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/real-logs/apache_access_10k.log"),
    ];
    for path in candidates {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let lines: Vec<LogLine> = text.lines().filter_map(parse_line).collect();
            eprintln!("using {} real log lines from {}", lines.len(), path.display());
            return lines;
        }
    }
    panic!("apache_access_10k.log not found in {} or testdata/", shared.display());
}

/// The log's lines as `api.request` events (the ingest benchmark's events).
pub fn events(shared: &Path) -> Vec<Value> {
    parse_apache(shared)
        .into_iter()
        .map(|l| {
            json!({
                "action": actions::API_REQUEST,
                "occurred_at": l.at.unwrap_or_else(jiff::Timestamp::now).to_string(),
                "outcome": if l.status < 400 { "success" } else { "failure" },
                "actor": {"id": format!("ip-{}", l.ip), "type": "anonymous"},
                "description": format!("{} {} -> {}", l.method, l.path, l.status),
                "context": {"ip": l.ip, "user_agent": l.agent, "url": l.path, "method": l.method, "status": l.status}
            })
        })
        .collect()
}
