//! `poller`: the safety net of the inbound loop. Webhooks get lost; the poller bounds the
//! staleness. Every active integration is polled on its interval through the connector's change
//! feed since its watermark (with an overlap), and what changed is published to
//! `lockstep.observed.<tenant>.<integration>` for the sync-applier, with a stable dedupe id per
//! ticket version. The watermark moves only after every observation of the poll was acknowledged.
//!
//! - [`scheduler`]: leases in PostgreSQL (`FOR UPDATE SKIP LOCKED`) shared by any number of
//!   replicas; bounded concurrency; per-integration timeout and backoff ([`backoff`]).
//! - [`poll`]: one integration's poll, from lease to recorded outcome.
//! - [`sla`]: SLA due times and breaches on the links.
//! - [`notice`]: webhook notices (a payload that only names the ticket): the ticket re-read and
//!   published as an observation of channel webhook.
//! - [`resync`] and [`grpc`]: `SyncService` (Resync, ResyncAll with its cooldown, GetPollStatus).
//! - [`resync_ticket`]: `SyncService.ResyncTicket`, one ticket read now and published with channel
//!   `resync`, answered once the applier committed it; [`reread`] is the read-and-publish path it
//!   shares with [`notice`].
//! - [`App`]: the service, runnable in-process on port 0.

mod app;
pub mod backoff;
pub mod config;
pub mod grpc;
pub mod metrics;
pub mod notice;
pub mod poll;
pub mod reread;
pub mod resync;
pub mod resync_ticket;
pub mod scheduler;
pub mod sla;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use lockstep_bus::Bus;
use lockstep_connectors::Connectors;
use lockstep_domain::IntegrationId;
use lockstep_store::Store;
use parking_lot::Mutex;
use tokio::sync::Notify;

pub use app::{App, AppError, Deps};
pub use config::{Config, PollerSettings};
pub use poll::{PollFailure, PollReport, PollSuccess, event_id};
pub use resync::ResyncError;
pub use resync_ticket::{TicketResync, TicketResyncOutcome};
pub use scheduler::CycleReport;

/// The polling engine of one replica. Cheap to clone.
#[derive(Clone)]
pub struct Poller {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    bus: Bus,
    connectors: Connectors,
    settings: PollerSettings,
    owner: String,
    /// When this replica last swept each integration's SLAs.
    sla_sweeps: Mutex<HashMap<IntegrationId, Instant>>,
    /// Wakes the scheduler early (a re-sync made something due).
    wake: Notify,
}

impl Poller {
    /// `owner` names this replica in leases; every replica needs its own.
    pub fn new(
        store: Store,
        bus: Bus,
        connectors: Connectors,
        settings: PollerSettings,
        owner: impl Into<String>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                bus,
                connectors,
                settings,
                owner: owner.into(),
                sla_sweeps: Mutex::new(HashMap::new()),
                wake: Notify::new(),
            }),
        }
    }

    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    pub fn settings(&self) -> &PollerSettings {
        &self.inner.settings
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }
}
