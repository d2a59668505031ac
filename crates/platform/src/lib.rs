//! Process plumbing shared by every Lockstep service: layered configuration, logging and
//! tracing, Prometheus metrics and health endpoints, graceful shutdown, listeners, and the
//! rustls crypto provider. Depends on no other Lockstep crate.
//!
//! A service's `main` is [`run_service`]; inside, the pieces compose like this:
//!
//! ```no_run
//! # use lockstep_platform::{config, telemetry, health, Shutdown, install_crypto_provider};
//! # #[derive(serde::Deserialize)] struct Config { telemetry: config::TelemetryConfig, admin: config::HttpConfig }
//! # async fn run() -> Result<(), lockstep_platform::Error> {
//! install_crypto_provider();
//! let cfg: Config = config::load("# defaults.toml contents", None)?;
//! let _telemetry = telemetry::init(&cfg.telemetry)?;
//! let shutdown = Shutdown::on_signals()?;
//! let readiness = health::Readiness::new();
//! readiness.fail_on_shutdown(&shutdown);
//! let (addr, admin) = lockstep_platform::spawn_server(
//!     cfg.admin.listen, health::admin_router(readiness.clone())?, shutdown.clone()).await?;
//! # let _ = (addr, admin); Ok(()) }
//! ```

pub mod config;
mod error;
pub mod health;
pub mod metrics;
mod process;
mod serve;
mod shutdown;
pub mod telemetry;
mod tls;

pub use error::Error;
pub use process::{BoxError, ServiceConfig, ServiceInfo, run_service};
pub use serve::{bind, serve, spawn_server};
pub use shutdown::Shutdown;
pub use tls::install_crypto_provider;
