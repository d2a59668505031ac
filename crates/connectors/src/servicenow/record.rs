//! A ServiceNow record as the Table API returns it, and THE parser that turns one into a
//! [`TicketObservation`]. The change feed (poll) and the webhook both end here, so the two
//! channels cannot disagree about what a ticket says.
//!
//! The Table API returns every value as a JSON string (§1.3 of the reference); with
//! `sysparm_display_value=all` each field is `{"value": "...", "display_value": "..."}` instead,
//! and reference fields may add a `link`. [`SnRecord`] accepts all of these shapes, plus `null`
//! and the typed numbers and booleans of the Change Management API.

use std::collections::BTreeMap;

use lockstep_domain::{
    ObservedFields, ServiceNowTable, TicketObservation, TicketRef, Vendor, VendorVersion,
};
use serde_json::Value;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::error::{ConnectorError, Result};

/// One field: the raw value (UTC for dates) and, when read, the display value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnField {
    pub value: String,
    pub display: Option<String>,
}

/// A record: field name → value. Field names are the column names (`sys_updated_on`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnRecord {
    fields: BTreeMap<String, SnField>,
}

impl SnRecord {
    /// From one element of a Table API `result`, in any `sysparm_display_value` mode.
    pub fn from_json(value: &Value) -> Result<Self> {
        let object = value.as_object().ok_or_else(|| {
            ConnectorError::invalid_response(format!(
                "a ServiceNow record must be a JSON object, got {}",
                kind(value)
            ))
        })?;
        let fields = object
            .iter()
            .map(|(name, v)| (name.clone(), field_from_json(v)))
            .collect();
        Ok(Self { fields })
    }

    /// From plain name → value pairs (a webhook body, a test).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let fields = pairs
            .into_iter()
            .map(|(k, v)| {
                (
                    k.into(),
                    SnField {
                        value: v.into(),
                        display: None,
                    },
                )
            })
            .collect();
        Self { fields }
    }

    pub fn insert(&mut self, name: impl Into<String>, field: SnField) {
        self.fields.insert(name.into(), field);
    }

    pub fn field(&self, name: &str) -> Option<&SnField> {
        self.fields.get(name)
    }

    /// The raw value, `None` when absent or empty (ServiceNow sends `""` for empty fields).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|f| f.value.trim())
            .filter(|v| !v.is_empty())
    }

    /// The display value when read, else the raw value; `None` when both are empty.
    pub fn display(&self, name: &str) -> Option<&str> {
        let field = self.fields.get(name)?;
        field
            .display
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .or_else(|| Some(field.value.trim()).filter(|v| !v.is_empty()))
    }

    /// A required raw value, or an error naming the field.
    pub fn require(&self, name: &str) -> Result<&str> {
        self.value(name).ok_or_else(|| {
            ConnectorError::invalid_response(format!("the ServiceNow record has no {name}"))
        })
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        // The Change API sends `3.0` for 3; keep integers integral.
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        Value::Array(_) | Value::Object(_) => None,
    }
}

pub(crate) fn field_from_json(v: &Value) -> SnField {
    if let Some(object) = v.as_object() {
        let value = object.get("value").and_then(scalar).unwrap_or_default();
        let display = object.get("display_value").and_then(scalar);
        return SnField { value, display };
    }
    SnField {
        value: scalar(v).unwrap_or_else(|| v.to_string()),
        display: None,
    }
}

/// Parses a ServiceNow date-time value (`2025-04-16 15:52:19`, always UTC).
pub fn parse_sn_datetime(value: &str) -> Option<OffsetDateTime> {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(value.trim(), format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Formats a UTC time the way ServiceNow stores and queries it.
pub fn format_sn_datetime(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    at.format(format).unwrap_or_default()
}

/// The fields the parser reads; the feed asks for exactly these.
pub const OBSERVED_FIELDS: &[&str] = &[
    "sys_id",
    "number",
    "sys_class_name",
    "state",
    "close_code",
    "sys_updated_on",
    "sys_mod_count",
    "sys_updated_by",
    "assignment_group",
    "assigned_to",
    "priority",
    "sla_due",
    "correlation_id",
];

/// THE parser: a record of `incident` or `change_request` → an observation.
///
/// The table comes from `sys_class_name` when present, else `table`. `sla_due` is the record's own
/// field, a fallback the SLA reader ([`super::sla`]) refines; `sla_breached` is left unknown here
/// because the record's `made_sla` lags like `has_breached`.
pub fn observation_from_record(
    record: &SnRecord,
    table: Option<ServiceNowTable>,
    observed_at: OffsetDateTime,
) -> Result<TicketObservation> {
    let invalid = |what: String| ConnectorError::invalid_response(what);
    let table = match record.value("sys_class_name") {
        Some(class) => class.parse::<ServiceNowTable>().map_err(|_| {
            invalid(format!(
                "record class {class:?} is not a table Lockstep syncs (incident, change_request)"
            ))
        })?,
        None => {
            table.ok_or_else(|| invalid("the record names no table (sys_class_name)".into()))?
        }
    };
    let sys_id = record.require("sys_id")?;
    let number = record.require("number")?;
    let ticket = TicketRef::parse(Vendor::ServiceNow, table.as_str(), sys_id, number)
        .map_err(|e| invalid(format!("record {number}: {e}")))?;
    let version = VendorVersion::servicenow(
        record.require("sys_updated_on")?,
        record.value("sys_mod_count").unwrap_or("0"),
    )
    .map_err(|e| invalid(format!("record {number}: {e}")))?;
    let state = record.require("state")?.to_owned();
    let state_label = record
        .field("state")
        .and_then(|f| f.display.clone())
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    Ok(TicketObservation {
        ticket,
        vendor_state: state,
        vendor_state_label: state_label,
        vendor_state_category: None,
        resolution: record.value("close_code").map(str::to_owned),
        version,
        actor: record.value("sys_updated_by").map(str::to_owned),
        observed_at,
        fields: ObservedFields {
            assignment_group: record.display("assignment_group").map(str::to_owned),
            assignee: record.display("assigned_to").map(str::to_owned),
            priority: record.display("priority").map(str::to_owned),
            sla_due: record.value("sla_due").and_then(parse_sn_datetime),
            sla_breached: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);

    #[test]
    fn value_mode_records_parse() {
        let rec = SnRecord::from_json(&json!({
            "sys_id": "9d385017c611228701d22104cc95c371", "number": "INC0010001",
            "state": "6", "close_code": "Solution provided", "sys_updated_on": "2026-02-28 09:15:00",
            "sys_mod_count": "4", "sys_updated_by": "beth.anglin", "assignment_group": "",
            "priority": "2", "sla_due": "2026-03-02 09:00:00", "correlation_id": "lockstep:x"
        }))
        .unwrap();
        let obs = observation_from_record(&rec, Some(ServiceNowTable::Incident), NOW).unwrap();
        assert_eq!(obs.ticket.key().as_str(), "INC0010001");
        assert_eq!(obs.ticket.target().container(), "incident");
        assert_eq!(obs.vendor_state, "6");
        assert_eq!(obs.vendor_state_label, None);
        assert_eq!(obs.resolution.as_deref(), Some("Solution provided"));
        assert_eq!(
            obs.version,
            VendorVersion::servicenow("2026-02-28 09:15:00", "4").unwrap()
        );
        assert_eq!(obs.actor.as_deref(), Some("beth.anglin"));
        assert_eq!(obs.fields.assignment_group, None);
        assert_eq!(obs.fields.priority.as_deref(), Some("2"));
        assert_eq!(obs.fields.sla_due, Some(datetime!(2026-03-02 09:00 UTC)));
        assert_eq!(obs.observed_at, NOW);
    }

    #[test]
    fn display_all_records_parse_to_the_same_meaning() {
        let rec = SnRecord::from_json(&json!({
            "sys_id": {"value": "9d385017c611228701d22104cc95c371", "display_value": "9d385017c611228701d22104cc95c371"},
            "number": {"value": "CHG0030001", "display_value": "CHG0030001"},
            "sys_class_name": {"value": "change_request", "display_value": "Change Request"},
            "state": {"value": "-5", "display_value": "New"},
            "close_code": {"value": "", "display_value": ""},
            "sys_updated_on": {"value": "2026-02-28 09:15:00", "display_value": "28/02/2026 10:15:00"},
            "sys_mod_count": {"value": "0", "display_value": "0"},
            "assigned_to": {"value": "5137153cc611227c000bbd1bd8cd2007", "display_value": "David Loo",
                            "link": "https://x/api/now/table/sys_user/5137153cc611227c000bbd1bd8cd2007"},
            "priority": {"value": "4", "display_value": "4 - Low"},
            "custom": {"display_value": null, "value": ""}
        }))
        .unwrap();
        let obs = observation_from_record(&rec, Some(ServiceNowTable::Incident), NOW).unwrap();
        assert_eq!(
            obs.ticket.target().container(),
            "change_request",
            "sys_class_name wins"
        );
        assert_eq!(obs.vendor_state, "-5");
        assert_eq!(obs.vendor_state_label.as_deref(), Some("New"));
        assert_eq!(obs.resolution, None);
        assert_eq!(
            obs.version.updated_at(),
            datetime!(2026-02-28 09:15:00 UTC),
            "value, not display"
        );
        assert_eq!(obs.fields.assignee.as_deref(), Some("David Loo"));
        assert_eq!(obs.fields.priority.as_deref(), Some("4 - Low"));
        assert_eq!(rec.value("custom"), None);
    }

    #[test]
    fn typed_change_api_values_become_strings() {
        let rec = SnRecord::from_json(
            &json!({"impact": {"value": 3.0, "display_value": "3 - Low"},
                                              "active": {"value": false}, "n": 7}),
        )
        .unwrap();
        assert_eq!(rec.value("impact"), Some("3"));
        assert_eq!(rec.value("active"), Some("false"));
        assert_eq!(rec.value("n"), Some("7"));
    }

    #[test]
    fn broken_records_are_reported_by_field() {
        let base = json!({"sys_id": "a1", "number": "INC0010001", "state": "1",
                          "sys_updated_on": "2026-02-28 09:15:00", "sys_mod_count": "0"});
        let parse = |v: Value| {
            observation_from_record(
                &SnRecord::from_json(&v).unwrap(),
                Some(ServiceNowTable::Incident),
                NOW,
            )
        };
        assert!(parse(base.clone()).is_ok());
        for (field, bad, expect) in [
            ("sys_updated_on", "28/02/2026 09:15", "sys_updated_on"),
            ("number", "", "no number"),
            ("state", "", "no state"),
            ("sys_class_name", "problem", "problem"),
        ] {
            let mut v = base.clone();
            v[field] = json!(bad);
            let err = parse(v).unwrap_err().to_string();
            assert!(err.contains(expect), "{field}: {err}");
        }
        let mut v = base;
        v.as_object_mut().unwrap().remove("sys_mod_count");
        assert_eq!(parse(v).unwrap().version.sequence(), 0);
        assert!(SnRecord::from_json(&json!(["x"])).is_err());
        let rec = SnRecord::from_pairs([("sys_id", "a1")]);
        assert!(
            observation_from_record(&rec, None, NOW)
                .unwrap_err()
                .to_string()
                .contains("no table")
        );
    }

    #[test]
    fn datetimes_round_trip_in_utc() {
        let at = datetime!(2026-02-28 11:15:00 +02:00);
        assert_eq!(format_sn_datetime(at), "2026-02-28 09:15:00");
        assert_eq!(
            parse_sn_datetime("2026-02-28 09:15:00"),
            Some(datetime!(2026-02-28 09:15 UTC))
        );
        assert_eq!(parse_sn_datetime("garbage"), None);
    }
}
