//! `Store::connect_with` honours `[database]`: the pool size and how long a request waits for a
//! pooled connection (`acquire_timeout`), and TLS settings over the URL's.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use lockstep_platform::config::{DatabaseConfig, SslMode};
use lockstep_store::{Store, StoreError};
use lockstep_testkit::TestDb;

#[tokio::test]
async fn a_full_pool_fails_after_the_configured_acquire_timeout() {
    let db = TestDb::new().await;
    let mut config = DatabaseConfig::new(db.url());
    config.max_connections = NonZeroU32::MIN;
    config.acquire_timeout = Duration::from_millis(200);
    let store = Store::connect_with(&config).await.unwrap();
    let held = store.begin().await.unwrap();

    let started = Instant::now();
    let err = store.ping().await.expect_err("the only connection is held");
    // The built-in wait is 10 s; the configured one is 200 ms. Anything under 5 s shows the
    // setting was used, whatever the machine's load.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&err, StoreError::Database(sqlx::Error::PoolTimedOut)),
        "{err:?}"
    );
    drop(held);
    store.ping().await.unwrap();
}

/// Whether this store's connection is encrypted, as the server sees it.
async fn uses_tls(store: &Store) -> bool {
    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn ssl_mode_is_applied_over_the_url() {
    let db = TestDb::new().await;
    let mut config = DatabaseConfig::new(db.url());
    config.ssl_mode = Some(SslMode::Disable);
    let plain = Store::connect_with(&config).await.unwrap();
    assert!(!uses_tls(&plain).await);
    let server_has_tls: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(plain.pool())
        .await
        .unwrap();

    config.ssl_mode = Some(SslMode::Require);
    let secure = Store::connect_with(&config).await;
    if server_has_tls == "on" {
        assert!(uses_tls(&secure.unwrap()).await, "require gives TLS");
    } else {
        let err = secure.expect_err("require refuses a server without TLS");
        assert!(
            err.to_string().to_lowercase().contains("tls")
                || err.to_string().to_lowercase().contains("ssl"),
            "{err}"
        );
    }
}
