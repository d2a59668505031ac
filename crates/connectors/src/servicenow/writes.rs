//! Writing tickets: create an incident or change_request, find one by correlation id, move it
//! to another state with close code and notes, add a work note.
//!
//! Every created ticket carries `correlation_id = lockstep:<finding id>`. A create whose answer is
//! lost (timeout, dropped connection, 5xx) is repaired by looking the correlation id up, never by
//! creating a second ticket.

use std::collections::BTreeMap;

use http::Method;
use lockstep_domain::{
    CorrelationId, DraftPriority, FieldValues, Finding, FindingId, Impact, Label, MappingRules,
    OutboundPush, ServiceNowFields, ServiceNowTable, Sourced, Template, TicketDraft,
    TicketObservation, TicketRef, TicketTarget, Urgency, Vendor,
};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use url::Url;

use super::client::{ServiceNowClient, SnCall};
use super::record::{OBSERVED_FIELDS, SnRecord, observation_from_record};
pub use crate::connector::CreatedTicket;
use crate::error::{ConnectorError, Result};

/// ServiceNow's `short_description` and `description` lengths (base dictionary).
pub const SHORT_DESCRIPTION_MAX: usize = 160;
pub const DESCRIPTION_MAX: usize = 4000;
const CORRELATION_DISPLAY_MAX: usize = 100;

/// A ticket to create, in ServiceNow's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    pub table: ServiceNowTable,
    pub finding_id: FindingId,
    pub short_description: String,
    pub description: String,
    pub impact: Option<Impact>,
    pub urgency: Option<Urgency>,
    /// A `category` choice value (`software`).
    pub category: Option<String>,
    /// References (`sys_user_group`, `sys_user`): a sys_id, or the exact display name.
    pub assignment_group: Option<String>,
    pub assigned_to: Option<String>,
    /// `caller_id` on incidents, `requested_by` on change requests.
    pub caller: Option<String>,
    /// Shown next to the correlation id in ServiceNow (`Lockstep NES-19506`).
    pub correlation_display: String,
    /// Any further columns, e.g. a change request's `type`.
    pub extra: BTreeMap<String, String>,
}

impl NewTicket {
    /// The ticket a domain [`TicketDraft`] describes: summary (`[LOCKSTEP] <key> - <title>` unless
    /// a preset or the request chose another template), description, impact, urgency, category,
    /// assignment group and assignee exactly as previewed. Set `caller` and `extra` afterwards if
    /// needed.
    pub fn from_draft(draft: &TicketDraft) -> Result<Self> {
        let TicketTarget::ServiceNow(table) = draft.target else {
            return Err(ConnectorError::config(format!(
                "the draft targets {}, not a ServiceNow table",
                draft.target
            )));
        };
        let (impact, urgency) = match &draft.priority {
            DraftPriority::ServiceNow {
                impact, urgency, ..
            } => (Some(impact.value), Some(urgency.value)),
            DraftPriority::Named(_) | DraftPriority::Levels { .. } => (None, None),
        };
        let label = |l: &Option<Sourced<Label>>| l.as_ref().map(|s| s.value.as_str().to_owned());
        Ok(Self {
            table,
            finding_id: draft.correlation_id.finding_id(),
            short_description: draft.summary.value.clone(),
            description: draft.description.clone(),
            impact,
            urgency,
            category: label(&draft.category),
            assignment_group: label(&draft.assignment_group),
            assigned_to: label(&draft.assignee),
            caller: None,
            correlation_display: "Lockstep".to_owned(),
            extra: BTreeMap::new(),
        })
    }

    /// The ticket for a finding with the default ServiceNow mapping, `fields` overriding impact,
    /// urgency and category, and `template` the summary (default `[LOCKSTEP] {key} - {title}`).
    /// Goes through [`TicketDraft::build`], so the result is what a preview would show.
    pub fn for_finding(
        table: ServiceNowTable,
        finding: &Finding,
        fields: &ServiceNowFields,
        template: Option<&Template>,
    ) -> Result<Self> {
        let request = FieldValues {
            impact: Some(fields.impact),
            urgency: Some(fields.urgency),
            category: fields.category.clone(),
            summary_template: template.cloned(),
            ..FieldValues::default()
        };
        let draft = TicketDraft::build(
            finding,
            &TicketTarget::ServiceNow(table),
            &MappingRules::defaults(Vendor::ServiceNow),
            &FieldValues::default(),
            &request,
        )
        .map_err(|e| ConnectorError::config(e.to_string()))?;
        let mut ticket = Self::from_draft(&draft)?;
        ticket.correlation_display = format!("Lockstep {}", finding.scanner_key);
        Ok(ticket)
    }

    pub fn correlation_id(&self) -> CorrelationId {
        CorrelationId::for_finding(self.finding_id)
    }

    /// The Table API body: plain values, long texts cut to ServiceNow's field lengths.
    pub fn to_body(&self) -> Value {
        let mut body = Map::new();
        let mut put = |k: &str, v: String| {
            body.insert(k.to_owned(), Value::String(v));
        };
        put(
            "short_description",
            cut(&self.short_description, SHORT_DESCRIPTION_MAX),
        );
        put("description", cut(&self.description, DESCRIPTION_MAX));
        put("correlation_id", self.correlation_id().to_string());
        put(
            "correlation_display",
            cut(&self.correlation_display, CORRELATION_DISPLAY_MAX),
        );
        if let Some(v) = self.impact {
            put("impact", v.wire().to_owned());
        }
        if let Some(v) = self.urgency {
            put("urgency", v.wire().to_owned());
        }
        let optional = [
            ("category", &self.category),
            ("assignment_group", &self.assignment_group),
            ("assigned_to", &self.assigned_to),
            (caller_field(self.table), &self.caller),
        ];
        for (k, v) in optional {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                put(k, v.to_owned());
            }
        }
        for (k, v) in &self.extra {
            put(k, v.clone());
        }
        Value::Object(body)
    }
}

fn caller_field(table: ServiceNowTable) -> &'static str {
    match table {
        ServiceNowTable::Incident => "caller_id",
        ServiceNowTable::ChangeRequest => "requested_by",
    }
}

/// Cuts `text` to `max` characters, marking the cut with an ellipsis.
pub fn cut(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A state change: the `state` value plus, for resolving or closing, close code and notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub state: String,
    pub close_code: Option<String>,
    pub close_notes: Option<String>,
    /// A work note added in the same update.
    pub work_note: Option<String>,
}

impl From<&OutboundPush> for StateChange {
    fn from(push: &OutboundPush) -> Self {
        Self {
            state: push.state.as_str().to_owned(),
            close_code: push.close_code.as_ref().map(|c| c.as_str().to_owned()),
            close_notes: push.close_notes.clone(),
            work_note: None,
        }
    }
}

fn table_path(table: ServiceNowTable) -> String {
    format!("api/now/table/{}", table.as_str())
}

fn record_path(ticket: &TicketRef) -> String {
    format!(
        "api/now/table/{}/{}",
        ticket.target().container(),
        ticket.external_id()
    )
}

/// Query parameters of every write and read whose answer becomes an observation.
pub(crate) fn observed_params(call: SnCall) -> SnCall {
    call.query("sysparm_display_value", "all")
        .query("sysparm_exclude_reference_link", "true")
        .query("sysparm_fields", OBSERVED_FIELDS.join(","))
}

impl ServiceNowClient {
    /// The ServiceNow UI address of a record.
    pub fn record_url(&self, table: &str, sys_id: &str) -> Url {
        super::connector::record_url(self.instance(), table, sys_id)
    }

    /// Creates the ticket. If the answer is lost, looks the correlation id up before giving up.
    pub async fn create_ticket(&self, ticket: &NewTicket) -> Result<CreatedTicket> {
        match self.post_ticket(ticket).await {
            Ok(created) => Ok(created),
            Err(e) if answer_may_be_lost(&e) => match self
                .find_by_correlation(ticket.table, ticket.finding_id)
                .await
            {
                Ok(Some(observation)) => {
                    tracing::warn!(error = %e, ticket = %observation.ticket, "create answer lost; found the ticket by correlation id");
                    Ok(self.created(observation, true))
                }
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Looks the correlation id up first and creates only when nothing is found: for retrying
    /// work whose earlier attempt may have reached ServiceNow.
    pub async fn find_or_create_ticket(&self, ticket: &NewTicket) -> Result<CreatedTicket> {
        match self
            .find_by_correlation(ticket.table, ticket.finding_id)
            .await?
        {
            Some(observation) => Ok(self.created(observation, true)),
            None => self.create_ticket(ticket).await,
        }
    }

    async fn post_ticket(&self, ticket: &NewTicket) -> Result<CreatedTicket> {
        let call = observed_params(SnCall::new(
            create_op(ticket.table),
            Method::POST,
            table_path(ticket.table),
        ))
        .body(ticket.to_body());
        let resp = self.call(&call).await?;
        let record = SnRecord::from_json(resp.result_object()?)?;
        let observation =
            observation_from_record(&record, Some(ticket.table), OffsetDateTime::now_utc())?;
        Ok(self.created(observation, false))
    }

    pub(crate) fn created(&self, observation: TicketObservation, recovered: bool) -> CreatedTicket {
        let ticket = observation.ticket.clone();
        let url = self.record_url(ticket.target().container(), ticket.external_id().as_str());
        CreatedTicket {
            ticket,
            observation,
            url,
            recovered,
        }
    }

    /// The ticket of a finding in `table`, found by `correlation_id = lockstep:<finding id>`.
    /// When several exist (created by hand or by an older tool) the oldest is returned.
    pub async fn find_by_correlation(
        &self,
        table: ServiceNowTable,
        finding: FindingId,
    ) -> Result<Option<TicketObservation>> {
        let correlation = CorrelationId::for_finding(finding).to_string();
        let call = observed_params(SnCall::new(
            "find_by_correlation",
            Method::GET,
            table_path(table),
        ))
        .query(
            "sysparm_query",
            format!("correlation_id={correlation}^ORDERBYsys_created_on^ORDERBYsys_id"),
        )
        .query("sysparm_limit", "2");
        let resp = self.call(&call).await?;
        let rows = resp.result_list()?;
        if rows.len() > 1 {
            tracing::warn!(%correlation, table = table.as_str(), "several ServiceNow tickets carry the same correlation id; using the oldest");
        }
        let now = OffsetDateTime::now_utc();
        rows.first()
            .map(|row| {
                SnRecord::from_json(row).and_then(|r| observation_from_record(&r, Some(table), now))
            })
            .transpose()
    }

    /// Reads one ticket's current state.
    pub async fn get_ticket(&self, ticket: &TicketRef) -> Result<TicketObservation> {
        let call = observed_params(SnCall::new("get_ticket", Method::GET, record_path(ticket)));
        let resp = self.call(&call).await?;
        let record = SnRecord::from_json(resp.result_object()?)?;
        observation_from_record(&record, table_of(ticket), OffsetDateTime::now_utc())
    }

    /// Moves the ticket to `change.state` with close code and notes in one PATCH (ServiceNow's
    /// data policy checks them together). A refused resolve comes back as
    /// [`ConnectorError::DataPolicy`].
    pub async fn update_state(
        &self,
        ticket: &TicketRef,
        change: &StateChange,
    ) -> Result<TicketObservation> {
        let mut body = Map::new();
        body.insert("state".into(), json!(change.state.trim()));
        if let Some(code) = change
            .close_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            body.insert("close_code".into(), json!(code));
        }
        if let Some(notes) = change
            .close_notes
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            body.insert("close_notes".into(), json!(cut(notes, DESCRIPTION_MAX)));
        }
        if let Some(note) = change
            .work_note
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            body.insert("work_notes".into(), json!(note));
        }
        // Setting fields to fixed values is idempotent, unless a journal entry is appended.
        let idempotent = change.work_note.is_none();
        let call = observed_params(SnCall::new(
            "update_state",
            Method::PATCH,
            record_path(ticket),
        ))
        .body(Value::Object(body))
        .idempotent(idempotent);
        let resp = self.call(&call).await?;
        let record = SnRecord::from_json(resp.result_object()?)?;
        observation_from_record(&record, table_of(ticket), OffsetDateTime::now_utc())
    }

    /// Appends a work note (journal entry; visible to fulfillers only).
    pub async fn add_work_note(&self, ticket: &TicketRef, note: &str) -> Result<()> {
        let note = note.trim();
        if note.is_empty() {
            return Err(ConnectorError::config("a work note needs some text"));
        }
        let call = SnCall::new("add_work_note", Method::PATCH, record_path(ticket))
            .query("sysparm_fields", "sys_id")
            .body(json!({ "work_notes": note }))
            .idempotent(false);
        self.call(&call).await.map(|_| ())
    }
}

pub(crate) fn create_op(table: ServiceNowTable) -> &'static str {
    match table {
        ServiceNowTable::Incident => "create_incident",
        ServiceNowTable::ChangeRequest => "create_change_request",
    }
}

fn table_of(ticket: &TicketRef) -> Option<ServiceNowTable> {
    ticket.target().container().parse().ok()
}

/// Whether ServiceNow may have created the record although we got no answer.
pub(crate) fn answer_may_be_lost(e: &ConnectorError) -> bool {
    match e {
        ConnectorError::Timeout { .. } | ConnectorError::Transport { .. } => true,
        ConnectorError::Vendor { status, .. } => *status >= 500,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_respects_characters_and_marks_the_cut() {
        assert_eq!(cut("  short ", 10), "short");
        let long = "é".repeat(200);
        let out = cut(&long, SHORT_DESCRIPTION_MAX);
        assert_eq!(out.chars().count(), SHORT_DESCRIPTION_MAX);
        assert!(out.ends_with('…'));
    }

    #[test]
    fn bodies_carry_correlation_and_only_set_fields() {
        let id = FindingId::new();
        let ticket = NewTicket {
            table: ServiceNowTable::ChangeRequest,
            finding_id: id,
            short_description: "[LOCKSTEP] K-1 - t".into(),
            description: "d".into(),
            impact: Some(Impact::High),
            urgency: Some(Urgency::Low),
            category: None,
            assignment_group: Some(" ".into()),
            assigned_to: None,
            caller: Some("abel.tuter".into()),
            correlation_display: "Lockstep K-1".into(),
            extra: BTreeMap::from([("type".to_owned(), "normal".to_owned())]),
        };
        let body = ticket.to_body();
        assert_eq!(body["correlation_id"], format!("lockstep:{id}"));
        assert_eq!(body["impact"], "1");
        assert_eq!(body["urgency"], "3");
        assert_eq!(body["requested_by"], "abel.tuter");
        assert_eq!(body["type"], "normal");
        assert!(body.get("assignment_group").is_none() && body.get("category").is_none());
        assert!(body.get("caller_id").is_none());
    }
}
