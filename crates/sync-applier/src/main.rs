//! The `sync-applier` process: the shared service `main` (configuration, telemetry, signals), then
//! this service's dependencies and app until SIGTERM.

use lockstep_platform::{BoxError, ServiceInfo, run_service};
use lockstep_sync_applier::{App, Config, Deps, config::DEFAULTS};

fn main() -> Result<(), BoxError> {
    let info = ServiceInfo {
        name: "sync-applier",
        about: "Lockstep's vendor-observation applier",
        version: env!("CARGO_PKG_VERSION"),
        defaults: DEFAULTS,
    };
    run_service(info, |config: Config, shutdown| async move {
        let deps = Deps::connect(&config).await?;
        App::build(config, deps).await?.run(shutdown).await
    })
}
