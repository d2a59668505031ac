//! The service's configuration: shared platform sections plus `[applier]`, documented in the
//! embedded `defaults.toml`.

use std::time::Duration;

use lockstep_platform::config::{
    DatabaseConfig, HttpConfig, NatsConfig, TelemetryConfig, serde_duration,
};
use serde::{Deserialize, Serialize};

pub const DEFAULTS: &str = include_str!("defaults.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub admin: HttpConfig,
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    pub database: DatabaseConfig,
    #[serde(default)]
    pub nats: NatsConfig,
    #[serde(default)]
    pub applier: ApplierSettings,
}

/// `[applier]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplierSettings {
    pub consumer: String,
    pub workers: usize,
    pub batch_size: usize,
    pub max_events_per_transaction: usize,
    pub max_changes_per_message: usize,
    #[serde(with = "serde_duration")]
    pub fetch_wait: Duration,
    #[serde(with = "serde_duration")]
    pub ack_wait: Duration,
    pub max_deliver: i64,
    pub max_ack_pending: i64,
    #[serde(with = "serde_duration")]
    pub retry_delay: Duration,
    /// How far ahead of this service's clock a vendor version may lie before the observation is
    /// refused (see `lockstep_domain::transition`).
    #[serde(with = "serde_duration")]
    pub max_clock_skew: Duration,
}

impl Default for ApplierSettings {
    fn default() -> Self {
        Self {
            consumer: "sync-applier".to_owned(),
            workers: 4,
            batch_size: 256,
            max_events_per_transaction: 1024,
            max_changes_per_message: 1000,
            fetch_wait: Duration::from_millis(500),
            ack_wait: Duration::from_secs(30),
            max_deliver: 20,
            max_ack_pending: 5000,
            retry_delay: Duration::from_secs(2),
            max_clock_skew: Duration::from_secs(300),
        }
    }
}

impl ApplierSettings {
    /// The receiver of the events this service applies now.
    pub fn receiver(&self, now: time::OffsetDateTime) -> crate::apply::Receiver<'_> {
        crate::apply::Receiver {
            consumer: &self.consumer,
            now,
            max_clock_skew: time::Duration::try_from(self.max_clock_skew)
                .unwrap_or(lockstep_domain::DEFAULT_MAX_CLOCK_SKEW),
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
        assert_eq!(config.applier, ApplierSettings::default());
        assert_eq!(config.admin.listen.port(), 9091);
    }
}
