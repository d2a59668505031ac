//! `X-Hub-Signature: sha256=<hex>` signatures (no timestamp, so replays are stopped by delivery-id
//! deduplication), or a `?token=` in the registered URL: the scheme of Jira Cloud's admin webhooks.

use std::time::Duration;

use super::{Method, Presented, Rejection, WebhookAuth, WebhookSecrets, usable_id};
use lockstep_crypto::webhook;

/// The scheme, with the header the sender puts its delivery id in (the same on retries).
#[derive(Debug, Clone, Copy)]
pub struct HubSignatureAuth {
    pub delivery_id_header: &'static str,
}

impl WebhookAuth for HubSignatureAuth {
    fn check(
        &self,
        d: &Presented<'_>,
        secrets: &WebhookSecrets,
        _now_unix: i64,
        _tolerance: Duration,
    ) -> Result<Option<Method>, Rejection> {
        if let Some(signature) = d.headers.get(webhook::HEADER_HUB_SIGNATURE) {
            let keys = secrets.require()?.hmac_keys();
            let signature = signature.to_str().map_err(|_| Rejection::BadSignature)?;
            let valid = keys.iter().fold(false, |hit, key| {
                webhook::verify_hub_signature(key, d.body, signature).is_ok() | hit
            });
            return if valid {
                Ok(Some(Method::Signature))
            } else {
                Err(Rejection::BadSignature)
            };
        }
        let token = d.query.and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        });
        if let Some(token) = token {
            return secrets.check_token(token.as_bytes());
        }
        Ok(None)
    }

    fn delivery_id(&self, d: &Presented<'_>) -> Option<String> {
        d.header(self.delivery_id_header).and_then(usable_id)
    }
}
