//! The one error type of the connectors. Every variant is a class the services map to a gRPC or
//! HTTP status ([`ErrorClass`]), and every message tells the person reading it (usually the
//! vendor instance's admin) what to do. Messages never carry secrets: the executor masks bodies
//! before they can reach an error.

use std::time::Duration;

/// Why a vendor refused to authenticate us. Drives the remedy the connection test shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// User name or password wrong, account locked or disabled, or Basic auth restricted.
    BadCredentials,
    /// The OAuth token endpoint refused the client id, secret or user.
    OAuthRejected,
    /// A token that used to work is no longer accepted (expired or revoked).
    TokenExpiredOrRevoked,
    /// The API key was not accepted (wrong, expired, revoked, or the API key plugin or access
    /// policy is missing on the instance).
    ApiKeyRejected,
}

/// The status class a caller maps an error to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad settings or input on our side (gRPC INVALID_ARGUMENT, HTTP 400).
    InvalidArgument,
    /// The vendor did not accept our credentials (UNAUTHENTICATED / 401 to an admin: fix creds).
    Unauthenticated,
    /// Authenticated, but the account may not do this (PERMISSION_DENIED / 403).
    PermissionDenied,
    /// The record or table does not exist or is hidden (NOT_FOUND / 404).
    NotFound,
    /// A vendor rule refused the change, e.g. a data policy (FAILED_PRECONDITION / 412 or 422).
    FailedPrecondition,
    /// The vendor throttles us (RESOURCE_EXHAUSTED / 429).
    ResourceExhausted,
    /// The vendor did not answer in time (DEADLINE_EXCEEDED / 504).
    DeadlineExceeded,
    /// The vendor is unreachable or failing; try again later (UNAVAILABLE / 502 or 503).
    Unavailable,
    /// The vendor answered something we cannot use (INTERNAL / 502).
    Internal,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectorError {
    /// The integration's settings cannot work (bad URL, missing credential fields).
    #[error("invalid integration settings: {message}")]
    InvalidConfig { message: String },

    /// The vendor refused our credentials.
    #[error("authentication failed: {message}. {remedy}")]
    Auth {
        reason: AuthFailure,
        message: String,
        remedy: String,
    },

    /// The account is authenticated but an ACL or role check refused the operation.
    #[error("permission denied: {message}. {remedy}")]
    Permission { message: String, remedy: String },

    /// The record does not exist, or an ACL hides it.
    #[error("not found: {message}")]
    NotFound { message: String },

    /// A data policy or business rule refused the change (e.g. resolve without a resolution code).
    #[error("the instance refused the change: {message}. {remedy}")]
    DataPolicy { message: String, remedy: String },

    /// The vendor throttles us; try again after `retry_after` when given.
    #[error("rate limited by the vendor{}: {message}", retry_after_text(.retry_after))]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },

    /// Any other error status from the vendor.
    #[error("vendor error (HTTP {status}): {message}")]
    Vendor { status: u16, message: String },

    /// A response we cannot interpret (HTML instead of JSON, missing fields).
    #[error("unexpected response from the vendor: {message}")]
    InvalidResponse { message: String },

    /// No answer within the configured time.
    #[error("timed out: {message}")]
    Timeout { message: String },

    /// The vendor URL leads to an address Lockstep refuses to connect to (loopback, private,
    /// link-local, metadata, ...) and the operator's allow-list does not name it. Checked before
    /// every connection; nothing was sent. The message says what the operator can do.
    #[error("destination refused: {message}")]
    DestinationRefused { host: String, message: String },

    /// DNS, TCP or TLS failure, or a connection dropped mid-request.
    #[error("could not reach the vendor: {message}")]
    Transport { message: String },

    /// An inbound webhook failed verification (signature, token or timestamp).
    #[error("webhook rejected: {message}")]
    WebhookRejected { message: String },

    /// The integration cannot be used as it is stored: inactive, a vendor Lockstep cannot talk to
    /// yet, credentials that cannot be opened or do not suit the vendor. The message says what
    /// the admin must do.
    #[error("{message}")]
    Unusable { message: String },

    /// A verified webhook whose body is not the payload we expect.
    #[error("webhook payload invalid: {message}")]
    WebhookPayload { message: String },
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (retry after {} s)", d.as_secs().max(1)),
        None => String::new(),
    }
}

impl ConnectorError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::InvalidConfig { .. }
            | Self::WebhookPayload { .. }
            | Self::DestinationRefused { .. } => ErrorClass::InvalidArgument,
            Self::Auth { .. } | Self::WebhookRejected { .. } => ErrorClass::Unauthenticated,
            Self::Permission { .. } => ErrorClass::PermissionDenied,
            Self::NotFound { .. } => ErrorClass::NotFound,
            Self::DataPolicy { .. } | Self::Unusable { .. } => ErrorClass::FailedPrecondition,
            Self::RateLimited { .. } => ErrorClass::ResourceExhausted,
            Self::Timeout { .. } => ErrorClass::DeadlineExceeded,
            Self::Transport { .. } => ErrorClass::Unavailable,
            Self::Vendor { status, .. } if *status >= 500 => ErrorClass::Unavailable,
            Self::Vendor { .. } => ErrorClass::InvalidArgument,
            Self::InvalidResponse { .. } => ErrorClass::Internal,
        }
    }

    /// Whether trying the same call later can succeed without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.class(),
            ErrorClass::ResourceExhausted | ErrorClass::DeadlineExceeded | ErrorClass::Unavailable
        )
    }

    /// For [`ConnectorError::RateLimited`]: how long the vendor asked us to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// [`ConnectorError::Unusable`] with `message`.
    pub fn unusable(message: impl Into<String>) -> Self {
        Self::Unusable {
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            message: message.into(),
        }
    }

    pub(crate) fn invalid_response(message: impl Into<String>) -> Self {
        Self::InvalidResponse {
            message: message.into(),
        }
    }
}

impl From<crate::http::Refusal> for ConnectorError {
    fn from(refusal: crate::http::Refusal) -> Self {
        Self::DestinationRefused {
            host: refusal.host.clone(),
            message: refusal.to_string(),
        }
    }
}

pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_messages() {
        let e = ConnectorError::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
            message: "Rate limit exceeded".into(),
        };
        assert_eq!(e.class(), ErrorClass::ResourceExhausted);
        assert!(e.is_transient());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
        assert!(e.to_string().contains("retry after 30 s"));
        let v = ConnectorError::Vendor {
            status: 503,
            message: "down".into(),
        };
        assert_eq!(v.class(), ErrorClass::Unavailable);
        let v = ConnectorError::Vendor {
            status: 400,
            message: "Invalid table x".into(),
        };
        assert!(!v.is_transient());
        let d = ConnectorError::DataPolicy {
            message: "m".into(),
            remedy: "r".into(),
        };
        assert_eq!(d.class(), ErrorClass::FailedPrecondition);
        let refused = ConnectorError::from(crate::http::Refusal {
            host: "127.0.0.1".into(),
            range: Some(crate::http::RefusedRange::Loopback),
        });
        assert_eq!(refused.class(), ErrorClass::InvalidArgument);
        assert!(
            !refused.is_transient(),
            "an allow-list change is needed, not a retry"
        );
        assert!(refused.to_string().contains("allow_private_networks"));
    }
}
