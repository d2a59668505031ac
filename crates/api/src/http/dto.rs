//! JSON shapes shared by several routes (findings, ticket links, integrations, presets, field
//! metadata) and their conversions from and to the gRPC messages. Field names are the proto
//! names; times are RFC 3339 (UTC) or null; ids are UUID strings; "" means "not set" as in proto.

use lockstep_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

/// The documented values of a string the server parses into one of a closed set, from the
/// domain's own list, so the OpenAPI document (and schemathesis) offer what the server takes.
pub mod values {
    use lockstep_domain::{FindingStatus, Vendor};
    use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

    fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values))
            .build()
    }

    pub fn finding_status() -> Object {
        one_of(FindingStatus::ALL.iter().map(|s| s.as_str()))
    }

    /// A finding status, or "" for none.
    pub fn finding_status_or_none() -> Object {
        one_of(std::iter::once("").chain(FindingStatus::ALL.iter().map(|s| s.as_str())))
    }

    /// A vendor, or "" for ServiceNow.
    pub fn vendor_or_default() -> Object {
        one_of(std::iter::once("").chain(Vendor::ALL.iter().map(|v| v.as_str())))
    }

    pub fn import_format() -> Object {
        one_of(["json", "sarif"])
    }
}

/// A protobuf timestamp as RFC 3339, or `None`.
pub fn when(ts: Option<prost_types::Timestamp>) -> Option<String> {
    ts.as_ref()
        .and_then(lockstep_proto::from_timestamp)
        .and_then(|t| t.format(&Rfc3339).ok())
}

/// Ticket field values; "" leaves a field to the mapping rules or the preset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct FieldValues {
    pub impact: String,
    pub urgency: String,
    pub priority: String,
    pub category: String,
    pub assignment_group: String,
    pub assignee: String,
    pub summary_template: String,
}

impl From<FieldValues> for pb::FieldValues {
    fn from(f: FieldValues) -> Self {
        pb::FieldValues {
            impact: f.impact,
            urgency: f.urgency,
            priority: f.priority,
            category: f.category,
            assignment_group: f.assignment_group,
            assignee: f.assignee,
            summary_template: f.summary_template,
        }
    }
}

impl From<pb::FieldValues> for FieldValues {
    fn from(f: pb::FieldValues) -> Self {
        FieldValues {
            impact: f.impact,
            urgency: f.urgency,
            priority: f.priority,
            category: f.category,
            assignment_group: f.assignment_group,
            assignee: f.assignee,
            summary_template: f.summary_template,
        }
    }
}

/// A finding's ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TicketLink {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub finding_id: String,
    #[schema(format = Uuid)]
    pub integration_id: String,
    pub integration_name: String,
    pub vendor: String,
    pub table_or_project: String,
    pub external_id: String,
    pub key: String,
    /// The ticket in the vendor's UI.
    pub url: String,
    pub base_url: String,
    /// pending, live, failed, ...
    pub state: String,
    pub failure_reason: String,
    pub vendor_state: String,
    pub sla_breached: bool,
    #[schema(format = DateTime)]
    pub sla_due_time: Option<String>,
    #[schema(format = DateTime)]
    pub create_time: Option<String>,
    #[schema(format = DateTime)]
    pub update_time: Option<String>,
}

impl From<pb::TicketLink> for TicketLink {
    fn from(l: pb::TicketLink) -> Self {
        TicketLink {
            id: l.id,
            finding_id: l.finding_id,
            integration_id: l.integration_id,
            integration_name: l.integration_name,
            vendor: l.vendor,
            table_or_project: l.table_or_project,
            external_id: l.external_id,
            key: l.key,
            url: l.url,
            base_url: l.base_url,
            state: l.state,
            failure_reason: l.failure_reason,
            vendor_state: l.vendor_state,
            sla_breached: l.sla_breached,
            sla_due_time: when(l.sla_due_time),
            create_time: when(l.create_time),
            update_time: when(l.update_time),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    #[schema(format = Uuid)]
    pub id: String,
    pub scanner_key: String,
    pub title: String,
    pub description: String,
    pub severity: String,
    pub status: String,
    pub asset: String,
    pub cve: String,
    pub cwe: u32,
    pub scanner: String,
    #[schema(format = DateTime)]
    pub first_seen_time: Option<String>,
    #[schema(format = DateTime)]
    pub last_seen_time: Option<String>,
    #[schema(format = DateTime)]
    pub create_time: Option<String>,
    #[schema(format = DateTime)]
    pub update_time: Option<String>,
    pub tickets: Vec<TicketLink>,
}

impl From<pb::Finding> for Finding {
    fn from(f: pb::Finding) -> Self {
        Finding {
            id: f.id,
            scanner_key: f.scanner_key,
            title: f.title,
            description: f.description,
            severity: f.severity,
            status: f.status,
            asset: f.asset,
            cve: f.cve,
            cwe: f.cwe,
            scanner: f.scanner,
            first_seen_time: when(f.first_seen_time),
            last_seen_time: when(f.last_seen_time),
            create_time: when(f.create_time),
            update_time: when(f.update_time),
            tickets: f.tickets.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FindingPage {
    pub findings: Vec<Finding>,
    pub next_cursor: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActivityEntry {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub finding_id: String,
    #[schema(format = DateTime)]
    pub time: Option<String>,
    /// webhook, poll, manual, ...
    pub channel: String,
    /// The vendor user or the token name that made the change.
    pub actor: String,
    pub kind: String,
    pub from_status: String,
    pub to_status: String,
    pub message: String,
    /// Kind-specific details.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<pb::ActivityEntry> for ActivityEntry {
    fn from(e: pb::ActivityEntry) -> Self {
        let details = serde_json::from_str(&e.details_json)
            .ok()
            .filter(serde_json::Value::is_object)
            .unwrap_or_else(|| serde_json::json!({}));
        ActivityEntry {
            id: e.id,
            finding_id: e.finding_id,
            time: when(e.time),
            channel: e.channel,
            actor: e.actor,
            kind: e.kind,
            from_status: e.from_status,
            to_status: e.to_status,
            message: e.message,
            details,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    pub next_cursor: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SetStatusBody {
    /// open, in_progress, re_test, closed, risk_accepted, false_positive
    #[schema(schema_with = values::finding_status)]
    pub status: String,
    /// Refuse the change (409) unless the finding has this status now; "" for no check.
    #[schema(schema_with = values::finding_status_or_none)]
    pub expected_status: String,
    /// Kept in the activity feed (at most 2,000 characters).
    pub note: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ImportBody {
    /// json (Lockstep's format) or sarif.
    #[schema(schema_with = values::import_format)]
    pub format: String,
    /// The scanner's name when the document does not say.
    pub scanner: String,
    /// The scan document as text.
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportedFinding {
    #[schema(format = Uuid)]
    pub id: String,
    pub scanner_key: String,
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    pub created: i32,
    pub updated: i32,
    pub findings: Vec<ImportedFinding>,
}

impl From<pb::ImportFindingsResponse> for ImportResult {
    fn from(r: pb::ImportFindingsResponse) -> Self {
        ImportResult {
            created: r.created,
            updated: r.updated,
            findings: r
                .findings
                .into_iter()
                .map(|f| ImportedFinding {
                    id: f.id,
                    scanner_key: f.scanner_key,
                    created: f.created,
                })
                .collect(),
        }
    }
}

/// A preset of ticket field values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Preset {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub fields: FieldValues,
    #[schema(format = DateTime)]
    pub create_time: Option<String>,
    #[schema(format = DateTime)]
    pub update_time: Option<String>,
}

impl From<pb::Preset> for Preset {
    fn from(p: pb::Preset) -> Self {
        Preset {
            id: p.id,
            name: p.name,
            fields: p.fields.map(Into::into).unwrap_or_default(),
            create_time: when(p.create_time),
            update_time: when(p.update_time),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PresetPage {
    pub presets: Vec<Preset>,
    pub next_cursor: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PresetBody {
    /// Create only: a UUID that makes a retried create return the first one's preset.
    #[schema(format = Uuid)]
    pub request_id: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
    )]
    pub name: String,
    pub fields: FieldValues,
}

/// A field of a ticket form, as the vendor reports it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldInfo {
    pub name: String,
    pub required: bool,
    pub custom: bool,
    pub choices: Vec<FieldChoice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldChoice {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldMetadata {
    pub integration_id: String,
    pub container: String,
    pub fields: Vec<FieldInfo>,
    /// False when the choice lists are partial; `partial_reason` says why.
    pub complete: bool,
    pub partial_reason: String,
}

impl From<pb::FieldMetadata> for FieldMetadata {
    fn from(m: pb::FieldMetadata) -> Self {
        FieldMetadata {
            integration_id: m.integration_id,
            container: m.container,
            fields: m
                .fields
                .into_iter()
                .map(|f| FieldInfo {
                    name: f.name,
                    required: f.required,
                    custom: f.custom,
                    choices: f
                        .choices
                        .into_iter()
                        .map(|c| FieldChoice {
                            value: c.value,
                            label: c.label,
                        })
                        .collect(),
                })
                .collect(),
            complete: m.complete,
            partial_reason: m.partial_reason,
        }
    }
}
