//! The statements on ticket links.

use lockstep_domain::{FindingId, IntegrationId, TenantId, TicketLinkId, TicketTarget};
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{LiveTicket, TicketLinkRecord, TicketLinkState, TicketLinks, link_columns};
use crate::error::{StoreError, StoreResult, pg_codes};

impl TicketLinks<'_> {
    /// Records the intent to create a ticket, BEFORE calling the vendor.
    ///
    /// Fails with `AlreadyLinked { existing }` when the finding already has a pending or live link
    /// on this integration: the partial unique index decides, so two concurrent requests cannot both
    /// pass. The insert runs under a savepoint, so inside a caller's transaction the refusal leaves
    /// that transaction usable. Both the finding and the integration must belong to `tenant`, or
    /// the answer is `NotFound`; a target of another vendor than the integration's is `Invalid`.
    pub async fn insert_pending(
        mut self,
        tenant: TenantId,
        finding: FindingId,
        integration: IntegrationId,
        target: &TicketTarget,
    ) -> StoreResult<TicketLinkRecord> {
        let mut c = self.conn.acquire().await?;
        let mut savepoint = c.begin().await?;
        let inserted = sqlx::query_as::<_, TicketLinkRecord>(concat!(
            "INSERT INTO ticket_links (id, tenant_id, finding_id, integration_id, vendor, table_or_project)
             SELECT $4, f.tenant_id, f.id, i.id, i.vendor, $5
             FROM findings f, integrations i
             WHERE f.tenant_id = $1 AND f.id = $2
               AND i.tenant_id = $1 AND i.id = $3 AND i.deleted_at IS NULL AND i.vendor = $6
             RETURNING ",
            link_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(finding.as_uuid())
        .bind(integration.as_uuid())
        .bind(TicketLinkId::new().as_uuid())
        .bind(target.container())
        .bind(target.vendor().as_str())
        .fetch_optional(&mut *savepoint)
        .await;

        match inserted {
            Ok(Some(link)) => {
                savepoint.commit().await?;
                Ok(link)
            }
            Ok(None) => {
                savepoint.commit().await?;
                Err(why_not_inserted(&mut c, tenant, finding, integration, target).await)
            }
            Err(sqlx::Error::Database(db))
                if db.code().as_deref() == Some(pg_codes::UNIQUE_VIOLATION)
                    && db.constraint() == Some("ticket_links_one_active_key") =>
            {
                savepoint.rollback().await?;
                match find_active(&mut c, tenant, finding, integration).await? {
                    Some(existing) => Err(StoreError::AlreadyLinked {
                        existing: Box::new(existing),
                    }),
                    // The blocking link ended between the insert and the lookup.
                    None => Err(StoreError::conflict(format!(
                        "the ticket link of finding {finding} on integration {integration} changed concurrently; try again"
                    ))),
                }
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The write-back: a pending link becomes live with the ticket's ids and first known state.
    ///
    /// Repeating the write-back of the same ticket returns the live link unchanged, so a retried
    /// write-back is harmless. Any other state is a `Conflict`; a ticket that is already actively
    /// linked to another finding of the integration is a `Conflict` too.
    pub async fn mark_live(
        mut self,
        tenant: TenantId,
        id: TicketLinkId,
        ticket: &LiveTicket,
    ) -> StoreResult<TicketLinkRecord> {
        let mut c = self.conn.acquire().await?;
        let updated = sqlx::query_as::<_, TicketLinkRecord>(concat!(
            "UPDATE ticket_links
                SET state = 'live', external_id = $3, ticket_key = $4, url = $5, vendor_state = $6,
                    vendor_updated_at = $7, vendor_sequence = $8, last_sync_channel = $9,
                    last_synced_at = now(), failure_reason = NULL, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND state = 'pending'
             RETURNING ",
            link_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(ticket.external_id.as_str())
        .bind(ticket.ticket_key.as_str())
        .bind(&ticket.url)
        .bind(ticket.snapshot.as_ref().map(|s| s.state.as_str()))
        .bind(ticket.snapshot.as_ref().map(|s| s.version.updated_at()))
        .bind(ticket.snapshot.as_ref().map(|s| s.version.sequence()))
        .bind(ticket.channel.as_str())
        .fetch_optional(&mut *c)
        .await?;
        if let Some(link) = updated {
            return Ok(link);
        }
        let link = get(&mut c, tenant, id).await?;
        if link.state == TicketLinkState::Live
            && link.external_id.as_ref() == Some(&ticket.external_id)
        {
            return Ok(link);
        }
        Err(wrong_state(&link, "only a pending link can go live"))
    }

    /// The vendor refused the create: the pending link becomes `failed` with the reason, which
    /// frees the finding for another attempt. Repeating it on a failed link returns it unchanged.
    pub async fn mark_failed(
        mut self,
        tenant: TenantId,
        id: TicketLinkId,
        reason: &str,
    ) -> StoreResult<TicketLinkRecord> {
        let mut c = self.conn.acquire().await?;
        let updated = sqlx::query_as::<_, TicketLinkRecord>(concat!(
            "UPDATE ticket_links SET state = 'failed', failure_reason = $3, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND state = 'pending'
             RETURNING ",
            link_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(reason)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(link) = updated {
            return Ok(link);
        }
        let link = get(&mut c, tenant, id).await?;
        if link.state == TicketLinkState::Failed {
            return Ok(link);
        }
        Err(wrong_state(&link, "only a pending link can fail"))
    }

    /// Ends a pending or live link on purpose (the ticket stays on the vendor side, untracked).
    pub async fn unlink(
        mut self,
        tenant: TenantId,
        id: TicketLinkId,
    ) -> StoreResult<TicketLinkRecord> {
        let mut c = self.conn.acquire().await?;
        let updated = sqlx::query_as::<_, TicketLinkRecord>(concat!(
            "UPDATE ticket_links SET state = 'unlinked', updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND state IN ('pending', 'live')
             RETURNING ",
            link_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await?;
        if let Some(link) = updated {
            return Ok(link);
        }
        let link = get(&mut c, tenant, id).await?;
        if link.state == TicketLinkState::Unlinked {
            return Ok(link);
        }
        Err(wrong_state(
            &link,
            "only a pending or live link can be unlinked",
        ))
    }

    pub async fn get(
        mut self,
        tenant: TenantId,
        id: TicketLinkId,
    ) -> StoreResult<TicketLinkRecord> {
        let mut c = self.conn.acquire().await?;
        get(&mut c, tenant, id).await
    }

    /// The pending or live link of the finding on the integration (there is at most one): the
    /// pre-flight check before ticketing, and the lookup of an outbound status push.
    pub async fn find_active(
        mut self,
        tenant: TenantId,
        finding: FindingId,
        integration: IntegrationId,
    ) -> StoreResult<Option<TicketLinkRecord>> {
        let mut c = self.conn.acquire().await?;
        find_active(&mut c, tenant, finding, integration).await
    }

    /// The active link of a vendor ticket: how an inbound observation finds its finding.
    pub async fn find_active_by_external_id(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
        external_id: &str,
    ) -> StoreResult<Option<TicketLinkRecord>> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, TicketLinkRecord>(concat!(
            "SELECT ",
            link_columns!(),
            " FROM ticket_links
             WHERE tenant_id = $1 AND integration_id = $2 AND external_id = $3 AND state IN ('pending', 'live')"
        ))
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .bind(external_id)
        .fetch_optional(&mut *c)
        .await?)
    }

    /// Every link (history included) of the tenant's findings among `ids`, grouped by finding and
    /// oldest first: the bulk pre-flight (CheckTicketLinks). Other tenants' findings have none.
    pub async fn list_for_findings(
        mut self,
        tenant: TenantId,
        ids: &[FindingId],
    ) -> StoreResult<Vec<TicketLinkRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = ids.iter().map(FindingId::as_uuid).collect();
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, TicketLinkRecord>(concat!(
            "SELECT ",
            link_columns!(),
            " FROM ticket_links WHERE tenant_id = $1 AND finding_id = ANY($2)
             ORDER BY finding_id, created_at, id"
        ))
        .bind(tenant.as_uuid())
        .bind(&ids)
        .fetch_all(&mut *c)
        .await?)
    }

    /// Claims a pending link for crash repair: succeeds (true) only if the link is still pending
    /// and was last touched before `stale_before`, and touches it, so of two concurrent repairs
    /// of the same link exactly one proceeds to the vendor.
    pub async fn claim_pending(
        mut self,
        tenant: TenantId,
        id: TicketLinkId,
        stale_before: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut c = self.conn.acquire().await?;
        let claimed = sqlx::query(
            "UPDATE ticket_links SET updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND state = 'pending' AND updated_at < $3",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(stale_before)
        .execute(&mut *c)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Pending links created before `cutoff`: candidates for crash repair (look the ticket up by
    /// its correlation id, then `mark_live` or `mark_failed`).
    pub async fn list_pending_before(
        mut self,
        tenant: TenantId,
        cutoff: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<TicketLinkRecord>> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, TicketLinkRecord>(concat!(
            "SELECT ",
            link_columns!(),
            " FROM ticket_links WHERE tenant_id = $1 AND state = 'pending' AND created_at < $2
             ORDER BY created_at, id LIMIT $3"
        ))
        .bind(tenant.as_uuid())
        .bind(cutoff)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await?)
    }
}

pub(super) async fn get(
    c: &mut PgConnection,
    tenant: TenantId,
    id: TicketLinkId,
) -> StoreResult<TicketLinkRecord> {
    sqlx::query_as::<_, TicketLinkRecord>(concat!(
        "SELECT ",
        link_columns!(),
        " FROM ticket_links WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .fetch_optional(&mut *c)
    .await?
    .ok_or_else(|| StoreError::not_found("ticket link", id))
}

async fn find_active(
    c: &mut PgConnection,
    tenant: TenantId,
    finding: FindingId,
    integration: IntegrationId,
) -> StoreResult<Option<TicketLinkRecord>> {
    Ok(sqlx::query_as::<_, TicketLinkRecord>(concat!(
        "SELECT ",
        link_columns!(),
        " FROM ticket_links
         WHERE tenant_id = $1 AND finding_id = $2 AND integration_id = $3 AND state IN ('pending', 'live')"
    ))
    .bind(tenant.as_uuid())
    .bind(finding.as_uuid())
    .bind(integration.as_uuid())
    .fetch_optional(&mut *c)
    .await?)
}

/// Why the guarded insert wrote nothing: the tenant has no such finding, no such integration, or
/// the target belongs to another vendor than the integration.
async fn why_not_inserted(
    c: &mut PgConnection,
    tenant: TenantId,
    finding: FindingId,
    integration: IntegrationId,
    target: &TicketTarget,
) -> StoreError {
    let found = sqlx::query_as::<_, (bool, Option<String>)>(
        "SELECT EXISTS (SELECT 1 FROM findings WHERE tenant_id = $1 AND id = $2),
                (SELECT vendor FROM integrations WHERE tenant_id = $1 AND id = $3 AND deleted_at IS NULL)",
    )
    .bind(tenant.as_uuid())
    .bind(finding.as_uuid())
    .bind(integration.as_uuid())
    .fetch_one(&mut *c)
    .await;
    match found {
        Ok((false, _)) => StoreError::not_found("finding", finding),
        Ok((true, None)) => StoreError::not_found("integration", integration),
        Ok((true, Some(vendor))) => StoreError::Invalid {
            what: format!(
                "integration {integration} is a {vendor} integration; it cannot create a ticket in {target}"
            ),
        },
        Err(err) => err.into(),
    }
}

fn wrong_state(link: &TicketLinkRecord, rule: &str) -> StoreError {
    StoreError::conflict(format!("ticket link {} is {}; {rule}", link.id, link.state))
}
