//! Which integration a delivery is for, with its vendor's webhook scheme and every active webhook
//! secret opened (the current one and those a rotation kept), cached briefly so a busy
//! integration does not cost a PostgreSQL round trip and an AES-GCM open per request.
//!
//! Entries live for `ttl` (30 s by default): a rotated, removed or deactivated secret takes effect
//! within that time on every replica without any invalidation message. Unknown ids are cached
//! too, so a flood of deliveries to made-up URLs cannot turn into a flood of queries. The cache is
//! bounded; when full, expired entries go first, then everything.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lockstep_connectors::webhook::{IntegrationSecret, WebhookSecrets};
use lockstep_connectors::{Registry, VendorSpec};
use lockstep_crypto::{Aad, Keyring, Purpose, Sealed};
use lockstep_domain::{IntegrationId, TenantId, Vendor};
use lockstep_store::{Store, StoreError};
use parking_lot::Mutex;

const MAX_ENTRIES: usize = 10_000;

/// When an entry was read, and what was found (`None`: unknown or inactive).
type Entry = (Instant, Option<Arc<Target>>);

/// A known, active integration ready to verify deliveries.
pub struct Target {
    pub integration: IntegrationId,
    pub tenant: TenantId,
    pub vendor: Vendor,
    pub allow_unsigned: bool,
    /// Its vendor (whose scheme authenticates the deliveries).
    pub spec: Arc<dyn VendorSpec>,
    /// Every active secret; empty when none is configured or none can be opened (then only
    /// unsigned deliveries could pass, and only where allowed).
    pub secrets: WebhookSecrets,
}

pub struct Targets {
    store: Store,
    registry: Registry,
    keyring: Arc<Keyring>,
    ttl: Duration,
    entries: Mutex<HashMap<IntegrationId, Entry>>,
}

impl Targets {
    /// The vendor specs deliveries are verified with.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn new(store: Store, registry: Registry, keyring: Arc<Keyring>, ttl: Duration) -> Self {
        Self {
            store,
            registry,
            keyring,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The active integration with this id, or `None` for unknown, deleted and inactive ones
    /// (which the caller must not tell apart).
    pub async fn get(&self, id: IntegrationId) -> Result<Option<Arc<Target>>, StoreError> {
        let now = Instant::now();
        if let Some((at, target)) = self.entries.lock().get(&id)
            && now.duration_since(*at) < self.ttl
        {
            return Ok(target.clone());
        }
        let target = self.load(id).await?;
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(id, (now, target.clone()));
        Ok(target)
    }

    async fn load(&self, id: IntegrationId) -> Result<Option<Arc<Target>>, StoreError> {
        let Some(row) = self
            .store
            .integrations()
            .find_for_webhook_delivery(id)
            .await?
        else {
            return Ok(None);
        };
        if !row.active {
            return Ok(None);
        }
        let Ok(spec) = self.registry.spec(row.vendor) else {
            tracing::error!(integration = %id, vendor = %row.vendor, "no webhook scheme for the integration's vendor; its deliveries will be refused");
            return Ok(None);
        };
        let aad = Aad::new(row.tenant_id, row.id, Purpose::WebhookSecret);
        let open = |sealed: &Sealed| match self.keyring.open(sealed, &aad) {
            Ok(raw) => IntegrationSecret::from_opened(raw),
            Err(err) => {
                tracing::error!(integration = %id, error = %err,
                    "cannot open a webhook secret of the integration; deliveries signed with it will be refused");
                None
            }
        };
        let secrets = row
            .sealed_webhook_secret
            .iter()
            .chain(&row.previous_webhook_secrets)
            .filter_map(open)
            .collect();
        Ok(Some(Arc::new(Target {
            integration: row.id,
            tenant: row.tenant_id,
            vendor: row.vendor,
            allow_unsigned: row.allow_unsigned,
            spec,
            secrets: WebhookSecrets::new(secrets),
        })))
    }
}
