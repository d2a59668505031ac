//! Building and running the applier, in a test, in its own process or inside `lockstep up`.

use std::net::SocketAddr;

use lockstep_bus::{Bus, ConsumerSettings, StreamSettings};
use lockstep_connectors::Registry;
use lockstep_platform::health::Readiness;
use lockstep_platform::{Shell, Shutdown};
use lockstep_store::Store;

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
    shell: Shell,
}

impl App {
    /// Ensures the stream and binds the durable consumer (shared with every other replica).
    pub async fn build(config: Config, deps: Deps) -> Result<Self, ApplierError> {
        Self::build_with(config, deps, Registry::builtin()).await
    }

    /// [`App::build`] with the vendors of `registry` parsing webhook bodies (a test registers a
    /// fake vendor there).
    pub async fn build_with(
        config: Config,
        deps: Deps,
        registry: Registry,
    ) -> Result<Self, ApplierError> {
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
                registry: registry.clone(),
                settings: settings.clone(),
            });
        }
        ready.set_ready(true);
        let shell = Shell::bind("sync-applier", config.admin.listen, readiness).await?;
        crate::metrics::describe();
        tracing::info!(admin_addr = %shell.admin_addr(), consumer = %settings.consumer, workers = workers.len(), "sync-applier ready");
        Ok(Self { workers, shell })
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.shell.admin_addr()
    }

    /// Applies events until `shutdown` fires; then every worker finishes (commits, publishes and
    /// acks) the batch in hand and stops fetching. Unfetched events stay on the stream.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), ApplierError> {
        let workers = self.workers;
        let work = async {
            let mut tasks = Vec::new();
            let mut bus = None;
            for worker in workers {
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
        };
        self.shell.run(&shutdown, work).await;
        Ok(())
    }
}
