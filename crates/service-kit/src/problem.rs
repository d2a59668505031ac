//! The HTTP twin of [`crate::status`]: a gRPC status as an `application/problem+json` body
//! (RFC 9457). The HTTP JSON API answers every error through here, so an error reads the same
//! whether it came through gRPC or HTTP: the status's message (which says what to do) becomes
//! `detail`, and its code name becomes the stable `code`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use tonic::{Code, Status};

use crate::status::{bounded, code_name};

/// An error answer of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (stable; one per `code`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, fixed summary of the kind.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong and what to do about it.
    pub detail: String,
    /// A stable code to branch on: the gRPC code name (`NOT_FOUND`) or an HTTP-only one
    /// (`CSRF_TOKEN_MISSING`, `CSRF_TOKEN_INVALID`, `BAD_REQUEST_BODY`, `ROUTE_NOT_FOUND`,
    /// `METHOD_NOT_ALLOWED`, `BODY_TOO_LARGE`, the api's `OVERLOADED`).
    pub code: String,
    /// On 429 and 503 `OVERLOADED`: seconds until a retry can succeed (also in `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

pub const CONTENT_TYPE: &str = "application/problem+json";

/// The HTTP status of a gRPC code.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable | Code::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Internal | Code::Unknown | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl Problem {
    /// A problem of `status` with a stable `code` and a `detail` saying what to do.
    pub fn new(status: StatusCode, code: &str, detail: impl AsRef<str>) -> Self {
        Problem {
            kind: format!(
                "https://lockstep.dev/problems/{}",
                code.to_ascii_lowercase().replace('_', "-")
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: bounded(detail.as_ref()),
            code: code.to_owned(),
            retry_after_secs: None,
        }
    }

    /// The problem of a gRPC status, whether a handler of ours or an upstream service made it.
    /// A RESOURCE_EXHAUSTED status's `retry-after` metadata becomes `retry_after_secs`.
    pub fn from_status(status: &Status) -> Self {
        let mut problem = Problem::new(
            http_status(status.code()),
            code_name(status.code()),
            status.message(),
        );
        if status.code() == Code::ResourceExhausted {
            problem.retry_after_secs = status
                .metadata()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
        }
        problem
    }

    pub fn http_status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<Status> for Problem {
    fn from(status: Status) -> Self {
        Problem::from_status(&status)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.http_status();
        let retry = self.retry_after_secs;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(secs) = retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::metadata::MetadataValue;

    #[test]
    fn statuses_become_problems_with_the_same_message() {
        let p = Problem::from_status(&Status::not_found("finding 1 (check the id)"));
        assert_eq!((p.status, p.code.as_str()), (404, "NOT_FOUND"));
        assert_eq!(p.detail, "finding 1 (check the id)");
        assert_eq!(p.kind, "https://lockstep.dev/problems/not-found");
        assert_eq!(p.title, "Not Found");
        for (code, http) in [
            (Code::InvalidArgument, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::FailedPrecondition, 409),
            (Code::Unavailable, 503),
            (Code::Internal, 500),
        ] {
            assert_eq!(http_status(code).as_u16(), http, "{code:?}");
        }
    }

    #[test]
    fn a_cooldown_carries_its_retry_after() {
        let mut s = Status::resource_exhausted("try again in 42 s");
        s.metadata_mut()
            .insert("retry-after", MetadataValue::from(42u64));
        let p = Problem::from_status(&s);
        assert_eq!((p.status, p.retry_after_secs), (429, Some(42)));
        let response = p.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
        assert_eq!(response.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
    }
}
