//! Building and running the service, in a test (port 0), in its own process (`main.rs`) or inside
//! an all-in-one `lockstep up`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use lockstep_bus::{Bus, StreamSettings};
use lockstep_crypto::Keyring;
use lockstep_platform::health::{self, Readiness};
use lockstep_platform::{Shell, Shutdown, bind};
use lockstep_store::Store;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::error::IngestError;
use crate::group_commit::GroupCommit;
use crate::receive::{Shared, receive};
use crate::serve::ServeLimits;
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
        let store = Store::connect_with(&config.database).await?;
        let bus = Bus::connect_with(&config.nats).await?;
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
    router: Router,
    shell: Shell,
    bus: Bus,
    limits: ServeLimits,
    verifier_runs: Arc<AtomicU64>,
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
        let verifier_runs = Arc::new(AtomicU64::new(0));
        crate::limits::check(&settings, deps.bus.client().max_payload())?;
        let limits = ServeLimits {
            header_read_timeout: settings.header_read_timeout,
            max_connections: settings.max_connections,
            shutdown_drain: settings.shutdown_drain,
        };
        let shared = Arc::new(Shared {
            targets: Targets::new(
                deps.store,
                lockstep_connectors::Registry::builtin(),
                deps.keyring,
                settings.secret_cache_ttl,
            ),
            group: GroupCommit::new(deps.bus.clone(), settings.group_limits()),
            unsigned_permitted: !config.mode.is_production(),
            in_flight: Semaphore::new(settings.max_in_flight.max(1)),
            dummy_secret: crate::receive::dummy_secret(),
            verifier_runs: verifier_runs.clone(),
            settings,
        });
        let router = Router::new()
            .route(crate::receive::ROUTE, post(receive))
            .with_state(shared);
        let (listener, local_addr) = bind(config.http.listen).await?;
        let shell = Shell::bind("ingest-webhook", config.admin.listen, readiness).await?;
        crate::metrics::describe();
        tracing::info!(%local_addr, admin_addr = %shell.admin_addr(), mode = ?config.mode, "ingest-webhook ready");
        Ok(Self {
            listener,
            local_addr,
            router,
            shell,
            bus: deps.bus,
            limits,
            verifier_runs,
        })
    }

    /// Where vendors deliver.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many times a vendor verifier has run since start, read live. Every request that gets
    /// as far as verification runs each vendor's verifier exactly once, whatever its id names,
    /// so that refusals cannot be told apart by their timing; tests check it with this.
    pub fn verifier_runs(&self) -> impl Fn() -> u64 + Send + Sync + 'static {
        let runs = self.verifier_runs.clone();
        move || runs.load(Ordering::Relaxed)
    }

    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub fn admin_addr(&self) -> SocketAddr {
        self.shell.admin_addr()
    }

    /// Serves until `shutdown` fires, then stops accepting, reports not-ready, and lets the
    /// deliveries in flight finish their publish and get their answer for at most
    /// `shutdown_drain` before closing what is still open (see `serve`).
    pub async fn run(self, shutdown: Shutdown) -> Result<(), IngestError> {
        let (listener, router, limits, bus) = (self.listener, self.router, self.limits, self.bus);
        let work = async {
            crate::serve::serve(listener, router, limits, shutdown.clone()).await;
            // Acks are in; flush anything else buffered before the connection goes away.
            if let Err(err) = bus.client().flush().await {
                tracing::warn!(error = %err, "flushing the NATS connection at shutdown failed");
            }
        };
        self.shell.run(&shutdown, work).await;
        Ok(())
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
