//! Webhook authentication, per vendor, behind one small trait. Everything here runs BEFORE the
//! body is parsed: a delivery whose credentials do not check out is refused without its content
//! being looked at.
//!
//! Each vendor says only what differs: which credentials its deliveries may carry and where its
//! delivery id is. The policy around it (unsigned deliveries, the answer to every failure) is in
//! [`authenticate`], shared by all.
//!
//! | vendor | signature | token |
//! |---|---|---|
//! | ServiceNow, ServiceDesk Plus | Standard Webhooks (`webhook-id`, `webhook-timestamp` within the tolerance, `webhook-signature: v1,<base64 HMAC>`) | `x-lockstep-token` header |
//! | Jira | `X-Hub-Signature: sha256=<hex HMAC of the body>` | `?token=` |

mod jira;
mod standard;

use std::time::Duration;

use http::HeaderMap;
use lockstep_crypto::webhook::WebhookSecret;
use lockstep_crypto::{SecretBytes, constant_time_eq};
use lockstep_domain::Vendor;

pub use jira::JiraAuth;
pub use standard::StandardWebhooksAuth;

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

/// An integration's opened webhook secret: one shared value used both as the HMAC key and as the
/// token, so an admin configures one secret per integration whatever the vendor sends.
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

/// One vendor's way of authenticating deliveries.
pub trait VendorAuth: Send + Sync {
    fn vendor(&self) -> Vendor;

    /// Checks the credentials the delivery carries: `Ok(None)` when it carries none, `Ok(Some)`
    /// when they are valid, `Err` when they are present but wrong. Comparisons are constant-time.
    fn check(
        &self,
        delivery: &Presented<'_>,
        secret: Option<&IntegrationSecret>,
        now_unix: i64,
        tolerance: Duration,
    ) -> Result<Option<Method>, Rejection>;

    /// The sender's id of this delivery, the same on its retries, when the vendor sends one.
    fn delivery_id(&self, delivery: &Presented<'_>) -> Option<String>;
}

/// The verifier of `vendor`.
pub fn for_vendor(vendor: Vendor) -> &'static dyn VendorAuth {
    static SERVICENOW: StandardWebhooksAuth = StandardWebhooksAuth::new(Vendor::ServiceNow);
    static SDP: StandardWebhooksAuth = StandardWebhooksAuth::new(Vendor::ManageEngine);
    static JIRA: JiraAuth = JiraAuth;
    match vendor {
        Vendor::ServiceNow => &SERVICENOW,
        Vendor::ManageEngine => &SDP,
        Vendor::Jira => &JIRA,
    }
}

/// The shared policy: valid credentials pass; missing ones pass only when `allow_unsigned`
/// (the caller has already folded production mode into it); anything else is refused.
pub fn authenticate(
    auth: &dyn VendorAuth,
    delivery: &Presented<'_>,
    secret: Option<&IntegrationSecret>,
    allow_unsigned: bool,
    now_unix: i64,
    tolerance: Duration,
) -> Result<Method, Rejection> {
    match auth.check(delivery, secret, now_unix, tolerance)? {
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
