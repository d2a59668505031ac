//! Building and running the service, in a test (port 0), in its own process (`main.rs`) or inside
//! an all-in-one `lockstep up`.

use std::net::SocketAddr;

use lockstep_bus::StreamSettings;
use lockstep_connectors::{Connectors, Registry};
use lockstep_platform::health::Readiness;
use lockstep_platform::{Shell, Shutdown};
use lockstep_service_kit::Authenticator;
use lockstep_service_kit::server::{self, GrpcRoutes, Serving};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::ctx::Ctx;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the service talks to: PostgreSQL, JetStream and the keyring.
pub type Deps = lockstep_service_kit::ServiceDeps;

pub struct App {
    routes: GrpcRoutes,
    serving: Serving,
    listener: TcpListener,
    local_addr: SocketAddr,
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
        let ctx = Ctx {
            auth: Authenticator::new(deps.store.clone()),
            connectors: Connectors::new(registry, deps.keyring, exec),
            store: deps.store,
            bus: deps.bus,
        };
        let routes = GrpcRoutes::new(config.grpc.reflection)?
            .add(crate::integrations::service(ctx.clone()))
            .add(crate::mapping::service(ctx.clone()))
            .add(crate::presets::service(ctx.clone()))
            .add(crate::tokens::service(ctx.clone()))
            .add(crate::workbench::service(
                ctx.store.clone(),
                ctx.connectors.registry().clone(),
            ))
            .add(crate::findings::service(ctx));
        let serving = Serving::from_config(&config.grpc)?;
        let (listener, local_addr) = server::bind(config.grpc.listen).await?;
        let shell = Shell::bind("api", config.admin.listen, Readiness::new()).await?;
        tracing::info!(%local_addr, admin_addr = %shell.admin_addr(), "api ready");
        Ok(Self {
            routes,
            serving,
            listener,
            local_addr,
            shell,
        })
    }

    /// Where the gRPC services listen.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub fn admin_addr(&self) -> SocketAddr {
        self.shell.admin_addr()
    }

    /// Serves until `shutdown` fires, then reports NOT_SERVING and lets in-flight calls finish.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), Error> {
        let serve = self
            .routes
            .serve(self.listener, self.serving, shutdown.clone());
        Ok(self.shell.run(&shutdown, serve).await?)
    }
}
