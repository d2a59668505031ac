//! The store behind `lockstep_connectors::CredentialsSink`: credentials a connector rotates
//! itself (an OAuth provider's new refresh token) are sealed with the master keys and written
//! into the integration's row, and read back from it when another process rotated them first.

use std::sync::Arc;

use lockstep_connectors::{
    ConnectorError, Credentials, CredentialsSink, CredentialsSinks, credentials,
};
use lockstep_crypto::Keyring;
use lockstep_domain::{IntegrationId, TenantId};
use lockstep_store::Store;

/// One sink per integration, over the services' store.
#[derive(Clone)]
pub struct StoreSinks {
    store: Store,
    keyring: Arc<Keyring>,
}

impl StoreSinks {
    pub fn new(store: Store, keyring: Arc<Keyring>) -> Arc<Self> {
        Arc::new(Self { store, keyring })
    }
}

impl CredentialsSinks for StoreSinks {
    fn sink(&self, tenant: TenantId, integration: IntegrationId) -> Arc<dyn CredentialsSink> {
        Arc::new(StoreSink {
            store: self.store.clone(),
            keyring: self.keyring.clone(),
            tenant,
            integration,
        })
    }
}

struct StoreSink {
    store: Store,
    keyring: Arc<Keyring>,
    tenant: TenantId,
    integration: IntegrationId,
}

impl std::fmt::Debug for StoreSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreSink({})", self.integration)
    }
}

fn unavailable(e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::unusable(format!(
        "the integration's stored credentials cannot be read or written ({e}); try again"
    ))
}

#[async_trait::async_trait]
impl CredentialsSink for StoreSink {
    async fn load(&self) -> lockstep_connectors::Result<Credentials> {
        let record = self
            .store
            .integrations()
            .get(self.tenant, self.integration)
            .await
            .map_err(unavailable)?;
        credentials::open(
            &self.keyring,
            self.tenant,
            self.integration,
            &record.sealed_credentials,
        )
    }

    async fn save(&self, credentials: &Credentials) -> lockstep_connectors::Result<()> {
        let sealed = credentials::seal(&self.keyring, self.tenant, self.integration, credentials)?;
        self.store
            .integrations()
            .store_rotated_credentials(self.tenant, self.integration, &sealed)
            .await
            .map_err(unavailable)
    }
}
