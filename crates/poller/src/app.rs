//! Building and running the service, in a test (port 0), in its own process (`main.rs`) or inside
//! an all-in-one `lockstep up`.

use std::net::SocketAddr;
use std::sync::Arc;

use lockstep_bus::{Bus, BusError, StreamSettings};
use lockstep_connectors::HttpExecutor;
use lockstep_connectors::{Connectors, Registry};
use lockstep_crypto::Keyring;
use lockstep_platform::health::Readiness;
use lockstep_platform::{Shell, Shutdown};
use lockstep_service_kit::credentials_sink::StoreSinks;
use lockstep_service_kit::server::{self, GrpcRoutes, Serving};
use lockstep_store::{Store, StoreError};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::grpc::SyncApi;
use crate::{Poller, metrics};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Platform(#[from] lockstep_platform::Error),
    #[error("master keys: {0}")]
    Keys(#[from] lockstep_crypto::CryptoError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("gRPC server: {0}")]
    Grpc(String),
}

/// What the service talks to; [`Deps::connect`] makes them from configuration.
#[derive(Clone)]
pub struct Deps {
    pub store: Store,
    pub bus: Bus,
    pub keyring: Arc<Keyring>,
    pub http: HttpExecutor,
}

impl Deps {
    /// Connects to PostgreSQL and NATS as configured, reads the master keys from the environment
    /// (`LOCKSTEP_MASTER_KEYS` or `LOCKSTEP_MASTER_KEYS_FILE`) and builds the vendor HTTP executor.
    pub async fn connect(config: &Config) -> Result<Self, AppError> {
        let store = Store::connect_with(&config.database).await?;
        let bus = Bus::connect_with(&config.nats).await?;
        let http = config.vendor_http.executor().map_err(AppError::Config)?;
        Ok(Self {
            store,
            bus,
            keyring: Arc::new(Keyring::from_env()?),
            http,
        })
    }
}

/// The service: the poll scheduler plus the gRPC `SyncService` and the admin endpoints.
pub struct App {
    poller: Poller,
    grpc_listener: TcpListener,
    grpc_addr: SocketAddr,
    reflection: bool,
    serving: Serving,
    shell: Shell,
}

impl App {
    /// Binds both listeners and makes sure the stream exists. Nothing runs until [`App::run`].
    pub async fn build(config: Config, deps: Deps) -> Result<Self, AppError> {
        Self::build_with(config, deps, Registry::builtin()).await
    }

    /// [`App::build`] with the vendors of `registry` (a test registers a fake vendor there).
    pub async fn build_with(
        config: Config,
        deps: Deps,
        registry: Registry,
    ) -> Result<Self, AppError> {
        config.poller.validate().map_err(AppError::Config)?;
        let serving = Serving::from_config(&config.grpc).map_err(AppError::Config)?;
        let reflection = config.grpc.reflection;
        deps.bus.ensure_stream(&StreamSettings::default()).await?;
        let owner = config.poller.replica_name();
        let sinks = StoreSinks::new(deps.store.clone(), deps.keyring.clone());
        let connectors =
            Connectors::new(registry, deps.keyring, deps.http).with_credentials_sinks(sinks);
        let poller = Poller::new(deps.store, deps.bus, connectors, config.poller, owner);
        let (grpc_listener, grpc_addr) =
            server::bind(config.grpc.listen)
                .await
                .map_err(|source| AppError::Listen {
                    addr: config.grpc.listen,
                    source,
                })?;
        let shell = Shell::bind("poller", config.admin.listen, Readiness::new()).await?;
        metrics::describe();
        tracing::info!(%grpc_addr, admin_addr = %shell.admin_addr(), owner = poller.owner(), "poller ready");
        Ok(Self {
            poller,
            grpc_listener,
            grpc_addr,
            reflection,
            serving,
            shell,
        })
    }

    /// Where `SyncService`, gRPC health and reflection are served.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub fn admin_addr(&self) -> SocketAddr {
        self.shell.admin_addr()
    }

    pub fn poller(&self) -> &Poller {
        &self.poller
    }

    /// Polls and serves until `shutdown` fires; polls in flight finish and record their outcome.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), AppError> {
        let routes = GrpcRoutes::new(self.reflection)
            .map_err(|e| AppError::Grpc(e.to_string()))?
            .add(SyncApi::new(self.poller.clone()).server());
        let (poller, listener, serving) = (self.poller, self.grpc_listener, self.serving);
        let work = async {
            let grpc = tokio::spawn(routes.serve(listener, serving, shutdown.clone()));
            let notices = tokio::spawn({
                let (poller, shutdown) = (poller.clone(), shutdown.clone());
                async move { poller.run_notices(shutdown).await }
            });
            poller.run(shutdown.clone()).await;
            if let Err(e) = notices.await {
                tracing::warn!(error = %e, "the notice consumer ended abnormally");
            }
            grpc.await
        };
        match self.shell.run(&shutdown, work).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(AppError::Grpc(e.to_string())),
            Err(e) => Err(AppError::Grpc(e.to_string())),
        }
    }
}
