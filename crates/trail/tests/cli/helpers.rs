//! Starting `trail serve` and finding where it listens.

use std::{path::Path, process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// A running `trail serve`, its base URL, and everything it printed before listening.
pub struct Served {
    pub child: Child,
    pub base: String,
    pub banner: Vec<String>,
}

/// Starts `trail serve --listen 127.0.0.1:0 --data DIR` plus `extra` args with `env`, and waits
/// for its "listening on" line.
pub async fn serve(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trail"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir)
        .args(extra)
        .env_remove("TRAIL_OPERATOR_KEY")
        .env("TRAIL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start trail serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    let base = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            banner.push(line.clone());
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("trail serve exited before listening: {banner:?}");
    })
    .await
    .expect("trail serve starts within 120 s");
    // The rest of the banner, then keep draining so the server never blocks on a full pipe.
    let (tx, rx) = std::sync::mpsc::channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = tx.send(line);
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    banner.extend(rx.try_iter());
    Served { child, base, banner }
}

/// Waits up to 5 s for the server at `base` to sign a checkpoint of `size` events of `tenant`.
pub async fn wait_for_checkpoint(base: &str, token: &str, tenant: &str, size: u64) {
    let http = reqwest::Client::new();
    for _ in 0..50 {
        let cp: serde_json::Value = http
            .get(format!("{base}/v1/tenants/{tenant}/tree/checkpoint"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if cp["tree_size"] == size {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no checkpoint of {size} events within 5 s");
}

/// Every event of `tenant`, newest first, following cursors to the end.
pub async fn all_events(base: &str, token: &str, tenant: &str) -> Vec<serde_json::Value> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let url = format!("{base}/v1/tenants/{tenant}/events?range=all&limit=1000{cursor}");
        let body: serde_json::Value = http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        out.extend(body["events"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}
