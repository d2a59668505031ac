//! The client span of each attempt (OpenTelemetry's HTTP client conventions) and the W3C
//! `traceparent` that goes to the vendor with the request, so a vendor that traces too can join
//! the trace and a support case can name it.

use std::collections::HashMap;

use http::{HeaderName, HeaderValue, StatusCode};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::{VendorRequest, is_failure, mask};

pub(super) const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The span of attempt `attempt` (1 for the first) of `req`; the URL is masked as in the logs.
pub(super) fn client_span(req: &VendorRequest, attempt: u32) -> tracing::Span {
    tracing::info_span!(
        "vendor_request",
        otel.name = %format_args!("{} {}", req.method, req.op),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        http.request.method = %req.method,
        http.request.resend_count = attempt.saturating_sub(1),
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
        server.address = req.url.host_str().unwrap_or_default(),
        url.full = %mask::masked_url(&req.url),
        lockstep.vendor = %req.vendor,
        lockstep.op = req.op,
    )
}

/// Records how the attempt ended: the response status, or the kind of failure (`outcome`).
pub(super) fn record(span: &tracing::Span, status: Result<StatusCode, &impl Sized>, outcome: &str) {
    match status {
        Ok(status) => {
            span.record("http.response.status_code", status.as_u16());
            if is_failure(status) {
                span.record("otel.status_code", "ERROR");
            }
        }
        Err(_) => {
            span.record("error.type", outcome);
            span.record("otel.status_code", "ERROR");
        }
    }
}

/// The `traceparent` naming `span`, or `None` when tracing is off. Only that header goes to the
/// vendor: `tracestate` and `baggage` may hold our internal entries.
pub(super) fn traceparent(span: &tracing::Span) -> Option<HeaderValue> {
    let cx = span.context();
    let mut carrier = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
    carrier
        .remove(TRACEPARENT.as_str())
        .and_then(|v| HeaderValue::from_str(&v).ok())
}
