//! JSON shapes of the Tickets workbench, re-sync and escalation routes, and their conversions
//! from and to the gRPC messages (field for field; times as RFC 3339, enums as names).

use lockstep_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{FieldValues, TicketLink, when};

/// One row of the Tickets workbench.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LinkedTicket {
    #[schema(format = Uuid)]
    pub link_id: String,
    #[schema(format = Uuid)]
    pub finding_id: String,
    pub finding_title: String,
    pub scanner_key: String,
    pub asset: String,
    pub severity: String,
    pub finding_status: String,
    #[schema(format = Uuid)]
    pub integration_id: String,
    pub integration_name: String,
    pub vendor: String,
    pub table_or_project: String,
    pub external_id: String,
    pub ticket_key: String,
    /// The ticket in the vendor's UI.
    pub deep_link: String,
    /// The finding's page here.
    pub finding_link: String,
    pub vendor_state: String,
    #[schema(format = DateTime)]
    pub sla_due_at: Option<String>,
    pub sla_breached: bool,
    /// How long past `sla_due_at` the ticket is, in seconds (0 when not overdue).
    pub overdue_secs: u64,
    #[schema(format = DateTime)]
    pub last_synced_at: Option<String>,
    pub last_sync_channel: String,
    /// The integration's last poll error; empty when its last poll succeeded.
    pub sync_error: String,
    #[schema(format = DateTime)]
    pub linked_at: Option<String>,
}

impl LinkedTicket {
    pub fn from_pb(r: pb::LinkedTicket, now: time::OffsetDateTime) -> Self {
        let overdue_secs = r
            .sla_due_at
            .as_ref()
            .and_then(lockstep_proto::from_timestamp)
            .map(|due| (now - due).whole_seconds().max(0) as u64)
            .unwrap_or(0);
        LinkedTicket {
            finding_link: format!("/findings/{}", r.finding_id),
            link_id: r.link_id,
            finding_id: r.finding_id,
            finding_title: r.finding_title,
            scanner_key: r.scanner_key,
            asset: r.asset,
            severity: r.severity,
            finding_status: r.finding_status,
            integration_id: r.integration_id,
            integration_name: r.integration_name,
            vendor: r.vendor,
            table_or_project: r.table_or_project,
            external_id: r.external_id,
            ticket_key: r.ticket_key,
            deep_link: r.deep_link,
            vendor_state: r.vendor_state,
            sla_due_at: when(r.sla_due_at),
            sla_breached: r.sla_breached,
            overdue_secs,
            last_synced_at: when(r.last_synced_at),
            last_sync_channel: r.last_sync_channel,
            sync_error: r.sync_error,
            linked_at: when(r.linked_at),
        }
    }

    /// The CSV header, in the order of [`LinkedTicket::csv_row`].
    pub const CSV_HEADER: &'static [&'static str] = &[
        "link_id",
        "finding_id",
        "finding_title",
        "scanner_key",
        "asset",
        "severity",
        "finding_status",
        "integration_id",
        "integration_name",
        "vendor",
        "table_or_project",
        "external_id",
        "ticket_key",
        "deep_link",
        "finding_link",
        "vendor_state",
        "sla_due_at",
        "sla_breached",
        "overdue_secs",
        "last_synced_at",
        "last_sync_channel",
        "sync_error",
        "linked_at",
    ];

    pub fn csv_row(&self) -> Vec<String> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            self.link_id.clone(),
            self.finding_id.clone(),
            self.finding_title.clone(),
            self.scanner_key.clone(),
            self.asset.clone(),
            self.severity.clone(),
            self.finding_status.clone(),
            self.integration_id.clone(),
            self.integration_name.clone(),
            self.vendor.clone(),
            self.table_or_project.clone(),
            self.external_id.clone(),
            self.ticket_key.clone(),
            self.deep_link.clone(),
            self.finding_link.clone(),
            self.vendor_state.clone(),
            opt(&self.sla_due_at),
            self.sla_breached.to_string(),
            self.overdue_secs.to_string(),
            opt(&self.last_synced_at),
            self.last_sync_channel.clone(),
            self.sync_error.clone(),
            opt(&self.linked_at),
        ]
    }
}

/// A page of the workbench.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TicketPage {
    pub rows: Vec<LinkedTicket>,
    /// Pass back as `cursor` with the same filters for the next page; "" on the last page.
    pub next_cursor: String,
}

/// The outcome of re-syncing one integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResyncResult {
    #[schema(format = Uuid)]
    pub integration_id: String,
    pub ok: bool,
    pub tickets_changed: u32,
    pub tickets_read: u32,
    pub error: String,
    #[schema(format = DateTime)]
    pub watermark: Option<String>,
}

impl From<pb::IntegrationResyncResult> for ResyncResult {
    fn from(r: pb::IntegrationResyncResult) -> Self {
        ResyncResult {
            integration_id: r.integration_id,
            ok: r.ok,
            tickets_changed: r.tickets_changed,
            tickets_read: r.tickets_read,
            error: r.error,
            watermark: when(r.watermark),
        }
    }
}

/// The outcome of re-syncing one ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TicketResync {
    #[schema(format = Uuid)]
    pub link_id: String,
    #[schema(format = Uuid)]
    pub finding_id: String,
    #[schema(format = Uuid)]
    pub integration_id: String,
    pub ticket_key: String,
    /// `current`: Lockstep already held the vendor's version, nothing was published;
    /// `applied`: the change was published and applied before this answer; `published`: not
    /// applied within the poller's wait, it applies when sync-applier reaches it.
    pub outcome: String,
    /// The vendor's raw state, its label when the vendor gave one, and its version.
    pub vendor_state: String,
    pub vendor_state_label: String,
    pub vendor_version: String,
    /// The finding's status at the answer (after the change when `applied`).
    pub finding_status: String,
    /// `resync` when this re-sync applied the change; `poll` or `webhook` when they brought it.
    pub last_sync_channel: String,
}

impl From<pb::ResyncTicketResponse> for TicketResync {
    fn from(r: pb::ResyncTicketResponse) -> Self {
        let outcome = match pb::TicketResyncOutcome::try_from(r.outcome) {
            Ok(pb::TicketResyncOutcome::Current) => "current",
            Ok(pb::TicketResyncOutcome::Applied) => "applied",
            Ok(pb::TicketResyncOutcome::Published) => "published",
            _ => "unspecified",
        };
        TicketResync {
            link_id: r.link_id,
            finding_id: r.finding_id,
            integration_id: r.integration_id,
            ticket_key: r.ticket_key,
            outcome: outcome.to_owned(),
            vendor_state: r.vendor_state,
            vendor_state_label: r.vendor_state_label,
            vendor_version: r.vendor_version,
            finding_status: r.finding_status,
            last_sync_channel: r.last_sync_channel,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ResyncAllBody {
    /// Integrations to re-sync; empty for every active one.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub integration_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResyncAll {
    pub tickets_changed: u32,
    pub results: Vec<ResyncResult>,
}

impl From<pb::ResyncAllResponse> for ResyncAll {
    fn from(r: pb::ResyncAllResponse) -> Self {
        ResyncAll {
            tickets_changed: r.tickets_changed,
            results: r.results.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PollStatus {
    #[schema(format = Uuid)]
    pub integration_id: String,
    pub integration_name: String,
    pub active: bool,
    #[schema(format = DateTime)]
    pub watermark: Option<String>,
    #[schema(format = DateTime)]
    pub last_success_at: Option<String>,
    #[schema(format = DateTime)]
    pub next_due_at: Option<String>,
    pub last_error: String,
    pub consecutive_failures: u32,
    pub poll_interval_secs: i64,
    pub polling: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PollStatuses {
    pub statuses: Vec<PollStatus>,
}

impl From<pb::GetPollStatusResponse> for PollStatuses {
    fn from(r: pb::GetPollStatusResponse) -> Self {
        PollStatuses {
            statuses: r
                .statuses
                .into_iter()
                .map(|s| PollStatus {
                    integration_id: s.integration_id,
                    integration_name: s.integration_name,
                    active: s.active,
                    watermark: when(s.watermark),
                    last_success_at: when(s.last_success_at),
                    next_due_at: when(s.next_due_at),
                    last_error: s.last_error,
                    consecutive_failures: s.consecutive_failures,
                    poll_interval_secs: s.poll_interval.map(|d| d.seconds).unwrap_or(0),
                    polling: s.polling,
                })
                .collect(),
        }
    }
}

/// Where and how tickets are created.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct TicketSpec {
    #[schema(format = Uuid)]
    pub integration_id: String,
    /// The container: a ServiceNow table, a Jira project, ...; "" for the integration's default.
    pub table: String,
    /// standalone, subtask or link ("" = standalone).
    pub mode: String,
    pub related_ticket: String,
    pub labels: Vec<String>,
    pub reporter: String,
    pub fields: Option<FieldValues>,
    /// A preset's id or name whose fields fill what `fields` leaves empty.
    pub preset: String,
}

impl From<TicketSpec> for pb::TicketSpec {
    fn from(s: TicketSpec) -> Self {
        pb::TicketSpec {
            integration_id: s.integration_id,
            table: s.table,
            mode: s.mode,
            related_ticket: s.related_ticket,
            labels: s.labels,
            reporter: s.reporter,
            fields: s.fields.map(Into::into),
            preset: s.preset,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PreviewBody {
    pub spec: TicketSpec,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub finding_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PreviewField {
    pub field: String,
    pub value: String,
    /// Where the value came from (mapping, preset, request, ...).
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TicketPreview {
    pub finding_id: String,
    pub fields: Vec<PreviewField>,
    pub existing: Option<TicketLink>,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Previews {
    pub previews: Vec<TicketPreview>,
}

impl From<pb::PreviewTicketsResponse> for Previews {
    fn from(r: pb::PreviewTicketsResponse) -> Self {
        Previews {
            previews: r
                .previews
                .into_iter()
                .map(|p| TicketPreview {
                    finding_id: p.finding_id,
                    fields: p
                        .fields
                        .into_iter()
                        .map(|f| PreviewField {
                            field: f.field,
                            value: f.value,
                            source: f.source,
                        })
                        .collect(),
                    existing: p.existing.map(Into::into),
                    error: p.error,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateTicketBody {
    /// A UUID: repeating the request with it never creates a second ticket.
    #[schema(format = Uuid)]
    pub request_id: String,
    #[schema(format = Uuid)]
    pub finding_id: String,
    pub spec: TicketSpec,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct BulkCreateBody {
    #[schema(format = Uuid)]
    pub request_id: String,
    /// At most 500.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub finding_ids: Vec<String>,
    pub spec: TicketSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TicketResult {
    pub finding_id: String,
    /// created, already_linked or failed.
    pub outcome: String,
    pub link: Option<TicketLink>,
    /// The gRPC code name of a failure (NOT_FOUND, ...).
    pub error_code: String,
    /// What to do about a failure.
    pub error_message: String,
}

impl From<pb::TicketResult> for TicketResult {
    fn from(r: pb::TicketResult) -> Self {
        let outcome = match pb::TicketOutcome::try_from(r.outcome) {
            Ok(pb::TicketOutcome::Created) => "created",
            Ok(pb::TicketOutcome::AlreadyLinked) => "already_linked",
            Ok(pb::TicketOutcome::Failed) => "failed",
            _ => "unspecified",
        };
        TicketResult {
            finding_id: r.finding_id,
            outcome: outcome.to_owned(),
            link: r.link.map(Into::into),
            error_code: r.error_code,
            error_message: r.error_message,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkResults {
    pub results: Vec<TicketResult>,
    pub created: i32,
    pub already_linked: i32,
    pub failed: i32,
}

impl From<pb::BulkCreateTicketsResponse> for BulkResults {
    fn from(r: pb::BulkCreateTicketsResponse) -> Self {
        BulkResults {
            results: r.results.into_iter().map(Into::into).collect(),
            created: r.created,
            already_linked: r.already_linked,
            failed: r.failed,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct CheckLinksBody {
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub finding_ids: Vec<String>,
    /// Only links to this integration; "" for any.
    pub integration_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FindingLinks {
    pub finding_id: String,
    pub linked: bool,
    pub links: Vec<TicketLink>,
    pub not_found: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckLinks {
    pub findings: Vec<FindingLinks>,
}

impl From<pb::CheckTicketLinksResponse> for CheckLinks {
    fn from(r: pb::CheckTicketLinksResponse) -> Self {
        CheckLinks {
            findings: r
                .findings
                .into_iter()
                .map(|f| FindingLinks {
                    finding_id: f.finding_id,
                    linked: f.linked,
                    links: f.links.into_iter().map(Into::into).collect(),
                    not_found: f.not_found,
                })
                .collect(),
        }
    }
}
