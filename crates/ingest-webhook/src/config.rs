//! The service's configuration: shared platform sections plus `[ingest]`. Every key is documented
//! in `defaults.toml`, which is embedded and loaded first.

use std::time::Duration;

use lockstep_platform::config::{
    DatabaseConfig, HttpConfig, Mode, NatsConfig, TelemetryConfig, serde_duration,
};
use serde::{Deserialize, Serialize};

/// The embedded, commented defaults.
pub const DEFAULTS: &str = include_str!("defaults.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub admin: HttpConfig,
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    pub database: DatabaseConfig,
    #[serde(default)]
    pub nats: NatsConfig,
    #[serde(default)]
    pub ingest: IngestSettings,
}

/// The default body limit: NATS's default max_payload (1 MiB) less the room a delivery's
/// envelope and headers may take ([`crate::limits::ENVELOPE_RESERVE`]), so any body accepted
/// fits in one stream message.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024 - crate::limits::ENVELOPE_RESERVE;

/// `[ingest]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestSettings {
    pub max_body_bytes: usize,
    pub max_in_flight: usize,
    #[serde(with = "serde_duration")]
    pub publish_timeout: Duration,
    #[serde(with = "serde_duration")]
    pub timestamp_tolerance: Duration,
    #[serde(with = "serde_duration")]
    pub secret_cache_ttl: Duration,
    pub retry_after_secs: u32,
    /// Group commit (see `group_commit`): deliveries and encoded bytes per stream message, and
    /// publishes one integration may have in flight.
    pub group_max_deliveries: usize,
    pub group_max_bytes: usize,
    pub publishes_in_flight: usize,
    /// A connection must send a request's whole head within this, or it is closed (slow
    /// clients, idle keep-alive connections).
    #[serde(with = "serde_duration")]
    pub header_read_timeout: Duration,
    /// A request's body must arrive within this, counted from the end of its head; else 408.
    #[serde(with = "serde_duration")]
    pub body_read_timeout: Duration,
    /// Open connections at once; past it the receiver stops accepting until one closes.
    pub max_connections: usize,
    /// At shutdown, how long requests in flight may still finish before the remaining
    /// connections are closed.
    #[serde(with = "serde_duration")]
    pub shutdown_drain: Duration,
}

impl IngestSettings {
    pub(crate) fn group_limits(&self) -> crate::group_commit::GroupLimits {
        crate::group_commit::GroupLimits {
            max_deliveries: self.group_max_deliveries.max(1),
            max_bytes: self.group_max_bytes,
            publishes_in_flight: self.publishes_in_flight.max(1),
            max_queued: self.max_in_flight.max(1),
        }
    }
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_in_flight: 256,
            publish_timeout: Duration::from_secs(5),
            timestamp_tolerance: lockstep_crypto::webhook::DEFAULT_TOLERANCE,
            secret_cache_ttl: Duration::from_secs(30),
            retry_after_secs: 5,
            group_max_deliveries: 256,
            group_max_bytes: 256 * 1024,
            publishes_in_flight: 1,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            shutdown_drain: Duration::from_secs(10),
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
    fn the_embedded_defaults_load_and_production_is_the_default_mode() {
        let env = [(
            "LOCKSTEP_DATABASE__URL".to_owned(),
            "postgres://x@y/z".to_owned(),
        )];
        let config: Config = lockstep_platform::config::load_with_env(DEFAULTS, None, env).unwrap();
        assert_eq!(config.mode, Mode::Production);
        assert_eq!(config.ingest, IngestSettings::default());
        assert_eq!(config.http.listen.port(), 8080);
        assert_eq!(config.admin.listen.port(), 9090);
    }
}
