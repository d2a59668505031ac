//! On-demand re-sync: poll one integration now (no cooldown), or every given one (once per
//! cooldown per caller, enforced in PostgreSQL so it holds across replicas). The re-sync of one
//! ticket is [`crate::resync_ticket`]; the errors of all three are [`ResyncError`].

use std::time::{Duration, Instant};

use futures::StreamExt;
use lockstep_bus::BusError;
use lockstep_connectors::ConnectorError;
use lockstep_domain::{IntegrationId, TenantId, TicketLinkId};
use lockstep_store::{StoreError, TicketLinkState};

use crate::{PollReport, Poller};

/// How often a re-sync looks again while another replica holds the integration's lease.
const BUSY_RETRY: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum ResyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("integration {name} is inactive; activate it first")]
    Inactive { name: String },
    #[error(
        "another poller replica has been polling integration {integration} for too long; try again later"
    )]
    Busy { integration: IntegrationId },
    #[error("re-sync of all integrations is cooling down; try again in {} s", remaining.as_secs_f64().ceil())]
    CoolingDown { remaining: Duration },
    #[error(
        "ticket link {link} has no ticket to read (it is {state}): only a live link's ticket can \
         be re-synced; create or retry the ticket first"
    )]
    NoTicket {
        link: TicketLinkId,
        state: TicketLinkState,
    },
    #[error("reading {ticket} from the vendor failed: {source}")]
    Vendor {
        ticket: String,
        source: ConnectorError,
    },
    #[error("publishing the reading failed: {0}; try again")]
    Publish(BusError),
}

impl Poller {
    /// Polls the tenant's integration now, whatever its schedule. When another replica is
    /// polling it, waits for that poll to end (up to the poll timeout), then polls again, so the
    /// answer always reflects the vendor as of this call.
    pub async fn poll_now(
        &self,
        tenant: TenantId,
        integration: IntegrationId,
    ) -> Result<PollReport, ResyncError> {
        let store = &self.inner.store;
        let record = store.integrations().get(tenant, integration).await?;
        if !record.active {
            return Err(ResyncError::Inactive { name: record.name });
        }
        let settings = &self.inner.settings;
        let deadline = Instant::now() + settings.poll_timeout + settings.tick;
        loop {
            let claimed = store
                .poll_state()
                .claim_now(tenant, integration, self.owner(), settings.lease_ttl)
                .await?;
            if let Some(claimed) = claimed {
                return Ok(self.poll_claimed(claimed).await);
            }
            if Instant::now() >= deadline {
                return Err(ResyncError::Busy { integration });
            }
            tokio::time::sleep(BUSY_RETRY).await;
        }
    }

    /// Polls the given integrations of the tenant (every active one when `integrations` is
    /// empty) now, at most `max_concurrent_polls` at once, unless `caller` started a re-sync-all
    /// less than the cooldown ago.
    pub async fn resync_all(
        &self,
        tenant: TenantId,
        caller: &str,
        integrations: &[IntegrationId],
    ) -> Result<Vec<Result<PollReport, (IntegrationId, ResyncError)>>, ResyncError> {
        let store = &self.inner.store;
        let targets: Vec<IntegrationId> = if integrations.is_empty() {
            store
                .integrations()
                .list(tenant)
                .await?
                .into_iter()
                .filter(|i| i.active)
                .map(|i| i.id)
                .collect()
        } else {
            let mut ids = integrations.to_vec();
            ids.sort();
            ids.dedup();
            ids
        };
        if let Err(remaining) = store
            .resync_cooldowns()
            .try_start(tenant, caller, self.inner.settings.resync_all_cooldown)
            .await?
        {
            return Err(ResyncError::CoolingDown { remaining });
        }
        let results = futures::stream::iter(targets)
            .map(|id| async move { self.poll_now(tenant, id).await.map_err(|e| (id, e)) })
            .buffered(self.inner.settings.max_concurrent_polls.max(1))
            .collect()
            .await;
        Ok(results)
    }
}
