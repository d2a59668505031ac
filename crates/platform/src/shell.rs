//! The start-up, readiness and shutdown sequence every service shares, written once:
//!
//! 1. [`Shell::bind`] binds the admin listener (`/metrics`, `/healthz`, `/livez`, `/readyz`) with
//!    the service's readiness checks, at build time, so a taken port fails the start.
//! 2. [`Shell::run`] serves the admin endpoints while the service's own work runs (its gRPC or
//!    HTTP server, consumers, schedulers: whatever future it passes, so each service keeps its own
//!    serving and draining), turns `/readyz` to 503 the moment shutdown is triggered so traffic
//!    moves elsewhere while in-flight work drains, and stops the admin server only once the work
//!    has finished, so `/metrics` stays scrapable through the drain.
//!
//! [`prepare_process`] is the process half (telemetry, build info, SIGTERM/SIGINT), shared by
//! [`crate::run_service`] and `lockstep up`.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::config::TelemetryConfig;
use crate::health::{self, Readiness};
use crate::telemetry::{self, TelemetryGuard};
use crate::{Error, Shutdown, metrics};

/// A service's admin endpoints and readiness, bound and waiting for [`Shell::run`].
pub struct Shell {
    name: &'static str,
    readiness: Readiness,
    listener: TcpListener,
    addr: SocketAddr,
    router: axum::Router,
}

impl Shell {
    /// Binds `admin` (port 0 picks a free port) for the service called `name`.
    pub async fn bind(
        name: &'static str,
        admin: SocketAddr,
        readiness: Readiness,
    ) -> Result<Self, Error> {
        let router = health::admin_router(readiness.clone())?;
        let (listener, addr) = crate::bind(admin).await?;
        Ok(Self {
            name,
            readiness,
            listener,
            addr,
            router,
        })
    }

    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub fn admin_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Runs `work` to completion with the admin endpoints up; see the module documentation.
    pub async fn run<T>(self, shutdown: &Shutdown, work: impl Future<Output = T>) -> T {
        self.readiness.fail_on_shutdown(shutdown);
        let admin_stop = Shutdown::new();
        let admin = tokio::spawn(crate::serve(self.listener, self.router, admin_stop.clone()));
        let outcome = work.await;
        admin_stop.trigger();
        match admin.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(service = self.name, error = %e, "the admin server failed")
            }
            Err(e) => tracing::warn!(service = self.name, error = %e, "the admin server panicked"),
        }
        tracing::info!("{} stopped", self.name);
        outcome
    }
}

/// What a process holds while it runs: keep the guard alive until the end (dropping it flushes
/// traces).
pub struct Process {
    pub telemetry: TelemetryGuard,
    pub shutdown: Shutdown,
}

/// Logging and tracing as `telemetry` says (`RUST_LOG`, `OTEL_*`), the build-info metric, and a
/// shutdown token armed on SIGTERM and SIGINT. Inside a Tokio runtime.
pub fn prepare_process(
    telemetry: &TelemetryConfig,
    name: &str,
    version: &str,
) -> Result<Process, Error> {
    let telemetry = telemetry::init(telemetry)?;
    metrics::record_build_info(name, version);
    let shutdown = Shutdown::on_signals()?;
    Ok(Process {
        telemetry,
        shutdown,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    async fn status(addr: SocketAddr, path: &str) -> Option<String> {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        response.split(' ').nth(1).map(str::to_owned)
    }

    #[tokio::test]
    async fn readiness_fails_at_shutdown_while_work_drains_and_admin_stops_after() {
        let readiness = Readiness::new();
        let shell = Shell::bind("test", SocketAddr::from(([127, 0, 0, 1], 0)), readiness)
            .await
            .unwrap();
        let addr = shell.admin_addr();
        let shutdown = Shutdown::new();
        let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
        let work = {
            let shutdown = shutdown.clone();
            async move {
                shutdown.cancelled().await;
                // Draining: the admin endpoints are still up and say "not ready".
                let _ = drained_rx.await;
                7
            }
        };
        let run = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shell.run(&shutdown, work).await }
        });
        let ready = async {
            loop {
                if status(addr, "/readyz").await.as_deref() == Some("200") {
                    break;
                }
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), ready)
            .await
            .expect("ready while running");

        shutdown.trigger();
        let draining = async {
            loop {
                if status(addr, "/readyz").await.as_deref() == Some("503") {
                    break;
                }
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), draining)
            .await
            .expect("not ready while draining");
        assert_eq!(
            status(addr, "/healthz").await.as_deref(),
            Some("200"),
            "still alive"
        );

        drained_tx.send(()).unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .expect("run returns once the work is done")
            .unwrap();
        assert_eq!(outcome, 7, "the work's own result comes back");
        assert_eq!(
            status(addr, "/healthz").await,
            None,
            "the admin server has stopped"
        );
    }
}
