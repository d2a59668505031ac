//! Building and running the service, in a test (port 0), in its own process (`main.rs`) or inside
//! an all-in-one `lockstep up`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use lockstep_bus::StreamSettings;
use lockstep_connectors::{Connectors, Registry};
use lockstep_platform::guarded::TlsAcceptor;
use lockstep_platform::health::Readiness;
use lockstep_platform::{Shell, Shutdown};
use lockstep_proto::v1::finding_service_server::FindingServiceServer;
use lockstep_proto::v1::integration_service_server::IntegrationServiceServer;
use lockstep_proto::v1::mapping_service_server::MappingServiceServer;
use lockstep_proto::v1::preset_service_server::PresetServiceServer;
use lockstep_proto::v1::workbench_service_server::WorkbenchServiceServer;
use lockstep_service_kit::Authenticator;
use lockstep_service_kit::credentials_sink::StoreSinks;
use lockstep_service_kit::server::{self, GrpcRoutes, Serving};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::ctx::Ctx;
use crate::findings::Findings;
use crate::http::{HttpState, Inner, Upstream};
use crate::integrations::Integrations;
use crate::mapping::Mapping;
use crate::presets::Presets;
use crate::workbench::WorkbenchApi;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the service talks to: PostgreSQL, JetStream and the keyring.
pub type Deps = lockstep_service_kit::ServiceDeps;

pub struct App {
    routes: GrpcRoutes,
    serving: Serving,
    listener: TcpListener,
    local_addr: SocketAddr,
    http: Router,
    http_listener: TcpListener,
    http_addr: SocketAddr,
    http_config: crate::http::HttpApiConfig,
    http_tls: Option<TlsAcceptor>,
    shell: Shell,
}

impl App {
    /// Binds the listeners and makes sure the stream exists. Nothing is served until [`App::run`].
    pub async fn build(config: Config, deps: Deps) -> Result<Self, Error> {
        Self::build_with(config, deps, Registry::builtin()).await
    }

    /// [`App::build`] with the vendors of `registry` (a test registers a fake vendor there).
    pub async fn build_with(config: Config, deps: Deps, registry: Registry) -> Result<Self, Error> {
        deps.bus.ensure_stream(&StreamSettings::default()).await?;
        let exec = config.vendor_http.executor()?;
        let tls = config.http.tls.acceptor("http.tls")?;
        let sinks = StoreSinks::new(deps.store.clone(), deps.keyring.clone());
        let ctx = Ctx {
            auth: Authenticator::new(deps.store.clone()),
            connectors: Connectors::new(registry, deps.keyring, exec).with_credentials_sinks(sinks),
            store: deps.store,
            bus: deps.bus,
            webhook_base_url: config.webhooks.public_base_url.clone(),
        };
        // One object per service, held by the gRPC server and the HTTP API alike.
        let integrations = Arc::new(Integrations { ctx: ctx.clone() });
        let mapping = Arc::new(Mapping { ctx: ctx.clone() });
        let presets = Arc::new(Presets { ctx: ctx.clone() });
        let findings = Arc::new(Findings { ctx: ctx.clone() });
        let tokens = Arc::new(crate::tokens::Tokens { ctx: ctx.clone() });
        let workbench = Arc::new(WorkbenchApi::new(
            ctx.store.clone(),
            ctx.connectors.registry().clone(),
        ));
        let routes = GrpcRoutes::new(config.grpc.reflection)?
            .add(IntegrationServiceServer::from_arc(integrations.clone()))
            .add(MappingServiceServer::from_arc(mapping.clone()))
            .add(PresetServiceServer::from_arc(presets.clone()))
            .add(crate::tokens::service(tokens.clone()))
            .add(WorkbenchServiceServer::from_arc(workbench.clone()))
            .add(FindingServiceServer::from_arc(findings.clone()));
        let http = crate::http::router(HttpState::new(Inner {
            integrations,
            mapping,
            presets,
            findings,
            workbench,
            tokens,
            auth: ctx.auth.clone(),
            store: ctx.store.clone(),
            upstream: Upstream::new(&config.upstream)?,
            // Over HTTPS the cookie must never travel in clear.
            secure_cookies: config.http.secure_cookies || tls.is_some(),
        }));
        // The web workbench's pages beside the JSON API they call (crates/web).
        let http = crate::http::with_pages(http, lockstep_web::router());
        let serving = Serving::from_config(&config.grpc)?;
        let (listener, local_addr) = server::bind(config.grpc.listen).await?;
        let (http_listener, http_addr) = lockstep_platform::bind(config.http.listen).await?;
        let shell = Shell::bind("api", config.admin.listen, Readiness::new()).await?;
        tracing::info!(%local_addr, %http_addr, admin_addr = %shell.admin_addr(), "api ready");
        Ok(Self {
            routes,
            serving,
            listener,
            local_addr,
            http,
            http_listener,
            http_addr,
            http_config: config.http,
            http_tls: tls,
            shell,
        })
    }

    /// Serves `pages` (a router of everything outside `/v1/`) beside the HTTP API.
    pub fn with_pages(mut self, pages: Router) -> Self {
        self.http = crate::http::with_pages(self.http, pages);
        self
    }

    /// Where the gRPC services listen.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where the HTTP JSON API listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub fn admin_addr(&self) -> SocketAddr {
        self.shell.admin_addr()
    }

    /// Serves until `shutdown` fires, then reports NOT_SERVING and lets in-flight calls finish
    /// (HTTP requests for at most `http.shutdown_drain`).
    pub async fn run(self, shutdown: Shutdown) -> Result<(), Error> {
        let grpc = self
            .routes
            .serve(self.listener, self.serving, shutdown.clone());
        let http = lockstep_platform::guarded::serve(
            self.http_listener,
            crate::http::layered(self.http, &self.http_config),
            self.http_config.serve_limits(),
            self.http_tls,
            None,
            shutdown.clone(),
        );
        let both = async {
            let (grpc, _cut) = tokio::join!(grpc, http);
            grpc?;
            Ok::<(), Error>(())
        };
        self.shell.run(&shutdown, both).await
    }
}
