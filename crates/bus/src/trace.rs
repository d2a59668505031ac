//! W3C trace context across NATS: the publisher injects `traceparent`/`tracestate` from its
//! producer span into message headers; the consumer extracts them so its span continues the same
//! trace. A message that holds items of many traces (a group of webhook deliveries, a batch of
//! finding changes) also carries each item's own `traceparent` field, which wins over the header.

use async_nats::HeaderMap;
use lockstep_platform::telemetry::propagation;
use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value.as_str());
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_ref()).collect()
    }
}

/// Writes `span`'s context into `headers` (nothing when no propagator is installed).
pub(crate) fn inject(span: &tracing::Span, headers: &mut HeaderMap) {
    let cx = span.context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut HeaderInjector(headers));
    });
}

/// The trace context carried by `headers` (empty when none).
pub(crate) fn extract(headers: Option<&HeaderMap>) -> opentelemetry::Context {
    match headers {
        Some(headers) => {
            opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)))
        }
        None => opentelemetry::Context::new(),
    }
}

/// The context an item continues: its own `traceparent` when it has a valid one, else the
/// message's headers.
pub(crate) fn item_context(
    traceparent: &str,
    headers: Option<&HeaderMap>,
) -> opentelemetry::Context {
    propagation::from_traceparent(traceparent).unwrap_or_else(|| extract(headers))
}

/// The `traceparent` of the current span, for an item that travels inside a larger message.
pub(crate) fn current_traceparent() -> String {
    propagation::traceparent(&tracing::Span::current())
}
