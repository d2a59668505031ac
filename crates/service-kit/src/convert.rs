//! Store records as API messages, and the parsing of request fields into domain values. Parsing
//! errors are INVALID_ARGUMENT naming the field and what it accepts.

use std::collections::HashMap;

use lockstep_domain::{FieldValues, FindingId, Impact, IntegrationId, Label, Template, Urgency};
use lockstep_proto::to_timestamp;
use lockstep_proto::v1 as pb;
use lockstep_store::{
    ActivityRecord, FindingRecord, IntegrationRecord, PresetRecord, TicketLinkRecord,
};
use time::OffsetDateTime;
use tonic::Status;

use crate::status;

pub fn ts(at: OffsetDateTime) -> Option<prost_types::Timestamp> {
    Some(to_timestamp(at))
}

/// Parses an id field; empty or malformed ids are INVALID_ARGUMENT naming the field.
pub fn parse_id<T>(
    field: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, lockstep_domain::ParseIdError>,
) -> Result<T, Status> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Status::invalid_argument(format!("{field} is required")));
    }
    parse(value).map_err(|e| Status::invalid_argument(format!("{field}: {e}")))
}

pub fn finding_id(field: &str, value: &str) -> Result<FindingId, Status> {
    parse_id(field, value, FindingId::parse)
}

pub fn integration_id(field: &str, value: &str) -> Result<IntegrationId, Status> {
    parse_id(field, value, IntegrationId::parse)
}

/// Parses an optional vocabulary value (empty = none).
pub fn opt_vocab<T>(field: &str, value: &str) -> Result<Option<T>, Status>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse::<T>()
        .map(Some)
        .map_err(|e| Status::invalid_argument(format!("{field}: {e}")))
}

/// A page size: 0 means `default`, anything above `max` is coerced down (AIP-158).
pub fn page_size(requested: i32, default: u32, max: u32) -> Result<u32, Status> {
    match requested {
        n if n < 0 => Err(Status::invalid_argument(
            "page_size must not be negative; use 0 for the default",
        )),
        0 => Ok(default),
        n => Ok((n as u32).min(max)),
    }
}

/// Request field values → domain field values; every value is checked.
pub fn field_values(fields: Option<&pb::FieldValues>) -> Result<FieldValues, Status> {
    let Some(f) = fields else {
        return Ok(FieldValues::default());
    };
    fn opt<T>(
        value: &str,
        parse: impl Fn(&str) -> Result<T, lockstep_domain::DomainError>,
    ) -> Result<Option<T>, Status> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        parse(value).map(Some).map_err(status::from_domain)
    }
    Ok(FieldValues {
        impact: opt(&f.impact, Impact::parse)?,
        urgency: opt(&f.urgency, Urgency::parse)?,
        priority: opt(&f.priority, Label::parse)?,
        category: opt(&f.category, Label::parse)?,
        assignment_group: opt(&f.assignment_group, Label::parse)?,
        assignee: opt(&f.assignee, Label::parse)?,
        summary_template: opt(&f.summary_template, Template::parse)?,
    })
}

pub fn field_values_to_pb(f: &FieldValues) -> pb::FieldValues {
    let s = |v: &Option<Label>| {
        v.as_ref()
            .map(|l| l.as_str().to_owned())
            .unwrap_or_default()
    };
    pb::FieldValues {
        impact: f.impact.map(|v| v.wire().to_owned()).unwrap_or_default(),
        urgency: f.urgency.map(|v| v.wire().to_owned()).unwrap_or_default(),
        priority: s(&f.priority),
        category: s(&f.category),
        assignment_group: s(&f.assignment_group),
        assignee: s(&f.assignee),
        summary_template: f
            .summary_template
            .as_ref()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
    }
}

/// A stored preset's fields as domain values.
pub fn preset_fields(record: &PresetRecord) -> Result<FieldValues, Status> {
    serde_json::from_value(serde_json::Value::Object(record.fields.clone())).map_err(|e| {
        status::internal(&format!(
            "preset {} holds fields this version cannot read: {e}",
            record.id
        ))
    })
}

pub fn preset(record: &PresetRecord) -> Result<pb::Preset, Status> {
    Ok(pb::Preset {
        id: record.id.to_string(),
        name: record.name.clone(),
        fields: Some(field_values_to_pb(&preset_fields(record)?)),
        create_time: ts(record.created_at),
        update_time: ts(record.updated_at),
    })
}

pub fn finding(record: &FindingRecord, tickets: Vec<pb::TicketLink>) -> pb::Finding {
    pb::Finding {
        id: record.id.to_string(),
        scanner_key: record.scanner_key.as_str().to_owned(),
        title: record.title.clone(),
        description: record.description.clone(),
        severity: record.severity.as_str().to_owned(),
        status: record.status.as_str().to_owned(),
        asset: record.asset.clone().unwrap_or_default(),
        cve: record
            .cve
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        cwe: record.cwe.map(|c| c.number()).unwrap_or_default(),
        scanner: record.scanner.clone(),
        first_seen_time: ts(record.first_seen_at),
        last_seen_time: ts(record.last_seen_at),
        create_time: ts(record.created_at),
        update_time: ts(record.updated_at),
        tickets,
    }
}

/// The integrations of a tenant by id, for naming links.
pub type IntegrationIndex = HashMap<IntegrationId, IntegrationRecord>;

pub fn integration_index(records: Vec<IntegrationRecord>) -> IntegrationIndex {
    records.into_iter().map(|r| (r.id, r)).collect()
}

/// A link with its integration's name and base URL (empty when the integration was deleted).
pub fn link(record: &TicketLinkRecord, integration: Option<&IntegrationRecord>) -> pb::TicketLink {
    let snapshot = record.vendor_snapshot.as_ref();
    pb::TicketLink {
        id: record.id.to_string(),
        finding_id: record.finding_id.to_string(),
        integration_id: record.integration_id.to_string(),
        integration_name: integration.map(|i| i.name.clone()).unwrap_or_default(),
        vendor: record.vendor().as_str().to_owned(),
        table_or_project: record.target.container().to_owned(),
        external_id: record
            .external_id
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default(),
        key: record
            .ticket_key
            .as_ref()
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default(),
        url: record.url.clone().unwrap_or_default(),
        base_url: integration.map(|i| i.base_url.clone()).unwrap_or_default(),
        state: record.state.as_str().to_owned(),
        failure_reason: record.failure_reason.clone().unwrap_or_default(),
        vendor_state: snapshot.map(|s| s.state.clone()).unwrap_or_default(),
        sla_breached: record.sla_breached,
        sla_due_time: record.sla_due_at.map(to_timestamp),
        create_time: ts(record.created_at),
        update_time: ts(record.updated_at),
    }
}

/// Links grouped by finding, active ones first (then oldest first).
pub fn links_by_finding(
    records: &[TicketLinkRecord],
    integrations: &IntegrationIndex,
) -> HashMap<FindingId, Vec<pb::TicketLink>> {
    let mut sorted: Vec<&TicketLinkRecord> = records.iter().collect();
    sorted.sort_by_key(|l| (!l.state.is_active(), l.created_at));
    let mut out: HashMap<FindingId, Vec<pb::TicketLink>> = HashMap::new();
    for record in sorted {
        out.entry(record.finding_id)
            .or_default()
            .push(link(record, integrations.get(&record.integration_id)));
    }
    out
}

pub fn activity(record: &ActivityRecord) -> pb::ActivityEntry {
    pb::ActivityEntry {
        id: record.id.to_string(),
        finding_id: record.finding_id.to_string(),
        time: ts(record.at),
        channel: record.channel.as_str().to_owned(),
        actor: record.actor.clone(),
        kind: record.kind.as_str().to_owned(),
        from_status: record
            .from_status
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        to_status: record
            .to_status
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        message: record.message.clone(),
        details_json: record.details.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values_parse_and_say_what_is_wrong() {
        let parsed = field_values(Some(&pb::FieldValues {
            impact: "1".into(),
            urgency: " 2 ".into(),
            assignee: "beth.anglin".into(),
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(parsed.impact, Some(Impact::High));
        assert_eq!(parsed.urgency, Some(Urgency::Medium));
        assert_eq!(field_values_to_pb(&parsed).urgency, "2");
        let err = field_values(Some(&pb::FieldValues {
            impact: "4".into(),
            ..Default::default()
        }))
        .unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(err.message().contains("1 (High), 2 (Medium) or 3 (Low)"));
    }

    #[test]
    fn page_sizes_default_and_clamp() {
        assert_eq!(page_size(0, 50, 200).unwrap(), 50);
        assert_eq!(page_size(1000, 50, 200).unwrap(), 200);
        assert!(page_size(-1, 50, 200).is_err());
        assert!(finding_id("finding_id", "").is_err());
        assert!(finding_id("finding_id", "nope").is_err());
    }
}
