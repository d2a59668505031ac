//! ManageEngine ServiceDesk Plus: so far only what arrives before its connector (next session builds it on the
//! [`crate::Connector`] trait): the authentication of its webhook actions (custom headers), so deliveries for
//! a ServiceDesk Plus integration are verified like any other.

use std::sync::Arc;

use lockstep_domain::{TicketRef, TicketTarget, Vendor};
use time::OffsetDateTime;

use crate::connector::Connector;
use crate::credentials::AuthKind;
use crate::error::{ConnectorError, Result};
use crate::spec::{ConnectorSetup, VendorSpec};
use crate::webhook::{StandardWebhooksAuth, WebhookAuth, WebhookEvent};

static AUTH: StandardWebhooksAuth = StandardWebhooksAuth;

fn not_yet() -> ConnectorError {
    ConnectorError::unusable("vendor manageengine is not available yet; use servicenow")
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceDeskPlusSpec;

impl VendorSpec for ServiceDeskPlusSpec {
    fn vendor(&self) -> Vendor {
        Vendor::ManageEngine
    }

    fn auth_kinds(&self) -> &'static [AuthKind] {
        &[AuthKind::ApiKey, AuthKind::OAuthRefreshToken]
    }

    fn webhook_auth(&self) -> &dyn WebhookAuth {
        &AUTH
    }

    fn parse_webhook(&self, _body: &[u8], _received_at: OffsetDateTime) -> Result<WebhookEvent> {
        Err(ConnectorError::WebhookPayload {
            message: "no webhook parser for manageengine yet (it arrives with its connector)"
                .into(),
        })
    }

    fn normalize_base_url(&self, _input: &str) -> Result<String> {
        Err(not_yet())
    }

    fn parse_container(&self, input: &str) -> Result<TicketTarget> {
        TicketTarget::parse(Vendor::ManageEngine, input)
            .map_err(|e| ConnectorError::config(e.to_string()))
    }

    fn default_container(&self) -> Option<&'static str> {
        None
    }

    fn deep_link(&self, base_url: &str, ticket: &TicketRef) -> Option<String> {
        Some(format!(
            "{}/WorkOrder.do?woMode=viewWO&woID={}",
            base_url.trim_end_matches('/'),
            ticket.external_id().as_str()
        ))
    }

    fn connect(&self, _setup: ConnectorSetup) -> Result<Arc<dyn Connector>> {
        Err(not_yet())
    }
}
