//! The ServiceDesk Plus client: one authenticated v3 call (`input_data` encoding, the v3 `Accept`
//! header, a Cloud token renewed once on 401) and SDP's error envelope, including errors inside
//! an HTTP 200, mapped to [`ConnectorError`] with remedies.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method, header};
use lockstep_domain::{IntegrationId, Vendor};
use serde_json::Value;

use super::auth::Auth;
use super::errors::{envelope_error, failed_status};
use super::meta::Instance;
use super::url::PortalUrl;
use crate::error::{ConnectorError, Result};
use crate::http::{HttpExecutor, VendorRequest, VendorResponse};

/// The media type every v3 call must accept (reference B1).
pub const ACCEPT_V3: &str = "application/vnd.manageengine.sdp.v3+json";

/// Settings of one ServiceDesk Plus integration.
#[derive(Debug, Clone)]
pub struct SdpConfig {
    pub integration_id: IntegrationId,
    pub portal: PortalUrl,
    /// Rows per change-feed page (SDP allows 1..100).
    pub page_size: u32,
    /// At most this many records per change-feed run; the rest come next run.
    pub max_feed_records: usize,
    /// Creates in flight at once in a bulk creation (SDP has no bulk endpoint).
    pub bulk_concurrency: usize,
    /// How long lookups, templates and UDFs read from the instance are reused.
    pub metadata_ttl: Duration,
}

impl SdpConfig {
    pub fn new(integration_id: IntegrationId, portal: PortalUrl) -> Self {
        Self {
            integration_id,
            portal,
            page_size: 100,
            max_feed_records: 10_000,
            bulk_concurrency: 8,
            metadata_ttl: Duration::from_secs(300),
        }
    }
}

/// A client for one ServiceDesk Plus integration. Cheap to clone.
#[derive(Clone)]
pub struct SdpClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: SdpConfig,
    pub exec: HttpExecutor,
    pub auth: Auth,
    /// The instance's lookups, templates and UDFs, with when they were read. An async lock held
    /// while they are read, so the first creates of a bulk run read them once, not once each.
    pub instance: tokio::sync::Mutex<Option<(std::time::Instant, Arc<Instance>)>>,
}

impl std::fmt::Debug for SdpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdpClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// One v3 call: `path` below `api/v3/`, `input` sent as `input_data` (query string on GET, form
/// body otherwise, as the vendor's own examples do).
#[derive(Debug, Clone)]
pub(crate) struct SdpCall {
    pub op: &'static str,
    pub method: Method,
    pub path: String,
    pub input: Option<Value>,
    pub idempotent: Option<bool>,
}

impl SdpCall {
    pub fn new(op: &'static str, method: Method, path: impl Into<String>) -> Self {
        Self {
            op,
            method,
            path: path.into(),
            input: None,
            idempotent: None,
        }
    }

    pub fn input(mut self, input: Value) -> Self {
        self.input = Some(input);
        self
    }

    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }
}

impl SdpClient {
    pub fn new(exec: HttpExecutor, config: SdpConfig, auth: Auth) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                exec,
                auth,
                instance: tokio::sync::Mutex::new(None),
            }),
        }
    }

    pub fn config(&self) -> &SdpConfig {
        &self.inner.config
    }

    pub fn portal(&self) -> &PortalUrl {
        &self.inner.config.portal
    }

    /// Sends the call; a Cloud token refused with 401 is renewed once and the call repeated.
    /// Returns the JSON body of a successful answer; any failure, also one reported inside an
    /// HTTP 200, is an error.
    pub(crate) async fn call(&self, call: &SdpCall) -> Result<Value> {
        let req = self.request(call)?;
        let (resp, renewable) = self.send_authenticated(&req).await?;
        let resp = if resp.status.as_u16() == 401 && renewable {
            tracing::info!(
                op = call.op,
                "ServiceDesk Plus refused the access token; renewing it and retrying once"
            );
            self.inner.auth.invalidate().await;
            self.send_authenticated(&req).await?.0
        } else {
            resp
        };
        self.interpret(call.op, &resp)
    }

    async fn send_authenticated(&self, req: &VendorRequest) -> Result<(VendorResponse, bool)> {
        let mut req = req.clone();
        let renewable = self
            .inner
            .auth
            .apply(
                &mut req.headers,
                &self.inner.exec,
                self.inner.config.integration_id,
            )
            .await?;
        Ok((self.inner.exec.send(&req).await?, renewable))
    }

    fn request(&self, call: &SdpCall) -> Result<VendorRequest> {
        let mut url = self.portal().api(&call.path);
        let encoded = call
            .input
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| ConnectorError::config(format!("cannot encode input_data: {e}")))?;
        if call.method == Method::GET
            && let Some(input) = &encoded
        {
            url.query_pairs_mut().append_pair("input_data", input);
        }
        let mut req = VendorRequest::new(
            Vendor::ManageEngine,
            call.op,
            self.inner.config.integration_id,
            call.method.clone(),
            url,
        )
        .header(header::ACCEPT, HeaderValue::from_static(ACCEPT_V3));
        if call.method != Method::GET
            && let Some(input) = &encoded
        {
            req = req.form(&[("input_data", input.as_str())]);
        }
        if let Some(idempotent) = call.idempotent {
            req = req.idempotent(idempotent);
        }
        Ok(req)
    }

    /// The body of a successful answer, or the error it carries (also inside an HTTP 200: the
    /// official collection checks `response_status` on every answer).
    fn interpret(&self, op: &str, resp: &VendorResponse) -> Result<Value> {
        let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
        let Some(body) = body.filter(Value::is_object) else {
            return Err(non_json_error(resp, op));
        };
        if !resp.status.is_success() || failed_status(&body) {
            return Err(envelope_error(resp, &body, op, self.inner.auth.is_cloud()));
        }
        Ok(body)
    }
}

fn non_json_error(resp: &VendorResponse, op: &str) -> ConnectorError {
    let status = resp.status.as_u16();
    match status {
        300..=399 => ConnectorError::config(format!(
            "ServiceDesk Plus redirected {op} to {}; check the URL (the server root on premises, \
             or https://<domain>/app/<portal>/ on Cloud)",
            resp.header_str("location").unwrap_or("another address")
        )),
        404 => ConnectorError::NotFound {
            message: format!(
                "{op}: HTTP 404 without SDP's answer; check the URL and the portal name \
                 (https://<domain>/app/<portal>/)"
            ),
        },
        500..=599 => ConnectorError::Vendor {
            status,
            message: format!(
                "the server answered {op} with an HTTP {status} page; try again later"
            ),
        },
        _ => ConnectorError::invalid_response(format!(
            "HTTP {status} with a {} answer instead of ServiceDesk Plus JSON ({op}); check that the \
             URL points at ServiceDesk Plus itself and not at a login page or proxy",
            resp.content_type().unwrap_or("non-JSON")
        )),
    }
}
