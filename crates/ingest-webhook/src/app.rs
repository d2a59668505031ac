//! Building and running the service, in a test (port 0), in its own process (`main.rs`) or inside
//! an all-in-one `lockstep up`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use lockstep_bus::{Bus, StreamSettings};
use lockstep_crypto::Keyring;
use lockstep_platform::health::{self, Readiness};
use lockstep_platform::{Shutdown, bind};
use lockstep_store::Store;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::error::IngestError;
use crate::group_commit::GroupCommit;
use crate::receive::{Shared, receive};
use crate::targets::Targets;

/// What the service talks to; `Deps::connect` makes them from configuration.
#[derive(Clone)]
pub struct Deps {
    pub store: Store,
    pub bus: Bus,
    pub keyring: Arc<Keyring>,
}

impl Deps {
    /// Connects to PostgreSQL and NATS as configured and reads the master keys from the
    /// environment (`LOCKSTEP_MASTER_KEYS` or `LOCKSTEP_MASTER_KEYS_FILE`).
    pub async fn connect(config: &Config) -> Result<Self, IngestError> {
        let store = Store::connect(
            config.database.url.expose(),
            config.database.max_connections.get(),
        )
        .await?;
        let bus = Bus::connect(&config.nats.url, &config.nats.subject_prefix).await?;
        Ok(Self {
            store,
            bus,
            keyring: Arc::new(Keyring::from_env()?),
        })
    }
}

pub struct App {
    listener: TcpListener,
    local_addr: SocketAddr,
    admin_listener: TcpListener,
    admin_addr: SocketAddr,
    router: Router,
    admin_router: Router,
    readiness: Readiness,
    bus: Bus,
}

impl App {
    /// Binds both listeners and makes sure the stream exists. Nothing is served until [`App::run`].
    pub async fn build(config: Config, deps: Deps) -> Result<Self, IngestError> {
        let readiness = Readiness::new();
        let nats_check = readiness.register("nats");
        deps.bus.ensure_stream(&StreamSettings::default()).await?;
        nats_check.set_ready(true);
        spawn_connection_watch(deps.bus.clone(), nats_check);

        let settings = config.ingest.clone();
        let shared = Arc::new(Shared {
            targets: Targets::new(deps.store, deps.keyring, settings.secret_cache_ttl),
            group: GroupCommit::new(deps.bus.clone(), settings.group_limits()),
            unsigned_permitted: !config.mode.is_production(),
            in_flight: Semaphore::new(settings.max_in_flight.max(1)),
            settings,
        });
        let router = Router::new()
            .route("/v1/webhooks/{integration_id}", post(receive))
            .layer(DefaultBodyLimit::max(shared.settings.max_body_bytes))
            .with_state(shared);
        let admin_router = health::admin_router(readiness.clone())?;
        let (listener, local_addr) = bind(config.http.listen).await?;
        let (admin_listener, admin_addr) = bind(config.admin.listen).await?;
        crate::metrics::describe();
        tracing::info!(%local_addr, %admin_addr, mode = ?config.mode, "ingest-webhook ready");
        Ok(Self {
            listener,
            local_addr,
            admin_listener,
            admin_addr,
            router,
            admin_router,
            readiness,
            bus: deps.bus,
        })
    }

    /// Where vendors deliver.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// Serves until `shutdown` fires, then stops accepting, reports not-ready, and lets every
    /// in-flight delivery finish its publish and get its answer before returning.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), IngestError> {
        self.readiness.fail_on_shutdown(&shutdown);
        let admin_stop = Shutdown::new();
        let admin = tokio::spawn(lockstep_platform::serve(
            self.admin_listener,
            self.admin_router,
            admin_stop.clone(),
        ));
        let served = lockstep_platform::serve(self.listener, self.router, shutdown).await;
        // Acks are in; flush anything else buffered before the connection goes away.
        if let Err(err) = self.bus.client().flush().await {
            tracing::warn!(error = %err, "flushing the NATS connection at shutdown failed");
        }
        admin_stop.trigger();
        let _ = admin.await;
        tracing::info!("ingest-webhook stopped");
        Ok(served?)
    }
}

/// Keeps the `nats` readiness check in line with the connection, so a replica that lost NATS
/// stops receiving traffic it could only answer with 503.
fn spawn_connection_watch(bus: Bus, check: health::ReadinessCheck) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let connected = matches!(
                bus.client().connection_state(),
                async_nats::connection::State::Connected
            );
            check.set_ready(connected);
        }
    });
}
