//! The Jira Cloud connector: everything Lockstep says to and hears from a Jira site (REST v3).
//!
//! - [`url`]: site URL normalisation; [`auth`]: e-mail + API token (Basic) or a personal access
//!   token (Bearer); [`client`]: [`JiraClient`], the authenticated call and error mapping.
//! - [`issue`]: the one parser of an issue into a [`lockstep_domain::TicketObservation`] (status
//!   by category, resolution only to classify), shared by the feed and [`webhook`].
//! - [`meta`]: createmeta (required and custom fields, allowed priorities), project statuses.
//! - [`create`], [`bulk`], [`adf`]: issues created in the three modes with a correlation label;
//!   `/issue/bulk` in chunks of 50 with per-finding results.
//! - [`workflow`], [`push`]: outbound changes along a multi-hop transition path.
//! - [`feed`]: the `search/jql` change feed; [`mapping`], [`connection_test`]: checks with remedies.
//! - [`webhook_setup`]: the admin webhook registered and removed (auto-setup), or the manual steps.
//! - [`connector`]: the [`crate::Connector`] implementation; [`JiraSpec`] below.

pub mod adf;
pub mod auth;
pub mod bulk;
pub mod client;
pub mod connection_test;
pub mod connector;
pub mod create;
pub mod feed;
pub mod issue;
mod mapping;
pub mod meta;
pub mod oauth;
pub mod push;
pub mod url;
pub mod webhook;
pub mod webhook_setup;
pub mod workflow;

use std::sync::Arc;

use lockstep_domain::{TicketRef, TicketTarget, Vendor};
use time::OffsetDateTime;

pub use auth::JiraAuth;
pub use client::{JiraClient, JiraConfig};
pub use url::SiteUrl;

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

    fn parse_webhook(&self, body: &[u8], received_at: OffsetDateTime) -> Result<WebhookEvent> {
        webhook::parse_webhook(body, received_at)
    }

    fn normalize_base_url(&self, input: &str) -> Result<String> {
        SiteUrl::parse(input).map(|u| u.as_str().to_owned())
    }

    fn parse_container(&self, input: &str) -> Result<TicketTarget> {
        TicketTarget::parse(Vendor::Jira, input).map_err(|e| ConnectorError::config(e.to_string()))
    }

    fn default_container(&self) -> Option<&'static str> {
        None
    }

    fn deep_link(&self, base_url: &str, ticket: &TicketRef) -> Option<String> {
        let site = SiteUrl::parse(base_url).ok()?;
        Some(site.browse(ticket.key().as_str()).into())
    }

    fn connect(&self, setup: ConnectorSetup) -> Result<Arc<dyn Connector>> {
        let site = SiteUrl::parse(&setup.base_url)?;
        let auth = match &setup.credentials {
            creds @ crate::Credentials::OAuthRefreshToken { .. } => {
                JiraAuth::oauth(oauth::OAuthSession::new(
                    creds,
                    site.as_str(),
                    setup.exec.clone(),
                    setup.integration,
                    setup.credentials_sink.clone(),
                )?)
            }
            other => JiraAuth::from_credentials(other)?,
        };
        let mut config = JiraConfig::new(setup.integration, site);
        config.default_project = setup
            .default_container
            .as_deref()
            .and_then(|c| self.parse_container(c).ok())
            .map(|t| t.container().to_owned());
        Ok(Arc::new(JiraClient::new(setup.exec, config, auth)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_and_the_client_give_the_one_deep_link() {
        let ticket = TicketRef::parse(Vendor::Jira, "SEC", "10005", "SEC-7").unwrap();
        assert_eq!(
            JiraSpec
                .deep_link("https://acme.atlassian.net/", &ticket)
                .as_deref(),
            Some("https://acme.atlassian.net/browse/SEC-7")
        );
        assert_eq!(
            JiraSpec.normalize_base_url("acme").unwrap(),
            "https://acme.atlassian.net"
        );
        assert!(JiraSpec.parse_container("1SEC").is_err());
    }
}
