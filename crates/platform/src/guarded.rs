//! An HTTP/1.1 server hardened against slow and idle clients, for listeners anyone may reach
//! (ingest-webhook's public webhook URL, the api's HTTP JSON API and pages):
//!
//! - a request's head must arrive within `header_read_timeout` (hyper closes the connection
//!   otherwise; an idle keep-alive connection is closed after the same time), and with TLS the
//!   handshake must finish within it too;
//! - at most `max_connections` connections are open; past it nothing more is accepted until one
//!   closes, so the operating system's backlog holds the rest;
//! - at shutdown, no new connection is accepted, idle ones are closed, requests in flight get
//!   `shutdown_drain` to finish, and whatever is still open then is closed.
//!
//! HTTP/1.1 only (hyper's head timeout exists for HTTP/1 only); with TLS, ALPN offers
//! `http/1.1`. Bounds on a request once its head is in (time, concurrency, body size) belong to
//! the router's layers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
pub use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;
use tracing::Instrument as _;

use crate::Shutdown;

/// The server's bounds.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_drain: Duration,
}

/// Makes the server span of a request before it is routed (ingest-webhook's `webhook_request`);
/// the request runs inside it and its status code is recorded on it.
pub type RequestSpan = fn(&Request<Incoming>) -> tracing::Span;

/// `tls` of an HTTP listener: serve HTTPS with this certificate chain and key (PEM files, the
/// same files `[grpc.tls]` takes). Neither set: plain HTTP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsFiles {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

impl TlsFiles {
    /// The TLS acceptor these files describe, `None` when neither is set. Read at start, so a
    /// missing or bad file stops the service there; `section` names the keys in messages.
    pub fn acceptor(&self, section: &str) -> Result<Option<TlsAcceptor>, String> {
        let (cert, key) = match (&self.cert_file, &self.key_file) {
            (None, None) => return Ok(None),
            (Some(cert), Some(key)) => (cert, key),
            _ => return Err(format!("{section} needs both cert_file and key_file")),
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                format!(
                    "cannot read {section}.cert_file ({}): {e}; give a PEM certificate chain",
                    cert.display()
                )
            })?;
        if chain.is_empty() {
            return Err(format!(
                "{section}.cert_file ({}) holds no PEM certificate",
                cert.display()
            ));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
            format!(
                "cannot read {section}.key_file ({}): {e}; give a PEM private key",
                key.display()
            )
        })?;
        let mut config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("{section}: the certificate and key do not go together: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(TlsAcceptor::from(Arc::new(config))))
    }
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown`, then drains
/// as described above. Returns how many connections were still open when the drain time ran
/// out (and were closed).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    tls: Option<TlsAcceptor>,
    request_span: Option<RequestSpan>,
    shutdown: Shutdown,
) -> usize {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = http1::Builder::new();
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
                Ok((stream, _)) => {
                    // Nagle off: a response written in pieces (a streamed body) must not wait
                    // out the client's delayed ACK between them.
                    let _ = stream.set_nodelay(true);
                    stream
                }
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
            let span = request_span.map_or_else(tracing::Span::none, |make| make(&request));
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
        let builder = builder.clone();
        let closing = closing_rx.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let _permit = permit;
            let Some(tls) = tls else {
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                return drive(connection, closing).await;
            };
            let handshake = tokio::time::timeout(limits.header_read_timeout, tls.accept(stream));
            let mut stopping = closing.clone();
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(err)) => return tracing::debug!(error = %err, "TLS handshake failed"),
                    Err(_) => return tracing::debug!("TLS handshake timed out"),
                },
                () = async { drop(stopping.wait_for(|closing| *closing).await) } => return,
            };
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            drive(connection, closing).await;
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

/// Runs one connection to its end, or until the server closes: then at once when idle, after
/// the response in flight otherwise.
async fn drive<I, S, B>(connection: http1::Connection<I, S>, mut closing: watch::Receiver<bool>)
where
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => log_end(result),
        () = async { drop(closing.wait_for(|closing| *closing).await) } => {
            connection.as_mut().graceful_shutdown();
            log_end(connection.await);
        }
    }
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(err) = result {
        // Head timeouts, resets and malformed requests: the client's doing, not ours.
        tracing::debug!(error = %err, "connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_a_tls_configuration_or_a_missing_file_is_refused_naming_the_key() {
        assert!(TlsFiles::default().acceptor("http.tls").unwrap().is_none());
        let half = TlsFiles {
            cert_file: Some("/nonexistent/cert.pem".into()),
            key_file: None,
        };
        let err = half.acceptor("http.tls").err().unwrap();
        assert_eq!(err, "http.tls needs both cert_file and key_file");
        let missing = TlsFiles {
            cert_file: Some("/nonexistent/cert.pem".into()),
            key_file: Some("/nonexistent/key.pem".into()),
        };
        let err = missing.acceptor("http.tls").err().unwrap();
        assert!(
            err.starts_with("cannot read http.tls.cert_file (/nonexistent/cert.pem)"),
            "{err}"
        );
    }
}
