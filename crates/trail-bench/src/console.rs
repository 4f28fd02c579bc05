//! The console benchmark (issue 6): the Activity page's first load with 5 million events in the
//! tenant, beside the API's answer for the same view (the 50 newest events of the last 30 days)
//! measured in the same run.
//!
//! "First load" is the page as a person opening the console gets it: the filter bar (the user
//! and report-type pickers from the rollups), the chart of events per day over 30 days, the
//! first 50 rows, and the `trail.logs.viewed` event it writes (durably) because the filter
//! changed. Loads alternate between two spellings of the default view (no parameters, and
//! `range=last_30_days`), so every measured load is a change of filter and writes its event.
//! Latencies are the client's over loopback, so they include HTTP: server time is at most this.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use reqwest::{Client, header, redirect::Policy};
use serde_json::json;
use trail_core::vocabulary::actions;

use crate::{
    dataset::Dataset,
    query::requests,
    report::fmt,
    server::{self, KEY},
    stats::latency,
};

#[derive(ClapArgs)]
pub struct Args {
    /// Events in the tenant.
    #[arg(long, default_value_t = 5_000_000)]
    pub events: u64,
    /// Measured loads of each page.
    #[arg(long, default_value_t = 200)]
    pub iterations: usize,
    /// Concurrent ingest clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// The shared data directory (for the real log).
    #[arg(long, default_value = "../shared/data")]
    pub shared: PathBuf,
}

/// Signs in through the console's form; the session cookie.
async fn sign_in(base: &str, client: &Client) -> anyhow::Result<String> {
    let form = client.get(format!("{base}/console/sign-in?tenant=big")).send().await?;
    let form_cookie = form
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let body = form.text().await?;
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no csrf in the sign-in form"))?
        .to_owned();
    let resp = client
        .post(format!("{base}/console/sign-in"))
        .header(header::COOKIE, form_cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("tenant", "big"),
            ("email", "bench@example.com"),
            ("password", "benchmark password"),
        ])
        .send()
        .await?;
    anyhow::ensure!(resp.status() == 303, "sign-in answered {}", resp.status());
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("trail_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let ds = Dataset::new(&args.shared, args.events, 1);
    println!(
        "console benchmark: {} events in one tenant, {} loads of each page",
        fmt(ds.total as f64),
        args.iterations
    );
    let store = server::big_tenant_store(tmp.path(), Default::default()).await?;
    let base = server::start(store.clone()).await?;
    let secs = server::post_all(&base, requests(&ds), args.clients, "console").await?;
    eprintln!("ingested {} events in {secs:.0} s", fmt(ds.total as f64));
    let s2 = store.clone();
    tokio::task::spawn_blocking(move || s2.flush_index()).await?;

    let client = Client::builder().redirect(Policy::none()).build()?;
    let r = client
        .post(format!("{base}/v1/tenants/big/members"))
        .bearer_auth(KEY)
        .json(&json!({"email": "bench@example.com", "name": "Bench", "role": "manager", "password": "benchmark password"}))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 201, "member: {}", r.text().await?);
    let cookie = sign_in(&base, &client).await?;

    let get = |path: String, auth: Option<&'static str>| {
        let (client, cookie, base) = (client.clone(), cookie.clone(), base.clone());
        async move {
            let mut req = client.get(format!("{base}{path}"));
            req = match auth {
                Some(key) => req.bearer_auth(key),
                None => req.header(header::COOKIE, cookie),
            };
            let resp = req.send().await?;
            anyhow::ensure!(resp.status() == 200, "{path}: {}", resp.status());
            Ok::<usize, anyhow::Error>(resp.bytes().await?.len())
        }
    };
    // Warm both, and check the page shows rows.
    for _ in 0..10 {
        get("/console/activity".into(), None).await?;
        get("/v1/tenants/big/events".into(), Some(KEY)).await?;
    }
    let page =
        client.get(format!("{base}/console/activity")).header(header::COOKIE, &cookie).send().await?.text().await?;
    anyhow::ensure!(page.matches("data-seq=").count() == 50, "the page shows 50 rows");

    let measure = |label: &'static str| (label, Vec::with_capacity(args.iterations));
    let (mut first, mut reload, mut api, mut users) =
        (measure("first"), measure("reload"), measure("api"), measure("users"));
    for i in 0..args.iterations {
        // A change of filter each time: writes trail.logs.viewed.
        let path = if i % 2 == 0 { "/console/activity?range=last_30_days" } else { "/console/activity" };
        let t = std::time::Instant::now();
        get(path.into(), None).await?;
        first.1.push(t.elapsed());
        let t = std::time::Instant::now();
        get(path.into(), None).await?;
        reload.1.push(t.elapsed());
        let t = std::time::Instant::now();
        get("/v1/tenants/big/events".into(), Some(KEY)).await?;
        api.1.push(t.elapsed());
        let t = std::time::Instant::now();
        get("/console/users".into(), None).await?;
        users.1.push(t.elapsed());
    }
    let viewed = client
        .get(format!("{base}/v1/tenants/big/events?action={}&limit=1000", actions::TRAIL_LOGS_VIEWED))
        .bearer_auth(KEY)
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?;
    let n_viewed = viewed["events"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(n_viewed > args.iterations, "every first load wrote its event ({n_viewed})");

    let (f, r, a, u) = (latency(first.1), latency(reload.1), latency(api.1), latency(users.1));
    println!("\n## Console, {} events in the tenant\n", fmt(ds.total as f64));
    println!("| figure | p50 | p99 | baseline (same run) | p50 ratio |");
    println!("|---|---:|---:|---|---:|");
    let row = |name: &str, l: &crate::stats::Latency| {
        println!(
            "| {name} | {:.2} ms | {:.2} ms | `GET /v1/tenants/big/events` (50 newest of 30 days): {:.2} / {:.2} ms | {:.1} |",
            l.p50_ms,
            l.p99_ms,
            a.p50_ms,
            a.p99_ms,
            l.p50_ms / a.p50_ms
        )
    };
    row("Activity, first load (filter bar, 30-day chart, 50 rows, writes trail.logs.viewed)", &f);
    row("Activity, reload of the same view", &r);
    row("Users page (up to 1,000 people from the rollup)", &u);
    Ok(())
}
