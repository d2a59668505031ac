//! The one parser of a Jira issue into a [`TicketObservation`], shared by the change feed
//! (`search/jql`, REST v3), the answers of our own writes, and webhooks (the v2 representation,
//! reference A7): both representations carry the fields read here in the same shape.
//!
//! The state is `status.id`, its label `status.name` and its category
//! `status.statusCategory.key` (`new`, `indeterminate`, `done`): the default inbound rules match
//! the category, so custom statuses need no configuration. The resolution is passed along only to
//! classify a done issue (fixed, won't do, duplicate): Jira keeps a stale resolution on reopened
//! issues and a Done status may have none (reference A6).

use lockstep_domain::{
    CorrelationId, FindingId, ObservedFields, TicketObservation, TicketRef, VendorVersion,
};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{ConnectorError, Result};

/// The label every Lockstep issue carries (the change feed selects on it).
pub const LOCKSTEP_LABEL: &str = "lockstep";

/// What a `search/jql` or `GET /issue` must ask for so [`observation_from_issue`] has what it
/// reads (search defaults to `id` only, reference A5).
pub const OBSERVED_FIELDS: [&str; 8] = [
    "status",
    "resolution",
    "updated",
    "priority",
    "assignee",
    "labels",
    "project",
    "summary",
];

/// The correlation label of a finding: `lockstep-<finding id>`. A label rather than an issue
/// entity property: labels are searchable by plain JQL in every project type and on Data Center
/// (`labels = "…"`), are returned with the issue in the same read, and survive issue moves;
/// `issue.property[…]` JQL needs the property to be indexed by an app. Its weakness, that a person
/// can remove it, costs at most a lost lookup, never a wrong one.
pub fn correlation_label(finding: FindingId) -> String {
    format!("{LOCKSTEP_LABEL}-{finding}")
}

/// The correlation id a label carries, if it is one of ours.
pub fn correlation_from_labels(labels: &[String]) -> Option<CorrelationId> {
    labels.iter().find_map(|l| {
        l.strip_prefix("lockstep-")
            .and_then(|id| FindingId::parse(id).ok())
            .map(CorrelationId::for_finding)
    })
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An id Jira sends as a string or a number (`changelog.id` has been seen as both).
pub(crate) fn id_at(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The labels of an issue.
pub fn labels(issue: &Value) -> Vec<String> {
    issue
        .pointer("/fields/labels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// The [`TicketRef`] of an issue bean (`id`, `key`, project from `fields.project.key` or the key).
pub fn ticket_ref(issue: &Value) -> Result<TicketRef> {
    let invalid = |m: String| ConnectorError::invalid_response(m);
    let id = id_at(issue, "/id").ok_or_else(|| invalid("the issue has no id".into()))?;
    let key = str_at(issue, "/key").ok_or_else(|| invalid(format!("issue {id} has no key")))?;
    let project = str_at(issue, "/fields/project/key")
        .or_else(|| key.rsplit_once('-').map(|(p, _)| p))
        .ok_or_else(|| invalid(format!("issue {key} has no project")))?;
    TicketRef::parse(lockstep_domain::Vendor::Jira, project, &id, key)
        .map_err(|e| invalid(format!("issue {key}: {e}")))
}

/// Reads an issue bean. `changelog_id` orders changes within one millisecond (a webhook's
/// `changelog.id`); `actor` is who made the change, when known.
pub fn observation_from_issue(
    issue: &Value,
    changelog_id: Option<i64>,
    actor: Option<String>,
    observed_at: OffsetDateTime,
) -> Result<TicketObservation> {
    let ticket = ticket_ref(issue)?;
    let key = ticket.key().as_str().to_owned();
    let invalid = |what: &str| {
        ConnectorError::invalid_response(format!(
            "issue {key} has no {what} (ask for the fields {})",
            OBSERVED_FIELDS.join(",")
        ))
    };
    let state = id_at(issue, "/fields/status/id").ok_or_else(|| invalid("status"))?;
    let updated = str_at(issue, "/fields/updated").ok_or_else(|| invalid("updated time"))?;
    let version = VendorVersion::jira(updated, changelog_id)
        .map_err(|e| ConnectorError::invalid_response(format!("issue {key}: {e}")))?;
    Ok(TicketObservation {
        ticket,
        vendor_state: state,
        vendor_state_label: str_at(issue, "/fields/status/name").map(str::to_owned),
        vendor_state_category: str_at(issue, "/fields/status/statusCategory/key")
            .map(str::to_owned),
        resolution: str_at(issue, "/fields/resolution/name").map(str::to_owned),
        version,
        actor,
        observed_at,
        fields: ObservedFields {
            assignment_group: None,
            assignee: str_at(issue, "/fields/assignee/displayName")
                .or_else(|| str_at(issue, "/fields/assignee/accountId"))
                .map(str::to_owned),
            priority: str_at(issue, "/fields/priority/name").map(str::to_owned),
            sla_due: None,
            sla_breached: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    pub(crate) fn issue() -> Value {
        json!({"id": "10005", "key": "SEC-7", "fields": {
            "project": {"id": "10000", "key": "SEC"},
            "status": {"id": "6", "name": "Closed",
                       "statusCategory": {"id": 3, "key": "done", "name": "Done"}},
            "resolution": {"id": "10001", "name": "Won't Do"},
            "updated": "2024-10-08T16:38:03.790+0800",
            "priority": {"id": "2", "name": "High"},
            "assignee": {"accountId": "712020:x", "displayName": "Priya Patel"},
            "labels": ["lockstep", "lockstep-00000000-0000-4000-8000-000000000001"]}})
    }

    #[test]
    fn an_issue_reads_as_an_observation_by_status_category() {
        let now = datetime!(2024-10-08 09:00 UTC);
        let obs = observation_from_issue(&issue(), Some(10030), Some("Priya".into()), now).unwrap();
        assert_eq!(obs.ticket.key().as_str(), "SEC-7");
        assert_eq!(obs.ticket.external_id().as_str(), "10005");
        assert_eq!(obs.ticket.target().container(), "SEC");
        assert_eq!(obs.vendor_state, "6");
        assert_eq!(obs.vendor_state_category.as_deref(), Some("done"));
        assert_eq!(obs.resolution.as_deref(), Some("Won't Do"));
        assert_eq!(
            obs.version.updated_at(),
            datetime!(2024-10-08 08:38:03.790 UTC)
        );
        assert_eq!(obs.version.sequence(), 10030);
        assert_eq!(obs.fields.assignee.as_deref(), Some("Priya Patel"));
        assert_eq!(obs.fields.priority.as_deref(), Some("High"));
        let correlation = correlation_from_labels(&labels(&issue())).unwrap();
        assert_eq!(
            correlation.to_string(),
            "lockstep:00000000-0000-4000-8000-000000000001"
        );
    }

    #[test]
    fn an_issue_without_status_or_updated_is_refused() {
        let mut bare = issue();
        bare["fields"].as_object_mut().unwrap().remove("status");
        let err = observation_from_issue(&bare, None, None, OffsetDateTime::UNIX_EPOCH);
        assert!(err.unwrap_err().to_string().contains("no status"));
        let mut no_key = issue();
        no_key.as_object_mut().unwrap().remove("key");
        assert!(ticket_ref(&no_key).is_err());
    }
}
