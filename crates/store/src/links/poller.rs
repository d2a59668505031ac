//! What the poller reads and writes on the links of one integration: the versions Lockstep holds
//! (to tell news from re-reads), the open tickets whose SLA it refreshes, and SLA bookkeeping.
//!
//! Every statement here works on a whole integration or a whole batch at once: a poll cycle covers
//! up to a million links (1,000 integrations × 1,000 tickets), so a statement per link would
//! dominate the cycle.

use std::collections::HashMap;

use lockstep_domain::{IntegrationId, TenantId, TicketLinkId, VendorVersion};
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{TicketLinkRecord, TicketLinks, link_columns};
use crate::error::StoreResult;

/// Finding statuses after which a ticket's SLA no longer matters to us.
const SETTLED_FINDING_STATUSES: &str = "('closed', 'risk_accepted', 'false_positive')";

/// A ticket's SLA as read from the vendor, to be stored on its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkSla {
    pub link_id: TicketLinkId,
    /// The earliest breach time of the SLAs still running; `None` clears a stored one.
    pub due_at: Option<OffsetDateTime>,
    pub breached: bool,
}

/// A live link as the poller needs it: which link, and the vendor version it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveVersion {
    pub link_id: TicketLinkId,
    /// `None` until the first observation was applied.
    pub version: Option<VendorVersion>,
}

impl TicketLinks<'_> {
    /// The tables or projects the integration has pending or live links in: where its change
    /// feed has to look.
    pub async fn active_containers(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
    ) -> StoreResult<Vec<String>> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT table_or_project FROM ticket_links
              WHERE tenant_id = $1 AND integration_id = $2 AND state IN ('pending', 'live')
              ORDER BY table_or_project",
        )
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .fetch_all(&mut *c)
        .await?)
    }

    /// For each of `external_ids` with a live link on the integration, the link and the vendor
    /// version it holds. Tickets without a live link are absent.
    pub async fn live_versions(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
        external_ids: &[&str],
    ) -> StoreResult<HashMap<String, LiveVersion>> {
        if external_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut c = self.conn.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, external_id, vendor_updated_at, vendor_sequence FROM ticket_links
              WHERE tenant_id = $1 AND integration_id = $2 AND state = 'live' AND external_id = ANY($3)",
        )
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .bind(external_ids)
        .fetch_all(&mut *c)
        .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in rows {
            let at: Option<OffsetDateTime> = r.try_get("vendor_updated_at")?;
            let seq: Option<i64> = r.try_get("vendor_sequence")?;
            let version = at.zip(seq).map(|(at, seq)| VendorVersion::new(at, seq));
            let link_id = crate::row::id(&r, "id", TicketLinkId::from_uuid)?;
            out.insert(
                r.try_get::<String, _>("external_id")?,
                LiveVersion { link_id, version },
            );
        }
        Ok(out)
    }

    /// One page (by link id) of the integration's live links whose finding is not settled (closed,
    /// risk accepted, false positive): the tickets whose SLA the poller refreshes.
    pub async fn list_open_live(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
        after: Option<TicketLinkId>,
        limit: u32,
    ) -> StoreResult<Vec<TicketLinkRecord>> {
        let mut c = self.conn.acquire().await?;
        let after = after.map_or(Uuid::nil(), |id| id.as_uuid());
        let sql = format!(
            "SELECT {} FROM ticket_links l
              WHERE l.tenant_id = $1 AND l.integration_id = $2 AND l.state = 'live' AND l.id > $3
                AND NOT EXISTS (SELECT 1 FROM findings f
                                 WHERE f.tenant_id = l.tenant_id AND f.id = l.finding_id
                                   AND f.status IN {SETTLED_FINDING_STATUSES})
              ORDER BY l.id LIMIT $4",
            qualified_link_columns()
        );
        Ok(sqlx::query_as::<_, TicketLinkRecord>(&sql)
            .bind(tenant.as_uuid())
            .bind(integration.as_uuid())
            .bind(after)
            .bind(i64::from(limit.max(1)))
            .fetch_all(&mut *c)
            .await?)
    }

    /// Stores many links' SLAs (due time and breached) in one statement: the batched form of
    /// `update_sla`, with the same result for each link, as if written one after another (a link
    /// named twice ends with its last entry).
    ///
    /// Only links of `integration` under `tenant` are touched; ids of other tenants or
    /// integrations are skipped exactly like ids that do not exist. A link that already holds the
    /// given values is not rewritten (no `updated_at` bump, no dead row), so a sweep that finds
    /// nothing new writes nothing. Returns how many links changed.
    pub async fn update_slas(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
        slas: &[LinkSla],
    ) -> StoreResult<u64> {
        if slas.is_empty() {
            return Ok(0);
        }
        let ids: Vec<Uuid> = slas.iter().map(|s| s.link_id.as_uuid()).collect();
        let dues: Vec<Option<OffsetDateTime>> = slas.iter().map(|s| s.due_at).collect();
        let breached: Vec<bool> = slas.iter().map(|s| s.breached).collect();
        let mut c = self.conn.acquire().await?;
        // DISTINCT ON keeps the last entry per link: UPDATE ... FROM with several source rows for
        // one target row would pick one of them unpredictably.
        Ok(sqlx::query(
            "UPDATE ticket_links l
                SET sla_due_at = u.due_at, sla_breached = u.breached, updated_at = now()
               FROM (SELECT DISTINCT ON (id) id, due_at, breached
                       FROM UNNEST($3::uuid[], $4::timestamptz[], $5::bool[])
                            WITH ORDINALITY AS x(id, due_at, breached, n)
                      ORDER BY id, n DESC) u
              WHERE l.tenant_id = $1 AND l.integration_id = $2 AND l.id = ANY($3) AND l.id = u.id
                AND (l.sla_due_at IS DISTINCT FROM u.due_at OR l.sla_breached <> u.breached)",
        )
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .bind(&ids)
        .bind(&dues)
        .bind(&breached)
        .execute(&mut *c)
        .await?
        .rows_affected())
    }

    /// Live links whose SLA due time has passed become breached, without asking the vendor (its
    /// own breach flag lags: ServiceNow recalculates it on a schedule). Returns how many changed.
    pub async fn mark_overdue_slas_breached(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
    ) -> StoreResult<u64> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query(
            "UPDATE ticket_links SET sla_breached = true, updated_at = now()
              WHERE tenant_id = $1 AND integration_id = $2 AND state = 'live'
                AND NOT sla_breached AND sla_due_at <= now()",
        )
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .execute(&mut *c)
        .await?
        .rows_affected())
    }

    /// How many live links of the integration have a breached SLA.
    pub async fn count_sla_breached(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
    ) -> StoreResult<i64> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM ticket_links
              WHERE tenant_id = $1 AND integration_id = $2 AND state = 'live' AND sla_breached",
        )
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .fetch_one(&mut *c)
        .await?)
    }
}

/// `link_columns!()` prefixed with the `l.` alias.
fn qualified_link_columns() -> String {
    link_columns!()
        .split(',')
        .map(|c| format!("l.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
