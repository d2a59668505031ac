//! The service's configuration: shared platform sections plus `[grpc]`, `[vendor_http]`, and the
//! HTTP JSON API's `[http]` and `[upstream]`, and `[webhooks]` (webhook auto-setup).
//! Every key is documented in `defaults.toml`, which is embedded and loaded first.

use lockstep_platform::config::{DatabaseConfig, HttpConfig, Mode, NatsConfig, TelemetryConfig};
use lockstep_service_kit::vendor::VendorHttpConfig;
use serde::{Deserialize, Serialize};

pub const DEFAULTS: &str = include_str!("defaults.toml");

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
    /// The HTTP JSON API's listener.
    #[serde(default)]
    pub http: crate::http::HttpApiConfig,
    /// Where ticket-writer and the poller are (the HTTP API's ticket and re-sync routes).
    #[serde(default)]
    pub upstream: crate::http::UpstreamConfig,
    /// Webhook auto-setup.
    #[serde(default)]
    pub webhooks: WebhooksConfig,
}

/// `[webhooks]`: what CreateIntegration needs to register a vendor's webhook back to Lockstep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhooksConfig {
    /// Lockstep's public webhook base URL (where vendors reach ingest-webhook), such as
    /// `https://lockstep.example.com`; deliveries go to `<base>/v1/webhooks/<integration id>`.
    /// A CreateIntegration request may name its own.
    pub public_base_url: Option<String>,
}

/// `[grpc]`: the shared gRPC server settings (listen, reflection, time limit, concurrency, TLS).
pub use lockstep_service_kit::server::GrpcConfig;

fn grpc_default() -> GrpcConfig {
    GrpcConfig::on_port(50051)
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
        assert_eq!(config.admin.listen.port(), 9094);
        assert_eq!(config.vendor_http, VendorHttpConfig::default());
        assert_eq!(config.http, crate::http::HttpApiConfig::default());
        assert_eq!(config.upstream, crate::http::UpstreamConfig::default());
    }
}
