//! The payload our ServiceNow-side business rule sends on incident and change_request insert and
//! update (contract: `docs/servicenow-webhook.md`). Values are the internal (raw) values, UTC dates;
//! the body is compact JSON with non-ASCII escaped as `\uXXXX`, like the business rule produces.

use serde_json::{Map, Value, json};

use super::db::{Db, Record};
use super::schema::TableDef;
use super::write::Change;
use crate::webhooks::OutboundEvent;

const INCIDENT_FIELDS: &[&str] = &[
    "short_description",
    "priority",
    "impact",
    "urgency",
    "category",
    "subcategory",
    "assignment_group",
    "assigned_to",
    "hold_reason",
    "close_notes",
    "resolved_at",
    "closed_at",
    "active",
    "correlation_display",
    "opened_at",
    "sla_due",
    "made_sla",
];

const CHANGE_FIELDS: &[&str] = &[
    "short_description",
    "type",
    "risk",
    "priority",
    "impact",
    "urgency",
    "category",
    "assignment_group",
    "assigned_to",
    "start_date",
    "end_date",
    "on_hold",
    "close_notes",
    "closed_at",
    "active",
    "correlation_display",
    "opened_at",
];

pub fn payload(def: &TableDef, rec: &Record, change: Change) -> Value {
    let get = |f: &str| Value::String(rec.get(def, f).to_string());
    let interest = if def.name == "incident" {
        INCIDENT_FIELDS
    } else {
        CHANGE_FIELDS
    };
    let fields: Map<String, Value> = interest.iter().map(|f| (f.to_string(), get(f))).collect();
    let event_type = if change == Change::Inserted {
        "insert"
    } else {
        "update"
    };
    json!({
        "event_id": event_id(def, rec),
        "event_type": event_type,
        "table": def.name,
        "sys_id": rec.sys_id(),
        "number": get("number"),
        "state": get("state"),
        "incident_state": get("incident_state"),
        "close_code": get("close_code"),
        "correlation_id": get("correlation_id"),
        "sys_updated_on": get("sys_updated_on"),
        "sys_mod_count": get("sys_mod_count"),
        "sys_updated_by": get("sys_updated_by"),
        "fields": fields,
    })
}

pub fn event_id(def: &TableDef, rec: &Record) -> String {
    format!("{}-{}", rec.sys_id(), rec.get(def, "sys_mod_count"))
}

/// Compact JSON with every non-ASCII character escaped (UTF-16 `\uXXXX`).
pub fn ascii_json(v: &Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

pub fn event(db: &Db, def: &TableDef, sys_id: &str, change: Change) -> Option<OutboundEvent> {
    if !matches!(def.name, "incident" | "change_request") || change == Change::Unchanged {
        return None;
    }
    let rec = db.table(def.name)?.get(sys_id)?;
    Some(OutboundEvent {
        vendor: "servicenow".into(),
        topic: def.name.into(),
        event_id: event_id(def, rec),
        body: ascii_json(&payload(def, rec, change)).into_bytes(),
        headers: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_is_escaped_and_round_trips() {
        let v = json!({"s": "Störung — 🔥"});
        let text = ascii_json(&v);
        assert!(text.is_ascii());
        assert_eq!(text, r#"{"s":"St\u00f6rung \u2014 \ud83d\udd25"}"#);
        assert_eq!(serde_json::from_str::<Value>(&text).expect("valid json"), v);
    }
}
