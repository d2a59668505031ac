//! Inbound webhooks from our ServiceNow business rule (contract: `docs/servicenow-webhook.md`).
//!
//! Verification comes before parsing: a Standard Webhooks signature (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`, checked
//! in constant time against every configured secret, timestamp within ±5 minutes) or a shared
//! token header (`x-lockstep-token` by default, constant-time comparison). The verified body is
//! then turned into an [`SnRecord`] and handed to the same [`observation_from_record`] the change
//! feed uses.

use std::time::Duration;

use http::{HeaderMap, HeaderName};
use lockstep_crypto::webhook::{self, WebhookHeaders, WebhookSecret};
use lockstep_crypto::{SecretString, constant_time_eq};
use lockstep_domain::TicketObservation;
use serde_json::Value;
use time::OffsetDateTime;

use super::record::{SnField, SnRecord, field_from_json, observation_from_record};
use crate::error::{ConnectorError, Result};

pub const DEFAULT_TOKEN_HEADER: &str = "x-lockstep-token";

/// How an integration's webhooks are authenticated.
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    /// Standard Webhooks secrets; several during a rotation.
    pub secrets: Vec<WebhookSecret>,
    pub token: Option<SecretString>,
    pub token_header: HeaderName,
    pub tolerance: Duration,
    /// Accept deliveries that carry neither (development only; the service decides).
    pub allow_unsigned: bool,
}

impl Default for WebhookVerifier {
    fn default() -> Self {
        Self {
            secrets: Vec::new(),
            token: None,
            token_header: HeaderName::from_static(DEFAULT_TOKEN_HEADER),
            tolerance: webhook::DEFAULT_TOLERANCE,
            allow_unsigned: false,
        }
    }
}

/// How a delivery was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// A valid Standard Webhooks signature; `webhook_id` is the sender's delivery id.
    Signature {
        webhook_id: String,
    },
    Token,
    Unsigned,
}

/// A verified and parsed delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// `<sys_id>-<sys_mod_count>`: the same for redeliveries of one change.
    pub event_id: String,
    /// `insert` or `update`.
    pub event_type: Option<String>,
    pub correlation_id: Option<String>,
    pub observation: TicketObservation,
}

impl WebhookVerifier {
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now_unix: i64) -> Result<Verification> {
        let reject = |message: String| ConnectorError::WebhookRejected { message };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(signature) = header(webhook::HEADER_SIGNATURE) {
            if self.secrets.is_empty() {
                return Err(reject("the delivery is signed but no webhook secret is configured for this integration".into()));
            }
            let id = header(webhook::HEADER_ID)
                .ok_or_else(|| reject("webhook-id header missing".into()))?;
            let timestamp = header(webhook::HEADER_TIMESTAMP)
                .ok_or_else(|| reject("webhook-timestamp header missing".into()))?;
            let signed = WebhookHeaders {
                id,
                timestamp,
                signature,
            };
            webhook::verify(&self.secrets, &signed, body, now_unix, self.tolerance)
                .map_err(|e| reject(e.to_string()))?;
            return Ok(Verification::Signature {
                webhook_id: id.to_owned(),
            });
        }
        if let Some(expected) = &self.token
            && let Some(presented) = headers.get(&self.token_header)
        {
            return if constant_time_eq(presented.as_bytes(), expected.expose().as_bytes()) {
                Ok(Verification::Token)
            } else {
                Err(reject(format!(
                    "the {} header does not match the configured token",
                    self.token_header
                )))
            };
        }
        if self.allow_unsigned {
            return Ok(Verification::Unsigned);
        }
        Err(reject(format!(
            "the delivery carries neither a webhook-signature nor a {} header",
            self.token_header
        )))
    }

    /// Verifies, then parses. Nothing of an unverified body is looked at.
    pub fn verify_and_parse(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<(Verification, WebhookEvent)> {
        let verification = self.verify(headers, body, now.unix_timestamp())?;
        Ok((verification, parse_webhook(body, now)?))
    }
}

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

    fn signed(secret: &WebhookSecret, ts: i64) -> HeaderMap {
        let mut h = HeaderMap::new();
        let sig = webhook::sign(secret, "a1b2-3", ts, BODY.as_bytes()).unwrap();
        h.insert("webhook-id", "a1b2-3".parse().unwrap());
        h.insert("webhook-timestamp", ts.to_string().parse().unwrap());
        h.insert("webhook-signature", sig.parse().unwrap());
        h
    }

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

    #[test]
    fn signatures_tokens_and_their_absence() {
        let secret = WebhookSecret::generate().unwrap();
        let v = WebhookVerifier {
            secrets: vec![secret.clone()],
            ..WebhookVerifier::default()
        };
        let ts = NOW.unix_timestamp();
        assert_eq!(
            v.verify(&signed(&secret, ts), BODY.as_bytes(), ts).unwrap(),
            Verification::Signature {
                webhook_id: "a1b2-3".into()
            }
        );
        assert!(
            v.verify(&signed(&secret, ts), b"{}", ts).is_err(),
            "tampered body"
        );
        assert!(
            v.verify(&signed(&secret, ts - 301), BODY.as_bytes(), ts)
                .is_err(),
            "stale"
        );
        let other = WebhookSecret::generate().unwrap();
        assert!(
            v.verify(&signed(&other, ts), BODY.as_bytes(), ts).is_err(),
            "wrong secret"
        );
        assert!(
            v.verify(&HeaderMap::new(), BODY.as_bytes(), ts).is_err(),
            "unsigned"
        );

        let t = WebhookVerifier {
            token: Some("tok-1".into()),
            ..WebhookVerifier::default()
        };
        let mut h = HeaderMap::new();
        h.insert(DEFAULT_TOKEN_HEADER, "tok-1".parse().unwrap());
        assert_eq!(
            t.verify(&h, BODY.as_bytes(), ts).unwrap(),
            Verification::Token
        );
        h.insert(DEFAULT_TOKEN_HEADER, "tok-2".parse().unwrap());
        let err = t.verify(&h, BODY.as_bytes(), ts).unwrap_err().to_string();
        assert!(!err.contains("tok-1") && !err.contains("tok-2"), "{err}");
        assert!(
            t.verify(&signed(&secret, ts), BODY.as_bytes(), ts).is_err(),
            "signed but no secret configured"
        );

        let open = WebhookVerifier {
            allow_unsigned: true,
            ..WebhookVerifier::default()
        };
        assert_eq!(
            open.verify(&HeaderMap::new(), BODY.as_bytes(), ts).unwrap(),
            Verification::Unsigned
        );
    }
}
