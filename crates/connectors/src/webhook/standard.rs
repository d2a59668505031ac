//! Standard Webhooks signatures or a token header (the scheme of senders we configure ourselves:
//! a business rule, a webhook action with custom headers).

use std::time::Duration;

use super::{Method, Presented, Rejection, WebhookAuth, WebhookSecrets, usable_id};
use lockstep_crypto::CryptoError;
use lockstep_crypto::webhook::{self, WebhookHeaders};

/// The header a token travels in.
pub const TOKEN_HEADER: &str = "x-lockstep-token";

#[derive(Debug, Clone, Copy, Default)]
pub struct StandardWebhooksAuth;

impl WebhookAuth for StandardWebhooksAuth {
    fn check(
        &self,
        d: &Presented<'_>,
        secrets: &WebhookSecrets,
        now_unix: i64,
        tolerance: Duration,
    ) -> Result<Option<Method>, Rejection> {
        if d.headers.contains_key(webhook::HEADER_SIGNATURE) {
            let (Some(id), Some(timestamp), Some(signature)) = (
                d.header(webhook::HEADER_ID),
                d.header(webhook::HEADER_TIMESTAMP),
                d.header(webhook::HEADER_SIGNATURE),
            ) else {
                return Err(Rejection::MalformedHeaders);
            };
            let keys = secrets.require()?.hmac_keys();
            let headers = WebhookHeaders {
                id,
                timestamp,
                signature,
            };
            return webhook::verify(&keys, &headers, d.body, now_unix, tolerance)
                .map(|()| Some(Method::Signature))
                .map_err(|e| match e {
                    CryptoError::TimestampOutOfTolerance { .. } => Rejection::Expired,
                    CryptoError::InvalidWebhookHeader { .. } => Rejection::MalformedHeaders,
                    _ => Rejection::BadSignature,
                });
        }
        if let Some(token) = d.headers.get(TOKEN_HEADER) {
            return secrets.check_token(token.as_bytes());
        }
        Ok(None)
    }

    fn delivery_id(&self, d: &Presented<'_>) -> Option<String> {
        d.header(webhook::HEADER_ID).and_then(usable_id)
    }
}
