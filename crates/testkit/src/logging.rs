//! Test logging: initialised once per test binary, printed only when `TEST_LOG` is set (the
//! zero2prod habit), filtered by `RUST_LOG` (default `info`).

use std::sync::LazyLock;

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_none() {
        return;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Another harness may have installed a subscriber first; keeping theirs is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
});

/// Idempotent; `TestDb` and `TestNats` call it, so most tests never need to.
pub fn init_tracing() {
    LazyLock::force(&TRACING);
}
