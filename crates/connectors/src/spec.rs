//! [`VendorSpec`]: what a vendor is without a client. Webhook authentication, the one payload
//! parser (webhooks and the change feed produce the same [`lockstep_domain::TicketObservation`]),
//! base URL normalisation, container parsing, the deep-link shape, and the factory of its
//! [`Connector`]. One static value per vendor, listed in [`crate::registry`].

use std::sync::Arc;

use lockstep_domain::{IntegrationId, TicketRef, TicketTarget, Vendor};
use time::OffsetDateTime;

use crate::connector::Connector;
use crate::credentials::{AuthKind, Credentials};
use crate::error::Result;
use crate::http::HttpExecutor;
use crate::webhook::{WebhookAuth, WebhookEvent};

/// What a connector is built from.
#[derive(Debug, Clone)]
pub struct ConnectorSetup {
    pub integration: IntegrationId,
    /// As stored (already normalised by [`VendorSpec::normalize_base_url`]).
    pub base_url: String,
    pub credentials: Credentials,
    pub exec: HttpExecutor,
    /// The integration's default container (table, project, template) from its settings, for
    /// checks that need one (Jira's connection test and mapping check look at that project).
    pub default_container: Option<String>,
    /// Where the connector stores credentials it rotates itself (OAuth refresh tokens); `None`
    /// keeps them in memory only.
    pub credentials_sink: Option<Arc<dyn crate::sink::CredentialsSink>>,
}

pub trait VendorSpec: Send + Sync {
    fn vendor(&self) -> Vendor;

    /// The kinds of credentials its connector can authenticate with; the API refuses the others
    /// when an integration is created or its credentials rotated.
    fn auth_kinds(&self) -> &'static [AuthKind];

    /// How its webhook deliveries are authenticated.
    fn webhook_auth(&self) -> &dyn WebhookAuth;

    /// Parses a verified delivery's body.
    fn parse_webhook(&self, body: &[u8], received_at: OffsetDateTime) -> Result<WebhookEvent>;

    /// Whether a delivery only says WHICH ticket changed and the ticket must be re-read from the
    /// vendor ([`Connector::read_ticket`]) before anything is applied: true where the payload is
    /// admin-defined and unsigned (ServiceDesk Plus), so its content cannot be trusted as the
    /// ticket's state. False: the payload is the state (ServiceNow, Jira: signed).
    fn webhook_payload_is_notice(&self) -> bool {
        false
    }

    /// The base URL to store for `input`, or why it cannot work.
    fn normalize_base_url(&self, input: &str) -> Result<String>;

    /// A table, project or request template named by an admin or stored on a link.
    fn parse_container(&self, input: &str) -> Result<TicketTarget>;

    /// The container tickets go to when neither the request nor the integration names one.
    fn default_container(&self) -> Option<&'static str>;

    /// The deep link to a ticket of an instance at `base_url` (the same one its connector's
    /// [`Connector::deep_link`] gives).
    fn deep_link(&self, base_url: &str, ticket: &TicketRef) -> Option<String>;

    /// A connector for one integration.
    fn connect(&self, setup: ConnectorSetup) -> Result<Arc<dyn Connector>>;
}
