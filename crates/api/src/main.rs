//! The `api` process: configuration, telemetry, run until SIGTERM.

use std::path::PathBuf;

use clap::Parser;
use lockstep_api::config::DEFAULTS;
use lockstep_api::{App, Config, Deps};
use lockstep_platform::{Shutdown, config, install_crypto_provider, telemetry};

#[derive(Parser, Debug)]
#[command(
    name = "api",
    about = "Lockstep's gRPC API (integrations, mapping, presets, findings)"
)]
struct Args {
    /// A TOML file overriding the built-in defaults (else LOCKSTEP_CONFIG, if set).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    install_crypto_provider();
    let config: Config = config::load(DEFAULTS, args.config.as_deref())?;
    let _telemetry = telemetry::init(&config.telemetry)?;
    lockstep_platform::metrics::record_build_info("api", env!("CARGO_PKG_VERSION"));
    let shutdown = Shutdown::on_signals()?;
    let deps = Deps::connect(&config.database, &config.nats).await?;
    App::build(config, deps).await?.run(shutdown).await
}
