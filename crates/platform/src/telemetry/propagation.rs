//! W3C trace context in and out of a process: HTTP and gRPC headers (gRPC metadata is HTTP/2
//! headers), and a single `traceparent` value for context carried inside a message (one delivery
//! of a webhook group, one change of a `FindingChanges` message), where one set of message
//! headers cannot hold the contexts of many requests.
//!
//! Everything goes through the global propagator that [`super::init`] installs, so
//! `OTEL_PROPAGATORS=none` turns propagation off everywhere at once. Without an installed
//! OpenTelemetry layer the functions do nothing: extraction gives an empty context, injection
//! writes nothing, [`traceparent`] is empty.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The W3C header (and message field) that carries a trace id and the caller's span id.
pub const TRACEPARENT: &str = "traceparent";

struct HttpExtractor<'a>(&'a HeaderMap);

impl Extractor for HttpExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HttpInjector<'a>(&'a mut HeaderMap);

impl Injector for HttpInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The caller's context from request headers (empty when there is none).
pub fn extract(headers: &HeaderMap) -> Context {
    opentelemetry::global::get_text_map_propagator(|p| p.extract(&HttpExtractor(headers)))
}

/// Writes `span`'s context into outgoing request headers.
pub fn inject(span: &tracing::Span, headers: &mut HeaderMap) {
    let cx = span.context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut HttpInjector(headers));
    });
}

/// Makes `span` continue the trace of `cx` when `cx` holds a valid remote or local span;
/// otherwise `span` keeps its own parent (the current span, or none: a new trace). Call it
/// before the span is entered or has children: a started span cannot change its parent.
pub fn continue_trace(span: &tracing::Span, cx: Context) {
    if cx.span().span_context().is_valid() {
        // Fails only when the span is disabled or already started; it then keeps its parent.
        let _ = span.set_parent(cx);
    }
}

/// `span`'s context as one W3C `traceparent` value, or an empty string when there is none (no
/// OpenTelemetry layer, the span disabled, or propagation switched off).
pub fn traceparent(span: &tracing::Span) -> String {
    let cx = span.context();
    let mut carrier = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
    carrier.remove(TRACEPARENT).unwrap_or_default()
}

/// The context a `traceparent` value names; `None` for an empty or malformed value.
pub fn from_traceparent(value: &str) -> Option<Context> {
    if value.is_empty() {
        return None;
    }
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), value.to_owned())]);
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    cx.span().span_context().is_valid().then_some(cx)
}

/// Adds a link from `span` to the span a `traceparent` value names (nothing for an empty or
/// malformed value): for work done once on behalf of many traces, such as one transaction for a
/// batch of events.
pub fn link(span: &tracing::Span, traceparent: &str) {
    if let Some(cx) = from_traceparent(traceparent) {
        span.add_link(cx.span().span_context().clone());
    }
}
