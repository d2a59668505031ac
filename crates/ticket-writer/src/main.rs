//! The `ticket-writer` process: the shared service `main` (configuration, telemetry, signals), then
//! this service's dependencies and app until SIGTERM.

use lockstep_platform::{BoxError, ServiceInfo, run_service};
use lockstep_ticket_writer::{App, Config, Deps, config::DEFAULTS};

fn main() -> Result<(), BoxError> {
    let info = ServiceInfo {
        name: "ticket-writer",
        about: "Lockstep's ticket writer (TicketService and outbound status push)",
        version: env!("CARGO_PKG_VERSION"),
        defaults: DEFAULTS,
    };
    run_service(info, |config: Config, shutdown| async move {
        let deps = Deps::connect(&config.database, &config.nats).await?;
        App::build(config, deps).await?.run(shutdown).await
    })
}
