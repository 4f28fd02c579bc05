//! A server per test, and a client that speaks to it.

use std::sync::Arc;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use trail_app::secrets::hash_token;
use trail_core::event::Limits;
use trail_server::{AppState, ServerConfig, serve_with_listener};
use trail_store::Store;
use trail_store::verify::TenantReport;
use trail_store_postgres::PgStore;
use trail_store_sqlite::SqliteStore;

pub const OPERATOR: &str = "trail_op_test-operator-key-0123456789";

pub struct TestServer {
    pub base: String,
    pub client: Client,
    /// The server's store, for what no route does (retention runs in the background).
    pub store: Arc<dyn Store>,
    /// The server's application (its append path and bus), for what no route does.
    pub app: Arc<trail_app::App>,
    /// The server's live tails (a test may change how often they poll).
    pub tails: Arc<trail_server::tail::Tails>,
    /// The PostgreSQL store, when the suite runs on PostgreSQL (see [`on_postgres`]).
    pg: Option<PgStore>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub fn config() -> ServerConfig {
    ServerConfig {
        app: trail_app::AppConfig {
            server_name: "test".into(),
            plans: trail_app::plans::builtin(),
            default_plan: "enterprise".into(),
            limits: Limits::default(),
            signing_key: std::sync::Arc::new(ed25519_dalek::SigningKey::from_bytes(&[42; 32])),
            checkpoint_journal: None,
        },
        operator_key_hash: hash_token(OPERATOR),
        admission: Default::default(),
    }
}

/// Whether this run of the suite is on PostgreSQL: `TRAIL_TEST_BACKEND=postgres` (which
/// `./scripts/test` sets for a second run of the suite), in the cluster `TRAIL_TEST_POSTGRES`
/// names. Otherwise each test runs on a fresh SQLite store.
pub fn on_postgres() -> bool {
    std::env::var("TRAIL_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A server whose ingest locates addresses with the GeoIP database at `geoip`.
    pub async fn start_with(geoip: Option<&std::path::Path>) -> Self {
        Self::start_configured(geoip, config()).await
    }

    /// A server with its own settings (see [`config`] for the usual ones).
    pub async fn start_configured(geoip: Option<&std::path::Path>, config: ServerConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (store, pg): (Arc<dyn Store>, _) = if on_postgres() {
            let url = trail_store_postgres::testing::fresh_database()
                .await
                .expect("TRAIL_TEST_BACKEND=postgres needs TRAIL_TEST_POSTGRES (./scripts/test sets both)");
            let pg = PgStore::connect(&url).await.unwrap();
            (Arc::new(pg.clone()), Some(pg))
        } else {
            (Arc::new(SqliteStore::open(dir.path()).unwrap()), None)
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // The journal beside the test's signing key, as `trail serve` keeps it.
        let mut config = config;
        config.app.checkpoint_journal = Some(dir.path().join("checkpoints.log"));
        let mut state = AppState::new(store, config);
        if let Some(path) = geoip {
            let db = trail_enrich::GeoIp::open(path).unwrap();
            state = state.with_enricher(Arc::new(trail_enrich::Enricher::new(Some(db))));
        }
        let (shared, app, tails) = (state.store.clone(), state.app.clone(), state.tails.clone());
        tokio::spawn(serve_with_listener(state, listener, async {
            let _ = stopped.await;
        }));
        TestServer { base, client: Client::new(), store: shared, app, tails, pg, _dir: dir, _stop: stop }
    }

    /// The data directory (the whole store on SQLite; only the signing key on PostgreSQL).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Whether every byte the store keeps is in [`TestServer::dir`] (SQLite), so a test may
    /// search its files.
    pub fn store_is_in_dir(&self) -> bool {
        self.pg.is_none()
    }

    /// `trail verify` of every tenant, offline, with the test signing key.
    pub async fn verify(&self) -> Vec<TenantReport> {
        let key = config().signing_key.verifying_key();
        match &self.pg {
            Some(pg) => {
                trail_store_postgres::verify::verify(pg, None, &key, &Default::default(), &|_| {}).await.unwrap()
            }
            None => {
                trail_store_sqlite::verify::verify(self.dir(), None, &key, &Default::default(), 2, &|_| {}).unwrap()
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(self.client.get(self.url(path)).bearer_auth(token)).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        self.send(self.client.post(self.url(path)).bearer_auth(token).json(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        self.send(self.client.patch(self.url(path)).bearer_auth(token).json(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(self.client.delete(self.url(path)).bearer_auth(token)).await
    }

    pub async fn post_raw(&self, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        self.send(self.client.post(self.url(path)).bearer_auth(token).header("content-type", content_type).body(body))
            .await
    }

    /// Creates a tenant (as the operator) and returns its id.
    pub async fn tenant(&self, id: &str) -> String {
        self.tenant_in(id, "UTC").await
    }

    pub async fn tenant_in(&self, id: &str, tz: &str) -> String {
        let (s, b) = self
            .post("/v1/tenants", OPERATOR, &json!({"id": id, "name": format!("Tenant {id}"), "time_zone": tz}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        id.to_owned()
    }

    /// Creates a key with `scopes` for `tenant` and returns its token.
    pub async fn key(&self, tenant: &str, scopes: &[&str]) -> String {
        let (s, b) = self
            .post(&format!("/v1/tenants/{tenant}/keys"), OPERATOR, &json!({"name": "test", "scopes": scopes}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["token"].as_str().unwrap().to_owned()
    }

    /// Ingests `events` (a JSON value: object or array) as the operator; asserts success.
    pub async fn ingest(&self, tenant: &str, events: Value) -> Value {
        let (s, b) = self.post(&format!("/v1/tenants/{tenant}/events"), OPERATOR, &events).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b
    }

    /// Every event of the tenant, newest first.
    pub async fn all_events(&self, tenant: &str) -> Vec<Value> {
        self.events(tenant, "range=all").await
    }

    /// Every event matching the query string, following cursors.
    pub async fn events(&self, tenant: &str, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = format!("/v1/tenants/{tenant}/events?{query}&limit=1000");
            if let Some(c) = &cursor {
                q.push_str(&format!("&cursor={c}"));
            }
            let (s, b) = self.get(&q, OPERATOR).await;
            assert_eq!(s, StatusCode::OK, "{q}: {b}");
            out.extend(b["events"].as_array().unwrap().iter().cloned());
            match b["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }

    pub async fn event_count(&self, tenant: &str) -> u64 {
        let (s, b) = self.get(&format!("/v1/tenants/{tenant}"), OPERATOR).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["event_count"].as_u64().unwrap()
    }
}

/// Asserts an error response: status, code and (if given) field.
#[track_caller]
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str, field: Option<&str>) {
    let (s, b) = got;
    assert_eq!(*s, status, "{b}");
    assert_eq!(b["error"]["code"], code, "{b}");
    assert!(b["error"]["message"].as_str().is_some_and(|m| m.len() > 10), "a helpful message: {b}");
    if let Some(f) = field {
        assert_eq!(b["error"]["field"], f, "{b}");
    }
}

impl TestServer {
    /// GET without any Authorization header; returns the status.
    pub async fn send_without_auth(&self, path: &str) -> StatusCode {
        self.client.get(self.url(path)).send().await.unwrap().status()
    }
}
