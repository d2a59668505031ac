//! Inbound webhooks from ServiceDesk Plus (reference B6). An SDP admin configures the webhook
//! (Admin → Developer Space / Integrations → Webhooks): its URL, a custom header and a payload
//! template of our choosing. SDP signs nothing (no HMAC is documented), so a delivery proves
//! itself with a static token only: the `x-lockstep-token` header, or `?token=` in the URL. No
//! signature is looked for or pretended.
//!
//! The payload template Lockstep asks for (README "Connecting a real ServiceDesk Plus"):
//!
//! ```json
//! {"event":"${event}","id":"${request.id}","display_id":"${request.display_id}",
//!  "status":"${request.status.name}","last_updated_time":"${request.last_updated_time}"}
//! ```
//!
//! (SDP's variable syntax differs by build: UNCONFIRMED.) The body goes through the same
//! [`observation_from_request`] as the change feed.

use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;

use super::record::{id_of, millis_of, observation_from_request};
use crate::error::{ConnectorError, Result};
use crate::webhook::{
    Method, Presented, Rejection, TOKEN_HEADER, WebhookAuth, WebhookEvent, WebhookSecrets,
};

/// A static token in the `x-lockstep-token` header or the `token` query parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct SdpTokenAuth;

impl WebhookAuth for SdpTokenAuth {
    fn check(
        &self,
        d: &Presented<'_>,
        secrets: &WebhookSecrets,
        _now_unix: i64,
        _tolerance: Duration,
    ) -> std::result::Result<Option<Method>, Rejection> {
        if let Some(token) = d.headers.get(TOKEN_HEADER) {
            return secrets.check_token(token.as_bytes());
        }
        let token = d.query.and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        });
        match token {
            Some(token) => secrets.check_token(token.as_bytes()),
            None => Ok(None),
        }
    }

    /// SDP sends no delivery id; the ingest falls back to the body's digest.
    fn delivery_id(&self, _d: &Presented<'_>) -> Option<String> {
        None
    }
}

/// Parses our payload template into the event.
pub fn parse_webhook(body: &[u8], received_at: OffsetDateTime) -> Result<WebhookEvent> {
    let invalid = |message: String| ConnectorError::WebhookPayload { message };
    let json: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("the body is not JSON: {e}")))?;
    let request = match json.get("request") {
        Some(r) if r.is_object() => r,
        _ if json.is_object() => &json,
        _ => return Err(invalid("the body is not a JSON object".into())),
    };
    let observation =
        observation_from_request(request, received_at).map_err(|e| invalid(e.to_string()))?;
    let event_id = format!(
        "sdp-{}-{}",
        id_of(request.get("id")).unwrap_or_default(),
        millis_of(request.get("last_updated_time")).unwrap_or_default()
    );
    Ok(WebhookEvent {
        event_id,
        event_type: json.get("event").and_then(Value::as_str).map(str::to_owned),
        correlation_id: None,
        observation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn our_template_parses_and_anything_else_is_refused() {
        let body = br#"{"event":"request_update","portal":"itdesk","id":"7","display_id":"7","status":"Resolved","last_updated_time":"1593000300679"}"#;
        let ev = parse_webhook(body, datetime!(2026-01-01 0:00 UTC)).unwrap();
        assert_eq!(ev.event_id, "sdp-7-1593000300679");
        assert_eq!(ev.event_type.as_deref(), Some("request_update"));
        assert_eq!(ev.observation.vendor_state, "Resolved");
        for bad in [&b"[1]"[..], br#"{"id":"7"}"#, b"nope"] {
            assert!(matches!(
                parse_webhook(bad, datetime!(2026-01-01 0:00 UTC)),
                Err(ConnectorError::WebhookPayload { .. })
            ));
        }
    }
}
