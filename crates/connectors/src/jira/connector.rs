//! Jira on the vendor seam: the [`Connector`] implementation of [`JiraClient`], translating
//! Lockstep's words into the REST v3 calls of the sibling modules.

use std::time::Duration;

use lockstep_domain::{
    FindingId, MappingRules, TicketObservation, TicketRef, TicketTarget, Vendor,
};
use time::OffsetDateTime;
use url::Url;

use super::client::JiraClient;
use super::create::project_of;
use super::mapping;
use crate::connector::{
    Choice, ConnectionReport, Connector, CreatedTicket, FeedBatch, FieldInfo, FieldMetadata,
    MappingCheck, OutboundChange, TicketCreate,
};
use crate::error::Result;
use crate::webhook_setup::{WebhookRegistrar, WebhookRequest};

#[async_trait::async_trait]
impl Connector for JiraClient {
    fn vendor(&self) -> Vendor {
        Vendor::Jira
    }

    async fn test_connection(&self) -> ConnectionReport {
        JiraClient::test_connection(self).await
    }

    async fn create(&self, ticket: &TicketCreate) -> Result<CreatedTicket> {
        self.create_issue(ticket).await
    }

    /// One ticket is a single create; several go through `/issue/bulk` in chunks of 50.
    async fn create_many(&self, tickets: &[TicketCreate]) -> Vec<Result<CreatedTicket>> {
        if let [one] = tickets {
            return vec![self.create_issue(one).await];
        }
        self.create_issues(tickets).await
    }

    async fn find_by_correlation(
        &self,
        target: &TicketTarget,
        finding: FindingId,
    ) -> Result<Option<TicketObservation>> {
        JiraClient::find_by_correlation(self, target, finding).await
    }

    /// The status through the workflow's transitions (the note rides on the last one), then the
    /// priority when asked.
    async fn push(&self, ticket: &TicketRef, change: &OutboundChange) -> Result<TicketObservation> {
        self.push_change(ticket, change).await
    }

    /// One GET of the issue (by its id, which survives a move to another project) with the
    /// fields the change feed reads.
    async fn read_ticket(&self, ticket: &TicketRef) -> Result<TicketObservation> {
        project_of(ticket.target())?;
        self.read_issue(ticket.external_id().as_str()).await
    }

    async fn changes_since(
        &self,
        watermark: OffsetDateTime,
        overlap: Duration,
        targets: &[TicketTarget],
    ) -> Result<FeedBatch> {
        JiraClient::changes_since(self, watermark, overlap, targets).await
    }

    /// Admin webhooks over `/rest/webhooks/1.0/webhook` (Jira administrators only).
    fn webhooks(&self) -> Option<&dyn WebhookRegistrar> {
        Some(self)
    }

    fn manual_webhook_steps(&self, request: &WebhookRequest<'_>) -> String {
        super::webhook_setup::manual_steps(request)
    }

    /// The create fields of the configured issue type: required and custom fields, and the
    /// values of choice fields (priorities, select options) from createmeta.
    async fn field_metadata(&self, target: &TicketTarget) -> Result<FieldMetadata> {
        let meta = self.create_meta(project_of(target)?, false).await?;
        Ok(FieldMetadata {
            target: target.clone(),
            complete: true,
            partial_reason: None,
            fields: meta
                .fields
                .iter()
                .map(|f| {
                    let info = FieldInfo {
                        required: f.required,
                        custom: f.custom(),
                        choices: f
                            .allowed
                            .iter()
                            .map(|a| Choice {
                                value: a.name.clone(),
                                label: a.name.clone(),
                                sequence: None,
                            })
                            .collect(),
                    };
                    (f.id.clone(), info)
                })
                .collect(),
        })
    }

    async fn check_mapping(&self, rules: &MappingRules) -> Result<MappingCheck> {
        mapping::check(self, rules).await
    }

    fn deep_link(&self, ticket: &TicketRef) -> Url {
        self.site().browse(ticket.key().as_str())
    }
}
