//! The Jira client: configuration, the authenticated REST v3 call every other module uses, and
//! the mapping of Jira's answers (its `ErrorCollection` envelope, reference A9) to
//! [`ConnectorError`].

use std::sync::Arc;

use http::StatusCode;
use lockstep_domain::{IntegrationId, Vendor};
use serde_json::Value;

use super::auth::JiraAuth;
use super::url::SiteUrl;
use crate::error::{ConnectorError, Result};
use crate::http::{HttpExecutor, VendorRequest, VendorResponse};

/// Settings of one Jira integration.
#[derive(Debug, Clone)]
pub struct JiraConfig {
    pub integration_id: IntegrationId,
    pub site: SiteUrl,
    /// The project the integration creates in by default (its settings), checked by the
    /// connection test and the mapping check.
    pub default_project: Option<String>,
    /// The issue type new tickets get (a sub-task type is picked for sub-tasks).
    pub issue_type: String,
    /// The link type of the "link" mode.
    pub link_type: String,
    /// Issues per `search/jql` page of the change feed.
    pub page_size: u32,
    /// At most this many issues per change-feed run; the rest come next run.
    pub max_feed_records: usize,
    /// Elements per `/issue/bulk` call; Jira's limit is 50 (reference A3).
    pub bulk_chunk: usize,
    /// Bulk calls in flight at once (each also waits for the executor's per-integration bound).
    pub bulk_concurrency: usize,
    /// Transitions one push may perform to reach its target status.
    pub max_hops: usize,
    /// Attempts of a transition answered 409 (another transition running on the issue).
    pub conflict_attempts: u32,
}

impl JiraConfig {
    pub fn new(integration_id: IntegrationId, site: SiteUrl) -> Self {
        Self {
            integration_id,
            site,
            default_project: None,
            issue_type: "Task".into(),
            link_type: "Relates".into(),
            page_size: 100,
            max_feed_records: 10_000,
            bulk_chunk: 50,
            bulk_concurrency: 4,
            max_hops: 4,
            conflict_attempts: 4,
        }
    }
}

/// A client for one Jira integration. Cheap to clone.
#[derive(Clone)]
pub struct JiraClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: JiraConfig,
    pub exec: HttpExecutor,
    pub auth: JiraAuth,
    pub meta: super::meta::MetaCache,
}

impl std::fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// One REST call; its path is below `rest/api/3/`, or a full path when it starts with `rest/`.
pub(crate) type JCall = crate::http::RestCall;

/// A successful answer's JSON body (`Null` for 204 and empty bodies).
#[derive(Debug, Clone)]
pub(crate) struct JResponse {
    pub body: Value,
}

impl JiraClient {
    pub fn new(exec: HttpExecutor, config: JiraConfig, auth: JiraAuth) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                exec,
                auth,
                meta: Default::default(),
            }),
        }
    }

    pub fn config(&self) -> &JiraConfig {
        &self.inner.config
    }

    pub fn site(&self) -> &SiteUrl {
        &self.inner.config.site
    }

    /// Sends the call; non-2xx answers become errors.
    pub(crate) async fn call(&self, call: &JCall) -> Result<JResponse> {
        let resp = self.send_raw(call).await?;
        if !resp.status.is_success() {
            return Err(match resp.status {
                StatusCode::UNAUTHORIZED => self.inner.auth.rejected(&envelope_message(&resp)),
                _ => error_from_response(&resp, call.op),
            });
        }
        if resp.status == StatusCode::NO_CONTENT || resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(JResponse { body: Value::Null });
        }
        if !looks_like_json(&resp) {
            return Err(not_jira(&resp));
        }
        let body = resp.json::<Value>()?;
        Ok(JResponse { body })
    }

    /// Sends the call with credentials and returns whatever came back; with OAuth, a 401 renews
    /// the access token and the call is sent once more.
    pub(crate) async fn send_raw(&self, call: &JCall) -> Result<VendorResponse> {
        let resp = self.send_once(call).await?;
        if resp.status == StatusCode::UNAUTHORIZED && self.inner.auth.invalidate().await {
            tracing::info!(
                op = call.op,
                "Jira refused the OAuth access token; renewing it and retrying once"
            );
            return self.send_once(call).await;
        }
        Ok(resp)
    }

    async fn send_once(&self, call: &JCall) -> Result<VendorResponse> {
        let mut headers = http::HeaderMap::new();
        let root = self.inner.auth.apply(&mut headers).await?;
        let mut req = self.request(call, root)?;
        req.headers.extend(headers);
        self.inner.exec.send(&req).await
    }

    /// `root` is the OAuth gateway's API root, when calls go through it.
    fn request(&self, call: &JCall, root: Option<url::Url>) -> Result<VendorRequest> {
        let path = if call.path.starts_with("rest/") {
            call.path.clone()
        } else {
            format!("rest/api/3/{}", call.path)
        };
        let url = match root {
            Some(root) => root
                .join(&path)
                .map_err(|e| ConnectorError::config(e.to_string()))?,
            None => self.site().join(&path),
        };
        call.to_request(Vendor::Jira, self.inner.config.integration_id, url)
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

fn not_jira(resp: &VendorResponse) -> ConnectorError {
    ConnectorError::invalid_response(format!(
        "HTTP {} with a {} page instead of a Jira JSON answer; check that the site URL is the Jira \
         Cloud site itself (https://<site>.atlassian.net) and not a login page, proxy or other site",
        resp.status.as_u16(),
        resp.content_type().unwrap_or("non-JSON")
    ))
}

/// The messages of an `ErrorCollection` (`errorMessages` and `errors` as `field: message`), or a
/// short description of a body that is not one.
pub(crate) fn envelope_message(resp: &VendorResponse) -> String {
    let parsed: Option<Value> = serde_json::from_slice(&resp.body).ok();
    if let Some(text) = parsed.as_ref().and_then(collection_text) {
        return text;
    }
    let text = String::from_utf8_lossy(&resp.body);
    let text = text.trim();
    if !text.is_empty() && text.len() <= 200 && !text.starts_with('<') {
        return text.to_owned();
    }
    resp.status
        .canonical_reason()
        .unwrap_or("no message")
        .to_owned()
}

/// `errorMessages` and `errors` of an `ErrorCollection` as one line, when there are any.
pub(crate) fn collection_text(body: &Value) -> Option<String> {
    let mut parts: Vec<String> = body
        .get("errorMessages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(errors) = body.get("errors").and_then(Value::as_object) {
        parts.extend(
            errors
                .iter()
                .map(|(field, msg)| format!("{field}: {}", msg.as_str().unwrap_or("invalid"))),
        );
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Maps a non-2xx Jira answer (other than a 401) to an error.
pub(crate) fn error_from_response(resp: &VendorResponse, op: &str) -> ConnectorError {
    let message = envelope_message(resp);
    let status = resp.status.as_u16();
    let has_field_errors = serde_json::from_slice::<Value>(&resp.body)
        .ok()
        .and_then(|b| {
            b.get("errors")
                .and_then(Value::as_object)
                .map(|e| !e.is_empty())
        })
        .unwrap_or(false);
    match status {
        400 | 422 if has_field_errors => ConnectorError::DataPolicy {
            message: format!("{message} ({op})"),
            remedy: "Set the fields Jira names: check the project's create or transition \
                     screen, its required fields (the integration's field metadata lists them) and \
                     the priority mapping against the project's priority scheme"
                .into(),
        },
        403 => ConnectorError::Permission {
            message: format!("{message} ({op})"),
            remedy: "Give the integration account the project permissions it needs (Browse \
                     Projects, Create Issues, Edit Issues, Transition Issues, Add Comments, Link \
                     Issues) through the project's permission scheme"
                .into(),
        },
        404 => ConnectorError::NotFound {
            message: format!("{message} ({op})"),
        },
        429 => ConnectorError::RateLimited {
            retry_after: resp.retry_after(),
            message,
        },
        300..=399 => ConnectorError::InvalidConfig {
            message: format!(
                "the site redirected {op} to {}; check the site URL (it must be the site itself, \
                 such as https://<site>.atlassian.net)",
                resp.header_str("location").unwrap_or("another address")
            ),
        },
        _ if status >= 500 && !looks_like_json(resp) => ConnectorError::Vendor {
            status,
            message: format!("Jira answered with an HTTP {status} error page; try again later"),
        },
        _ => ConnectorError::Vendor { status, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_collections_read_as_one_line() {
        let body = json!({"errorMessages": ["Field 'priority' is required"],
                          "errors": {"components": "Component/s is required."}});
        assert_eq!(
            collection_text(&body).unwrap(),
            "Field 'priority' is required; components: Component/s is required."
        );
        assert_eq!(
            collection_text(&json!({"errorMessages": [], "errors": {}})),
            None
        );
    }
}
