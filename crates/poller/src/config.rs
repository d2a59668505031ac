//! The service's configuration: shared platform sections, `[vendor_http]` and `[poller]`. Every
//! key is documented in `defaults.toml`, which is embedded and loaded first.

use std::time::Duration;

use lockstep_platform::config::{
    DatabaseConfig, HttpConfig, NatsConfig, TelemetryConfig, serde_duration,
};
use lockstep_service_kit::vendor::VendorHttpConfig;
use serde::{Deserialize, Serialize};

/// The embedded, commented defaults.
pub const DEFAULTS: &str = include_str!("defaults.toml");

/// `[grpc]`: the shared gRPC server settings (listen, reflection, time limit, concurrency, TLS).
pub use lockstep_service_kit::server::GrpcConfig;

fn grpc_default() -> GrpcConfig {
    GrpcConfig::on_port(50053)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
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
    pub poller: PollerSettings,
}

/// `[poller]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PollerSettings {
    #[serde(with = "serde_duration")]
    pub tick: Duration,
    pub max_concurrent_polls: usize,
    #[serde(with = "serde_duration")]
    pub poll_timeout: Duration,
    #[serde(with = "serde_duration")]
    pub lease_ttl: Duration,
    #[serde(with = "serde_duration")]
    pub overlap: Duration,
    #[serde(with = "serde_duration")]
    pub backoff_base: Duration,
    #[serde(with = "serde_duration")]
    pub backoff_max: Duration,
    #[serde(with = "serde_duration")]
    pub sla_sweep_interval: Duration,
    pub publish_concurrency: usize,
    #[serde(with = "serde_duration")]
    pub resync_all_cooldown: Duration,
    /// How long ResyncTicket waits for the applier to commit what it published.
    #[serde(with = "serde_duration")]
    pub resync_ticket_apply_wait: Duration,
    pub replica_id: String,
}

impl Default for PollerSettings {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(1),
            max_concurrent_polls: 16,
            poll_timeout: Duration::from_secs(120),
            lease_ttl: Duration::from_secs(180),
            overlap: Duration::from_secs(60),
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(15 * 60),
            sla_sweep_interval: Duration::from_secs(3600),
            publish_concurrency: 64,
            resync_all_cooldown: Duration::from_secs(60),
            resync_ticket_apply_wait: Duration::from_secs(10),
            replica_id: String::new(),
        }
    }
}

impl PollerSettings {
    /// The lease must outlive a poll, or a slow poll's integration could be claimed twice.
    pub fn validate(&self) -> Result<(), String> {
        if self.lease_ttl <= self.poll_timeout {
            return Err(format!(
                "poller.lease_ttl ({:?}) must be longer than poller.poll_timeout ({:?})",
                self.lease_ttl, self.poll_timeout
            ));
        }
        if self.max_concurrent_polls == 0 || self.publish_concurrency == 0 {
            return Err(
                "poller.max_concurrent_polls and poller.publish_concurrency must be at least 1"
                    .into(),
            );
        }
        Ok(())
    }

    /// The configured replica id, or the host name with a random suffix.
    pub fn replica_name(&self) -> String {
        let configured = self.replica_id.trim();
        if !configured.is_empty() {
            return configured.to_owned();
        }
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "poller".to_owned());
        format!("{host}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
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
    fn the_embedded_defaults_load_and_match_the_code() {
        let env = [(
            "LOCKSTEP_DATABASE__URL".to_owned(),
            "postgres://x@y/z".to_owned(),
        )];
        let config: Config = lockstep_platform::config::load_with_env(DEFAULTS, None, env).unwrap();
        assert_eq!(config.poller, PollerSettings::default());
        assert_eq!(config.grpc.listen.port(), 50053);
        assert!(config.poller.validate().is_ok());
        let bad = PollerSettings {
            lease_ttl: Duration::from_secs(60),
            ..PollerSettings::default()
        };
        assert!(bad.validate().unwrap_err().contains("lease_ttl"));
    }
}
