//! Jira Cloud: admin webhooks signed with `X-Hub-Signature: sha256=<hex>` (no timestamp, so
//! replays are stopped by delivery-id deduplication), or a `?token=` in the registered URL.

use std::time::Duration;

use lockstep_crypto::webhook;
use lockstep_domain::Vendor;

use super::{IntegrationSecret, Method, Presented, Rejection, VendorAuth, usable_id};

/// Jira's delivery id, the same on retries.
pub const DELIVERY_ID_HEADER: &str = "x-atlassian-webhook-identifier";

#[derive(Debug)]
pub struct JiraAuth;

impl VendorAuth for JiraAuth {
    fn vendor(&self) -> Vendor {
        Vendor::Jira
    }

    fn check(
        &self,
        d: &Presented<'_>,
        secret: Option<&IntegrationSecret>,
        _now_unix: i64,
        _tolerance: Duration,
    ) -> Result<Option<Method>, Rejection> {
        if let Some(signature) = d.headers.get(webhook::HEADER_HUB_SIGNATURE) {
            let secret = secret.ok_or(Rejection::NoSecret)?;
            let signature = signature.to_str().map_err(|_| Rejection::BadSignature)?;
            return webhook::verify_hub_signature(secret.hmac_key(), d.body, signature)
                .map(|()| Some(Method::Signature))
                .map_err(|_| Rejection::BadSignature);
        }
        let token = d.query.and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        });
        if let Some(token) = token {
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
        d.header(DELIVERY_ID_HEADER).and_then(usable_id)
    }
}
