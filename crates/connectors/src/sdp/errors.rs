//! SDP's error envelope (reference B7): `response_status` (an object on single-record calls, an
//! array on lists) with an outer `status_code` 4000 and `messages[]` carrying the specific code,
//! `field` for one bad field, `fields[]` for missing mandatory ones. Mapped to
//! [`ConnectorError`] with what the admin should do.

use serde_json::Value;

use crate::error::{AuthFailure, ConnectorError};
use crate::http::VendorResponse;

pub const REMEDY_KEY: &str = "Generate a new API key for the integration technician (on premises: \
     Admin → Technicians, or the technician's Personalize → API Key → Generate; check the key's \
     expiry date) and rotate the integration's credentials";
pub const REMEDY_CLOUD: &str = "The Zoho refresh token or client was not accepted: create a new \
     Self Client grant in the Zoho API console (api-console.zoho.<dc>) with the SDPOnDemand \
     scopes, then rotate the integration's credentials";
pub const REMEDY_FORBIDDEN: &str = "Give the integration technician a role that may view, add, \
     edit and close requests (SDAdmin, or a technician role with those Requests permissions)";

/// The statuses of `response_status`, whichever shape it has.
fn statuses(body: &Value) -> Vec<&Value> {
    match body.get("response_status") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

/// Whether the answer reports a failure whatever its HTTP status.
pub fn failed_status(body: &Value) -> bool {
    statuses(body).iter().any(|s| {
        let code = s.get("status_code").and_then(code_of).unwrap_or(2000);
        let failed = s
            .get("status")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("failed"));
        code >= 4000 || failed
    })
}

fn code_of(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// One message of the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub code: u64,
    pub field: Option<String>,
    pub fields: Vec<String>,
    pub text: String,
}

/// The messages of every failed status (the outer code when there are none).
pub fn messages(body: &Value) -> Vec<Message> {
    let mut out = Vec::new();
    for s in statuses(body) {
        let outer = s.get("status_code").and_then(code_of).unwrap_or(4000);
        let list = s.get("messages").and_then(Value::as_array);
        match list {
            Some(list) if !list.is_empty() => {
                for m in list {
                    out.push(Message {
                        code: m.get("status_code").and_then(code_of).unwrap_or(outer),
                        field: m.get("field").and_then(Value::as_str).map(str::to_owned),
                        fields: m
                            .get("fields")
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(|f| f.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        text: m
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                    });
                }
            }
            _ if outer >= 4000 => out.push(Message {
                code: outer,
                ..Message::default()
            }),
            _ => {}
        }
    }
    out
}

impl Message {
    /// `4001 requester: requester is not valid`.
    pub fn describe(&self) -> String {
        let mut s = self.code.to_string();
        if let Some(f) = &self.field {
            s.push_str(&format!(" {f}"));
        }
        if !self.fields.is_empty() {
            s.push_str(&format!(" [{}]", self.fields.join(", ")));
        }
        if !self.text.is_empty() {
            s.push_str(&format!(": {}", self.text));
        }
        s
    }
}

/// The error an answer carries. `cloud` picks the authentication remedy.
pub fn envelope_error(
    resp: &VendorResponse,
    body: &Value,
    op: &str,
    cloud: bool,
) -> ConnectorError {
    let msgs = messages(body);
    let http = resp.status.as_u16();
    let code = msgs
        .iter()
        .map(|m| m.code)
        .find(|c| *c != 4000)
        .or(msgs.first().map(|m| m.code))
        .unwrap_or(match http {
            401 => 4022,
            403 => 4002,
            404 => 4007,
            429 => 4015,
            _ => 4000,
        });
    let text = if msgs.is_empty() {
        format!("HTTP {http}")
    } else {
        msgs.iter()
            .map(Message::describe)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let in_200 = if resp.status.is_success() {
        " (reported inside an HTTP 200)"
    } else {
        ""
    };
    let message = format!("ServiceDesk Plus refused {op}: {text}{in_200}");
    match code {
        4022 => ConnectorError::Auth {
            reason: if cloud {
                AuthFailure::TokenExpiredOrRevoked
            } else {
                AuthFailure::ApiKeyRejected
            },
            message,
            remedy: (if cloud { REMEDY_CLOUD } else { REMEDY_KEY }).to_owned(),
        },
        4002 => ConnectorError::Permission {
            message,
            remedy: REMEDY_FORBIDDEN.to_owned(),
        },
        4007 => ConnectorError::NotFound { message },
        4012 => {
            let fields: Vec<String> = msgs.iter().flat_map(|m| m.fields.clone()).collect();
            ConnectorError::DataPolicy {
                message,
                remedy: format!(
                    "The request template makes {} mandatory: fill them through the mapping, or \
                     make them optional in the template (Admin → Templates & Forms → Request \
                     Template)",
                    if fields.is_empty() {
                        "fields".into()
                    } else {
                        fields.join(", ")
                    }
                ),
            }
        }
        4015 => ConnectorError::RateLimited {
            retry_after: resp.retry_after(),
            message,
        },
        4004 => ConnectorError::Vendor {
            status: 500,
            message,
        },
        _ if http >= 500 => ConnectorError::Vendor {
            status: http,
            message,
        },
        _ => ConnectorError::Vendor {
            status: if resp.status.is_success() { 400 } else { http },
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};
    use serde_json::json;

    fn resp(status: u16) -> VendorResponse {
        VendorResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Default::default(),
            attempts: 1,
        }
    }

    #[test]
    fn both_shapes_of_response_status_are_read() {
        let ok_list = json!({"response_status": [{"status_code": 2000, "status": "success"}]});
        assert!(!failed_status(&ok_list));
        let failed_list = json!({"response_status": [{"status_code": 4000, "status": "failed",
            "messages": [{"status_code": 4001, "field": "row_count", "message": "bad"}]}]});
        assert!(failed_status(&failed_list));
        assert_eq!(messages(&failed_list)[0].describe(), "4001 row_count: bad");
        let failed_obj = json!({"response_status": {"status_code": 4000, "status": "failed",
            "messages": [{"status_code": "4012", "fields": ["impact", "udf_sline_301"]}]}});
        assert!(failed_status(&failed_obj));
    }

    #[test]
    fn codes_become_classes_with_remedies() {
        let body = |code: u64| {
            json!({"response_status": {"status_code": 4000, "status": "failed",
                "messages": [{"status_code": code, "message": "m", "fields": ["impact"]}]}})
        };
        let e = envelope_error(&resp(401), &body(4022), "create", false);
        assert!(
            matches!(
                e,
                ConnectorError::Auth {
                    reason: AuthFailure::ApiKeyRejected,
                    ..
                }
            ),
            "{e}"
        );
        let e = envelope_error(&resp(403), &body(4002), "create", false);
        assert!(e.to_string().contains("SDAdmin"), "{e}");
        let e = envelope_error(&resp(400), &body(4012), "create", false);
        assert!(e.to_string().contains("impact"), "{e}");
        assert_eq!(e.class(), crate::ErrorClass::FailedPrecondition);
        let e = envelope_error(&resp(200), &body(4004), "create", false);
        assert!(e.to_string().contains("inside an HTTP 200"), "{e}");
        assert!(e.is_transient());
        let e = envelope_error(&resp(429), &body(4015), "list", true);
        assert_eq!(e.class(), crate::ErrorClass::ResourceExhausted);
    }
}
