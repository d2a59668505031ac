//! Starting and stopping the emulator: one listener (HTTP, or HTTPS with a generated certificate)
//! serving every vendor API plus the control API. Faults are applied here, before routing, because
//! a connection reset has to happen below the HTTP framework.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use crate::clock::SimClock;
use crate::control::client::{SimClient, SimClientError};
use crate::faults::{FaultAction, Faults};
use crate::jira::{self, Jira};
use crate::rng::SimRng;
use crate::sdp::{self, Sdp};
use crate::servicenow::{self, ServiceNow, sla};
use crate::state::{RequestEntry, RequestLog, SimState};
use crate::tls::{self, TlsError};
use crate::webhooks::{self, Webhooks};
use crate::{control, tls::install_crypto_provider};

#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Serve HTTPS with a certificate generated at start.
    pub tls: bool,
    /// Seed for faults, webhook misbehaviour, sys_ids and tokens.
    pub seed: u64,
    /// Extra host names for the certificate (besides localhost, 127.0.0.1 and ::1).
    pub extra_hosts: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            tls: false,
            seed: 0,
            extra_hosts: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Client(#[from] SimClientError),
}

pub struct SimServer;

impl SimServer {
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        let bind_err = |source| SimError::Bind {
            addr: config.listen,
            source,
        };
        let listener = TcpListener::bind(config.listen).await.map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let tls = if config.tls {
            Some(tls::generate(&config.extra_hosts)?)
        } else {
            None
        };
        let host = match addr.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let base_url = format!(
            "{}://{host}:{}",
            if tls.is_some() { "https" } else { "http" },
            addr.port()
        );

        let clock = Arc::new(SimClock::default());
        let rng = Arc::new(SimRng::new(config.seed));
        let (hooks, hook_rx) = Webhooks::new(rng.clone());
        let hooks = Arc::new(hooks);
        let sn = Arc::new(ServiceNow::new(
            config.seed,
            clock.clone(),
            hooks.clone(),
            base_url.clone(),
        ));
        let jira = Arc::new(Jira::new(
            config.seed,
            clock.clone(),
            hooks.clone(),
            base_url.clone(),
        ));
        let sdp = Arc::new(Sdp::new(
            config.seed,
            clock.clone(),
            hooks.clone(),
            base_url.clone(),
        ));
        let state = Arc::new(SimState {
            base_url: base_url.clone(),
            clock,
            rng,
            faults: Faults::default(),
            webhooks: hooks.clone(),
            servicenow: sn.clone(),
            jira: jira.clone(),
            sdp: sdp.clone(),
            ca_pem: tls.as_ref().map(|t| t.ca_pem.clone()),
            requests: RequestLog::default(),
        });
        let router = servicenow::http::router(sn.clone())
            .merge(servicenow::control::router(sn.clone()))
            .merge(jira::http::router(jira.clone()))
            .merge(jira::control::router(jira))
            .merge(sdp::http::router(sdp.clone()))
            .merge(sdp::control::router(sdp))
            .merge(control::routes::router(state.clone()));

        let (shutdown, shutdown_rx) = watch::channel(false);
        let acceptor = tls
            .as_ref()
            .map(|t| tokio_rustls::TlsAcceptor::from(t.server_config.clone()));
        let tasks = vec![
            tokio::spawn(accept_loop(
                listener,
                acceptor,
                router,
                state.clone(),
                shutdown_rx.clone(),
            )),
            tokio::spawn(webhooks::run_worker(
                hooks,
                hook_rx,
                webhook_client(),
                shutdown_rx.clone(),
            )),
            tokio::spawn(sla_job(sn, shutdown_rx)),
        ];
        let control = SimClient::new(&base_url, state.ca_pem.as_deref())?;
        Ok(SimHandle {
            addr,
            base_url,
            state,
            control,
            shutdown,
            tasks,
        })
    }
}

/// Webhook targets are test receivers; a https one may well use a self-signed certificate.
fn webhook_client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

async fn sla_job(sn: Arc<ServiceNow>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let every = sn.settings().sla_job_interval_secs;
        let wait = Duration::from_secs(if every == 0 { 1 } else { every });
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(wait) => {
                if every > 0 {
                    sla::recalculate(&mut sn.db.write(), sn.clock.now());
                }
            }
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("connection reset by fault injection")]
struct InjectedReset;

async fn serve(
    router: Router,
    state: Arc<SimState>,
    req: http::Request<Incoming>,
) -> Result<http::Response<Body>, BoxError> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let traceparent = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let decision = state.faults.decide(&method, &path, &state.rng);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let log = |status: Option<u16>| {
        if !path.starts_with("/_sim") {
            state.requests.push(RequestEntry {
                at_ms: (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64,
                method: method.to_string(),
                path: path.clone(),
                query: query.clone(),
                status,
                fault: decision.tag.clone(),
                traceparent: traceparent.clone(),
            });
        }
    };
    let resp = match decision.action {
        FaultAction::Reset => {
            log(None);
            return Err(Box::new(InjectedReset));
        }
        FaultAction::Respond(resp) => resp,
        FaultAction::Serve => {
            let resp: Result<_, Infallible> = router.oneshot(req.map(Body::new)).await;
            match resp {
                Ok(r) => r,
                Err(never) => match never {},
            }
        }
    };
    log(Some(resp.status().as_u16()));
    Ok(resp)
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    state: Arc<SimState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let (tcp, _) = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
        };
        let _ = tcp.set_nodelay(true);
        let (router, state, acceptor) = (router.clone(), state.clone(), acceptor.clone());
        conns.spawn(async move {
            let svc =
                hyper::service::service_fn(move |req| serve(router.clone(), state.clone(), req));
            let builder = auto::Builder::new(TokioExecutor::new());
            // Errors here are client disconnects, TLS handshake failures and injected resets.
            let _ = match acceptor {
                Some(acceptor) => match acceptor.accept(tcp).await {
                    Ok(stream) => builder.serve_connection(TokioIo::new(stream), svc).await,
                    Err(_) => return,
                },
                None => builder.serve_connection(TokioIo::new(tcp), svc).await,
            };
        });
    }
    conns.abort_all();
}

/// A running emulator. Dropping it stops it too; `shutdown` waits until it has stopped.
pub struct SimHandle {
    addr: SocketAddr,
    base_url: String,
    state: Arc<SimState>,
    control: SimClient,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`; the ServiceNow instance URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// PEM of the CA that signed the server certificate (TLS only).
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.state.ca_pem.as_deref()
    }

    /// The typed control-API client.
    pub fn control(&self) -> &SimClient {
        &self.control
    }

    /// A reqwest client builder that trusts the emulator's certificate.
    pub fn http_client_builder(&self) -> reqwest::ClientBuilder {
        install_crypto_provider();
        let builder = reqwest::Client::builder();
        match self
            .ca_cert_pem()
            .and_then(|pem| reqwest::Certificate::from_pem(pem.as_bytes()).ok())
        {
            Some(cert) => builder.add_root_certificate(cert),
            None => builder,
        }
    }

    pub fn http_client(&self) -> reqwest::Client {
        self.http_client_builder()
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    }

    /// In-process access to the emulator's state (for benchmarks and white-box tests).
    pub fn state(&self) -> &Arc<SimState> {
        &self.state
    }

    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
