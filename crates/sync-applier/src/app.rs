//! Building and running the applier, in a test, in its own process or inside `lockstep up`.

use std::net::SocketAddr;

use lockstep_bus::{Bus, ConsumerSettings, StreamSettings};
use lockstep_platform::health::{self, Readiness};
use lockstep_platform::{Shutdown, bind};
use lockstep_store::Store;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::error::ApplierError;
use crate::worker::Worker;

/// What the applier talks to.
#[derive(Clone)]
pub struct Deps {
    pub store: Store,
    pub bus: Bus,
}

impl Deps {
    pub async fn connect(config: &Config) -> Result<Self, ApplierError> {
        let store = Store::connect_with(&config.database).await?;
        let bus = Bus::connect_with(&config.nats).await?;
        Ok(Self { store, bus })
    }
}

pub struct App {
    workers: Vec<Worker>,
    admin_listener: TcpListener,
    admin_addr: SocketAddr,
    admin_router: axum::Router,
    readiness: Readiness,
}

impl App {
    /// Ensures the stream and binds the durable consumer (shared with every other replica).
    pub async fn build(config: Config, deps: Deps) -> Result<Self, ApplierError> {
        let readiness = Readiness::new();
        let ready = readiness.register("consumer");
        deps.bus.ensure_stream(&StreamSettings::default()).await?;
        let settings = config.applier.clone();
        let consumer_settings = ConsumerSettings {
            ack_wait: settings.ack_wait,
            max_deliver: settings.max_deliver,
            max_ack_pending: settings.max_ack_pending,
        };
        let filters = vec![
            deps.bus.subjects().all_webhooks(),
            deps.bus.subjects().all_observed(),
        ];
        let mut workers = Vec::new();
        for _ in 0..settings.workers.max(1) {
            let consumer = deps
                .bus
                .consumer(&settings.consumer, filters.clone(), &consumer_settings)
                .await?;
            workers.push(Worker {
                store: deps.store.clone(),
                bus: deps.bus.clone(),
                consumer,
                settings: settings.clone(),
            });
        }
        ready.set_ready(true);
        let admin_router = health::admin_router(readiness.clone())?;
        let (admin_listener, admin_addr) = bind(config.admin.listen).await?;
        crate::metrics::describe();
        tracing::info!(%admin_addr, consumer = %settings.consumer, workers = workers.len(), "sync-applier ready");
        Ok(Self {
            workers,
            admin_listener,
            admin_addr,
            admin_router,
            readiness,
        })
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// Applies events until `shutdown` fires; then every worker finishes (commits, publishes and
    /// acks) the batch in hand and stops fetching. Unfetched events stay on the stream.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), ApplierError> {
        self.readiness.fail_on_shutdown(&shutdown);
        let admin_stop = Shutdown::new();
        let admin = tokio::spawn(lockstep_platform::serve(
            self.admin_listener,
            self.admin_router,
            admin_stop.clone(),
        ));
        let mut tasks = Vec::new();
        let mut bus = None;
        for worker in self.workers {
            bus.get_or_insert_with(|| worker.bus.clone());
            tasks.push(tokio::spawn(worker.run(shutdown.clone())));
        }
        for task in tasks {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "an applier worker panicked");
            }
        }
        if let Some(bus) = bus {
            let _ = bus.client().flush().await;
        }
        admin_stop.trigger();
        let _ = admin.await;
        tracing::info!("sync-applier stopped");
        Ok(())
    }
}
