//! Webhook auto-setup: the optional capability of a connector to register, on the vendor
//! instance, the webhook that sends ticket changes to Lockstep, and to remove it again. Vendors
//! without an API for it (ServiceDesk Plus: its admin UI; ServiceNow: our app) have no
//! registrar; for them, and when the account may not manage webhooks, the connector writes the
//! manual steps ([`crate::Connector::manual_webhook_steps`]) that the API and CLI print.

use lockstep_domain::TicketTarget;
use url::Url;

use crate::error::Result;

/// What a registration asks of the vendor.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// Where deliveries go: `<public base>/v1/webhooks/<integration id>`.
    pub callback_url: &'a Url,
    /// The shared secret deliveries are signed (or authenticated) with. Never logged.
    pub secret: &'a str,
    /// The containers (projects, tables) whose tickets the webhook covers; empty means every
    /// container the integration's tickets live in.
    pub scope: &'a [TicketTarget],
}

/// A webhook the vendor registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredWebhook {
    /// The vendor's id of the webhook, kept to remove it when the integration is deleted.
    pub vendor_id: String,
}

/// The optional webhook auto-setup capability of a connector ([`crate::Connector::webhooks`]).
#[async_trait::async_trait]
pub trait WebhookRegistrar: Send + Sync {
    /// Registers the webhook. A `Permission` error means the account may not manage webhooks:
    /// the caller then shows [`crate::Connector::manual_webhook_steps`] instead.
    async fn register(&self, request: &WebhookRequest<'_>) -> Result<RegisteredWebhook>;

    /// Removes a webhook registered before; one that is already gone is not an error.
    async fn unregister(&self, vendor_id: &str) -> Result<()>;
}

/// Manual steps for a vendor without steps of its own: where to send, and how to authenticate.
/// The secret is written out: the admin pastes it into the vendor (the API shows it only here).
pub fn generic_steps(vendor: &str, request: &WebhookRequest<'_>) -> String {
    let scope: Vec<&str> = request.scope.iter().map(TicketTarget::container).collect();
    let scope = if scope.is_empty() {
        "the tickets Lockstep created".to_owned()
    } else {
        format!("the tickets Lockstep created in {}", scope.join(", "))
    };
    format!(
        "Configure {vendor} to send ticket changes to Lockstep:\n\
         1. URL: {url} (HTTP POST, JSON body).\n\
         2. Events: ticket created, ticket updated and comments added, for {scope}.\n\
         3. Secret: send {secret} as the webhook's shared secret (signature or token header).\n\
         See the README section on connecting {vendor} for the exact menus.",
        url = request.callback_url,
        secret = request.secret,
    )
}
