//! One ServiceDesk Plus request (as `GET /requests/{id}` answers it, as a list row with its
//! reduced field set, or as our webhook payload) → [`TicketObservation`]. The feed, the writes and
//! the webhook all go through [`observation_from_request`], so the channels cannot disagree.
//!
//! The state is the status NAME (`vendor_state` and its label): status names are unique on an
//! instance, the webhook payload's `${request.status.name}` carries it while the status id is not
//! among the template variables, and outbound rules name the target status. The category is
//! `in_progress` or `completed` from the status object's `in_progress` flag, when it is present.

use lockstep_domain::{
    ObservedFields, TicketObservation, TicketRef, TicketTarget, Vendor, VendorVersion,
};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{ConnectorError, Result};

/// A string field or a lookup's name: `"x"`, `{"name": "x"}`.
fn name_of(v: Option<&Value>) -> Option<String> {
    let v = v?;
    let s = match v {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => o.get("name").and_then(Value::as_str),
        _ => None,
    }?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// An id given as a string or a number.
pub fn id_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A time: `{"value": "<epoch ms>"}` or the bare string or number.
pub fn millis_of(v: Option<&Value>) -> Option<i64> {
    let v = v?;
    let raw = v.get("value").unwrap_or(v);
    match raw {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

pub fn time_of(v: Option<&Value>) -> Option<OffsetDateTime> {
    millis_of(v)
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
}

/// The observation of one request.
pub fn observation_from_request(
    request: &Value,
    observed_at: OffsetDateTime,
) -> Result<TicketObservation> {
    let invalid = |what: &str| {
        ConnectorError::invalid_response(format!("a ServiceDesk Plus request without {what}"))
    };
    let id = id_of(request.get("id")).ok_or_else(|| invalid("an id"))?;
    let display = id_of(request.get("display_id")).unwrap_or_else(|| id.clone());
    let ticket = TicketRef::parse(
        Vendor::ManageEngine,
        TicketTarget::ManageEngine.container(),
        &id,
        &display,
    )
    .map_err(|e| ConnectorError::invalid_response(e.to_string()))?;
    let status = request.get("status");
    let state = name_of(status).ok_or_else(|| invalid("a status"))?;
    let category = status
        .and_then(|s| s.get("in_progress"))
        .and_then(|v| v.as_bool().or_else(|| v.as_str().map(|s| s == "true")))
        .map(|p| if p { "in_progress" } else { "completed" }.to_owned());
    let updated = millis_of(request.get("last_updated_time"))
        .ok_or_else(|| invalid("a last_updated_time"))?;
    let version = VendorVersion::manageengine(&updated.to_string())
        .map_err(|e| ConnectorError::invalid_response(e.to_string()))?;
    let resolution = request
        .get("closure_info")
        .and_then(|c| name_of(c.get("closure_code")))
        .or_else(|| name_of(request.get("closure_code")));
    let fields = ObservedFields {
        assignment_group: name_of(request.get("group")),
        assignee: name_of(request.get("technician")),
        priority: name_of(request.get("priority")),
        sla_due: time_of(request.get("due_by_time")),
        sla_breached: None,
    };
    Ok(TicketObservation {
        ticket,
        vendor_state: state.clone(),
        vendor_state_label: Some(state),
        vendor_state_category: category,
        resolution,
        version,
        actor: name_of(request.get("updated_by")),
        observed_at,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn a_full_request_and_a_list_row_give_the_same_state() {
        let full = json!({"id": "123640000000240013", "display_id": "102",
            "status": {"id": "9", "name": "Resolved", "in_progress": false},
            "priority": {"name": "High"}, "group": {"name": "Network"}, "technician": null,
            "last_updated_time": {"value": "1593000300679", "display_value": "x"},
            "due_by_time": null,
            "closure_info": {"closure_code": {"name": "Success"}}});
        let now = datetime!(2026-01-01 0:00 UTC);
        let obs = observation_from_request(&full, now).unwrap();
        assert_eq!(obs.ticket.external_id().as_str(), "123640000000240013");
        assert_eq!(obs.ticket.key().as_str(), "102");
        assert_eq!(obs.vendor_state, "Resolved");
        assert_eq!(obs.vendor_state_category.as_deref(), Some("completed"));
        assert_eq!(obs.resolution.as_deref(), Some("Success"));
        assert_eq!(obs.fields.priority.as_deref(), Some("High"));
        assert_eq!(
            obs.version.updated_at(),
            datetime!(2020-06-24 12:05:00.679 UTC)
        );
        let hook = json!({"id": "123640000000240013", "display_id": "102", "status": "Resolved",
            "last_updated_time": "1593000300679"});
        let from_hook = observation_from_request(&hook, now).unwrap();
        assert_eq!(
            (from_hook.vendor_state, from_hook.version),
            (obs.vendor_state, obs.version)
        );
        assert!(observation_from_request(&json!({"id": "1"}), now).is_err());
    }
}
