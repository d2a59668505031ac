//! Health endpoints and the admin router every service serves on its metrics port.
//!
//! Liveness (`/healthz`, `/livez`) only says "the process is not wedged" and never checks
//! dependencies — a database outage must not make Kubernetes restart every pod. Readiness
//! (`/readyz`) is the conjunction of named checks that the service flips as it connects to its
//! dependencies, and that it fails on purpose while draining so traffic moves elsewhere first.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::{Error, Shutdown};

const SHUTDOWN_CHECK: &str = "shutdown";

/// Shared readiness state: a set of named checks, ready when all pass. Clone it freely.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    checks: Arc<Mutex<BTreeMap<String, bool>>>,
}

/// One named check of a [`Readiness`]; the task that owns a dependency flips it.
#[derive(Debug, Clone)]
pub struct ReadinessCheck {
    name: Arc<str>,
    readiness: Readiness,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check that starts out failing (the dependency is not connected yet).
    pub fn register(&self, name: impl Into<String>) -> ReadinessCheck {
        let name: String = name.into();
        self.lock().insert(name.clone(), false);
        ReadinessCheck {
            name: name.into(),
            readiness: self.clone(),
        }
    }

    /// True when every registered check passes (trivially true with no checks).
    pub fn is_ready(&self) -> bool {
        self.lock().values().all(|ok| *ok)
    }

    /// Names of the failing checks, sorted.
    pub fn failing(&self) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|(_, ok)| !**ok)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Adds a `shutdown` check that passes until `shutdown` fires, so the pod reports not-ready
    /// while it drains. Needs a Tokio runtime.
    pub fn fail_on_shutdown(&self, shutdown: &Shutdown) {
        let check = self.register(SHUTDOWN_CHECK);
        check.set_ready(true);
        let signal = shutdown.signal();
        tokio::spawn(async move {
            signal.await;
            check.set_ready(false);
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, bool>> {
        self.checks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ReadinessCheck {
    pub fn set_ready(&self, ready: bool) {
        self.readiness.lock().insert(self.name.to_string(), ready);
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// `/metrics`, `/healthz`, `/livez` and `/readyz`. Serve it on a separate port from the API so
/// a NetworkPolicy can open it to the monitoring namespace only.
///
/// Installs the Prometheus recorder (idempotent) so metrics recorded from now on are kept; a
/// service builds this router before it starts recording.
pub fn admin_router(readiness: Readiness) -> Result<Router, Error> {
    let handle = crate::metrics::install_recorder()?;
    Ok(Router::new()
        .route("/metrics", get(move || metrics_text(handle.clone())))
        .route("/healthz", get(live))
        .route("/livez", get(live))
        .route("/readyz", get(move || ready(readiness.clone()))))
}

async fn live() -> &'static str {
    "ok\n"
}

async fn ready(readiness: Readiness) -> Response {
    let failing = readiness.failing();
    if failing.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let body = format!("not ready: {}\n", failing.join(", "));
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

async fn metrics_text(handle: PrometheusHandle) -> Response {
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;

    async fn get(router: &Router, path: &str) -> (StatusCode, String) {
        let response = router
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn readyz_reports_failing_checks_until_all_pass() {
        let readiness = Readiness::new();
        let db = readiness.register("database");
        let nats = readiness.register("nats");
        let router = admin_router(readiness.clone()).unwrap();

        assert_eq!(
            get(&router, "/readyz").await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: database, nats\n".into()
            )
        );
        db.set_ready(true);
        assert_eq!(
            get(&router, "/readyz").await,
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: nats\n".into())
        );
        nats.set_ready(true);
        assert_eq!(
            get(&router, "/readyz").await,
            (StatusCode::OK, "ready\n".into())
        );
        // Liveness does not depend on readiness.
        db.set_ready(false);
        assert_eq!(
            get(&router, "/healthz").await,
            (StatusCode::OK, "ok\n".into())
        );
        assert_eq!(get(&router, "/livez").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn shutdown_makes_the_service_unready() {
        let readiness = Readiness::new();
        let shutdown = Shutdown::new();
        readiness.fail_on_shutdown(&shutdown);
        assert!(readiness.is_ready());
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(5), async {
            while readiness.is_ready() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        assert_eq!(readiness.failing(), ["shutdown"]);
    }

    #[tokio::test]
    async fn metrics_endpoint_serves_prometheus_text() {
        let router = admin_router(Readiness::new()).unwrap();
        metrics::counter!("lockstep_test_admin_requests_total").increment(1);
        let response = router
            .clone()
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let (_, body) = get(&router, "/metrics").await;
        assert!(
            body.contains("lockstep_test_admin_requests_total"),
            "{body}"
        );
    }
}
