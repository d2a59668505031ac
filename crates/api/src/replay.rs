//! Idempotent creates (AIP-155) must not hide a mistake: a `request_id` repeated with the same
//! content returns what the first call made, but repeated with other content it is a conflict
//! (ALREADY_EXISTS naming the request id), never a silent answer with the original.

use lockstep_crypto::{Aad, Keyring, Purpose, Sealed};
use lockstep_store::{IntegrationRecord, NewIntegration};
use tonic::Status;

/// The original integration when `new` asks for exactly what it holds; ALREADY_EXISTS when the
/// request differs in anything (vendor, name, URL, settings, credentials or webhook secret).
pub(crate) fn same_integration(
    keyring: &Keyring,
    request_id: &str,
    existing: IntegrationRecord,
    new: &NewIntegration,
) -> Result<IntegrationRecord, Status> {
    let aad = |purpose| Aad::new(existing.tenant_id, existing.id, purpose);
    let same = existing.vendor == new.vendor
        && existing.name == new.name
        && existing.base_url == new.base_url
        && existing.auth_kind == new.auth_kind
        && existing.settings == new.settings
        && same_secret(
            keyring,
            &aad(Purpose::Credentials),
            Some(&existing.sealed_credentials),
            Some(&new.sealed_credentials),
        )
        && same_secret(
            keyring,
            &aad(Purpose::WebhookSecret),
            existing.sealed_webhook_secret.as_ref(),
            new.sealed_webhook_secret.as_ref(),
        );
    if same {
        return Ok(existing);
    }
    Err(Status::already_exists(format!(
        "request_id {:?} already created integration {} ({:?}) with different content; repeat \
         the original request exactly to get it back, or use a new request_id",
        request_id.trim(),
        existing.id,
        existing.name
    )))
}

/// Whether two sealed values hold the same plaintext (sealing uses a random nonce, so the
/// ciphertexts always differ). A value that cannot be opened counts as different.
fn same_secret(keyring: &Keyring, aad: &Aad, a: Option<&Sealed>, b: Option<&Sealed>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => match (keyring.open(a, aad), keyring.open(b, aad)) {
            (Ok(a), Ok(b)) => lockstep_crypto::constant_time_eq(a.expose(), b.expose()),
            _ => false,
        },
        _ => false,
    }
}
