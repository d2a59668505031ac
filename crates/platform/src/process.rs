//! The `main` every Lockstep service shares: parse `--config`, install the crypto provider, build
//! the runtime, load the layered configuration, start telemetry, record build info, arm SIGTERM
//! and SIGINT, then hand over to the service. Each binary names itself and says what it starts.

use std::future::Future;
use std::path::PathBuf;

use serde::de::DeserializeOwned;

use crate::config::{self, TelemetryConfig};
use crate::{Shutdown, install_crypto_provider};

/// Any error a service's start-up or run may end with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Who the process is: shown by `--help` and `--version`, and in the build-info metric.
#[derive(Debug, Clone, Copy)]
pub struct ServiceInfo {
    pub name: &'static str,
    pub about: &'static str,
    pub version: &'static str,
    /// The service's built-in `defaults.toml`, the bottom layer of its configuration.
    pub defaults: &'static str,
}

/// What the shared `main` needs from a service's configuration.
pub trait ServiceConfig: DeserializeOwned + serde::Serialize {
    fn telemetry(&self) -> &TelemetryConfig;
}

/// Runs a service to completion: everything before `start` is the same for every service;
/// `start` connects its dependencies and serves until `shutdown` fires.
pub fn run_service<C, F, Fut, E>(info: ServiceInfo, start: F) -> Result<(), BoxError>
where
    C: ServiceConfig,
    F: FnOnce(C, Shutdown) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
{
    let args = clap::Command::new(info.name)
        .about(info.about)
        .version(info.version)
        .arg(
            clap::Arg::new("config")
                .long("config")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help(
                    "A TOML file overriding the built-in defaults (else LOCKSTEP_CONFIG, if set)",
                ),
        )
        .get_matches();
    let file = args.get_one::<PathBuf>("config").cloned();
    install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let config: C = config::load(info.defaults, file.as_deref())?;
        let process = crate::prepare_process(config.telemetry(), info.name, info.version)?;
        let outcome = start(config, process.shutdown.clone())
            .await
            .map_err(Into::into);
        if let Err(e) = &outcome {
            tracing::error!(service = info.name, error = %e, "stopped with an error");
        }
        outcome
    })
}
