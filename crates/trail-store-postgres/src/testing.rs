//! For tests: a fresh database in the throwaway cluster `./scripts/test` starts
//! (`scripts/pg-throwaway`), named by `TRAIL_TEST_POSTGRES`.
//!
//! Without that variable the PostgreSQL tests cannot run: each says so loudly on stderr and
//! returns without checking anything, unless `CI` or `TRAIL_REQUIRE_POSTGRES` is set, where a
//! missing database fails the test instead (CI must never skip them).

use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the throwaway cluster's URL.
pub const ENV: &str = "TRAIL_TEST_POSTGRES";

/// The URL of a new, empty database, or `None` (said loudly) when no cluster is configured.
pub async fn fresh_database() -> Option<String> {
    let Ok(admin) = std::env::var(ENV) else {
        if std::env::var_os("CI").is_some() || std::env::var_os("TRAIL_REQUIRE_POSTGRES").is_some() {
            panic!("{ENV} is not set, and CI must run the PostgreSQL tests: run them with ./scripts/test");
        }
        // Written to the process's stderr itself, which the test harness does not capture, once.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: the PostgreSQL tests need {ENV} (a throwaway cluster's URL); ./scripts/test starts one ***\n"
            );
        });
        return None;
    };
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "trail_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        jiff::Timestamp::now().as_microsecond() % 1_000_000
    );
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test cluster at {ENV}: {e}"));
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create a test database");
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database name");
    Some(format!("{base}/{name}"))
}
