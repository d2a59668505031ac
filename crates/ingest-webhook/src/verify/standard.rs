//! Standard Webhooks signatures or a token header: ServiceNow (our business rule) and ServiceDesk
//! Plus (custom headers on its webhook action).

use std::time::Duration;

use lockstep_crypto::CryptoError;
use lockstep_crypto::webhook::{self, WebhookHeaders};
use lockstep_domain::Vendor;

use super::{IntegrationSecret, Method, Presented, Rejection, VendorAuth, usable_id};

/// The header a token travels in.
pub const TOKEN_HEADER: &str = "x-lockstep-token";

#[derive(Debug)]
pub struct StandardWebhooksAuth {
    vendor: Vendor,
}

impl StandardWebhooksAuth {
    pub const fn new(vendor: Vendor) -> Self {
        Self { vendor }
    }
}

impl VendorAuth for StandardWebhooksAuth {
    fn vendor(&self) -> Vendor {
        self.vendor
    }

    fn check(
        &self,
        d: &Presented<'_>,
        secret: Option<&IntegrationSecret>,
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
            let secret = secret.ok_or(Rejection::NoSecret)?;
            let headers = WebhookHeaders {
                id,
                timestamp,
                signature,
            };
            return webhook::verify(
                std::slice::from_ref(secret.hmac_key()),
                &headers,
                d.body,
                now_unix,
                tolerance,
            )
            .map(|()| Some(Method::Signature))
            .map_err(|e| match e {
                CryptoError::TimestampOutOfTolerance { .. } => Rejection::Expired,
                CryptoError::InvalidWebhookHeader { .. } => Rejection::MalformedHeaders,
                _ => Rejection::BadSignature,
            });
        }
        if let Some(token) = d.headers.get(TOKEN_HEADER) {
            let secret = secret.ok_or(Rejection::NoSecret)?;
            return if secret.token_matches(token.as_bytes()) {
                Ok(Some(Method::Token))
            } else {
                Err(Rejection::BadToken)
            };
        }
        Ok(None)
    }

    fn delivery_id(&self, d: &Presented<'_>) -> Option<String> {
        d.header(webhook::HEADER_ID).and_then(usable_id)
    }
}
