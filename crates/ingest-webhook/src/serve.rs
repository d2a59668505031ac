//! The receiver's HTTP server: `lockstep_platform::guarded`, hardened against slow and idle
//! clients (anyone may connect: the URL is public and nothing is authenticated before a
//! request's head and body are in). Its bounds come from `[ingest]`: the head within
//! `header_read_timeout`, at most `max_connections` open, `shutdown_drain` at shutdown; the
//! body within `body_read_timeout` is enforced by the handler, which answers 408.
//!
//! Every request runs in a server span (`webhook_request`) that continues the sender's W3C
//! `traceparent` when it sends one; the delivery carries that span's context into JetStream.

use axum::extract::Request;
use hyper::body::Incoming;
use lockstep_platform::Shutdown;
pub(crate) use lockstep_platform::guarded::ServeLimits;
use lockstep_platform::telemetry::propagation;
use tokio::net::TcpListener;

use crate::receive::ROUTE;

/// Serves `router` on `listener` until `shutdown`, then drains (see `lockstep_platform::guarded`).
/// Returns how many connections were still open when the drain time ran out (and were closed).
pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ServeLimits,
    shutdown: Shutdown,
) -> usize {
    lockstep_platform::guarded::serve(listener, router, limits, None, Some(request_span), shutdown)
        .await
}

/// The server span of one request. It continues the sender's trace when the request carries a
/// W3C `traceparent`; only that header is taken from the public internet: `tracestate` and
/// `baggage` of an unknown sender would travel on into every message and log line.
fn request_span(request: &Request<Incoming>) -> tracing::Span {
    let method = request.method();
    let path = request.uri().path();
    // The span is named before routing (a started span keeps its name): the route's template
    // when the path is one of its, else the method alone (OpenTelemetry's HTTP conventions).
    let route = path
        .strip_prefix("/v1/webhooks/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .map(|_| ROUTE);
    // A root unless the sender names a parent: a request never joins whatever span serves the
    // connection.
    let span = tracing::info_span!(
        parent: None,
        "webhook_request",
        otel.name = %match route {
            Some(route) => format!("{method} {route}"),
            None => method.to_string(),
        },
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = route,
        url.path = path,
        http.response.status_code = tracing::field::Empty,
    );
    let parent = request
        .headers()
        .get(propagation::TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(propagation::from_traceparent);
    if let Some(parent) = parent {
        propagation::continue_trace(&span, parent);
    }
    span
}
