//! Webhook signatures: Standard Webhooks (ServiceNow, ServiceDesk Plus, our emulators) and the
//! WebSub `X-Hub-Signature: sha256=<hex>` form Jira Cloud admin webhooks use.
//!
//! Standard Webhooks: the sender puts `webhook-id`, `webhook-timestamp` (unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` on the request. The
//! signature header may list several space-separated signatures so a sender can rotate secrets
//! without downtime; any one matching is enough. Receivers reject timestamps more than five
//! minutes away from their clock, which with id deduplication makes replays harmless.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::{SecureRandom, SystemRandom};

use crate::mac::{constant_time_eq, hmac_sha256, verify_hmac_sha256};
use crate::{CryptoError, SecretBytes, SecretString};

/// Accepted distance between a webhook's timestamp and our clock, both directions.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// Prefix of Standard Webhooks symmetric secrets.
pub const WHSEC_PREFIX: &str = "whsec_";
/// Header names of Standard Webhooks.
pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// Header Jira Cloud admin webhooks are signed in.
pub const HEADER_HUB_SIGNATURE: &str = "x-hub-signature";

/// Ids longer than this are refused before any HMAC is computed.
const MAX_ID_LEN: usize = 256;

/// An HMAC key for webhook signatures. Never empty: an empty key would let anyone sign.
#[derive(Clone)]
pub struct WebhookSecret(SecretBytes);

impl WebhookSecret {
    /// Uses raw bytes as the key.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, CryptoError> {
        let bytes = SecretBytes::new(bytes);
        if bytes.is_empty() {
            return Err(CryptoError::InvalidWebhookSecret {
                reason: "it is empty",
            });
        }
        Ok(Self(bytes))
    }

    /// Reads a secret as configured by an admin: `whsec_<base64>` (the Standard Webhooks
    /// serialisation) is base64-decoded; any other text is used as its UTF-8 bytes, which is
    /// what Jira and ServiceNow admins type into a "secret" field.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        match text.strip_prefix(WHSEC_PREFIX) {
            Some(encoded) => {
                let bytes =
                    STANDARD
                        .decode(encoded)
                        .map_err(|_| CryptoError::InvalidWebhookSecret {
                            reason: "the part after whsec_ is not base64",
                        })?;
                Self::from_bytes(bytes)
            }
            None => Self::from_bytes(text.as_bytes()),
        }
    }

    /// A new random 32-byte secret (the spec asks for 24 to 64 bytes).
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = vec![0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| CryptoError::Random)?;
        Self::from_bytes(bytes)
    }

    /// The `whsec_<base64>` form, to show once to the admin who configures the sender.
    pub fn to_whsec(&self) -> SecretString {
        SecretString::new(format!(
            "{WHSEC_PREFIX}{}",
            STANDARD.encode(self.0.expose())
        ))
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.expose()
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

/// The three Standard Webhooks headers as received.
#[derive(Debug, Clone, Copy)]
pub struct WebhookHeaders<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

/// The `webhook-signature` value for a delivery: `v1,<base64>`.
pub fn sign(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, CryptoError> {
    validate_id(msg_id)?;
    let tag = hmac_sha256(secret.expose(), &signed_content(msg_id, timestamp, body));
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// Checks a `webhook-signature` header (one or more space-separated `v1,<base64>` entries,
/// entries of other versions ignored) against the body. Constant time per entry.
pub fn verify_signature(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    signature_header: &str,
) -> Result<(), CryptoError> {
    validate_id(msg_id)?;
    let candidates = v1_signatures(signature_header);
    if candidates.is_empty() {
        return Err(CryptoError::NoSignature { scheme: "v1" });
    }
    let expected = hmac_sha256(secret.expose(), &signed_content(msg_id, timestamp, body));
    // Check every entry, not just until the first match, so timing does not reveal which matched.
    let matched = candidates
        .iter()
        .fold(false, |m, c| constant_time_eq(&expected, c) | m);
    if matched {
        Ok(())
    } else {
        Err(CryptoError::SignatureMismatch)
    }
}

/// Full receiver-side check: id, timestamp within `tolerance` of `now_unix`, then the signature
/// under any of `secrets` (an integration may have a new and an old secret during rotation).
/// The timestamp is checked first because it is cheap and needs no secret.
pub fn verify(
    secrets: &[WebhookSecret],
    headers: &WebhookHeaders<'_>,
    body: &[u8],
    now_unix: i64,
    tolerance: Duration,
) -> Result<(), CryptoError> {
    validate_id(headers.id)?;
    let timestamp = parse_timestamp(headers.timestamp)?;
    check_timestamp(timestamp, now_unix, tolerance)?;
    let mut last = CryptoError::InvalidWebhookSecret {
        reason: "no secret is configured",
    };
    for secret in secrets {
        match verify_signature(secret, headers.id, timestamp, body, headers.signature) {
            Ok(()) => return Ok(()),
            Err(err) => last = err,
        }
    }
    Err(last)
}

/// Parses `webhook-timestamp` (integer unix seconds).
pub fn parse_timestamp(header: &str) -> Result<i64, CryptoError> {
    let header = header.trim();
    if header.is_empty() || !header.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CryptoError::InvalidWebhookHeader {
            header: HEADER_TIMESTAMP,
            reason: "expected unix seconds as digits",
        });
    }
    header
        .parse()
        .map_err(|_| CryptoError::InvalidWebhookHeader {
            header: HEADER_TIMESTAMP,
            reason: "number is too large",
        })
}

/// Rejects a timestamp more than `tolerance` before or after `now_unix`. `now_unix` is a
/// parameter so tests and the emulators can use a fixed clock.
pub fn check_timestamp(
    timestamp: i64,
    now_unix: i64,
    tolerance: Duration,
) -> Result<(), CryptoError> {
    let skew = timestamp.abs_diff(now_unix);
    if skew > tolerance.as_secs() {
        return Err(CryptoError::TimestampOutOfTolerance {
            timestamp,
            skew_secs: skew,
            tolerance_secs: tolerance.as_secs(),
        });
    }
    Ok(())
}

/// The current time as unix seconds, for [`verify`] and [`sign`] in production code.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `sha256=<hex HMAC-SHA256 of the body>` as sent in `X-Hub-Signature` by Jira admin webhooks.
pub fn hub_signature(secret: &WebhookSecret, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret.expose(), body)))
}

/// Checks an `X-Hub-Signature: sha256=<hex>` header in constant time.
pub fn verify_hub_signature(
    secret: &WebhookSecret,
    body: &[u8],
    header: &str,
) -> Result<(), CryptoError> {
    let header = header.trim();
    let hex_tag = header
        .get(..7)
        .filter(|prefix| prefix.eq_ignore_ascii_case("sha256="))
        .map(|_| &header[7..])
        .ok_or(CryptoError::NoSignature { scheme: "sha256" })?;
    let tag = hex::decode(hex_tag).map_err(|_| CryptoError::SignatureMismatch)?;
    verify_hmac_sha256(secret.expose(), body, &tag)
}

fn validate_id(msg_id: &str) -> Result<(), CryptoError> {
    let invalid = |reason| CryptoError::InvalidWebhookHeader {
        header: HEADER_ID,
        reason,
    };
    if msg_id.is_empty() {
        return Err(invalid("it is empty"));
    }
    if msg_id.len() > MAX_ID_LEN {
        return Err(invalid("it is longer than 256 bytes"));
    }
    // The signed content is "{id}.{timestamp}.{body}"; a dot in the id would let a signature
    // for one (id, timestamp, body) split be replayed as another.
    if msg_id.contains('.') {
        return Err(invalid("it must not contain '.'"));
    }
    Ok(())
}

fn signed_content(msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let timestamp = timestamp.to_string();
    let mut content = Vec::with_capacity(msg_id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(msg_id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// Decoded `v1` entries of a signature header; undecodable entries are skipped, not errors,
/// so one bad entry cannot hide a good one.
fn v1_signatures(header: &str) -> Vec<Vec<u8>> {
    header
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, sig)| STANDARD.decode(sig).ok())
        .collect()
}

#[cfg(test)]
mod tests;
