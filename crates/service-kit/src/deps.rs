//! The infrastructure a gRPC service talks to, connected once from its configuration.

use std::sync::Arc;

use lockstep_bus::Bus;
use lockstep_crypto::Keyring;
use lockstep_platform::config::{DatabaseConfig, NatsConfig};
use lockstep_store::Store;

/// PostgreSQL, JetStream and the master keys that open sealed credentials.
#[derive(Clone)]
pub struct ServiceDeps {
    pub store: Store,
    pub bus: Bus,
    pub keyring: Arc<Keyring>,
}

impl ServiceDeps {
    /// Connects to PostgreSQL and NATS as configured and reads the master keys from the
    /// environment (`LOCKSTEP_MASTER_KEYS` or `LOCKSTEP_MASTER_KEYS_FILE`).
    pub async fn connect(
        database: &DatabaseConfig,
        nats: &NatsConfig,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let store = Store::connect_with(database).await?;
        let bus = Bus::connect_with(nats).await?;
        Ok(Self {
            store,
            bus,
            keyring: Arc::new(Keyring::from_env()?),
        })
    }
}
