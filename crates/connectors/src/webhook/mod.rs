//! The one webhook verifier: authentication schemes behind one small trait ([`WebhookAuth`]),
//! one shared policy ([`authenticate`]). Everything here runs BEFORE the body is parsed: a
//! delivery whose credentials do not check out is refused without its content being looked at.
//!
//! A scheme says only what differs: which credentials a delivery may carry and where its delivery
//! id is. Each vendor's [`crate::VendorSpec`] names its scheme. An integration may have SEVERAL
//! active secrets ([`WebhookSecrets`]): during a rotation deliveries signed with the old and the
//! new secret both pass, until the old one is retired.
//!
//! | scheme | signature | token |
//! |---|---|---|
//! | [`StandardWebhooksAuth`] | Standard Webhooks (`webhook-id`, `webhook-timestamp` within the tolerance, `webhook-signature: v1,<base64 HMAC>`) | `x-lockstep-token` header |
//! | [`HubSignatureAuth`] | `X-Hub-Signature: sha256=<hex HMAC of the body>` | `?token=` |
//! | `sdp::SdpTokenAuth` | none (ServiceDesk Plus signs nothing) | `x-lockstep-token` header or `?token=` |

mod hub;
mod standard;

use std::time::Duration;

use http::HeaderMap;
use lockstep_crypto::webhook::WebhookSecret;
use lockstep_crypto::{SecretBytes, constant_time_eq};

pub use hub::HubSignatureAuth;
pub use standard::{StandardWebhooksAuth, TOKEN_HEADER};

/// A verified delivery, parsed by its vendor's [`crate::VendorSpec::parse_webhook`].
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// The same for redeliveries of one change.
    pub event_id: String,
    /// `insert`, `update`, ... as the vendor names it.
    pub event_type: Option<String>,
    pub correlation_id: Option<String>,
    pub observation: lockstep_domain::TicketObservation,
}

/// What a delivery presents, as received.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    pub headers: &'a HeaderMap,
    /// The raw query string (without `?`).
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

impl<'a> Presented<'a> {
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One opened (decrypted) webhook secret: one value used both as the HMAC key and as the token,
/// so an admin configures the same kind of secret whatever the vendor sends.
#[derive(Clone)]
pub struct IntegrationSecret {
    raw: SecretBytes,
    hmac: WebhookSecret,
}

impl IntegrationSecret {
    /// From the opened (decrypted) bytes. `whsec_<base64>` is the Standard Webhooks form and is
    /// decoded for HMAC; any other text is used as typed. `None` for an empty secret.
    pub fn from_opened(raw: SecretBytes) -> Option<Self> {
        let hmac = match std::str::from_utf8(raw.expose()) {
            Ok(text) => WebhookSecret::parse(text).ok()?,
            Err(_) => WebhookSecret::from_bytes(raw.expose().to_vec()).ok()?,
        };
        Some(Self { raw, hmac })
    }

    pub fn hmac_key(&self) -> &WebhookSecret {
        &self.hmac
    }

    /// Constant-time comparison of a presented token with the secret as configured.
    pub fn token_matches(&self, presented: &[u8]) -> bool {
        constant_time_eq(presented, self.raw.expose())
    }
}

impl std::fmt::Debug for IntegrationSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntegrationSecret([redacted])")
    }
}

/// Every active secret of an integration, newest first. Empty when none is configured (or none
/// could be opened); then only unsigned deliveries can pass, and only where allowed.
#[derive(Clone, Debug, Default)]
pub struct WebhookSecrets(Vec<IntegrationSecret>);

impl WebhookSecrets {
    pub fn new(secrets: Vec<IntegrationSecret>) -> Self {
        Self(secrets)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The HMAC keys of every secret (a signature made with any of them verifies).
    pub fn hmac_keys(&self) -> Vec<WebhookSecret> {
        self.0.iter().map(|s| s.hmac.clone()).collect()
    }

    /// Whether a presented token equals any secret. Every secret is compared (constant-time
    /// each), so the time taken does not tell which one matched.
    pub fn token_matches(&self, presented: &[u8]) -> bool {
        self.0
            .iter()
            .fold(false, |hit, s| s.token_matches(presented) | hit)
    }

    /// A presented token, as every token scheme judges it: `Token` when it equals an active
    /// secret, `BadToken` when it does not, `NoSecret` when there is nothing to compare with.
    pub(crate) fn check_token(&self, presented: &[u8]) -> Result<Option<Method>, Rejection> {
        if self.require()?.token_matches(presented) {
            Ok(Some(Method::Token))
        } else {
            Err(Rejection::BadToken)
        }
    }

    /// `Err(NoSecret)` when there is none to check presented credentials with.
    pub(crate) fn require(&self) -> Result<&Self, Rejection> {
        if self.0.is_empty() {
            Err(Rejection::NoSecret)
        } else {
            Ok(self)
        }
    }
}

/// How a delivery proved where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Signature,
    Token,
    /// No credentials, accepted because the integration allows it outside production.
    Unsigned,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Signature => "signature",
            Method::Token => "token",
            Method::Unsigned => "unsigned",
        }
    }
}

/// Why a delivery was refused. Only logged and counted; the sender always gets the same 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Neither a signature nor a token.
    MissingCredentials,
    BadSignature,
    BadToken,
    /// A Standard Webhooks timestamp outside the tolerance (a replay or a wrong clock).
    Expired,
    /// Signature headers present but incomplete or malformed.
    MalformedHeaders,
    /// Credentials presented, but the integration has no (readable) secret to check them with.
    NoSecret,
    /// No such integration, deleted, or inactive.
    UnknownIntegration,
}

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::MissingCredentials => "missing_credentials",
            Rejection::BadSignature => "bad_signature",
            Rejection::BadToken => "bad_token",
            Rejection::Expired => "timestamp_out_of_window",
            Rejection::MalformedHeaders => "malformed_headers",
            Rejection::NoSecret => "no_secret",
            Rejection::UnknownIntegration => "unknown_integration",
        }
    }
}

/// One scheme of authenticating deliveries.
pub trait WebhookAuth: Send + Sync {
    /// Checks the credentials the delivery carries: `Ok(None)` when it carries none, `Ok(Some)`
    /// when they are valid, `Err` when they are present but wrong. Comparisons are constant-time.
    fn check(
        &self,
        delivery: &Presented<'_>,
        secrets: &WebhookSecrets,
        now_unix: i64,
        tolerance: Duration,
    ) -> Result<Option<Method>, Rejection>;

    /// The sender's id of this delivery, the same on its retries, when the vendor sends one.
    fn delivery_id(&self, delivery: &Presented<'_>) -> Option<String>;
}

/// The shared policy: valid credentials pass; missing ones pass only when `allow_unsigned`
/// (the caller has already folded production mode into it); anything else is refused.
pub fn authenticate(
    auth: &dyn WebhookAuth,
    delivery: &Presented<'_>,
    secrets: &WebhookSecrets,
    allow_unsigned: bool,
    now_unix: i64,
    tolerance: Duration,
) -> Result<Method, Rejection> {
    match auth.check(delivery, secrets, now_unix, tolerance)? {
        Some(method) => Ok(method),
        None if allow_unsigned => Ok(Method::Unsigned),
        None => Err(Rejection::MissingCredentials),
    }
}

/// Delivery ids are used in event ids and NATS headers: keep them short and printable.
pub(crate) fn usable_id(id: &str) -> Option<String> {
    let id = id.trim();
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:.@+=/".contains(&b));
    ok.then(|| id.to_owned())
}
