//! The HTTP listener's edge: its `[http]` configuration, and the layers every request (API and
//! pages) passes before its route: a server span continuing the caller's `traceparent`, a bound
//! on requests in progress (more are shed with 503 and `Retry-After`), and a time limit (504).
//! Slow clients are the server loop's business (`lockstep_platform::guarded`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use lockstep_platform::config::serde_duration;
use lockstep_platform::guarded::{ServeLimits, TlsFiles};
use lockstep_platform::telemetry::propagation;
use lockstep_service_kit::problem::Problem;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

/// `[http]` of the api: the HTTP JSON API's listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpApiConfig {
    /// Address of the HTTP JSON API (and the pages merged beside it).
    pub listen: SocketAddr,
    /// Mark the session cookie `Secure` (always so when `tls` is on): set it when browsers
    /// reach the api over HTTPS through a TLS proxy in front, so the cookie never travels in
    /// clear.
    pub secure_cookies: bool,
    /// A request still running after this long is answered 504.
    #[serde(with = "serde_duration")]
    pub request_timeout: Duration,
    /// The same for the routes that move whole data sets ([`BULK_ROUTES`]).
    #[serde(with = "serde_duration")]
    pub bulk_request_timeout: Duration,
    /// Requests in progress at once; more are answered 503 with `Retry-After`.
    pub max_concurrent_requests: usize,
    /// A request's head must arrive within this long (also the TLS handshake's limit, and how
    /// long an idle keep-alive connection stays open).
    #[serde(with = "serde_duration")]
    pub header_read_timeout: Duration,
    /// Open connections; past it nothing more is accepted until one closes.
    pub max_connections: usize,
    /// At shutdown, how long requests in flight may take to finish.
    #[serde(with = "serde_duration")]
    pub shutdown_drain: Duration,
    /// Serve HTTPS with this certificate and key.
    pub tls: TlsFiles,
}

impl Default for HttpApiConfig {
    fn default() -> Self {
        HttpApiConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 8081)),
            secure_cookies: false,
            request_timeout: Duration::from_secs(30),
            bulk_request_timeout: Duration::from_secs(300),
            max_concurrent_requests: 256,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            shutdown_drain: Duration::from_secs(20),
            tls: TlsFiles::default(),
        }
    }
}

impl HttpApiConfig {
    /// The server loop's bounds.
    pub fn serve_limits(&self) -> ServeLimits {
        ServeLimits {
            header_read_timeout: self.header_read_timeout,
            max_connections: self.max_connections,
            shutdown_drain: self.shutdown_drain,
        }
    }
}

/// Routes that read or write a whole data set in one request: the CSV export and the findings
/// imports (a scan of up to 8 MiB, or streamed up to 256 MiB); they get `bulk_request_timeout`.
pub const BULK_ROUTES: &[&str] = &[
    "/v1/tickets.csv",
    "/v1/findings/import",
    "/v1/findings/import-stream",
];

/// How long to ask a shed client to wait: in-progress requests mostly finish within a second.
const RETRY_AFTER_SECS: u64 = 1;

struct Limits {
    timeout: Duration,
    bulk_timeout: Duration,
    permits: Arc<Semaphore>,
}

/// `router` with the edge's layers; they apply to every route, the pages' included.
pub fn layered(router: Router, config: &HttpApiConfig) -> Router {
    let limits = Arc::new(Limits {
        timeout: config.request_timeout,
        bulk_timeout: config.bulk_request_timeout,
        permits: Arc::new(Semaphore::new(config.max_concurrent_requests.max(1))),
    });
    // The last layer is the outermost: the span sees the limits' answers too.
    router
        .layer(middleware::from_fn_with_state(limits, limit))
        .layer(middleware::from_fn(trace))
}

/// Sheds a request past the concurrency bound and answers one past its time limit. A request
/// cut off by the time limit stops where it was: a database transaction not yet committed rolls
/// back, but a call already made to ticket-writer or the poller may still complete there.
async fn limit(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    let Ok(_permit) = limits.permits.clone().try_acquire_owned() else {
        let mut problem = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "OVERLOADED",
            "the api is serving as many requests as it is configured for \
             (http.max_concurrent_requests); retry after the Retry-After seconds",
        );
        problem.retry_after_secs = Some(RETRY_AFTER_SECS);
        return problem.into_response();
    };
    let bulk = request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|route| BULK_ROUTES.contains(&route.as_str()));
    let (timeout, key) = if bulk {
        (limits.bulk_timeout, "http.bulk_request_timeout")
    } else {
        (limits.timeout, "http.request_timeout")
    };
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            "DEADLINE_EXCEEDED",
            format!(
                "the request did not finish within {}s ({key}); a change it makes may still \
                 complete, so read the current state before retrying, or narrow the request",
                timeout.as_secs_f64()
            ),
        )
        .into_response(),
    }
}

/// The server span of one request, named by its route. Only `traceparent` is taken from the
/// caller: the API is reachable from outside, and an unknown caller's `tracestate` and
/// `baggage` would travel on into every upstream call and log line.
async fn trace(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|route| route.as_str().to_owned());
    // OpenTelemetry's HTTP conventions: "METHOD route", or the method alone when no route
    // matched (a path's ids would make every name unique).
    let name = match &route {
        Some(route) => format!("{method} {route}"),
        None => method.to_string(),
    };
    let span = tracing::info_span!(
        parent: None,
        "http_request",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = route.as_deref(),
        url.path = request.uri().path(),
        http.response.status_code = tracing::field::Empty,
    );
    if let Some(parent) = request
        .headers()
        .get(propagation::TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(propagation::from_traceparent)
    {
        propagation::continue_trace(&span, parent);
    }
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    if response.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    response
}
