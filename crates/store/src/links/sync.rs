//! What the vendor side changes on a live link: its state and version (guarded), and its SLA.

use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{SyncChannel, TenantId, TicketLinkId, VendorVersion};
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::{TicketLinkRecord, TicketLinks, link_columns, ops};
use crate::error::{StoreError, StoreResult};

impl TicketLinks<'_> {
    /// Records a vendor snapshot (the `record` of a domain `Transition`) if, and only if, its version
    /// is newer than the one the link holds. Returns whether it applied.
    ///
    /// The version comparison is in the UPDATE's WHERE clause, so it is re-checked against the
    /// latest row version after any concurrent writer commits (READ COMMITTED re-evaluation): two
    /// observations racing can only ever move the link forward. An observation equal to or older
    /// than the stored version, or for a link that is no longer live, returns `false` and writes
    /// nothing. A link that does not exist for the tenant is `NotFound`. Callers change the finding
    /// only when this returns `true`, in the same transaction.
    pub async fn apply_vendor_state(
        mut self,
        tenant: TenantId,
        id: TicketLinkId,
        snapshot: &VendorSnapshot,
        channel: SyncChannel,
    ) -> StoreResult<bool> {
        let mut c = self.conn.acquire().await?;
        write_snapshot(&mut c, tenant, id, snapshot, channel, Replaces::Older).await
    }

    /// Records a vendor snapshot that repairs a link holding a version from the future (a
    /// `Transition` with `replaces` set): written only if the live link still holds exactly
    /// `replaces`, so a concurrent writer's change is never overwritten. Returns whether it
    /// applied; a link that does not exist for the tenant is `NotFound`.
    pub async fn repair_vendor_state(
        mut self,
        tenant: TenantId,
        id: TicketLinkId,
        snapshot: &VendorSnapshot,
        replaces: VendorVersion,
        channel: SyncChannel,
    ) -> StoreResult<bool> {
        let mut c = self.conn.acquire().await?;
        write_snapshot(
            &mut c,
            tenant,
            id,
            snapshot,
            channel,
            Replaces::Exactly(replaces),
        )
        .await
    }

    /// Forgets the vendor version (and state) a link holds, so the next observation of the ticket
    /// applies whatever its version: the operator's way out when a link holds a version from the
    /// future that no poll has repaired. Returns the link as it was before (locked until the
    /// transaction ends). `NotFound` for a link the tenant does not have. Callers write the
    /// activity row in the same transaction.
    pub async fn reset_vendor_version(
        mut self,
        tenant: TenantId,
        id: TicketLinkId,
    ) -> StoreResult<TicketLinkRecord> {
        let mut c = self.conn.acquire().await?;
        // Locked, so the version reported as reset is the one this statement forgot.
        let before = sqlx::query_as::<_, TicketLinkRecord>(concat!(
            "SELECT ",
            link_columns!(),
            " FROM ticket_links WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("ticket link", id))?;
        sqlx::query(
            "UPDATE ticket_links
                SET vendor_state = NULL, vendor_updated_at = NULL, vendor_sequence = NULL,
                    updated_at = now()
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .execute(&mut *c)
        .await?;
        Ok(before)
    }

    /// Records the ticket's SLA due time and whether it is breached.
    pub async fn update_sla(
        mut self,
        tenant: TenantId,
        id: TicketLinkId,
        due_at: Option<OffsetDateTime>,
        breached: bool,
    ) -> StoreResult<TicketLinkRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, TicketLinkRecord>(concat!(
            "UPDATE ticket_links SET sla_due_at = $3, sla_breached = $4, updated_at = now()
             WHERE tenant_id = $1 AND id = $2
             RETURNING ",
            link_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(due_at)
        .bind(breached)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("ticket link", id))
    }
}

/// Which stored vendor version a snapshot may replace.
enum Replaces {
    /// Any older one (or none): the normal forward-only rule.
    Older,
    /// Exactly this one: a repair of a version from the future.
    Exactly(VendorVersion),
}

/// The one guarded write of a vendor snapshot on a live link; returns whether it applied, and
/// `NotFound` for a link the tenant does not have.
async fn write_snapshot(
    c: &mut PgConnection,
    tenant: TenantId,
    id: TicketLinkId,
    snapshot: &VendorSnapshot,
    channel: SyncChannel,
    replaces: Replaces,
) -> StoreResult<bool> {
    let guard = match replaces {
        Replaces::Older => {
            "(vendor_updated_at IS NULL OR (vendor_updated_at, vendor_sequence) < ($4, $5))"
        }
        Replaces::Exactly(_) => "(vendor_updated_at, vendor_sequence) = ($7, $8)",
    };
    let sql = format!(
        "UPDATE ticket_links
            SET vendor_state = $3, vendor_updated_at = $4, vendor_sequence = $5,
                last_sync_channel = $6, last_synced_at = now(), updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND state = 'live' AND {guard}"
    );
    let mut query = sqlx::query(&sql)
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(&snapshot.state)
        .bind(snapshot.version.updated_at())
        .bind(snapshot.version.sequence())
        .bind(channel.as_str());
    if let Replaces::Exactly(version) = replaces {
        query = query.bind(version.updated_at()).bind(version.sequence());
    }
    let applied = query.execute(&mut *c).await?.rows_affected() > 0;
    if !applied {
        // Only to tell "stale or not live" (false) from "no such link" (NotFound).
        ops::get(c, tenant, id).await?;
    }
    Ok(applied)
}
