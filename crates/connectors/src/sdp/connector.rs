//! ServiceDesk Plus on the vendor seam: [`ServiceDeskPlusSpec`] (what needs no client) and the
//! [`Connector`] implementation of [`SdpClient`].

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use lockstep_domain::{
    FindingId, MappingRules, TicketObservation, TicketRef, TicketTarget, Vendor,
};
use time::OffsetDateTime;
use url::Url;

use super::auth::Auth;
use super::client::{SdpClient, SdpConfig};
use super::url::PortalUrl;
use super::webhook::{SdpTokenAuth, parse_webhook};
use crate::connector::{
    ConnectionReport, Connector, CreatedTicket, FeedBatch, FieldMetadata, MappingCheck,
    OutboundChange, TicketCreate,
};
use crate::credentials::AuthKind;
use crate::error::{ConnectorError, Result};
use crate::spec::{ConnectorSetup, VendorSpec};
use crate::webhook::{WebhookAuth, WebhookEvent};

static AUTH: SdpTokenAuth = SdpTokenAuth;

#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceDeskPlusSpec;

fn check_target(target: &TicketTarget) -> Result<()> {
    match target {
        TicketTarget::ManageEngine => Ok(()),
        other => Err(ConnectorError::config(format!(
            "{other} is not ServiceDesk Plus requests"
        ))),
    }
}

impl VendorSpec for ServiceDeskPlusSpec {
    fn vendor(&self) -> Vendor {
        Vendor::ManageEngine
    }

    /// On premises the technician key; Cloud a Zoho OAuth refresh token.
    fn auth_kinds(&self) -> &'static [AuthKind] {
        &[AuthKind::ApiKey, AuthKind::OAuthRefreshToken]
    }

    fn webhook_auth(&self) -> &dyn WebhookAuth {
        &AUTH
    }

    fn parse_webhook(&self, body: &[u8], received_at: OffsetDateTime) -> Result<WebhookEvent> {
        parse_webhook(body, received_at)
    }

    /// SDP's payload is a template an admin typed and nothing signs it: it names the request,
    /// the request is re-read for its state (and for `updated_by`, which the template lacks).
    fn webhook_payload_is_notice(&self) -> bool {
        true
    }

    fn normalize_base_url(&self, input: &str) -> Result<String> {
        PortalUrl::parse(input).map(|u| u.as_stored())
    }

    fn parse_container(&self, input: &str) -> Result<TicketTarget> {
        TicketTarget::parse(Vendor::ManageEngine, input)
            .map_err(|e| ConnectorError::config(e.to_string()))
    }

    fn default_container(&self) -> Option<&'static str> {
        Some("request")
    }

    fn deep_link(&self, base_url: &str, ticket: &TicketRef) -> Option<String> {
        let portal = PortalUrl::parse(base_url).ok()?;
        Some(portal.request_page(ticket.external_id().as_str()).into())
    }

    fn connect(&self, setup: ConnectorSetup) -> Result<Arc<dyn Connector>> {
        let portal = PortalUrl::parse(&setup.base_url)?;
        let auth = Auth::from_credentials(setup.credentials, &portal)?;
        Ok(Arc::new(SdpClient::new(
            setup.exec,
            SdpConfig::new(setup.integration, portal),
            auth,
        )))
    }
}

#[async_trait::async_trait]
impl Connector for SdpClient {
    fn vendor(&self) -> Vendor {
        Vendor::ManageEngine
    }

    async fn test_connection(&self) -> ConnectionReport {
        SdpClient::test_connection(self).await
    }

    async fn create(&self, ticket: &TicketCreate) -> Result<CreatedTicket> {
        check_target(&ticket.draft.target)?;
        self.create_request(ticket).await
    }

    /// SDP has no bulk endpoint (reference B3, UNCONFIRMED absence): a bounded parallel loop of
    /// single creates, one result per ticket in order. The executor's per-integration limit
    /// bounds the requests in flight further.
    async fn create_many(&self, tickets: &[TicketCreate]) -> Vec<Result<CreatedTicket>> {
        let creates: Vec<_> = tickets.iter().map(|t| Connector::create(self, t)).collect();
        futures::stream::iter(creates)
            .buffered(self.config().bulk_concurrency.max(1))
            .collect()
            .await
    }

    async fn find_by_correlation(
        &self,
        target: &TicketTarget,
        finding: FindingId,
    ) -> Result<Option<TicketObservation>> {
        check_target(target)?;
        self.find_correlated(finding).await
    }

    async fn push(&self, ticket: &TicketRef, change: &OutboundChange) -> Result<TicketObservation> {
        self.push_change(ticket, change).await
    }

    async fn read_ticket(&self, ticket: &TicketRef) -> Result<TicketObservation> {
        self.get_request(ticket).await
    }

    async fn changes_since(
        &self,
        watermark: OffsetDateTime,
        overlap: Duration,
        targets: &[TicketTarget],
    ) -> Result<FeedBatch> {
        targets.iter().try_for_each(check_target)?;
        SdpClient::changes_since(self, watermark, overlap).await
    }

    async fn field_metadata(&self, target: &TicketTarget) -> Result<FieldMetadata> {
        check_target(target)?;
        SdpClient::field_metadata(self, target).await
    }

    async fn check_mapping(&self, rules: &MappingRules) -> Result<MappingCheck> {
        SdpClient::check_mapping(self, rules).await
    }

    fn deep_link(&self, ticket: &TicketRef) -> Url {
        self.portal().request_page(ticket.external_id().as_str())
    }
}
