//! A server span per RPC, continuing the caller's W3C trace context from the request metadata
//! (`traceparent`, `tracestate`, `baggage`: gRPC metadata are HTTP/2 headers). A layer of every
//! Lockstep gRPC server, so a handler, the vendor calls it makes and the messages it publishes
//! all belong to the caller's trace. Health checks and reflection are not traced: probes would
//! fill the traces with nothing a person follows.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use lockstep_platform::telemetry::propagation;
use tracing::Instrument as _;

/// Adds [`Traced`] around a service.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLayer;

impl<S> tower::Layer<S> for TraceLayer {
    type Service = Traced<S>;

    fn layer(&self, inner: S) -> Traced<S> {
        Traced { inner }
    }
}

/// A gRPC service whose calls each run in a server span.
#[derive(Debug, Clone)]
pub struct Traced<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for Traced<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let Some(span) = rpc_span(&request) else {
            return Box::pin(self.inner.call(request));
        };
        let call = span.in_scope(|| self.inner.call(request));
        Box::pin(
            async move {
                let result = call.await;
                if let Ok(response) = &result {
                    record_status(&tracing::Span::current(), response.headers());
                }
                result
            }
            .instrument(span),
        )
    }
}

/// The span of one call (`None` for health and reflection), a child of the caller's context
/// when the metadata carries one, else a new trace.
fn rpc_span<B>(request: &http::Request<B>) -> Option<tracing::Span> {
    let path = request.uri().path().trim_start_matches('/');
    if path.starts_with("grpc.health.") || path.starts_with("grpc.reflection.") {
        return None;
    }
    let (service, method) = path.split_once('/').unwrap_or((path, ""));
    let span = tracing::info_span!(
        parent: None,
        "rpc",
        otel.name = path,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = tracing::field::Empty,
    );
    propagation::continue_trace(&span, propagation::extract(request.headers()));
    Some(span)
}

/// Records the status of a call that ended with one in its headers (every error a handler
/// returns; a successful unary call sends its status in trailers, after this layer is done).
fn record_status(span: &tracing::Span, headers: &http::HeaderMap) {
    let Some(code) = tonic::Status::from_header_map(headers).map(|s| s.code()) else {
        return;
    };
    span.record("rpc.grpc.status_code", code as i32);
    // The server's own failures, not the caller's mistakes (OpenTelemetry's gRPC conventions).
    if matches!(
        code,
        tonic::Code::Unknown
            | tonic::Code::DeadlineExceeded
            | tonic::Code::Unimplemented
            | tonic::Code::Internal
            | tonic::Code::Unavailable
            | tonic::Code::DataLoss
    ) {
        span.record("otel.status_code", "ERROR");
    }
}
