//! How large a delivery may be so that it always fits one NATS message.
//!
//! NATS refuses any message over the server's `max_payload` (1 MiB by default), counting headers
//! and payload together. A delivery travels wrapped: its body inside a `WebhookReceived` inside a
//! `WebhookBatch` (with the request's `traceparent`), with the message id, type and trace context
//! as headers. Every field of that
//! envelope but the body is bounded (ids, the delivery id at 128 bytes by `lockstep_connectors::webhook`, the
//! content type at [`MAX_CONTENT_TYPE`]), so [`ENVELOPE_RESERVE`] bytes always suffice for it
//! (checked by the test below). The body limit and the group size are checked against the
//! server's `max_payload` at start, so a body the receiver accepts is never refused by NATS.

use crate::config::IngestSettings;
use crate::error::IngestError;

/// Bytes a lone delivery's message needs beyond its body: the protobuf envelope and the NATS
/// headers, with room to spare (the worst case is about 1.5 KiB).
pub const ENVELOPE_RESERVE: usize = 8 * 1024;

/// The longest `Content-Type` kept with a delivery; a longer one is refused with 400.
pub const MAX_CONTENT_TYPE: usize = 256;

/// Refuses settings whose largest message would not fit the server's `max_payload`.
pub(crate) fn check(settings: &IngestSettings, max_payload: usize) -> Result<(), IngestError> {
    let room = max_payload.saturating_sub(ENVELOPE_RESERVE);
    for (key, value) in [
        ("ingest.max_body_bytes", settings.max_body_bytes),
        ("ingest.group_max_bytes", settings.group_max_bytes),
    ] {
        if value > room {
            return Err(IngestError::Config(format!(
                "{key} = {value} does not fit the NATS server's max_payload of {max_payload} bytes \
                 with the {ENVELOPE_RESERVE} bytes a message's envelope and headers need: set {key} \
                 to at most {room}, or raise max_payload on the server"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use lockstep_bus::webhook_batch;
    use lockstep_domain::{IntegrationId, TenantId};
    use lockstep_proto::v1;
    use prost::Message as _;

    use super::*;

    /// NATS's header block as async-nats writes it: "NATS/1.0\r\n", "<k>: <v>\r\n" each, "\r\n".
    fn header_block(headers: &[(&str, usize)]) -> usize {
        10 + headers
            .iter()
            .map(|(k, v)| k.len() + 2 + v + 2)
            .sum::<usize>()
            + 2
    }

    #[test]
    fn the_largest_envelope_and_headers_fit_the_reserve() {
        let (tenant, integration) = (TenantId::new(), IntegrationId::new());
        let body_len = 1024 * 1024;
        let event_id = format!("wh:{integration}:{}", "d".repeat(128));
        let delivery = v1::WebhookReceived {
            event_id: event_id.clone(),
            tenant_id: tenant.to_string(),
            integration_id: integration.to_string(),
            vendor: "manageengine".to_owned(),
            body: vec![b'x'; body_len],
            content_type: "c".repeat(MAX_CONTENT_TYPE),
            delivery_id: "d".repeat(128),
            received_at: Some(lockstep_proto::to_timestamp(time::OffsetDateTime::now_utc())),
            // A W3C traceparent is always 55 characters (version 00).
            traceparent: format!("00-{}-{}-01", "a".repeat(32), "b".repeat(16)),
        };
        let message = webhook_batch(tenant, integration, vec![delivery]);
        let envelope = message.encoded_len() - body_len;
        // Message id, type, and W3C trace context with a tracestate at its 512-byte maximum.
        let headers = header_block(&[
            ("Nats-Msg-Id", event_id.len()),
            ("Lockstep-Event", "webhook_batch".len()),
            ("traceparent", 55),
            ("tracestate", 512),
        ]);
        assert!(
            envelope + headers <= ENVELOPE_RESERVE,
            "envelope {envelope} + headers {headers} > {ENVELOPE_RESERVE}"
        );
    }

    #[test]
    fn limits_that_leave_no_room_for_the_envelope_are_refused_naming_the_key() {
        let settings = IngestSettings::default();
        assert!(check(&settings, 1024 * 1024).is_ok());
        let err = check(&settings, 512 * 1024).unwrap_err().to_string();
        assert!(err.contains("ingest.max_body_bytes"), "{err}");
        assert!(
            err.contains(&(512 * 1024 - ENVELOPE_RESERVE).to_string()),
            "{err}"
        );
        let big_groups = IngestSettings {
            group_max_bytes: 1024 * 1024,
            ..IngestSettings::default()
        };
        let err = check(&big_groups, 1024 * 1024).unwrap_err().to_string();
        assert!(err.contains("ingest.group_max_bytes"), "{err}");
    }
}
