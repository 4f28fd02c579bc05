//! Benchmark events: real Apache access-log lines (the shared data set) turned into
//! `api.request` events, so sizes and contents are those of real traffic.

use std::path::Path;

use serde_json::{Value, json};

/// Parses one line of the Apache combined log format.
pub fn apache_line(line: &str) -> Option<Value> {
    let (ip, rest) = line.split_once(' ')?;
    let ts_start = rest.find('[')? + 1;
    let ts_end = rest.find(']')?;
    let ts = &rest[ts_start..ts_end];
    let quoted: Vec<&str> = rest[ts_end..].split('"').collect();
    let request = quoted.get(1)?;
    let mut parts = request.split(' ');
    let method = parts.next()?;
    let url = parts.next().unwrap_or("/");
    let status: u16 = quoted.get(2)?.split_whitespace().next()?.parse().ok()?;
    let ua = quoted.get(5).copied().unwrap_or("");
    let when = jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", ts).ok()?.to_timestamp().ok()?;
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
        _ => "GET",
    };
    Some(json!({
        "action": "api.request",
        "occurred_at": when.to_string(),
        "outcome": if status < 400 { "success" } else { "failure" },
        "actor": {"id": format!("ip-{ip}"), "type": "anonymous"},
        "description": format!("{method} {url} -> {status}"),
        "context": {"ip": ip, "user_agent": ua, "url": url.chars().take(2000).collect::<String>(), "method": method, "status": status}
    }))
}

/// The shared real-log events, or synthetic ones of the same shape if the file is missing.
pub fn events(shared: &Path) -> Vec<Value> {
    let path = shared.join("real-logs/apache_access_10k.log");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let v: Vec<Value> = text.lines().filter_map(apache_line).collect();
            eprintln!("using {} real events from {}", v.len(), path.display());
            v
        }
        Err(_) => {
            eprintln!("{} not found: using synthetic events", path.display());
            (0..10_000)
                .map(|i| {
                    json!({"action": "api.request", "actor": {"id": format!("u{}", i % 500)},
                        "description": format!("GET /items/{i} -> 200"),
                        "context": {"ip": format!("203.0.113.{}", i % 250), "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
                                    "url": format!("/items/{i}"), "method": "GET", "status": 200}})
                })
                .collect()
        }
    }
}
