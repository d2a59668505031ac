//! A tonic server with what every Lockstep gRPC server carries: gRPC health (`grpc.health.v1`,
//! per service and overall) and reflection (v1 and v1alpha, so old and new grpcurl, Postman and
//! Kreya all work), a time limit per call, a bound on concurrent calls per connection, a server
//! span per call continuing the caller's trace ([`crate::trace`]), and TLS when `[grpc.tls]`
//! names a certificate. Health and reflection need no token.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lockstep_platform::Shutdown;
use lockstep_platform::config::serde_duration;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// `[grpc]` of a gRPC service. Each service's `defaults.toml` sets its own port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GrpcConfig {
    pub listen: SocketAddr,
    /// Serve gRPC reflection (some security teams turn it off).
    pub reflection: bool,
    /// A call still running after this long is answered DEADLINE_EXCEEDED (a client's shorter
    /// `grpc-timeout` wins).
    #[serde(with = "serde_duration")]
    pub request_timeout: Duration,
    /// Calls one connection may have in progress at once; more wait.
    pub concurrency_limit_per_connection: usize,
    pub tls: GrpcTlsConfig,
}

impl GrpcConfig {
    /// The defaults on `0.0.0.0:<port>`.
    pub fn on_port(port: u16) -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], port)),
            reflection: true,
            request_timeout: Duration::from_secs(120),
            concurrency_limit_per_connection: 64,
            tls: GrpcTlsConfig::default(),
        }
    }
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self::on_port(0)
    }
}

/// `[grpc.tls]`: serve TLS with this certificate and key (PEM); with `client_ca_file`, also
/// require client certificates signed by that CA (mutual TLS).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GrpcTlsConfig {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub client_ca_file: Option<PathBuf>,
}

/// How the server runs, checked and read at start so a bad file stops the service there.
#[derive(Clone)]
pub struct Serving {
    request_timeout: Duration,
    concurrency_limit_per_connection: usize,
    tls: Option<ServerTlsConfig>,
}

impl Serving {
    pub fn from_config(config: &GrpcConfig) -> Result<Self, String> {
        Ok(Self {
            request_timeout: config.request_timeout,
            concurrency_limit_per_connection: config.concurrency_limit_per_connection.max(1),
            tls: tls(&config.tls)?,
        })
    }

    /// Plain text, no limits beyond tonic's own (tests).
    pub fn plain() -> Self {
        Self::from_config(&GrpcConfig::default()).unwrap_or(Self {
            request_timeout: Duration::from_secs(120),
            concurrency_limit_per_connection: 64,
            tls: None,
        })
    }
}

fn tls(config: &GrpcTlsConfig) -> Result<Option<ServerTlsConfig>, String> {
    let (cert, key) = match (&config.cert_file, &config.key_file) {
        (Some(cert), Some(key)) => (cert, key),
        (None, None) if config.client_ca_file.is_none() => return Ok(None),
        _ => {
            return Err(
                "grpc.tls needs both cert_file and key_file (client_ca_file only with them)".into(),
            );
        }
    };
    let identity = Identity::from_pem(
        read(cert, "grpc.tls.cert_file")?,
        read(key, "grpc.tls.key_file")?,
    );
    let mut tls = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &config.client_ca_file {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca, "grpc.tls.client_ca_file")?));
    }
    Ok(Some(tls))
}

fn read(path: &Path, key: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {key} ({}): {e}", path.display()))
}

/// Routes to serve, with health and reflection already added.
pub struct GrpcRoutes {
    routes: Routes,
    health: HealthReporter,
    services: Vec<&'static str>,
}

impl GrpcRoutes {
    pub fn new(reflection: bool) -> Result<Self, tonic_reflection::server::Error> {
        let (health, health_service) = tonic_health::server::health_reporter();
        let mut routes = Routes::new(health_service);
        if reflection {
            let v1 = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(lockstep_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .build_v1()?;
            let v1alpha = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(lockstep_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .build_v1alpha()?;
            routes = routes.add_service(v1).add_service(v1alpha);
        }
        Ok(Self {
            routes,
            health,
            services: Vec::new(),
        })
    }

    /// Adds a service; its health status becomes SERVING when the server starts.
    #[allow(clippy::should_implement_trait)]
    pub fn add<S>(mut self, service: S) -> Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
            + tonic::server::NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.services.push(S::NAME);
        self.routes = self.routes.add_service(service);
        self
    }

    /// Serves on `listener` until `shutdown` fires; health turns NOT_SERVING first, then
    /// in-flight calls finish.
    pub async fn serve(
        self,
        listener: TcpListener,
        serving: Serving,
        shutdown: Shutdown,
    ) -> Result<(), tonic::transport::Error> {
        for name in &self.services {
            self.health
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        self.health
            .set_service_status("", ServingStatus::Serving)
            .await;
        let health = self.health.clone();
        let services = self.services.clone();
        let signal = async move {
            shutdown.cancelled().await;
            for name in services {
                health
                    .set_service_status(name, ServingStatus::NotServing)
                    .await;
            }
            health
                .set_service_status("", ServingStatus::NotServing)
                .await;
        };
        let mut server = Server::builder()
            .timeout(serving.request_timeout)
            .concurrency_limit_per_connection(serving.concurrency_limit_per_connection);
        if let Some(tls) = serving.tls {
            server = server.tls_config(tls)?;
        }
        server
            .layer(crate::trace::TraceLayer)
            .layer(tower::util::MapResponseLayer::new(
                crate::status::bound_response::<tonic::body::Body>,
            ))
            .add_routes(self.routes)
            // Nagle off, as tonic does for listeners it binds itself: otherwise an answer larger
            // than one segment waits out the peer's delayed ACK (~40 ms) on its last segment.
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                signal,
            )
            .await
    }
}

/// Binds a gRPC listener (port 0 picks a free port).
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
