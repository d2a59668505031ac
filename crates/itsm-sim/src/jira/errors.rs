//! Jira's answers on failure, in one place: the `ErrorCollection` envelope
//! (`{"errorMessages":[…],"errors":{field: message}}`) with its status, plus the few non-envelope
//! bodies Jira sends (the 401 text, OAuth errors).

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq)]
pub struct JiraError {
    pub status: StatusCode,
    pub messages: Vec<String>,
    pub errors: BTreeMap<String, String>,
    /// A body that is not an ErrorCollection (401 text, OAuth JSON).
    pub raw: Option<(String, &'static str)>,
    /// Extra headers (Retry-After, WWW-Authenticate, X-RateLimit-*).
    pub headers: Vec<(String, String)>,
}

impl JiraError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            messages: vec![message.into()],
            errors: BTreeMap::new(),
            raw: None,
            headers: Vec::new(),
        }
    }

    pub fn field(status: StatusCode, field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(status, "");
        e.messages.clear();
        e.errors.insert(field.to_string(), message.into());
        e
    }

    pub fn fields(errors: BTreeMap<String, String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "");
        e.messages.clear();
        e.errors = errors;
        e
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// What Jira answers for an issue that does not exist *or* that the caller may not see: the
    /// same 404, so existence does not leak.
    pub fn issue_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Issue does not exist or you do not have permission to see it.",
        )
    }

    pub fn project_not_found(key: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("No project could be found with key '{key}'."),
        )
    }

    /// Missing or wrong credentials. Cloud answers `/rest/api/*` with this plain-text body and a
    /// `WWW-Authenticate` challenge ([3p] captures in atlassian/gajira-login#59, node-jira-client#255).
    pub fn unauthenticated() -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "");
        e.raw = Some((
            "Client must be authenticated to access this resource.".into(),
            "text/plain;charset=UTF-8",
        ));
        e.headers.push((
            "www-authenticate".into(),
            "Basic realm=\"protected-area\", OAuth realm=\"https%3A%2F%2Fexample.atlassian.net\""
                .into(),
        ));
        e
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(&self) -> Value {
        json!({"errorMessages": self.messages, "errors": self.errors})
    }
}

pub type JResult<T> = Result<T, JiraError>;
