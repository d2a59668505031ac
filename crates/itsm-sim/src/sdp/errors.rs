//! SDP's error envelope (reference B7): an outer `status_code` 4000 and `messages[]` carrying the
//! specific code, `field` for one bad field and `fields[]` for missing mandatory ones. The HTTP
//! status follows the official code table; the message wording is ours (UNCONFIRMED).

use http::StatusCode;
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub code: u32,
    pub field: Option<String>,
    pub fields: Vec<String>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SdpError {
    pub messages: Vec<Message>,
    /// Overrides the table's HTTP status (an error inside an HTTP 200).
    pub http: Option<StatusCode>,
}

pub type SResult<T> = Result<T, SdpError>;

/// The official code → HTTP table (common-error-code.html).
pub fn http_status(code: u32) -> StatusCode {
    match code {
        4002 => StatusCode::FORBIDDEN,
        4004 => StatusCode::INTERNAL_SERVER_ERROR,
        4007 => StatusCode::NOT_FOUND,
        4015 => StatusCode::TOO_MANY_REQUESTS,
        4022 => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl SdpError {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            messages: vec![Message {
                code,
                field: None,
                fields: Vec::new(),
                message: message.into(),
            }],
            http: None,
        }
    }

    pub fn field(code: u32, field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(code, message);
        e.messages[0].field = Some(field.into());
        e
    }

    /// 4012: mandatory fields not provided.
    pub fn mandatory(fields: Vec<String>) -> Self {
        let mut e = Self::new(4012, "Value for mandatory field is not provided");
        e.messages[0].fields = fields;
        e
    }

    pub fn invalid_key() -> Self {
        Self::new(4022, "Invalid API key")
    }

    pub fn forbidden() -> Self {
        Self::new(
            4002,
            "Forbidden: the user is not allowed to perform this operation",
        )
    }

    pub fn not_found() -> Self {
        Self::new(4007, "Invalid URL or resource not found")
    }

    pub fn status(&self) -> StatusCode {
        self.http
            .unwrap_or_else(|| http_status(self.messages.first().map_or(4000, |m| m.code)))
    }

    pub fn body(&self) -> Value {
        let messages: Vec<Value> = self
            .messages
            .iter()
            .map(|m| {
                let mut v = json!({"status_code": m.code, "type": "failed"});
                if let Some(f) = &m.field {
                    v["field"] = json!(f);
                }
                if !m.fields.is_empty() {
                    v["fields"] = json!(m.fields);
                }
                if !m.message.is_empty() {
                    v["message"] = json!(m.message);
                }
                v
            })
            .collect();
        json!({"response_status": {"status_code": 4000, "status": "failed", "messages": messages}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_documented_http_statuses() {
        assert_eq!(SdpError::invalid_key().status(), 401);
        assert_eq!(SdpError::new(4015, "x").status(), 429);
        assert_eq!(SdpError::mandatory(vec!["impact".into()]).status(), 400);
        let b = SdpError::mandatory(vec!["impact".into()]).body();
        assert_eq!(b["response_status"]["status_code"], 4000);
        assert_eq!(b["response_status"]["messages"][0]["fields"][0], "impact");
    }
}
