//! The receiver's HTTP server, hardened against slow and idle clients (anyone may connect: the
//! URL is public and nothing is authenticated before a request's head and body are in).
//!
//! - a request's head must arrive within `header_read_timeout` (hyper closes the connection
//!   otherwise; an idle keep-alive connection is closed after the same time);
//! - its body within `body_read_timeout` (enforced by the handler, which answers 408);
//! - at most `max_connections` connections are open; past it nothing more is accepted until one
//!   closes, so the operating system's backlog holds the rest;
//! - at shutdown, no new connection is accepted, idle ones are closed, requests in flight get
//!   `shutdown_drain` to finish, and whatever is still open then is closed.
//!
//! HTTP/1.1 only: vendors deliver webhooks over HTTP/1.1, and hyper's head timeout exists for
//! HTTP/1 only.
//!
//! Every request runs in a server span (`webhook_request`) that continues the sender's W3C
//! `traceparent` when it sends one; the delivery carries that span's context into JetStream.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use lockstep_platform::Shutdown;
use lockstep_platform::telemetry::propagation;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt as _;
use tracing::Instrument as _;

use crate::receive::ROUTE;

/// The server's bounds (from `[ingest]`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServeLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_drain: Duration,
}

/// Serves `router` on `listener` until `shutdown`, then drains as described above. Returns how
/// many connections were still open when the drain time ran out (and were closed).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: Shutdown,
) -> usize {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let (closing, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = shutdown.cancelled() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        // Reap finished connections so the set holds only open ones.
        while connections.try_join_next().is_some() {}
        let router = router.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            let span = request_span(&request);
            async move {
                let response = router.oneshot(request.map(axum::body::Body::new)).await;
                if let Ok(response) = &response {
                    let span = tracing::Span::current();
                    span.record("http.response.status_code", response.status().as_u16());
                    if response.status().is_server_error() {
                        span.record("otel.status_code", "ERROR");
                    }
                }
                response
            }
            .instrument(span)
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let mut closing = closing_rx.clone();
        connections.spawn(async move {
            let _permit = permit;
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_end(result),
                () = async { drop(closing.wait_for(|closing| *closing).await) } => {
                    // Closes at once when idle, after the response in flight otherwise.
                    connection.as_mut().graceful_shutdown();
                    log_end(connection.await);
                }
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let open = connections.len();
    let drained = tokio::time::timeout(limits.shutdown_drain, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_ok() {
        tracing::info!(
            connections = open,
            "every connection finished before shutdown"
        );
        return 0;
    }
    let cut = connections.len();
    tracing::warn!(
        connections = cut,
        drain = ?limits.shutdown_drain,
        "closing connections still open after the shutdown drain"
    );
    connections.shutdown().await;
    cut
}

/// The server span of one request. It continues the sender's trace when the request carries a
/// W3C `traceparent`; only that header is taken from the public internet: `tracestate` and
/// `baggage` of an unknown sender would travel on into every message and log line.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
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

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(err) = result {
        // Head timeouts, resets and malformed requests: the client's doing, not ours.
        tracing::debug!(error = %err, "connection ended with an error");
    }
}
