//! The one HTTP executor every vendor module sends its requests through.
//!
//! A vendor module builds a [`VendorRequest`] (method, URL, headers, body, whether it is
//! idempotent) and interprets the [`VendorResponse`]; this module does the IO: timeouts, safe
//! retries with jittered backoff and `Retry-After` ([`retry`]), bounded concurrency per
//! integration, request and response logging with secrets masked ([`mask`]), and the metrics
//! `lockstep_vendor_requests_total{vendor,op,outcome}` (one count per attempt) and
//! `lockstep_vendor_request_duration_seconds{vendor,op}`. Each attempt runs in an OpenTelemetry
//! client span (`vendor_request`) whose W3C `traceparent` goes to the vendor with the request.
//!
//! Every connection passes the destination guard ([`guard`]): loopback, private, link-local,
//! metadata and other internal addresses ([`ranges`]) are refused, after DNS resolution and on
//! every new connection, unless the operator's [`AllowList`] names them.
//!
//! Any HTTP status comes back as `Ok(VendorResponse)` (after retries where they apply): what a
//! status means is the vendor module's business. `Err` means there was no usable response.

mod call;
pub mod guard;
pub mod mask;
pub mod ranges;
pub mod retry;
mod trace;

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use lockstep_domain::{IntegrationId, Vendor};
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tracing::Instrument as _;
use url::Url;

use crate::error::{ConnectorError, Result};
pub(crate) use call::RestCall;
pub use guard::{ALLOW_LIST_ENV, ALLOW_LIST_KEY, AllowEntry, AllowList, Refusal};
use guard::{Guard, VettedResolver};
pub use ranges::RefusedRange;
pub use retry::RetryPolicy;
use retry::{AttemptFailure, RetryDecision};

pub const REQUESTS_TOTAL: &str = "lockstep_vendor_requests_total";
pub const REQUEST_DURATION: &str = "lockstep_vendor_request_duration_seconds";

/// Installs rustls' ring provider as the process default (reqwest is built without one).
/// Safe to call any number of times.
pub fn install_crypto_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

/// Settings of the executor.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// Whole-request timeout (connect, send, and read the full body) per attempt.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Requests in flight at once per integration.
    pub max_concurrency_per_integration: usize,
    /// PEM certificates to trust *instead of* the system roots (private CAs, the emulator's
    /// self-signed certificate). Empty = the platform's roots.
    pub trusted_roots_pem: Vec<Vec<u8>>,
    pub user_agent: String,
    /// Networks and host names that may be reached although they are loopback, private,
    /// link-local or otherwise internal. Empty = public addresses only.
    pub allow_private_networks: AllowList,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            max_concurrency_per_integration: 4,
            trusted_roots_pem: Vec::new(),
            user_agent: format!("lockstep/{}", env!("CARGO_PKG_VERSION")),
            allow_private_networks: AllowList::default(),
        }
    }
}

/// A request body and its content type.
#[derive(Debug, Clone)]
pub struct RequestBody {
    pub content_type: &'static str,
    pub bytes: Bytes,
}

/// One logical vendor call. `op` names it in logs and metrics (`create_incident`, `feed_page`).
#[derive(Debug, Clone)]
pub struct VendorRequest {
    pub vendor: Vendor,
    pub op: &'static str,
    pub integration: IntegrationId,
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<RequestBody>,
    /// Whether running the request twice has the same effect as once. Defaults from the
    /// method (GET, HEAD, PUT, DELETE, OPTIONS); callers mark e.g. a PATCH that sets fields.
    pub idempotent: bool,
    /// Overrides [`HttpConfig::request_timeout`] for this call.
    pub timeout: Option<Duration>,
}

impl VendorRequest {
    pub fn new(
        vendor: Vendor,
        op: &'static str,
        integration: IntegrationId,
        method: Method,
        url: Url,
    ) -> Self {
        let idempotent = method.is_idempotent();
        Self {
            vendor,
            op,
            integration,
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            idempotent,
            timeout: None,
        }
    }

    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| ConnectorError::config(format!("cannot encode request body: {e}")))?;
        self.body = Some(RequestBody {
            content_type: "application/json",
            bytes: bytes.into(),
        });
        Ok(self)
    }

    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body = Some(RequestBody {
            content_type: "application/x-www-form-urlencoded",
            bytes: encoded.into(),
        });
        self
    }

    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// A complete response (body fully read).
#[derive(Debug, Clone)]
pub struct VendorResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// How many attempts it took.
    pub attempts: u32,
}

impl VendorResponse {
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ConnectorError::invalid_response(format!(
                "HTTP {} body is not the expected JSON ({e}): {}",
                self.status.as_u16(),
                mask::masked_body(self.content_type(), &self.body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ))
        })
    }

    /// The wait the vendor asked for (`Retry-After`, or `X-RateLimit-Reset` on a 429).
    pub fn retry_after(&self) -> Option<Duration> {
        retry::retry_after(&self.headers, self.status, SystemTime::now())
    }
}

/// The shared executor. Cheap to clone; one per process is enough.
#[derive(Clone)]
pub struct HttpExecutor {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    guard: Arc<Guard>,
    config: HttpConfig,
    limits: Mutex<HashMap<IntegrationId, Arc<Semaphore>>>,
}

impl std::fmt::Debug for HttpExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpExecutor")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl HttpExecutor {
    pub fn new(config: HttpConfig) -> Result<Self> {
        install_crypto_provider();
        let guard = Arc::new(Guard::new(config.allow_private_networks.clone()));
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(config.user_agent.clone())
            // A redirect from an instance URL means the URL is wrong (login page, other host);
            // following it would hide that from the connection test, and would lead past the
            // destination guard's check of literal addresses.
            .redirect(reqwest::redirect::Policy::none())
            // Every host name is resolved by the guard's resolver, on every new connection.
            .dns_resolver(VettedResolver::new(guard.clone()))
            // A proxy would resolve and connect on our behalf, out of the guard's sight.
            .no_proxy();
        if !config.trusted_roots_pem.is_empty() {
            let mut roots = Vec::new();
            for pem in &config.trusted_roots_pem {
                let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                    ConnectorError::config(format!(
                        "trusted root certificates are not valid PEM: {e}"
                    ))
                })?;
                roots.extend(certs);
            }
            builder = builder.tls_certs_only(roots);
        }
        let client = builder.build().map_err(|e| {
            ConnectorError::config(format!("cannot build the HTTP client: {}", error_chain(&e)))
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                guard,
                config,
                limits: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// Sets the concurrency bound of one integration (default
    /// [`HttpConfig::max_concurrency_per_integration`]). Requests already waiting keep the old
    /// bound.
    pub fn set_concurrency(&self, integration: IntegrationId, permits: usize) {
        self.inner
            .limits
            .lock()
            .insert(integration, Arc::new(Semaphore::new(permits.max(1))));
    }

    fn limiter(&self, integration: IntegrationId) -> Arc<Semaphore> {
        let default = self.inner.config.max_concurrency_per_integration.max(1);
        self.inner
            .limits
            .lock()
            .entry(integration)
            .or_insert_with(|| Arc::new(Semaphore::new(default)))
            .clone()
    }

    /// Whether `url` may be used as a vendor address: an IP literal must be public or allowed;
    /// a host name must resolve to at least one such address. A name that does not resolve at
    /// all passes (the connection test reports it); the executor checks again on every
    /// connection, so this is for telling the user early (when an integration is saved).
    pub async fn check_destination(&self, url: &Url) -> Result<()> {
        self.inner.guard.check_url(url)?;
        if let Some(url::Host::Domain(host)) = url.host()
            && let Err(guard::ResolveError::Refused(refusal)) = self.inner.guard.resolve(host).await
        {
            return Err(refusal.into());
        }
        Ok(())
    }

    /// Sends the request, retrying where safe. Returns the final response whatever its status.
    pub async fn send(&self, req: &VendorRequest) -> Result<VendorResponse> {
        if let Err(refusal) = self.inner.guard.check_url(&req.url) {
            count_refused(req);
            return Err(refusal.into());
        }
        let policy = &self.inner.config.retry;
        let limiter = self.limiter(req.integration);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = {
                let _permit = limiter
                    .acquire()
                    .await
                    .map_err(|_| ConnectorError::Transport {
                        message: "executor shut down".into(),
                    })?;
                let span = trace::client_span(req, attempt);
                self.attempt(req, attempt, &span)
                    .instrument(span.clone())
                    .await
            };
            let (failure, hint) = match &outcome {
                Ok(resp) if is_failure(resp.status) => {
                    (AttemptFailure::Status(resp.status), resp.retry_after())
                }
                Ok(_) => return outcome.map_err(|e| e.error),
                Err(AttemptError { failure, .. }) => (*failure, None),
            };
            match policy.decide(attempt, failure, req.idempotent, hint) {
                RetryDecision::GiveUp => return outcome.map_err(|e| e.error),
                RetryDecision::RetryAfter(wait) => {
                    tracing::warn!(
                        vendor = %req.vendor, op = req.op, attempt, wait_ms = wait.as_millis() as u64,
                        failure = ?failure, "vendor call failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        req: &VendorRequest,
        attempt: u32,
        span: &tracing::Span,
    ) -> Result<VendorResponse, AttemptError> {
        let started = Instant::now();
        let timeout = req.timeout.unwrap_or(self.inner.config.request_timeout);
        tracing::debug!(
            vendor = %req.vendor, op = req.op, attempt, method = %req.method,
            url = %mask::masked_url(&req.url), headers = ?mask::masked_headers(&req.headers),
            body = %req.body.as_ref().map(|b| mask::masked_body(Some(b.content_type), &b.bytes)).unwrap_or_default(),
            "vendor request"
        );
        let mut headers = req.headers.clone();
        if let Some(traceparent) = trace::traceparent(span) {
            headers.insert(trace::TRACEPARENT, traceparent);
        }
        let mut builder = self
            .inner
            .client
            .request(req.method.clone(), req.url.clone())
            .headers(headers)
            .timeout(timeout);
        if let Some(body) = &req.body {
            builder = builder
                .header(http::header::CONTENT_TYPE, body.content_type)
                .body(body.bytes.clone());
        }
        let result = match builder.send().await {
            Ok(resp) => {
                let status = resp.status();
                let headers = resp.headers().clone();
                resp.bytes().await.map(|body| VendorResponse {
                    status,
                    headers,
                    body,
                    attempts: attempt,
                })
            }
            Err(e) => Err(e),
        };
        let elapsed = started.elapsed();
        let refusal = result
            .as_ref()
            .err()
            .and_then(|e| guard::find_refusal(e).cloned());
        let outcome = match &result {
            Ok(resp) => status_outcome(resp.status),
            Err(_) if refusal.is_some() => "refused",
            Err(e) if e.is_timeout() => "timeout",
            Err(_) => "transport",
        };
        metrics::counter!(REQUESTS_TOTAL, "vendor" => req.vendor.as_str(), "op" => req.op, "outcome" => outcome)
            .increment(1);
        trace::record(span, result.as_ref().map(|r| r.status), outcome);
        metrics::histogram!(REQUEST_DURATION, "vendor" => req.vendor.as_str(), "op" => req.op)
            .record(elapsed.as_secs_f64());
        match result {
            Ok(resp) => {
                tracing::debug!(
                    vendor = %req.vendor, op = req.op, attempt, status = resp.status.as_u16(),
                    elapsed_ms = elapsed.as_millis() as u64,
                    body = %mask::masked_body(resp.content_type(), &resp.body),
                    "vendor response"
                );
                Ok(resp)
            }
            Err(e) => {
                let host = req.url.host_str().unwrap_or("?").to_owned();
                let chain = error_chain(&e);
                tracing::debug!(vendor = %req.vendor, op = req.op, attempt, error = %chain, "vendor call failed");
                let (failure, error) = if let Some(refusal) = refusal {
                    (AttemptFailure::Refused, ConnectorError::from(refusal))
                } else if e.is_connect() {
                    let message = if e.is_timeout() {
                        format!(
                            "could not connect to {host} within {:?}",
                            self.inner.config.connect_timeout
                        )
                    } else {
                        format!("could not connect to {host}: {chain}")
                    };
                    (
                        AttemptFailure::Connect,
                        ConnectorError::Transport { message },
                    )
                } else if e.is_timeout() {
                    let message = format!("{host} did not answer {} within {timeout:?}", req.op);
                    (
                        AttemptFailure::Ambiguous,
                        ConnectorError::Timeout { message },
                    )
                } else {
                    let message = format!("request to {host} failed: {chain}");
                    (
                        AttemptFailure::Ambiguous,
                        ConnectorError::Transport { message },
                    )
                };
                Err(AttemptError { failure, error })
            }
        }
    }
}

/// Counts a request the guard refused before any attempt.
fn count_refused(req: &VendorRequest) {
    tracing::warn!(
        vendor = %req.vendor, op = req.op, integration = %req.integration,
        host = req.url.host_str().unwrap_or("?"), "vendor address refused by the destination guard"
    );
    metrics::counter!(REQUESTS_TOTAL, "vendor" => req.vendor.as_str(), "op" => req.op, "outcome" => "refused")
        .increment(1);
}

struct AttemptError {
    failure: AttemptFailure,
    error: ConnectorError,
}

fn is_failure(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

fn status_outcome(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200..=399 => "success",
        429 => "rate_limited",
        400..=499 => "client_error",
        _ => "server_error",
    }
}

/// An error and its sources, joined, so "invalid peer certificate: UnknownIssuer" is not lost
/// behind "error sending request".
fn error_chain(e: &reqwest::Error) -> String {
    let mut top = e.to_string();
    if let Some(url) = e.url() {
        top = top.replace(url.as_str(), &mask::masked_url(url));
    }
    let mut parts = vec![top];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
