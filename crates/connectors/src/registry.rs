//! The registry: which [`VendorSpec`] serves which [`Vendor`] (the ONLY `match` on `Vendor` in
//! the services' path to a vendor), and [`Connectors`], the connectors of stored integrations,
//! built from their sealed credentials and cached per integration until the credentials or base
//! URL change, so OAuth tokens and the per-integration concurrency limit are shared by all
//! requests.
//!
//! Services receive a [`Registry`] or [`Connectors`] as a dependency; a test registers a fake
//! vendor with [`Registry::register`].

use std::collections::HashMap;
use std::sync::Arc;

use lockstep_crypto::{Keyring, Sealed};
use lockstep_domain::{IntegrationId, TenantId, Vendor};
use parking_lot::Mutex;
use time::OffsetDateTime;

use crate::connector::Connector;
use crate::credentials;
use crate::error::{ConnectorError, Result};
use crate::http::HttpExecutor;
use crate::spec::{ConnectorSetup, VendorSpec};

/// The spec of a vendor Lockstep ships. Adding a vendor adds its arm here.
fn builtin(vendor: Vendor) -> Arc<dyn VendorSpec> {
    match vendor {
        Vendor::ServiceNow => Arc::new(crate::servicenow::ServiceNowSpec),
        Vendor::Jira => Arc::new(crate::jira::JiraSpec),
        Vendor::ManageEngine => Arc::new(crate::sdp::ServiceDeskPlusSpec),
    }
}

/// Vendor specs by vendor. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    specs: Arc<HashMap<Vendor, Arc<dyn VendorSpec>>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.specs.keys()).finish()
    }
}

impl Registry {
    /// Every vendor Lockstep ships.
    pub fn builtin() -> Self {
        let specs = Vendor::ALL.iter().map(|v| (*v, builtin(*v))).collect();
        Self {
            specs: Arc::new(specs),
        }
    }

    /// This registry with `spec` serving its vendor (replacing the shipped one): how a test
    /// drives the services with a fake vendor.
    pub fn register(self, spec: Arc<dyn VendorSpec>) -> Self {
        let mut specs = (*self.specs).clone();
        specs.insert(spec.vendor(), spec);
        Self {
            specs: Arc::new(specs),
        }
    }

    /// The spec of `vendor`.
    pub fn spec(&self, vendor: Vendor) -> Result<Arc<dyn VendorSpec>> {
        self.specs
            .get(&vendor)
            .cloned()
            .ok_or_else(|| ConnectorError::unusable(format!("vendor {vendor} is not registered")))
    }
}

/// What the registry needs of a stored integration (the services map their record to it).
#[derive(Debug, Clone, Copy)]
pub struct IntegrationAccess<'a> {
    pub id: IntegrationId,
    pub tenant: TenantId,
    pub vendor: Vendor,
    pub name: &'a str,
    pub base_url: &'a str,
    pub active: bool,
    /// Changes whenever the credentials are rotated (invalidates the cached connector).
    pub credentials_rotated_at: OffsetDateTime,
    pub sealed_credentials: &'a Sealed,
    /// The default table, project or template of its settings.
    pub default_container: Option<&'a str>,
}

/// A cached connector and what it was built from: credentials version, base URL and default
/// container.
type Cached = (OffsetDateTime, String, Arc<dyn Connector>);

/// The base URL and default container of an integration as one cache key part.
fn build_key(integration: &IntegrationAccess<'_>) -> String {
    format!(
        "{}\n{}",
        integration.base_url,
        integration.default_container.unwrap_or_default()
    )
}

/// Connectors of stored integrations. Cheap to clone (clones share the cache).
#[derive(Clone)]
pub struct Connectors {
    registry: Registry,
    keyring: Arc<Keyring>,
    exec: HttpExecutor,
    cache: Arc<Mutex<HashMap<IntegrationId, Cached>>>,
    sinks: Option<Arc<dyn crate::sink::CredentialsSinks>>,
}

impl Connectors {
    pub fn new(registry: Registry, keyring: Arc<Keyring>, exec: HttpExecutor) -> Self {
        Self {
            registry,
            keyring,
            exec,
            cache: Arc::default(),
            sinks: None,
        }
    }

    /// These connectors store the credentials they rotate themselves through `sinks`.
    pub fn with_credentials_sinks(mut self, sinks: Arc<dyn crate::sink::CredentialsSinks>) -> Self {
        self.sinks = Some(sinks);
        self
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Refuses a base URL that leads only to addresses the executor refuses (loopback, private,
    /// metadata, ... not on the operator's allow-list). The executor enforces the same on every
    /// connection; this tells the admin when saving the integration.
    pub async fn check_destination(&self, base_url: &str) -> Result<()> {
        let url = url::Url::parse(base_url).map_err(|e| ConnectorError::config(e.to_string()))?;
        self.exec.check_destination(&url).await
    }

    /// The connector of an active integration, cached. [`ConnectorError::Unusable`] when the
    /// integration is inactive or cannot be used as stored.
    pub fn connector(&self, integration: &IntegrationAccess<'_>) -> Result<Arc<dyn Connector>> {
        if !integration.active {
            return Err(ConnectorError::unusable(format!(
                "integration {} is inactive; activate it with UpdateIntegration first",
                integration.name
            )));
        }
        let version = (integration.credentials_rotated_at, build_key(integration));
        if let Some((at, url, connector)) = self.cache.lock().get(&integration.id)
            && (*at, url.as_str()) == (version.0, version.1.as_str())
        {
            return Ok(connector.clone());
        }
        let connector = self.build(integration)?;
        self.cache
            .lock()
            .insert(integration.id, (version.0, version.1, connector.clone()));
        Ok(connector)
    }

    /// A fresh, uncached connector (the connection test uses it so it sees exactly what is
    /// stored, active or not).
    pub fn build(&self, integration: &IntegrationAccess<'_>) -> Result<Arc<dyn Connector>> {
        let spec = self.registry.spec(integration.vendor)?;
        let credentials = credentials::open(
            &self.keyring,
            integration.tenant,
            integration.id,
            integration.sealed_credentials,
        )?;
        credentials.validate().map_err(|e| {
            ConnectorError::unusable(format!(
                "integration {} has incomplete credentials ({e}); rotate them",
                integration.name
            ))
        })?;
        spec.connect(ConnectorSetup {
            integration: integration.id,
            base_url: integration.base_url.to_owned(),
            credentials,
            exec: self.exec.clone(),
            default_container: integration.default_container.map(str::to_owned),
            credentials_sink: self
                .sinks
                .as_ref()
                .map(|s| s.sink(integration.tenant, integration.id)),
        })
        .map_err(|e| match e {
            ConnectorError::InvalidConfig { message } => {
                ConnectorError::unusable(format!("integration {}: {message}", integration.name))
            }
            other => other,
        })
    }
}
