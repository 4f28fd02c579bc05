//! A Trail server on a loopback port over a given store, and concurrent HTTP ingest into it:
//! what every benchmark that measures Trail as a client sees it does.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, atomic::AtomicU64},
    time::Instant,
};

use ed25519_dalek::SigningKey;
use trail_app::secrets::hash_token;
use trail_core::event::Limits;
use trail_server::{AppState, ServerConfig};
use trail_store::{Accounts, Store};

/// The operator key every benchmark server accepts.
pub const KEY: &str = "trail_op_bench-operator-key-0000000000";

/// The checkpoint signing key of every benchmark server (fixed, so runs are comparable and a
/// benchmark directory can be verified afterwards with `trail verify --public-key`).
pub fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

/// A new store at `dir` holding the one tenant every single-tenant benchmark uses, `big`.
pub async fn big_tenant_store(
    dir: &std::path::Path,
    options: trail_store_sqlite::StoreOptions,
) -> anyhow::Result<Arc<trail_store_sqlite::SqliteStore>> {
    let store = Arc::new(trail_store_sqlite::SqliteStore::open_with(dir, options)?);
    store
        .create_tenant(trail_store::NewTenant {
            id: trail_core::TenantId::parse("big")?,
            name: "big".into(),
            plan: "enterprise".into(),
            time_zone: "UTC".into(),
        })
        .await?;
    Ok(store)
}

/// Starts a server over `store`; its base URL.
pub async fn start(store: Arc<dyn Store>) -> anyhow::Result<String> {
    let config = ServerConfig {
        app: trail_app::AppConfig {
            server_name: "bench".into(),
            plans: trail_app::plans::builtin(),
            default_plan: "enterprise".into(),
            limits: Limits::default(),
            signing_key: Arc::new(signing_key()),
            checkpoint_journal: None,
        },
        operator_key_hash: hash_token(KEY),
        admission: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(trail_server::serve_with_listener(AppState::new(store, config), listener, std::future::pending()));
    Ok(base)
}

/// Posts every `(tenant, JSON array body)` request with `clients` concurrent clients, in order
/// of the list; the seconds it took. Each body is expected to hold 1,000 events for progress.
pub async fn post_all(
    base: &str,
    requests: Vec<(String, Vec<u8>)>,
    clients: usize,
    label: &str,
) -> anyhow::Result<f64> {
    let queue = Arc::new(Mutex::new(VecDeque::from(requests)));
    let client = reqwest::Client::new();
    let started = Instant::now();
    let progress = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, base, queue, progress, label) =
                (client.clone(), base.to_owned(), queue.clone(), progress.clone(), label.to_owned());
            tokio::spawn(async move {
                loop {
                    let next = queue.lock().expect("queue").pop_front();
                    let Some((tenant, body)) = next else { return };
                    let r = client
                        .post(format!("{base}/v1/tenants/{tenant}/events"))
                        .bearer_auth(KEY)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .expect("ingest request");
                    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
                    r.bytes().await.expect("body");
                    let done = progress.fetch_add(1000, std::sync::atomic::Ordering::Relaxed) + 1000;
                    if done % 1_000_000 == 0 {
                        eprintln!("  {label}: {done} events ingested");
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    Ok(started.elapsed().as_secs_f64())
}
