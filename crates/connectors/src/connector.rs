//! The [`Connector`] trait: everything the services ask of a vendor instance, whatever the
//! vendor. One implementation per vendor (`servicenow/connector.rs`, and Jira and ServiceDesk
//! Plus next), built by that vendor's [`crate::VendorSpec`] and handed out by the
//! [`crate::registry`]. The types here are the vendor-neutral words of that conversation.
//!
//! Shapes other vendors need were kept in mind: Jira creates into a project and issue type,
//! moves a ticket through workflow transitions (a path, not a field write) and pages its JQL feed
//! with `nextPageToken`; ServiceDesk Plus creates from a request template with `input_data`. The
//! trait therefore speaks of targets ([`TicketTarget`]), a wanted end state ([`OutboundChange`])
//! and a time watermark, and leaves requests, paths and page tokens to the implementation.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures::StreamExt as _;
use lockstep_domain::{
    FindingId, Label, MappingRules, ObservedFields, OutboundPush, TicketDraft, TicketMode,
    TicketObservation, TicketRef, TicketTarget, Vendor,
};
use time::OffsetDateTime;
use url::Url;

use crate::error::{ConnectorError, Result};
use crate::webhook_setup::{WebhookRegistrar, WebhookRequest, generic_steps};

/// Creates in flight at once in [`Connector::create_many`]'s default loop.
pub const DEFAULT_BULK_CONCURRENCY: usize = 8;

/// A ticket to create, in Lockstep's terms; the connector turns it into its vendor's request.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketCreate {
    /// The content exactly as previewed (target, summary, description, priority, fields).
    pub draft: TicketDraft,
    pub finding_id: FindingId,
    /// A human label shown with the correlation id where the vendor has a place for one
    /// (`Lockstep NES-19506`).
    pub reference_label: String,
    /// Who reported it (a vendor user name or id), when the request named one.
    pub reporter: Option<String>,
    /// Standalone, a subtask of a parent, or linked to a related ticket.
    pub mode: TicketMode,
    pub labels: Vec<String>,
}

/// A ticket that exists (created now, or found by correlation id).
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedTicket {
    pub ticket: TicketRef,
    pub observation: TicketObservation,
    /// The one deep link to the ticket ([`Connector::deep_link`]).
    pub url: Url,
    /// True when the ticket was found by its correlation id rather than created by this call.
    pub recovered: bool,
}

/// A finding change pushed to its ticket: the end state the outbound rules want (the connector
/// finds its way there: a field write, or a path of workflow transitions), a note, a priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundChange {
    pub push: OutboundPush,
    /// A note for the people working the ticket (internal where the vendor has such notes).
    pub note: Option<String>,
    /// A priority to set, for vendors where it is a field of its own (not computed).
    pub priority: Option<Label>,
}

/// What one change-feed run found.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedBatch {
    /// Ordered by target, then update time.
    pub observations: Vec<TicketObservation>,
    /// The watermark to store for the next run: the newest update time read, or, when the record
    /// cap cut a read short, the last second read completely. Never earlier than the watermark
    /// passed in.
    pub next_watermark: OffsetDateTime,
    /// False when the record cap cut the run short; run again soon.
    pub complete: bool,
    /// Records that could not be parsed (logged with the reason), skipped.
    pub skipped: usize,
    /// Vendor requests made.
    pub pages: u32,
}

/// One ticket's SLA picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaStatus {
    /// The earliest breach time of the SLAs still running.
    pub due: Option<OffsetDateTime>,
    pub breached: bool,
}

impl SlaStatus {
    /// Writes due and breached into an observation's fields.
    pub fn apply_to(&self, fields: &mut ObservedFields) {
        fields.sla_due = self.due;
        fields.sla_breached = Some(self.breached);
    }
}

/// The optional SLA capability of a connector.
#[async_trait::async_trait]
pub trait SlaSource: Send + Sync {
    /// The SLAs of the given tickets (external ids), judged at `now`, keyed by external id.
    /// Tickets without SLAs are absent.
    async fn read_slas(
        &self,
        external_ids: &[&str],
        now: OffsetDateTime,
    ) -> Result<HashMap<String, SlaStatus>>;
}

/// A value a field accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub sequence: Option<i64>,
}

/// What a form or a mapping check needs to know about one field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldInfo {
    pub required: bool,
    /// A field the customer added (Jira `customfield_*`, ServiceNow `u_*`, SDP udf fields).
    pub custom: bool,
    /// The values it accepts, when it is a choice field; ordered as the vendor shows them.
    pub choices: Vec<Choice>,
}

/// The fields of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMetadata {
    pub target: TicketTarget,
    /// Field name → what it accepts.
    pub fields: BTreeMap<String, FieldInfo>,
    /// False when the choice lists are partial (e.g. read from sample tickets because the real
    /// lists are not readable); then an unknown value cannot be called invalid.
    pub complete: bool,
    /// Why the lists are partial, when they are.
    pub partial_reason: Option<String>,
}

impl FieldMetadata {
    pub fn choices(&self, field: &str) -> &[Choice] {
        self.fields
            .get(field)
            .map(|f| f.choices.as_slice())
            .unwrap_or(&[])
    }
}

/// Values of mapping rules the instance does not accept (errors), and values that could not be
/// confirmed (warnings).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MappingCheck {
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

/// How one check of a connection test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Pass,
    /// Works, but only partly verified or with a limitation the detail names.
    Warn,
    Fail,
    /// Not run because an earlier check failed.
    Skipped,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Skipped => "skipped",
        }
    }
}

/// One check of a connection test, in API terms: stable snake_case ids chosen by the vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub id: &'static str,
    pub title: &'static str,
    pub status: CheckStatus,
    pub detail: String,
    /// The troubleshooting class (`authentication_failed`, `wrong_url`, ...), when it failed.
    pub problem: Option<&'static str>,
    /// What the vendor instance's admin should do.
    pub remedy: Option<String>,
}

/// The result of a connection test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReport {
    /// The instance or site tested.
    pub instance: String,
    /// The user name the vendor sees, when it could be read.
    pub user_name: Option<String>,
    pub checks: Vec<CheckReport>,
}

impl ConnectionReport {
    /// True when nothing failed (warnings allowed).
    pub fn ok(&self) -> bool {
        self.checks
            .iter()
            .all(|c| matches!(c.status, CheckStatus::Pass | CheckStatus::Warn))
    }
}

/// A vendor instance as the services see it. Dyn-safe: the services hold `Arc<dyn Connector>`.
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    fn vendor(&self) -> Vendor;

    /// The structured connection and permission test; leaves nothing behind on the instance.
    async fn test_connection(&self) -> ConnectionReport;

    /// Creates one ticket carrying the finding's correlation id. A create whose answer is lost is
    /// repaired by looking the correlation id up, never by creating a second ticket.
    async fn create(&self, ticket: &TicketCreate) -> Result<CreatedTicket>;

    /// Creates several tickets, one result per ticket in order; one failure does not stop the
    /// others. The default is a bounded parallel loop over [`Connector::create`]; vendors with a
    /// bulk API override it.
    async fn create_many(&self, tickets: &[TicketCreate]) -> Vec<Result<CreatedTicket>> {
        // The futures are made first: a closure in the stream would need a higher-ranked
        // lifetime the async-trait boxes cannot name.
        let creates: Vec<_> = tickets.iter().map(|t| self.create(t)).collect();
        futures::stream::iter(creates)
            .buffered(DEFAULT_BULK_CONCURRENCY)
            .collect()
            .await
    }

    /// The ticket of `finding` in `target`, found by its correlation id.
    async fn find_by_correlation(
        &self,
        target: &TicketTarget,
        finding: FindingId,
    ) -> Result<Option<TicketObservation>>;

    /// The ticket of `ticket.finding_id` when it exists, else a new one.
    async fn find_or_create(&self, ticket: &TicketCreate) -> Result<CreatedTicket> {
        match self
            .find_by_correlation(&ticket.draft.target, ticket.finding_id)
            .await?
        {
            Some(observation) => Ok(CreatedTicket {
                url: self.deep_link(&observation.ticket),
                ticket: observation.ticket.clone(),
                observation,
                recovered: true,
            }),
            None => self.create(ticket).await,
        }
    }

    /// Moves a ticket to the state a finding change asks for, with its note, as ONE vendor
    /// request where the vendor allows it (so the note never lands without the state or the
    /// reverse). Returns the ticket as the vendor answered.
    async fn push(&self, ticket: &TicketRef, change: &OutboundChange) -> Result<TicketObservation>;

    /// One ticket as the vendor has it now: the re-read a webhook notice asks for
    /// ([`crate::VendorSpec::webhook_payload_is_notice`]) and a re-sync of one ticket
    /// (`SyncService.ResyncTicket`). The default refuses, for a vendor that cannot read one
    /// ticket (every built-in vendor can).
    async fn read_ticket(&self, ticket: &TicketRef) -> Result<TicketObservation> {
        Err(ConnectorError::config(format!(
            "{} tickets cannot be read one at a time ({ticket})",
            self.vendor()
        )))
    }

    /// Lockstep's tickets in `targets` updated at or after `watermark − overlap`.
    async fn changes_since(
        &self,
        watermark: OffsetDateTime,
        overlap: Duration,
        targets: &[TicketTarget],
    ) -> Result<FeedBatch>;

    /// The SLA capability, for vendors that have SLAs Lockstep can read.
    fn sla(&self) -> Option<&dyn SlaSource> {
        None
    }

    /// The webhook auto-setup capability, for vendors whose API can register webhooks.
    fn webhooks(&self) -> Option<&dyn WebhookRegistrar> {
        None
    }

    /// The steps an admin takes to set the webhook up by hand (URL, events, scope, where the
    /// secret goes): shown when there is no registrar or the account may not use it.
    fn manual_webhook_steps(&self, request: &WebhookRequest<'_>) -> String {
        generic_steps(self.vendor().as_str(), request)
    }

    /// The fields of `target`: choices, required and custom fields.
    async fn field_metadata(&self, target: &TicketTarget) -> Result<FieldMetadata>;

    /// Checks mapping rules against the instance's own choices. The default checks nothing.
    async fn check_mapping(&self, _rules: &MappingRules) -> Result<MappingCheck> {
        Ok(MappingCheck::default())
    }

    /// The one deep link to a ticket in the vendor's UI.
    fn deep_link(&self, ticket: &TicketRef) -> Url;
}
