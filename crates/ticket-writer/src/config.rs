//! The service's configuration: shared platform sections plus `[grpc]`, `[writer]` and
//! `[vendor_http]`. Every key is documented in `defaults.toml`, embedded and loaded first.

use std::time::Duration;

use lockstep_platform::config::{
    DatabaseConfig, HttpConfig, Mode, NatsConfig, TelemetryConfig, serde_duration,
};
use lockstep_service_kit::vendor::VendorHttpConfig;
use serde::{Deserialize, Serialize};

pub const DEFAULTS: &str = include_str!("defaults.toml");

/// `[grpc]`: the shared gRPC server settings (listen, reflection, time limit, concurrency, TLS).
pub use lockstep_service_kit::server::GrpcConfig;

fn grpc_default() -> GrpcConfig {
    GrpcConfig::on_port(50052)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub mode: Mode,
    #[serde(default = "grpc_default")]
    pub grpc: GrpcConfig,
    #[serde(default)]
    pub admin: HttpConfig,
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    pub database: DatabaseConfig,
    #[serde(default)]
    pub nats: NatsConfig,
    #[serde(default)]
    pub vendor_http: VendorHttpConfig,
    #[serde(default)]
    pub writer: WriterSettings,
}

/// `[writer]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WriterSettings {
    /// A pending link older than this is considered abandoned (its writer died): a retry that
    /// does not find the ticket by correlation id may create it. Must exceed the longest a vendor
    /// create can take (request timeout × attempts), or a slow first attempt could be duplicated.
    #[serde(with = "serde_duration")]
    pub pending_stale_after: Duration,
    /// Run the outbound status push consumer.
    pub push_enabled: bool,
    /// Durable consumer name of the push (replicas share it).
    pub push_consumer: String,
}

impl Default for WriterSettings {
    fn default() -> Self {
        Self {
            pending_stale_after: Duration::from_secs(300),
            push_enabled: true,
            push_consumer: "ticket-writer-push".to_owned(),
        }
    }
}

impl lockstep_platform::ServiceConfig for Config {
    fn telemetry(&self) -> &lockstep_platform::config::TelemetryConfig {
        &self.telemetry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_defaults_load() {
        let env = [(
            "LOCKSTEP_DATABASE__URL".to_owned(),
            "postgres://x@y/z".to_owned(),
        )];
        let config: Config = lockstep_platform::config::load_with_env(DEFAULTS, None, env).unwrap();
        assert_eq!(config.grpc, grpc_default());
        assert_eq!(config.writer, WriterSettings::default());
        assert_eq!(config.admin.listen.port(), 9095);
    }
}
