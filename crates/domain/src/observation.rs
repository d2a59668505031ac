//! What a connector read about a ticket, from a webhook body or a poll response alike. Both
//! channels produce this one type so they can never disagree about what a ticket says.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ticket::TicketRef;
use crate::version::VendorVersion;

/// A ticket's state as read from the vendor at one moment.
///
/// Connectors fill the state fields as follows, and the default inbound rules rely on it:
///
/// | vendor | `vendor_state` | `vendor_state_label` | `vendor_state_category` | `resolution` |
/// |---|---|---|---|---|
/// | ServiceNow | `state` value (`"6"`) | its label (`"Resolved"`) when read | — | `close_code` |
/// | Jira | `status.id` | `status.name` | `status.statusCategory.key` (`new`, `indeterminate`, `done`) | `resolution.name` |
/// | ServiceDesk Plus | `status.name` (names are unique per instance; the webhook payload carries the name, not the id) | `status.name` | `in_progress` when the status object says `in_progress: true`, `completed` when false, absent when the payload has no flag | closure code |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketObservation {
    pub ticket: TicketRef,
    /// The vendor's raw state code; rules match it exactly.
    pub vendor_state: String,
    /// The state's name; rules match it ignoring case.
    #[serde(default)]
    pub vendor_state_label: Option<String>,
    /// The vendor's grouping of states, where it has one; rules match it ignoring case.
    #[serde(default)]
    pub vendor_state_category: Option<String>,
    /// How the vendor says the ticket was closed: ServiceNow close code, Jira resolution,
    /// ServiceDesk Plus closure code. Only consulted when the state means "done", because Jira
    /// keeps a stale resolution on reopened issues.
    #[serde(default)]
    pub resolution: Option<String>,
    pub version: VendorVersion,
    /// The vendor user who made the change, for the activity feed.
    #[serde(default)]
    pub actor: Option<String>,
    /// When Lockstep read the ticket (not when the vendor changed it; that is in `version`).
    #[serde(with = "time::serde::rfc3339")]
    pub observed_at: OffsetDateTime,
    #[serde(default)]
    pub fields: ObservedFields,
}

impl TicketObservation {
    /// The state for humans: `6 (Resolved)`, or just the code when no label was read.
    pub fn state_description(&self) -> String {
        match self.vendor_state_label.as_deref().map(str::trim) {
            Some(label) if !label.is_empty() && label != self.vendor_state.trim() => {
                format!("{} ({label})", self.vendor_state.trim())
            }
            _ => self.vendor_state.trim().to_owned(),
        }
    }
}

/// Ticket fields Lockstep shows next to the link in the workbench, as the vendor displays them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedFields {
    #[serde(default)]
    pub assignment_group: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    /// When the ticket's SLA breaches (ServiceNow `task_sla.planned_end_time`, SDP `due_by_time`).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub sla_due: Option<OffsetDateTime>,
    #[serde(default)]
    pub sla_breached: Option<bool>,
}

#[cfg(test)]
pub(crate) mod fixtures {
    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::vocab::Vendor;

    /// An observation of INC0010001 in `state`, `seconds` after a fixed instant, with mod count 0.
    pub(crate) fn incident(state: &str, seconds: i64) -> TicketObservation {
        let updated_at = datetime!(2026-01-05 12:00 UTC) + Duration::seconds(seconds);
        TicketObservation {
            ticket: TicketRef::parse(
                Vendor::ServiceNow,
                "incident",
                "9d385017c611228701d22104cc95c371",
                "INC0010001",
            )
            .unwrap(),
            vendor_state: state.to_owned(),
            vendor_state_label: None,
            vendor_state_category: None,
            resolution: None,
            version: VendorVersion::new(updated_at, 0),
            actor: Some("abel.tuter".to_owned()),
            observed_at: updated_at + Duration::seconds(1),
            fields: ObservedFields::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_descriptions_show_code_and_label() {
        let mut obs = fixtures::incident("6", 0);
        assert_eq!(obs.state_description(), "6");
        obs.vendor_state_label = Some("Resolved".to_owned());
        assert_eq!(obs.state_description(), "6 (Resolved)");
    }

    #[test]
    fn observations_round_trip_through_json_and_optional_fields_may_be_omitted() {
        let mut obs = fixtures::incident("2", 0);
        obs.fields.sla_due = obs.fields.sla_due.or(Some(obs.observed_at));
        let json = serde_json::to_value(&obs).unwrap();
        assert_eq!(
            serde_json::from_value::<TicketObservation>(json.clone()).unwrap(),
            obs
        );

        let mut minimal = json;
        let object = minimal.as_object_mut().unwrap();
        for optional in [
            "vendor_state_label",
            "vendor_state_category",
            "resolution",
            "actor",
            "fields",
        ] {
            object.remove(optional);
        }
        let parsed: TicketObservation = serde_json::from_value(minimal).unwrap();
        assert_eq!(parsed.fields, ObservedFields::default());
    }
}
