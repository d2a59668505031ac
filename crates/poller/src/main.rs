//! The `poller` process: configuration, telemetry, run until SIGTERM.

use std::path::PathBuf;

use clap::Parser;
use lockstep_platform::{Shutdown, config, install_crypto_provider, telemetry};
use lockstep_poller::{App, Config, Deps, config::DEFAULTS};

#[derive(Parser, Debug)]
#[command(
    name = "poller",
    about = "Lockstep's change-feed poller and SyncService"
)]
struct Args {
    /// A TOML file overriding the built-in defaults (else LOCKSTEP_CONFIG, if set).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    install_crypto_provider();
    let config: Config = config::load(DEFAULTS, args.config.as_deref())?;
    let _telemetry = telemetry::init(&config.telemetry)?;
    lockstep_platform::metrics::record_build_info("poller", env!("CARGO_PKG_VERSION"));
    let shutdown = Shutdown::on_signals()?;
    let deps = Deps::connect(&config).await?;
    let app = App::build(config, deps).await?;
    app.run(shutdown).await?;
    Ok(())
}
