//! Inbound Jira admin-webhook deliveries (reference A7). Verification (`X-Hub-Signature`
//! HMAC preferred, a `?token=` in the registered URL accepted) is the one verifier in
//! [`crate::webhook`]; the verified body's `issue` goes through the same
//! [`observation_from_issue`] as the change feed. The delivery id header
//! (`X-Atlassian-Webhook-Identifier`, the same on retries) is the dedupe key the ingest service
//! uses; the event id made here is only the fallback when a delivery has none.

use serde_json::Value;
use time::OffsetDateTime;

use super::issue::{correlation_from_labels, id_at, labels, observation_from_issue};
use crate::error::{ConnectorError, Result};
use crate::webhook::WebhookEvent;

/// Parses a `jira:issue_*` or `comment_*` delivery in the v2 representation.
pub fn parse_webhook(body: &[u8], received_at: OffsetDateTime) -> Result<WebhookEvent> {
    let invalid = |message: String| ConnectorError::WebhookPayload { message };
    let json: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("the body is not JSON: {e}")))?;
    let event_type = json
        .get("webhookEvent")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid("the body has no webhookEvent; is this a Jira webhook?".into()))?;
    let issue = json
        .get("issue")
        .filter(|i| i.is_object())
        .ok_or_else(|| invalid(format!("the {event_type} delivery carries no issue")))?;
    // changelog.id has been seen as a string and as a number.
    let changelog_id = id_at(&json, "/changelog/id").and_then(|id| id.parse::<i64>().ok());
    let actor = ["/user/displayName", "/user/accountId"]
        .iter()
        .find_map(|p| json.pointer(p).and_then(Value::as_str))
        .map(str::to_owned);
    let observation = observation_from_issue(issue, changelog_id, actor, received_at)
        .map_err(|e| invalid(e.to_string()))?;
    let event_id = format!(
        "{}-{}-{}",
        observation.ticket.external_id(),
        observation.version.updated_at().unix_timestamp_nanos() / 1_000_000,
        observation.version.sequence()
    );
    Ok(WebhookEvent {
        event_id,
        event_type: Some(event_type),
        correlation_id: correlation_from_labels(&labels(issue)).map(|c| c.to_string()),
        observation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn an_issue_updated_delivery_parses_like_the_feed() {
        let body = json!({
            "timestamp": 1728376683790_i64, "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "712020:cf20", "displayName": "Adela"},
            "issue": {"id": "10005", "key": "API-1", "fields": {
                "project": {"key": "API"},
                "status": {"id": "10001", "name": "Done",
                           "statusCategory": {"id": 3, "key": "done"}},
                "resolution": null,
                "updated": "2024-10-08T16:38:03.790+0800",
                "description": "plain v2 text",
                "labels": ["lockstep", "lockstep-00000000-0000-4000-8000-000000000002"]}},
            "changelog": {"id": 10030, "items": [{"field": "status", "fieldtype": "jira",
                "from": "10000", "fromString": "To Do", "to": "10001", "toString": "Done"}]}
        });
        let ev =
            parse_webhook(body.to_string().as_bytes(), datetime!(2024-10-08 08:39 UTC)).unwrap();
        assert_eq!(ev.event_type.as_deref(), Some("jira:issue_updated"));
        assert_eq!(
            ev.correlation_id.as_deref(),
            Some("lockstep:00000000-0000-4000-8000-000000000002")
        );
        let obs = ev.observation;
        assert_eq!(obs.vendor_state_category.as_deref(), Some("done"));
        assert_eq!(obs.resolution, None, "a done status without resolution");
        assert_eq!(obs.version.sequence(), 10030);
        assert_eq!(obs.actor.as_deref(), Some("Adela"));
        assert_eq!(ev.event_id, "10005-1728376683790-10030");
    }

    #[test]
    fn bodies_that_are_not_issue_deliveries_are_refused() {
        let now = OffsetDateTime::UNIX_EPOCH;
        for body in [
            &b"not json"[..],
            br#"{"issue": {}}"#,
            br#"{"webhookEvent": "jira:version_created"}"#,
            br#"{"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "A-1"}}"#,
        ] {
            assert!(
                matches!(
                    parse_webhook(body, now),
                    Err(ConnectorError::WebhookPayload { .. })
                ),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
