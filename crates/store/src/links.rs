//! Ticket links: which external ticket stands for which finding, and what we last heard about it.
//!
//! The life of a link (`pending` → `live` | `failed`, `live` → `unlinked`) is described in
//! `migrations/20261123000004_ticket_links.sql`. The database enforces the two rules that matter:
//! at most one pending-or-live link per (finding, integration), and at most one active link per
//! external ticket. This module adds the vendor-version guard that keeps updates monotonic.

use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{
    ExternalId, FindingId, IntegrationId, SyncChannel, TenantId, TicketKey, TicketLinkId,
    TicketRef, TicketTarget, Vendor, VendorVersion,
};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Row};
use time::OffsetDateTime;

use crate::conn::area_handle;
use crate::row::{self, store_vocabulary};

mod ops;
mod poller;
mod sync;

pub use poller::{LinkSla, LiveVersion};

area_handle!(
    /// Ticket links (`store.links()` / `tx.links()`); statements in `links/ops.rs` (life of a
    /// link, lookups), `links/sync.rs` (vendor state and SLA of one link) and `links/poller.rs`
    /// (the poller's per-integration reads and batched SLA writes).
    TicketLinks
);

store_vocabulary!(
    /// Where a link is in its life. (Not to be confused with `lockstep_domain::LinkState`, the
    /// input of a transition, which [`TicketLinkRecord::vendor_snapshot`] helps to build.)
    TicketLinkState, "ticket link state", {
        /// Written before the vendor create call; resolved by write-back or crash repair.
        Pending => "pending",
        /// The ticket exists and is kept in sync.
        Live => "live",
        /// The vendor refused to create the ticket.
        Failed => "failed",
        /// The link was ended on purpose; kept as history.
        Unlinked => "unlinked",
    }
);

impl TicketLinkState {
    /// Pending and live links are the ones that block a second ticket for the same finding.
    pub const fn is_active(&self) -> bool {
        matches!(self, TicketLinkState::Pending | TicketLinkState::Live)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketLinkRecord {
    pub id: TicketLinkId,
    pub tenant_id: TenantId,
    pub finding_id: FindingId,
    pub integration_id: IntegrationId,
    /// Vendor and table or project (`ticket_links.vendor`, `ticket_links.table_or_project`).
    pub target: TicketTarget,
    /// The vendor's id (sys_id, Jira issue id, SDP request id); set once live.
    pub external_id: Option<ExternalId>,
    /// The human key (INC0010001, SEC-42); set once live.
    pub ticket_key: Option<TicketKey>,
    pub url: Option<String>,
    pub state: TicketLinkState,
    pub failure_reason: Option<String>,
    /// The newest vendor version applied, with the vendor state it carried.
    pub vendor_snapshot: Option<VendorSnapshot>,
    pub sla_due_at: Option<OffsetDateTime>,
    pub sla_breached: bool,
    pub last_sync_channel: Option<SyncChannel>,
    pub last_synced_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl TicketLinkRecord {
    pub fn vendor(&self) -> Vendor {
        self.target.vendor()
    }

    /// The ticket as one value, once the link knows its ids.
    pub fn ticket_ref(&self) -> Option<TicketRef> {
        let (external_id, key) = (self.external_id.as_ref()?, self.ticket_key.as_ref()?);
        TicketRef::parse(
            self.vendor(),
            self.target.container(),
            external_id.as_str(),
            key.as_str(),
        )
        .ok()
    }
}

macro_rules! link_columns {
    () => {
        "id, tenant_id, finding_id, integration_id, vendor, table_or_project, external_id, ticket_key, url, \
         state, failure_reason, vendor_state, vendor_updated_at, vendor_sequence, sla_due_at, sla_breached, \
         last_sync_channel, last_synced_at, created_at, updated_at"
    };
}
pub(crate) use link_columns;

impl<'r> FromRow<'r, PgRow> for TicketLinkRecord {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        let vendor: Vendor = row::vocab(r, "vendor")?;
        let vendor_state: Option<String> = r.try_get("vendor_state")?;
        let updated_at: Option<OffsetDateTime> = r.try_get("vendor_updated_at")?;
        let sequence: Option<i64> = r.try_get("vendor_sequence")?;
        let vendor_snapshot = match (vendor_state, updated_at, sequence) {
            (Some(state), Some(at), Some(seq)) => Some(VendorSnapshot {
                version: VendorVersion::new(at, seq),
                state,
            }),
            _ => None,
        };
        Ok(TicketLinkRecord {
            id: row::id(r, "id", TicketLinkId::from_uuid)?,
            tenant_id: row::id(r, "tenant_id", TenantId::from_uuid)?,
            finding_id: row::id(r, "finding_id", FindingId::from_uuid)?,
            integration_id: row::id(r, "integration_id", IntegrationId::from_uuid)?,
            target: row::parsed(r, "table_or_project", |t| TicketTarget::parse(vendor, t))?,
            external_id: row::opt_parsed(r, "external_id", ExternalId::parse)?,
            ticket_key: row::opt_parsed(r, "ticket_key", |t| TicketKey::parse(vendor, t))?,
            url: r.try_get("url")?,
            state: row::vocab(r, "state")?,
            failure_reason: r.try_get("failure_reason")?,
            vendor_snapshot,
            sla_due_at: r.try_get("sla_due_at")?,
            sla_breached: r.try_get("sla_breached")?,
            last_sync_channel: row::opt_vocab(r, "last_sync_channel")?,
            last_synced_at: r.try_get("last_synced_at")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

/// The write-back after a successful vendor create (or a crash repair that found the ticket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTicket {
    pub external_id: ExternalId,
    pub ticket_key: TicketKey,
    pub url: Option<String>,
    /// The ticket's version and state as the create response returned them, if it did.
    pub snapshot: Option<VendorSnapshot>,
    pub channel: SyncChannel,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pending_and_live_links_are_active() {
        assert!(TicketLinkState::Pending.is_active() && TicketLinkState::Live.is_active());
        assert!(!TicketLinkState::Failed.is_active() && !TicketLinkState::Unlinked.is_active());
        assert_eq!(
            "LIVE".parse::<TicketLinkState>().unwrap(),
            TicketLinkState::Live
        );
    }
}
