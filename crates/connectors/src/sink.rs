//! Where a connector keeps credentials it changes itself: an OAuth provider that rotates its
//! refresh tokens (Jira Cloud 3LO hands out a new one on every refresh and refuses the old one)
//! must have the new token stored sealed before the old one is forgotten, or the integration
//! loses its consent. The services implement [`CredentialsSink`] over the store (service-kit
//! reseals into the integration's row); a connector without one keeps rotated tokens in memory
//! only.

use std::sync::Arc;

use lockstep_domain::{IntegrationId, TenantId};

use crate::credentials::Credentials;
use crate::error::Result;

/// The stored credentials of one integration.
#[async_trait::async_trait]
pub trait CredentialsSink: Send + Sync + std::fmt::Debug {
    /// The credentials as stored now: another process (a replica, another service) may have
    /// rotated them since this connector was built.
    async fn load(&self) -> Result<Credentials>;

    /// Stores rotated credentials, sealed. Not an admin's rotation: the integration's connectors
    /// stay as they are (the one that rotated already holds the new token).
    async fn save(&self, credentials: &Credentials) -> Result<()>;
}

/// Makes the sink of each integration (the registry asks when it builds a connector).
pub trait CredentialsSinks: Send + Sync {
    fn sink(&self, tenant: TenantId, integration: IntegrationId) -> Arc<dyn CredentialsSink>;
}
