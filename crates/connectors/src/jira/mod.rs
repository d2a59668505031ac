//! Jira Cloud: so far only what arrives before its connector (next session builds it on the
//! [`crate::Connector`] trait): the authentication of its admin webhooks, so deliveries for a
//! Jira integration are verified like any other.

use std::sync::Arc;

use lockstep_domain::{TicketRef, TicketTarget, Vendor};
use time::OffsetDateTime;

use crate::connector::Connector;
use crate::credentials::AuthKind;
use crate::error::{ConnectorError, Result};
use crate::spec::{ConnectorSetup, VendorSpec};
use crate::webhook::{HubSignatureAuth, WebhookAuth, WebhookEvent};

/// Jira's delivery id header, the same on retries.
pub const DELIVERY_ID_HEADER: &str = "x-atlassian-webhook-identifier";

static AUTH: HubSignatureAuth = HubSignatureAuth {
    delivery_id_header: DELIVERY_ID_HEADER,
};

fn not_yet() -> ConnectorError {
    ConnectorError::unusable("vendor jira is not available yet; use servicenow")
}

#[derive(Debug, Clone, Copy, Default)]
pub struct JiraSpec;

impl VendorSpec for JiraSpec {
    fn vendor(&self) -> Vendor {
        Vendor::Jira
    }

    fn auth_kinds(&self) -> &'static [AuthKind] {
        &[
            AuthKind::Basic,
            AuthKind::ApiKey,
            AuthKind::OAuthRefreshToken,
        ]
    }

    fn webhook_auth(&self) -> &dyn WebhookAuth {
        &AUTH
    }

    fn parse_webhook(&self, _body: &[u8], _received_at: OffsetDateTime) -> Result<WebhookEvent> {
        Err(ConnectorError::WebhookPayload {
            message: "no webhook parser for jira yet (it arrives with its connector)".into(),
        })
    }

    fn normalize_base_url(&self, _input: &str) -> Result<String> {
        Err(not_yet())
    }

    fn parse_container(&self, input: &str) -> Result<TicketTarget> {
        TicketTarget::parse(Vendor::Jira, input).map_err(|e| ConnectorError::config(e.to_string()))
    }

    fn default_container(&self) -> Option<&'static str> {
        None
    }

    fn deep_link(&self, base_url: &str, ticket: &TicketRef) -> Option<String> {
        Some(format!(
            "{}/browse/{}",
            base_url.trim_end_matches('/'),
            ticket.key().as_str()
        ))
    }

    fn connect(&self, _setup: ConnectorSetup) -> Result<Arc<dyn Connector>> {
        Err(not_yet())
    }
}
