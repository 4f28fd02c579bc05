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
