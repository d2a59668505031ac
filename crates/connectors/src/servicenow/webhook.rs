//! Inbound webhooks from our ServiceNow business rule (contract: `docs/servicenow-webhook.md`).
//!
//! Verification (Standard Webhooks signature or the `x-lockstep-token` header, several active
//! secrets) is the one verifier in [`crate::webhook`]; the verified body is turned into an
//! [`SnRecord`] here and handed to the same [`observation_from_record`] the change feed uses.

use serde_json::Value;
use time::OffsetDateTime;

use super::record::{SnField, SnRecord, field_from_json, observation_from_record};
use crate::error::{ConnectorError, Result};
pub use crate::webhook::WebhookEvent;

/// Parses our webhook payload: the record's raw values at the top level (`table`, `sys_id`,
/// `number`, `state`, `close_code`, `correlation_id`, `sys_updated_on`, `sys_mod_count`,
/// `sys_updated_by`) and further fields of interest under `fields`.
pub fn parse_webhook(body: &[u8], received_at: OffsetDateTime) -> Result<WebhookEvent> {
    let invalid = |message: String| ConnectorError::WebhookPayload { message };
    let json: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("the body is not JSON: {e}")))?;
    let object = json
        .as_object()
        .ok_or_else(|| invalid("the body is not a JSON object".into()))?;
    let mut record = SnRecord::default();
    for (name, value) in object {
        match (name.as_str(), value) {
            ("fields", Value::Object(fields)) => {
                for (field, v) in fields {
                    record.insert(field.clone(), field_from_json(v));
                }
            }
            ("table", Value::String(table)) => record.insert(
                "sys_class_name",
                SnField {
                    value: table.clone(),
                    display: None,
                },
            ),
            (_, Value::String(s)) => record.insert(
                name.clone(),
                SnField {
                    value: s.clone(),
                    display: None,
                },
            ),
            _ => {}
        }
    }
    let observation =
        observation_from_record(&record, None, received_at).map_err(|e| invalid(e.to_string()))?;
    let event_id = match record.value("event_id") {
        Some(id) => id.to_owned(),
        None => format!(
            "{}-{}",
            observation.ticket.external_id(),
            observation.version.sequence()
        ),
    };
    Ok(WebhookEvent {
        event_id,
        event_type: record.value("event_type").map(str::to_owned),
        correlation_id: record.value("correlation_id").map(str::to_owned),
        observation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const BODY: &str = r#"{"event_id":"a1b2-3","event_type":"update","table":"incident","sys_id":"a1b2","number":"INC0010001","state":"6","incident_state":"6","close_code":"Solution provided","correlation_id":"lockstep:x","sys_updated_on":"2026-03-01 10:00:00","sys_mod_count":"3","sys_updated_by":"beth.anglin","fields":{"priority":"2","assigned_to":"","sla_due":"2026-03-02 10:00:00","short_description":"St\u00f6rung"}}"#;
    const NOW: OffsetDateTime = datetime!(2026-03-01 10:00:30 UTC);

    #[test]
    fn the_payload_parses_to_an_observation() {
        let ev = parse_webhook(BODY.as_bytes(), NOW).unwrap();
        assert_eq!(ev.event_id, "a1b2-3");
        assert_eq!(ev.event_type.as_deref(), Some("update"));
        assert_eq!(ev.correlation_id.as_deref(), Some("lockstep:x"));
        let obs = ev.observation;
        assert_eq!(obs.ticket.key().as_str(), "INC0010001");
        assert_eq!(obs.vendor_state, "6");
        assert_eq!(obs.resolution.as_deref(), Some("Solution provided"));
        assert_eq!(obs.version.sequence(), 3);
        assert_eq!(obs.fields.priority.as_deref(), Some("2"));
        assert_eq!(obs.fields.assignee, None);
        assert_eq!(obs.fields.sla_due, Some(datetime!(2026-03-02 10:00 UTC)));
        assert!(matches!(
            parse_webhook(b"[1]", NOW),
            Err(ConnectorError::WebhookPayload { .. })
        ));
        assert!(matches!(
            parse_webhook(br#"{"table":"incident"}"#, NOW),
            Err(ConnectorError::WebhookPayload { .. })
        ));
    }
}
