//! The `sync-applier` process: configuration, telemetry, run until SIGTERM.

use std::path::PathBuf;

use clap::Parser;
use lockstep_platform::{Shutdown, config, install_crypto_provider, telemetry};
use lockstep_sync_applier::{App, Config, Deps, config::DEFAULTS};

#[derive(Parser, Debug)]
#[command(name = "sync-applier", about = "Lockstep's vendor-observation applier")]
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
    lockstep_platform::metrics::record_build_info("sync-applier", env!("CARGO_PKG_VERSION"));
    let shutdown = Shutdown::on_signals()?;
    let deps = Deps::connect(&config).await?;
    let app = App::build(config, deps).await?;
    app.run(shutdown).await?;
    Ok(())
}
