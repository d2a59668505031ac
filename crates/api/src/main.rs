//! The `api` process: the shared service `main` (configuration, telemetry, signals), then
//! this service's dependencies and app until SIGTERM.

use lockstep_api::{App, Config, Deps, config::DEFAULTS};
use lockstep_platform::{BoxError, ServiceInfo, run_service};

fn main() -> Result<(), BoxError> {
    let info = ServiceInfo {
        name: "api",
        about: "Lockstep's gRPC API (integrations, mapping, presets, findings)",
        version: env!("CARGO_PKG_VERSION"),
        defaults: DEFAULTS,
    };
    run_service(info, |config: Config, shutdown| async move {
        let deps = Deps::connect(&config.database, &config.nats).await?;
        App::build(config, deps).await?.run(shutdown).await
    })
}
