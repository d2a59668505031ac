//! The `ticket-writer` process: configuration, telemetry, run until SIGTERM.

use std::path::PathBuf;

use clap::Parser;
use lockstep_platform::{Shutdown, config, install_crypto_provider, telemetry};
use lockstep_ticket_writer::config::DEFAULTS;
use lockstep_ticket_writer::{App, Config, Deps};

#[derive(Parser, Debug)]
#[command(
    name = "ticket-writer",
    about = "Lockstep's ticket writer (TicketService and outbound status push)"
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
    lockstep_platform::metrics::record_build_info("ticket-writer", env!("CARGO_PKG_VERSION"));
    let shutdown = Shutdown::on_signals()?;
    let deps = Deps::connect(&config.database, &config.nats).await?;
    App::build(config, deps).await?.run(shutdown).await
}
