//! A tonic server with what every Lockstep gRPC server carries: gRPC health (`grpc.health.v1`,
//! per service and overall) and reflection (v1 and v1alpha, so old and new grpcurl, Postman and
//! Kreya all work). Health and reflection need no token.

use std::net::SocketAddr;

use lockstep_platform::Shutdown;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

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
        Server::builder()
            .layer(tower::util::MapResponseLayer::new(
                crate::status::bound_response::<tonic::body::Body>,
            ))
            .add_routes(self.routes)
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), signal)
            .await
    }
}

/// Binds a gRPC listener (port 0 picks a free port).
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}
