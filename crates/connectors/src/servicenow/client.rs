//! The ServiceNow client: configuration, the authenticated Table API call every other module
//! uses, and the mapping of ServiceNow's answers to [`ConnectorError`].

use std::sync::Arc;

use http::StatusCode;
use lockstep_domain::{IntegrationId, Vendor};
use serde_json::Value;

use super::auth::{AppliedAuth, AuthKind, Authenticator, CredentialsHandle};
use super::url::InstanceUrl;
use crate::error::{ConnectorError, Result};
use crate::http::{HttpExecutor, VendorRequest, VendorResponse};

/// Settings of one ServiceNow integration.
#[derive(Debug, Clone)]
pub struct ServiceNowConfig {
    pub integration_id: IntegrationId,
    pub instance: InstanceUrl,
    /// Rows per change-feed page.
    pub page_size: u32,
    /// At most this many records per change-feed run; the rest come next run.
    pub max_feed_records: usize,
    /// Sub-requests per Batch API call (each runs within the instance's 30 s batch budget).
    pub batch_size: usize,
    /// Concurrent creates when the Batch API is unavailable.
    pub bulk_concurrency: usize,
}

impl ServiceNowConfig {
    pub fn new(integration_id: IntegrationId, instance: InstanceUrl) -> Self {
        Self {
            integration_id,
            instance,
            page_size: 100,
            max_feed_records: 10_000,
            batch_size: 50,
            bulk_concurrency: 4,
        }
    }
}

/// A client for one ServiceNow integration. Cheap to clone.
#[derive(Clone)]
pub struct ServiceNowClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: ServiceNowConfig,
    pub exec: HttpExecutor,
    pub auth: Authenticator,
}

impl std::fmt::Debug for ServiceNowClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceNowClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// One Table API (or other REST) call; its path is below the instance root, without leading
/// slash: `api/now/table/incident`.
pub(crate) type SnCall = crate::http::RestCall;

/// A successful answer: the raw response and its parsed JSON body (`Null` for 204).
#[derive(Debug, Clone)]
pub(crate) struct SnResponse {
    pub raw: VendorResponse,
    pub body: Value,
}

impl SnResponse {
    /// `X-Total-Count` of a list answer.
    pub fn total_count(&self) -> Option<u64> {
        self.raw
            .header_str("x-total-count")
            .and_then(|v| v.trim().parse().ok())
    }

    /// `result` as a list of records.
    pub fn result_list(&self) -> Result<&Vec<Value>> {
        self.body
            .get("result")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                ConnectorError::invalid_response(
                    "the answer has no result list (is this a ServiceNow instance?)",
                )
            })
    }

    /// `result` as one record.
    pub fn result_object(&self) -> Result<&Value> {
        self.body
            .get("result")
            .filter(|r| r.is_object())
            .ok_or_else(|| {
                ConnectorError::invalid_response(
                    "the answer has no result record (is this a ServiceNow instance?)",
                )
            })
    }
}

impl ServiceNowClient {
    pub fn new(
        exec: HttpExecutor,
        config: ServiceNowConfig,
        credentials: CredentialsHandle,
    ) -> Self {
        let auth = Authenticator::new(
            config.instance.clone(),
            config.integration_id,
            exec.clone(),
            credentials,
        );
        Self {
            inner: Arc::new(Inner { config, exec, auth }),
        }
    }

    pub fn config(&self) -> &ServiceNowConfig {
        &self.inner.config
    }

    /// The shared credentials cell; rotate through it.
    pub fn credentials(&self) -> &CredentialsHandle {
        self.inner.auth.credentials()
    }

    pub fn instance(&self) -> &InstanceUrl {
        &self.inner.config.instance
    }

    /// Sends the call with authentication; on a 401 with OAuth, renews the token and tries once
    /// more. Non-2xx answers become errors.
    pub(crate) async fn call(&self, call: &SnCall) -> Result<SnResponse> {
        let (resp, applied) = self.send_raw(call).await?;
        if !resp.status.is_success() {
            return Err(match applied {
                Some(applied) if resp.status == StatusCode::UNAUTHORIZED => {
                    self.inner.auth.rejected(&applied, &envelope_message(&resp))
                }
                _ => error_from_response(&resp, call.op),
            });
        }
        if resp.status == StatusCode::NO_CONTENT || resp.body.is_empty() {
            return Ok(SnResponse {
                raw: resp,
                body: Value::Null,
            });
        }
        if !looks_like_json(&resp) {
            return Err(non_json_error(&resp));
        }
        let body = resp.json::<Value>()?;
        Ok(SnResponse { raw: resp, body })
    }

    /// Sends the call and returns whatever came back (after the OAuth renewal on 401), with how
    /// it was authenticated (`None` for anonymous calls).
    pub(crate) async fn send_raw(
        &self,
        call: &SnCall,
    ) -> Result<(VendorResponse, Option<AppliedAuth>)> {
        let mut req = self.request(call)?;
        if call.anonymous {
            return Ok((self.inner.exec.send(&req).await?, None));
        }
        let base_headers = req.headers.clone();
        let applied = self.inner.auth.apply(&mut req.headers).await?;
        let mut resp = self.inner.exec.send(&req).await?;
        let mut applied = applied;
        if resp.status == StatusCode::UNAUTHORIZED && self.inner.auth.invalidate(&applied).await {
            tracing::info!(
                op = call.op,
                "ServiceNow refused the OAuth token; renewing it and retrying once"
            );
            req.headers = base_headers;
            applied = self.inner.auth.apply(&mut req.headers).await?;
            resp = self.inner.exec.send(&req).await?;
        }
        if resp.status != StatusCode::UNAUTHORIZED {
            self.inner.auth.accepted(&applied);
        }
        Ok((resp, Some(applied)))
    }

    fn request(&self, call: &SnCall) -> Result<VendorRequest> {
        let url = self.inner.config.instance.join(&call.path);
        call.to_request(Vendor::ServiceNow, self.inner.config.integration_id, url)
    }

    pub(crate) fn auth_kind(&self) -> AuthKind {
        self.credentials().kind()
    }
}

fn looks_like_json(resp: &VendorResponse) -> bool {
    let ct = resp.content_type().unwrap_or("").to_ascii_lowercase();
    ct.contains("json")
        || resp
            .body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{' || *b == b'[')
}

fn non_json_error(resp: &VendorResponse) -> ConnectorError {
    let text = String::from_utf8_lossy(&resp.body).to_ascii_lowercase();
    if text.contains("hibernat") {
        return ConnectorError::Vendor {
            status: 503,
            message: "the instance is hibernating (it answered with its 'Instance Hibernating' page); wake it \
                      from the developer portal, then try again"
                .into(),
        };
    }
    ConnectorError::invalid_response(format!(
        "HTTP {} with a {} page instead of a ServiceNow JSON answer; check that the instance URL points at the \
         instance itself and not at a login page, proxy or other site",
        resp.status.as_u16(),
        resp.content_type().unwrap_or("non-JSON")
    ))
}

/// `message: detail` of ServiceNow's error envelope, or a short description of the body.
pub(crate) fn envelope_message(resp: &VendorResponse) -> String {
    let parsed: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let detail = error
        .and_then(|e| e.get("detail"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    match (message.is_empty(), detail.is_empty()) {
        (false, false) => format!("{message}: {detail}"),
        (false, true) => message.to_owned(),
        (true, false) => detail.to_owned(),
        (true, true) => {
            if let Some(desc) = parsed
                .as_ref()
                .and_then(|v| v.get("error_description"))
                .and_then(Value::as_str)
            {
                return desc.to_owned();
            }
            let text = String::from_utf8_lossy(&resp.body);
            if text.contains("Transaction cancelled") {
                "Transaction cancelled: maximum execution time exceeded".to_owned()
            } else {
                resp.status
                    .canonical_reason()
                    .unwrap_or("no message")
                    .to_owned()
            }
        }
    }
}

/// Maps a non-2xx ServiceNow answer (other than an authenticated 401) to an error.
pub(crate) fn error_from_response(resp: &VendorResponse, op: &str) -> ConnectorError {
    let message = envelope_message(resp);
    let status = resp.status.as_u16();
    match status {
        401 => ConnectorError::Auth {
            reason: crate::error::AuthFailure::BadCredentials,
            message: format!("ServiceNow answered 401 ({message})"),
            remedy: super::auth::REMEDY_BASIC.to_owned(),
        },
        403 if message.contains("Data Policy Exception") => ConnectorError::DataPolicy {
            remedy: "Send the fields the instance's data policy names (for resolving or closing: a valid \
                     resolution code, close_code, and resolution notes), or ask the ServiceNow admin to relax \
                     the data policy"
                .into(),
            message,
        },
        403 => ConnectorError::Permission {
            remedy: permission_remedy(op, &message),
            message,
        },
        404 => ConnectorError::NotFound { message: format!("{message} ({op})") },
        429 => ConnectorError::RateLimited { retry_after: resp.retry_after(), message },
        _ if message.contains("Transaction cancelled") => ConnectorError::Timeout {
            message: format!("the instance cancelled {op}: {message}"),
        },
        _ if status >= 500 && !looks_like_json(resp) => ConnectorError::Vendor {
            status,
            message: format!("the instance or its load balancer answered with an HTTP {status} error page; try again later"),
        },
        300..=399 => ConnectorError::InvalidConfig {
            message: format!(
                "the instance redirected {op} to {}; check the instance URL (it must be the instance itself, \
                 such as https://<instance>.service-now.com/)",
                resp.header_str("location").unwrap_or("another address")
            ),
        },
        _ => ConnectorError::Vendor { status, message },
    }
}

fn permission_remedy(op: &str, message: &str) -> String {
    let what = if message.contains("Insert") {
        "create records in this table"
    } else if message.contains("Update") {
        "update records in this table"
    } else if message.contains("Delete") {
        "delete records in this table"
    } else {
        "read this table"
    };
    format!(
        "The service account may not {what} ({op}). Give the service user the roles it needs (usually itil, or \
         sn_incident_write / sn_change_write and the read roles), check the table's ACLs for the custom \
         integration role, and check that no REST API access policy blocks the Table API"
    )
}
