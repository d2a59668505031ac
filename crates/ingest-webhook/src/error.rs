//! The one error type of the service and, in [`IngestError::into_response`], the one place where
//! errors become HTTP answers. Refusals carry no detail: every authentication failure, including
//! an unknown or inactive integration, is the same 401 with the same body.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use lockstep_connectors::webhook::Rejection;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("delivery refused: {}", .0.reason())]
    Unauthorized(Rejection),
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the body could not be read: {0}")]
    BadBody(String),
    #[error("the body did not arrive within {0:?}")]
    BodyTimeout(std::time::Duration),
    #[error("too many deliveries in flight; retry after {retry_after}s")]
    Overloaded { retry_after: u32 },
    #[error("the delivery could not be made durable; retry after {retry_after}s: {source}")]
    Unavailable {
        retry_after: u32,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    // Start-up failures; never answered to a vendor.
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Platform(#[from] lockstep_platform::Error),
    #[error(transparent)]
    Bus(#[from] lockstep_bus::BusError),
    #[error(transparent)]
    Store(#[from] lockstep_store::StoreError),
    #[error(transparent)]
    Crypto(#[from] lockstep_crypto::CryptoError),
}

impl IngestError {
    pub fn status(&self) -> StatusCode {
        match self {
            IngestError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            IngestError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            IngestError::BadBody(_) => StatusCode::BAD_REQUEST,
            IngestError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            IngestError::Overloaded { .. } => StatusCode::TOO_MANY_REQUESTS,
            IngestError::Unavailable { .. }
            | IngestError::Config(_)
            | IngestError::Platform(_)
            | IngestError::Bus(_)
            | IngestError::Store(_)
            | IngestError::Crypto(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `outcome` label of `lockstep_webhook_requests_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            IngestError::Unauthorized(_) => "rejected",
            IngestError::TooLarge { .. }
            | IngestError::BadBody(_)
            | IngestError::BodyTimeout(_) => "invalid",
            IngestError::Overloaded { .. } => "throttled",
            _ => "unavailable",
        }
    }

    /// The `reason` label.
    pub fn reason(&self) -> &'static str {
        match self {
            IngestError::Unauthorized(r) => r.reason(),
            IngestError::TooLarge { .. } => "body_too_large",
            IngestError::BadBody(_) => "bad_body",
            IngestError::BodyTimeout(_) => "body_timeout",
            IngestError::Overloaded { .. } => "in_flight_limit",
            IngestError::Unavailable { .. } | IngestError::Bus(_) => "jetstream",
            IngestError::Store(_) => "database",
            _ => "internal",
        }
    }

    fn retry_after(&self) -> Option<u32> {
        match self {
            IngestError::Overloaded { retry_after }
            | IngestError::Unavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// What a 503 means, in its body and in docs/architecture.md: the delivery may or may not have
/// been stored (a publish that timed out can still land), and a retry is always safe.
pub const NOT_CONFIRMED: &str = "not confirmed stored; retrying is safe and never applies twice";

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match status {
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::PAYLOAD_TOO_LARGE => "payload too large",
            StatusCode::BAD_REQUEST => "bad request",
            StatusCode::REQUEST_TIMEOUT => "request timeout",
            StatusCode::TOO_MANY_REQUESTS => "too many requests",
            _ => "service unavailable",
        };
        let body = if status == StatusCode::SERVICE_UNAVAILABLE {
            serde_json::json!({ "error": message, "detail": NOT_CONFIRMED })
        } else {
            serde_json::json!({ "error": message })
        };
        let retry_after = self.retry_after();
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // The rest of such a body is never read: the connection cannot carry another request.
        if matches!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
        ) {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
