//! Process plumbing shared by every Lockstep service: layered configuration, logging and
//! tracing, Prometheus metrics and health endpoints, graceful shutdown, listeners, and the
//! rustls crypto provider. Depends on no other Lockstep crate.
//!
//! A service's `main` is [`run_service`]; inside, the pieces compose like this:
//!
//! ```no_run
//! # use lockstep_platform::{config, health, Shell, install_crypto_provider, prepare_process};
//! # #[derive(serde::Deserialize, serde::Serialize)] struct Config { telemetry: config::TelemetryConfig, admin: config::HttpConfig }
//! # async fn run() -> Result<(), lockstep_platform::Error> {
//! install_crypto_provider();
//! let cfg: Config = config::load("# defaults.toml contents", None)?;
//! let process = prepare_process(&cfg.telemetry, "my-service", "1.0.0")?;
//! let shell = Shell::bind("my-service", cfg.admin.listen, health::Readiness::new()).await?;
//! let shutdown = process.shutdown.clone();
//! // The service's own serving and draining; /readyz turns 503 as soon as shutdown fires.
//! shell.run(&shutdown, async { shutdown.cancelled().await }).await;
//! # Ok(()) }
//! ```

pub mod config;
mod error;
pub mod guarded;
pub mod health;
pub mod metrics;
mod process;
mod serve;
mod shell;
mod shutdown;
pub mod telemetry;
mod tls;

pub use error::Error;
pub use process::{BoxError, ServiceConfig, ServiceInfo, run_service};
pub use serve::{bind, serve, spawn_server};
pub use shell::{Process, Shell, prepare_process};
pub use shutdown::Shutdown;
pub use tls::install_crypto_provider;
