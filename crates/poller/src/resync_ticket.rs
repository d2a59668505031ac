//! The re-sync of one ticket (`SyncService.ResyncTicket`, the Tickets page's row button): its
//! vendor is asked for that ticket alone, not the integration's change feed.
//!
//! 1. The link, its integration (active) and its ticket (the link is live) are looked up in the
//!    caller's tenant.
//! 2. The ticket is read through the connector ([`crate::reread`], the path webhook notices use).
//! 3. When Lockstep already holds that version (the poll rule, [`is_news`]), nothing is published:
//!    the answer is "current".
//! 4. Otherwise the reading is published with channel `resync` under the id a poll of the same
//!    version gets, and the call waits, at most `resync_ticket_apply_wait`, until the link holds
//!    that version: then the answer is the state after the change ("applied"). Past the wait the
//!    answer is "published" with the state before, and the change applies when the applier
//!    reaches it (it is on the stream). Waiting makes the answer what the page shows next, without
//!    a second request racing the applier.

use std::time::{Duration, Instant};

use lockstep_domain::{FindingStatus, SyncChannel, TenantId, TicketLinkId, TicketObservation};
use lockstep_store::{TicketLinkRecord, TicketLinkState};
use time::OffsetDateTime;

use crate::poll::is_news;
use crate::{Poller, ResyncError};

/// How often the wait for the applier looks at the link.
const APPLY_CHECK: Duration = Duration::from_millis(100);

/// What became of the reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketResyncOutcome {
    /// Lockstep already held the vendor's version: nothing was published.
    Current,
    /// Published and committed by the applier within the wait.
    Applied,
    /// Published; not committed within the wait.
    Published,
}

/// The answer of [`Poller::resync_ticket`].
#[derive(Debug, Clone)]
pub struct TicketResync {
    pub outcome: TicketResyncOutcome,
    /// What the vendor answered.
    pub observation: TicketObservation,
    /// The link as last read: after the change when applied, before it otherwise.
    pub link: TicketLinkRecord,
    /// The finding's status when the answer was made.
    pub finding_status: FindingStatus,
}

impl Poller {
    /// Reads the ticket of the tenant's link `link_id` from its vendor now, publishes it when it
    /// is news, and waits for the applier to commit it (see the module documentation).
    pub async fn resync_ticket(
        &self,
        tenant: TenantId,
        link_id: TicketLinkId,
    ) -> Result<TicketResync, ResyncError> {
        let store = &self.inner.store;
        let link = store.links().get(tenant, link_id).await?;
        let integration = store
            .integrations()
            .get(tenant, link.integration_id)
            .await?;
        if !integration.active {
            return Err(ResyncError::Inactive {
                name: integration.name,
            });
        }
        let ticket = link
            .ticket_ref()
            .filter(|_| link.state == TicketLinkState::Live)
            .ok_or(ResyncError::NoTicket {
                link: link_id,
                state: link.state,
            })?;
        let observation = self
            .read_one(&integration, &ticket)
            .await
            .map_err(|source| ResyncError::Vendor {
                ticket: ticket.to_string(),
                source,
            })?;
        let held = |l: &TicketLinkRecord| l.vendor_snapshot.as_ref().map(|s| s.version);
        if !is_news(held(&link), observation.version, OffsetDateTime::now_utc()) {
            return self
                .answer(TicketResyncOutcome::Current, observation, link)
                .await;
        }
        self.publish_reading(&integration, &observation, SyncChannel::Resync)
            .await
            .map_err(ResyncError::Publish)?;
        let deadline = Instant::now() + self.inner.settings.resync_ticket_apply_wait;
        let mut last = link;
        loop {
            // The condition, not a guess: the link holds the version read (or a newer one).
            if !is_news(held(&last), observation.version, OffsetDateTime::now_utc()) {
                return self
                    .answer(TicketResyncOutcome::Applied, observation, last)
                    .await;
            }
            if Instant::now() >= deadline {
                tracing::info!(link = %link_id, "re-synced ticket not applied within the wait");
                return self
                    .answer(TicketResyncOutcome::Published, observation, last)
                    .await;
            }
            tokio::time::sleep(APPLY_CHECK).await;
            last = store.links().get(tenant, link_id).await?;
        }
    }

    async fn answer(
        &self,
        outcome: TicketResyncOutcome,
        observation: TicketObservation,
        link: TicketLinkRecord,
    ) -> Result<TicketResync, ResyncError> {
        let finding = self
            .inner
            .store
            .findings()
            .get(link.tenant_id, link.finding_id)
            .await?;
        Ok(TicketResync {
            outcome,
            observation,
            link,
            finding_status: finding.status,
        })
    }
}
