//! The `poller` process: the shared service `main` (configuration, telemetry, signals), then
//! this service's dependencies and app until SIGTERM.

use lockstep_platform::{BoxError, ServiceInfo, run_service};
use lockstep_poller::{App, Config, Deps, config::DEFAULTS};

fn main() -> Result<(), BoxError> {
    let info = ServiceInfo {
        name: "poller",
        about: "Lockstep's change-feed poller and SyncService",
        version: env!("CARGO_PKG_VERSION"),
        defaults: DEFAULTS,
    };
    run_service(info, |config: Config, shutdown| async move {
        let deps = Deps::connect(&config).await?;
        App::build(config, deps).await?.run(shutdown).await
    })
}
