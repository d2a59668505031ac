//! ServiceNow on the vendor seam: [`ServiceNowSpec`] (what needs no client) and the
//! [`Connector`] implementation of [`ServiceNowClient`], translating Lockstep's words into the
//! Table API calls of the sibling modules.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lockstep_domain::{
    FindingId, MappingRules, ServiceNowTable, TicketMode, TicketObservation, TicketRef,
    TicketTarget, Vendor,
};
use time::OffsetDateTime;
use url::Url;

use super::auth::CredentialsHandle;
use super::client::{ServiceNowClient, ServiceNowConfig};
use super::url::InstanceUrl;
use super::writes::{NewTicket, StateChange};
use super::{mapping, parse_webhook};
use crate::connector::{
    ConnectionReport, Connector, CreatedTicket, FeedBatch, FieldInfo, FieldMetadata, MappingCheck,
    OutboundChange, SlaSource, SlaStatus, TicketCreate,
};
use crate::credentials::AuthKind;
use crate::error::{ConnectorError, Result};
use crate::spec::{ConnectorSetup, VendorSpec};
use crate::webhook::{StandardWebhooksAuth, WebhookAuth, WebhookEvent};

static AUTH: StandardWebhooksAuth = StandardWebhooksAuth;

/// Where tickets go when nothing names a table.
const DEFAULT_TABLE: ServiceNowTable = ServiceNowTable::Incident;

#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceNowSpec;

fn table_of(target: &TicketTarget) -> Result<ServiceNowTable> {
    match target {
        TicketTarget::ServiceNow(table) => Ok(*table),
        other => Err(ConnectorError::config(format!(
            "{other} is not a ServiceNow table"
        ))),
    }
}

impl VendorSpec for ServiceNowSpec {
    fn auth_kinds(&self) -> &'static [AuthKind] {
        &[
            AuthKind::Basic,
            AuthKind::OAuthPassword,
            AuthKind::OAuthClientCredentials,
            AuthKind::ApiKey,
        ]
    }

    fn vendor(&self) -> Vendor {
        Vendor::ServiceNow
    }

    fn webhook_auth(&self) -> &dyn WebhookAuth {
        &AUTH
    }

    fn parse_webhook(&self, body: &[u8], received_at: OffsetDateTime) -> Result<WebhookEvent> {
        parse_webhook(body, received_at)
    }

    fn normalize_base_url(&self, input: &str) -> Result<String> {
        InstanceUrl::parse(input).map(|u| u.as_str().trim_end_matches('/').to_owned())
    }

    fn parse_container(&self, input: &str) -> Result<TicketTarget> {
        let table: ServiceNowTable = input.trim().to_ascii_lowercase().parse().map_err(|_| {
            ConnectorError::config(format!(
                "{input:?} is not a ServiceNow table Lockstep writes; use incident or change_request"
            ))
        })?;
        Ok(TicketTarget::ServiceNow(table))
    }

    fn default_container(&self) -> Option<&'static str> {
        Some(DEFAULT_TABLE.as_str())
    }

    fn deep_link(&self, base_url: &str, ticket: &TicketRef) -> Option<String> {
        let instance = InstanceUrl::parse(base_url).ok()?;
        Some(
            record_url(
                &instance,
                ticket.target().container(),
                ticket.external_id().as_str(),
            )
            .into(),
        )
    }

    fn connect(&self, setup: ConnectorSetup) -> Result<Arc<dyn Connector>> {
        let handle = CredentialsHandle::new(setup.credentials)?;
        let instance = InstanceUrl::parse(&setup.base_url)?;
        Ok(Arc::new(ServiceNowClient::new(
            setup.exec,
            ServiceNowConfig::new(setup.integration, instance),
            handle,
        )))
    }
}

/// The one deep-link shape of a ServiceNow record: `<instance>/<table>.do?sys_id=<sys_id>`.
pub(crate) fn record_url(instance: &InstanceUrl, table: &str, sys_id: &str) -> Url {
    let mut url = instance.join(&format!("{table}.do"));
    url.query_pairs_mut().append_pair("sys_id", sys_id);
    url
}

impl NewTicket {
    /// The Table API ticket of a [`TicketCreate`]: the draft's fields, plus reporter, mode and
    /// labels. A subtask names its parent (`parent_incident` on incidents, `parent` on change
    /// requests); a link to a change request sets an incident's `rfc`; every link leaves a work
    /// note naming the related ticket.
    pub fn from_create(create: &TicketCreate) -> Result<Self> {
        let mut ticket = NewTicket::from_draft(&create.draft)?;
        ticket.correlation_display = create.reference_label.clone();
        ticket.caller = create.reporter.clone();
        match &create.mode {
            TicketMode::Standalone => {}
            TicketMode::Subtask { parent } => {
                let field = match ticket.table {
                    ServiceNowTable::Incident => "parent_incident",
                    ServiceNowTable::ChangeRequest => "parent",
                };
                ticket
                    .extra
                    .insert(field.into(), parent.as_str().to_owned());
            }
            TicketMode::Link { related } => {
                if ticket.table == ServiceNowTable::Incident && related.as_str().starts_with("CHG")
                {
                    ticket
                        .extra
                        .insert("rfc".into(), related.as_str().to_owned());
                }
                ticket.extra.insert(
                    "work_notes".into(),
                    format!("Related ticket: {related} (linked by Lockstep)"),
                );
            }
        }
        if !create.labels.is_empty() {
            ticket.description = format!(
                "{}\n\nLabels: {}",
                ticket.description,
                create.labels.join(", ")
            );
        }
        Ok(ticket)
    }
}

#[async_trait::async_trait]
impl SlaSource for ServiceNowClient {
    async fn read_slas(
        &self,
        external_ids: &[&str],
        now: OffsetDateTime,
    ) -> Result<HashMap<String, SlaStatus>> {
        Ok(ServiceNowClient::read_slas(self, external_ids, now)
            .await?
            .into_iter()
            .map(|(id, sla)| {
                (
                    id,
                    SlaStatus {
                        due: sla.due,
                        breached: sla.breached,
                    },
                )
            })
            .collect())
    }
}

#[async_trait::async_trait]
impl Connector for ServiceNowClient {
    fn vendor(&self) -> Vendor {
        Vendor::ServiceNow
    }

    async fn test_connection(&self) -> ConnectionReport {
        (&ServiceNowClient::test_connection(self).await).into()
    }

    async fn create(&self, ticket: &TicketCreate) -> Result<CreatedTicket> {
        self.create_ticket(&NewTicket::from_create(ticket)?).await
    }

    /// One ticket is a single create; several go through the Batch API.
    async fn create_many(&self, tickets: &[TicketCreate]) -> Vec<Result<CreatedTicket>> {
        if let [one] = tickets {
            return vec![Connector::create(self, one).await];
        }
        let mut results: Vec<Option<Result<CreatedTicket>>> = Vec::with_capacity(tickets.len());
        let mut built = Vec::new();
        let mut slots = Vec::new();
        for (i, t) in tickets.iter().enumerate() {
            match NewTicket::from_create(t) {
                Ok(ticket) => {
                    built.push(ticket);
                    slots.push(i);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        if !built.is_empty() {
            let outcome = self.create_tickets(&built).await;
            for (i, r) in slots.into_iter().zip(outcome.results) {
                results[i] = Some(r);
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(ConnectorError::invalid_response("no result"))))
            .collect()
    }

    async fn find_by_correlation(
        &self,
        target: &TicketTarget,
        finding: FindingId,
    ) -> Result<Option<TicketObservation>> {
        ServiceNowClient::find_by_correlation(self, table_of(target)?, finding).await
    }

    async fn find_or_create(&self, ticket: &TicketCreate) -> Result<CreatedTicket> {
        self.find_or_create_ticket(&NewTicket::from_create(ticket)?)
            .await
    }

    /// State, close code, close notes and the work note in ONE PATCH.
    async fn push(&self, ticket: &TicketRef, change: &OutboundChange) -> Result<TicketObservation> {
        if change.priority.is_some() {
            return Err(ConnectorError::config(
                "ServiceNow computes priority from impact and urgency; push those instead",
            ));
        }
        let mut state = StateChange::from(&change.push);
        state.work_note = change.note.clone();
        self.update_state(ticket, &state).await
    }

    /// One GET of the record with the fields the change feed reads.
    async fn read_ticket(&self, ticket: &TicketRef) -> Result<TicketObservation> {
        self.get_ticket(ticket).await
    }

    async fn changes_since(
        &self,
        watermark: OffsetDateTime,
        overlap: Duration,
        targets: &[TicketTarget],
    ) -> Result<FeedBatch> {
        let tables = targets.iter().map(table_of).collect::<Result<Vec<_>>>()?;
        ServiceNowClient::changes_since(self, watermark, overlap, &tables).await
    }

    fn sla(&self) -> Option<&dyn SlaSource> {
        Some(self)
    }

    async fn field_metadata(&self, target: &TicketTarget) -> Result<FieldMetadata> {
        let choices = self.read_choices(table_of(target)?).await?;
        Ok(FieldMetadata {
            target: target.clone(),
            complete: choices.source == super::ChoiceSource::SysChoice,
            partial_reason: choices.fallback_reason,
            fields: choices
                .fields
                .into_iter()
                .map(|(name, choices)| {
                    let custom = name.starts_with("u_");
                    (
                        name,
                        FieldInfo {
                            required: false,
                            custom,
                            choices,
                        },
                    )
                })
                .collect(),
        })
    }

    async fn check_mapping(&self, rules: &MappingRules) -> Result<MappingCheck> {
        mapping::check(self, rules).await
    }

    fn deep_link(&self, ticket: &TicketRef) -> Url {
        self.record_url(ticket.target().container(), ticket.external_id().as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_and_the_client_give_the_one_deep_link() {
        let ticket = TicketRef::parse(
            Vendor::ServiceNow,
            "incident",
            "0123456789abcdef0123456789abcdef",
            "INC0010001",
        )
        .unwrap();
        assert_eq!(
            ServiceNowSpec
                .deep_link("https://acme.service-now.com/", &ticket)
                .as_deref(),
            Some(
                "https://acme.service-now.com/incident.do?sys_id=0123456789abcdef0123456789abcdef"
            )
        );
    }

    #[test]
    fn containers_parse_to_tables_and_anything_else_is_refused() {
        assert_eq!(
            ServiceNowSpec.parse_container(" Change_Request ").unwrap(),
            TicketTarget::ServiceNow(ServiceNowTable::ChangeRequest)
        );
        let err = ServiceNowSpec.parse_container("PROJ").unwrap_err();
        assert!(
            err.to_string().contains("incident or change_request"),
            "{err}"
        );
    }
}
