//! Building and running the service, in a test (port 0), in its own process (`main.rs`) or inside
//! an all-in-one `lockstep up`.

use std::net::SocketAddr;

use lockstep_bus::StreamSettings;
use lockstep_connectors::{Connectors, Registry};
use lockstep_platform::health::Readiness;
use lockstep_platform::{Shell, Shutdown};
use lockstep_service_kit::Authenticator;
use lockstep_service_kit::credentials_sink::StoreSinks;
use lockstep_service_kit::server::{self, GrpcRoutes, Serving};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::push::Pusher;
use crate::writer::Writer;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the service talks to: PostgreSQL, JetStream and the keyring.
pub type Deps = lockstep_service_kit::ServiceDeps;

pub struct App {
    routes: GrpcRoutes,
    pusher: Option<Pusher>,
    serving: Serving,
    listener: TcpListener,
    local_addr: SocketAddr,
    shell: Shell,
}

impl App {
    pub async fn build(config: Config, deps: Deps) -> Result<Self, Error> {
        Self::build_with(config, deps, Registry::builtin()).await
    }

    /// [`App::build`] with the vendors of `registry` (a test registers a fake vendor there).
    pub async fn build_with(config: Config, deps: Deps, registry: Registry) -> Result<Self, Error> {
        deps.bus.ensure_stream(&StreamSettings::default()).await?;
        let sinks = StoreSinks::new(deps.store.clone(), deps.keyring.clone());
        let connectors = Connectors::new(registry, deps.keyring, config.vendor_http.executor()?)
            .with_credentials_sinks(sinks);
        let writer = Writer {
            store: deps.store.clone(),
            bus: deps.bus.clone(),
            connectors: connectors.clone(),
            pending_stale_after: config.writer.pending_stale_after,
        };
        let pusher = config.writer.push_enabled.then(|| Pusher {
            store: deps.store.clone(),
            bus: deps.bus.clone(),
            connectors,
            consumer: config.writer.push_consumer.clone(),
        });
        let routes = GrpcRoutes::new(config.grpc.reflection)?.add(crate::service::service(
            Authenticator::new(deps.store),
            writer,
        ));
        let serving = Serving::from_config(&config.grpc)?;
        let (listener, local_addr) = server::bind(config.grpc.listen).await?;
        let shell = Shell::bind("ticket-writer", config.admin.listen, Readiness::new()).await?;
        metrics::describe_histogram!(
            crate::writer::FINDING_TO_TICKET_SECONDS,
            metrics::Unit::Seconds,
            "Time from a finding's creation to its ticket's creation"
        );
        tracing::info!(%local_addr, admin_addr = %shell.admin_addr(), "ticket-writer ready");
        Ok(Self {
            routes,
            pusher,
            serving,
            listener,
            local_addr,
            shell,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.shell.admin_addr()
    }

    /// Serves and pushes until `shutdown` fires; in-flight calls finish first.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), Error> {
        let (routes, listener, serving, pusher) =
            (self.routes, self.listener, self.serving, self.pusher);
        let work = async {
            let push = pusher.map(|p| tokio::spawn(p.run(shutdown.clone())));
            let served = routes.serve(listener, serving, shutdown.clone()).await;
            if let Some(push) = push
                && let Ok(Err(e)) = push.await
            {
                tracing::warn!(error = %e, "the outbound status push stopped with an error");
            }
            served
        };
        Ok(self.shell.run(&shutdown, work).await?)
    }
}
