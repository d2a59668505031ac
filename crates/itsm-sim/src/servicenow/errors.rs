//! The Table API error envelope and the exact texts of §1.8:
//! `{"error":{"message":"…","detail":"…"|null},"status":"failure"}`.

use http::StatusCode;
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnError {
    pub status: StatusCode,
    pub message: String,
    pub detail: Option<String>,
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`, …).
    pub headers: Vec<(&'static str, String)>,
}

pub const MAX_BODY_BYTES: usize = 10_485_760;

impl SnError {
    pub fn new(status: StatusCode, message: impl Into<String>, detail: Option<&str>) -> Self {
        Self {
            status,
            message: message.into(),
            detail: detail.map(str::to_string),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(&self) -> Value {
        json!({"error": {"message": self.message, "detail": self.detail}, "status": "failure"})
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "User Not Authenticated",
            Some("Required to provide Auth information"),
        )
        .with_header("www-authenticate", "BASIC realm=\"Service-now\"")
    }

    pub fn invalid_table(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!("Invalid table {name}"),
            None,
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "No Record found",
            Some("Record doesn't exist or ACL restricts the record retrieval"),
        )
    }

    pub fn no_records_v1() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "No Record found",
            Some("Records matching query not found. Check query parameter or offset parameter"),
        )
    }

    /// `op` is `Insert`, `Update` or `Delete`.
    pub fn acl(op: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Operation Failed",
            Some(&format!(
                "ACL Exception {op} Failed due to security constraints"
            )),
        )
    }

    pub fn query_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Insufficient rights to query records",
            None,
        )
    }

    pub fn field_query_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Insufficient rights to query records",
            Some("Field(s) present in the query do not have permission to be read."),
        )
    }

    /// The base data policy "Make close info mandatory when resolved or closed" (§3.4). The reference
    /// gives the text but not its message/detail split; a failed write reports "Operation Failed"
    /// with the exception text as detail, like the ACL write failures.
    pub fn data_policy(labels: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Operation Failed",
            Some(&format!(
                "Data Policy Exception: The following fields are mandatory: {labels}"
            )),
        )
    }

    pub fn rate_limited(limit: u64, api: &str) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded",
            Some(&format!(
                "Rate limit of {limit} requests per hour for {api} exceeded"
            )),
        )
    }

    pub fn bad_json() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            Some("The payload is not valid JSON."),
        )
    }

    /// Status UNCONFIRMED in the reference (§1.1); 413 is what the HTTP layer would say.
    pub fn too_large(len: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Exception while reading request",
            Some(&format!(
                "Rejected large REST payload with content-length = {len} bytes. Max allowed: {MAX_BODY_BYTES} bytes."
            )),
        )
    }

    /// Not in the reference; the text a real instance answers for a path no REST resource serves.
    pub fn bad_uri() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "Requested URI does not represent any resource",
            None,
        )
    }

    /// The reference lists 405 without a body (§1.8); the message is the emulator's choice.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "Method not Supported", None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_shape_and_texts() {
        assert_eq!(
            SnError::unauthenticated().body().to_string(),
            r#"{"error":{"detail":"Required to provide Auth information","message":"User Not Authenticated"},"status":"failure"}"#
        );
        let e = SnError::invalid_table("nope");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.body()["error"]["detail"], Value::Null);
        assert_eq!(
            SnError::acl("Insert").detail.as_deref(),
            Some("ACL Exception Insert Failed due to security constraints")
        );
        assert_eq!(
            SnError::rate_limited(100, "Table API").detail.as_deref(),
            Some("Rate limit of 100 requests per hour for Table API exceeded")
        );
    }
}
