//! The poller's schedule: per integration a watermark, a lease, the next due time and the last error.
//!
//! Many poller replicas share the work through leases held in PostgreSQL, timed by the database's
//! clock (never a replica's): a replica lists due integrations, claims a lease per integration,
//! polls, publishes, and only then records the outcome, which succeeds only while it still holds
//! the lease. The watermark only ever moves forward.

use std::time::Duration;

use lockstep_domain::{IntegrationId, TenantId};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Row};
use time::OffsetDateTime;

use crate::conn::area_handle;
use crate::error::{StoreError, StoreResult};
use crate::integrations::{IntegrationRecord, integration_columns};
use crate::row;

mod claim;

pub use claim::ClaimedPoll;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollStateRecord {
    pub integration_id: IntegrationId,
    pub tenant_id: TenantId,
    /// Vendor-side "updated since" of the last completed poll.
    pub watermark: Option<OffsetDateTime>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<OffsetDateTime>,
    pub next_due_at: OffsetDateTime,
    pub last_success_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
    pub updated_at: OffsetDateTime,
}

macro_rules! poll_columns {
    () => {
        "integration_id, tenant_id, watermark, lease_owner, lease_expires_at, next_due_at, last_success_at, \
         last_error, consecutive_failures, updated_at"
    };
}

impl<'r> FromRow<'r, PgRow> for PollStateRecord {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(PollStateRecord {
            integration_id: row::id(r, "integration_id", IntegrationId::from_uuid)?,
            tenant_id: row::id(r, "tenant_id", TenantId::from_uuid)?,
            watermark: r.try_get("watermark")?,
            lease_owner: r.try_get("lease_owner")?,
            lease_expires_at: r.try_get("lease_expires_at")?,
            next_due_at: r.try_get("next_due_at")?,
            last_success_at: r.try_get("last_success_at")?,
            last_error: r.try_get("last_error")?,
            consecutive_failures: r.try_get("consecutive_failures")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

area_handle!(
    /// Poll schedule (`store.poll_state()` / `tx.poll_state()`).
    PollState
);

impl PollState<'_> {
    pub async fn get(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
    ) -> StoreResult<PollStateRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, PollStateRecord>(concat!(
            "SELECT ",
            poll_columns!(),
            " FROM poll_state WHERE tenant_id = $1 AND integration_id = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("integration", integration))
    }

    /// THE ONE CROSS-TENANT READ of the store, for the poll scheduler: active integrations whose
    /// next poll is due and whose lease is free, most overdue first. It returns integrations only
    /// (with their tenant ids, which the scheduler passes to every later call); claim each with
    /// [`PollState::claim_lease`] before polling, because another replica may see the same list.
    pub async fn list_due_integrations_across_tenants(
        mut self,
        limit: u32,
    ) -> StoreResult<Vec<IntegrationRecord>> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, IntegrationRecord>(concat!(
            "SELECT ",
            integration_columns!(),
            " FROM (SELECT i.*, p.next_due_at AS poll_due_at
                   FROM poll_state p JOIN integrations i ON i.id = p.integration_id AND i.tenant_id = p.tenant_id
                   WHERE p.next_due_at <= now()
                     AND (p.lease_expires_at IS NULL OR p.lease_expires_at <= now())
                     AND i.active AND i.deleted_at IS NULL) due
             ORDER BY poll_due_at, id
             LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await?)
    }

    /// Takes (or renews, for the same owner) the lease on an active integration for `ttl`.
    /// `None` when another owner holds an unexpired lease or the integration is inactive;
    /// `NotFound` when the tenant has no such integration.
    pub async fn claim_lease(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<PollStateRecord>> {
        let mut c = self.conn.acquire().await?;
        let claimed = sqlx::query_as::<_, PollStateRecord>(concat!(
            "UPDATE poll_state p
                SET lease_owner = $3, lease_expires_at = now() + make_interval(secs => $4), updated_at = now()
               FROM integrations i
              WHERE p.tenant_id = $1 AND p.integration_id = $2
                AND i.tenant_id = p.tenant_id AND i.id = p.integration_id AND i.active AND i.deleted_at IS NULL
                AND (p.lease_owner IS NULL OR p.lease_expires_at <= now() OR p.lease_owner = $3)
             RETURNING ",
            "p.integration_id, p.tenant_id, p.watermark, p.lease_owner, p.lease_expires_at, p.next_due_at, \
             p.last_success_at, p.last_error, p.consecutive_failures, p.updated_at"
        ))
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .bind(owner)
        .bind(ttl.as_secs_f64())
        .fetch_optional(&mut *c)
        .await?;
        if claimed.is_none() {
            // Existence check only, to report NotFound rather than "held elsewhere".
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM poll_state WHERE tenant_id = $1 AND integration_id = $2)")
                    .bind(tenant.as_uuid())
                    .bind(integration.as_uuid())
                    .fetch_one(&mut *c)
                    .await?;
            if !exists {
                return Err(StoreError::not_found("integration", integration));
            }
        }
        Ok(claimed)
    }

    /// A poll completed: moves the watermark forward (never back), clears the error, schedules the
    /// next poll and releases the lease. `false` (and nothing written) if `owner` lost the lease.
    pub async fn record_success(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
        owner: &str,
        watermark: Option<OffsetDateTime>,
        next_due_at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut c = self.conn.acquire().await?;
        let done = sqlx::query(
            "UPDATE poll_state
                SET watermark = GREATEST(watermark, $4), last_success_at = now(), last_error = NULL,
                    consecutive_failures = 0, next_due_at = $5, lease_owner = NULL, lease_expires_at = NULL,
                    updated_at = now()
              WHERE tenant_id = $1 AND integration_id = $2 AND lease_owner = $3",
        )
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .bind(owner)
        .bind(watermark)
        .bind(next_due_at)
        .execute(&mut *c)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A poll failed: records the error, counts consecutive failures (for backoff), schedules the
    /// retry and releases the lease. `false` (and nothing written) if `owner` lost the lease.
    pub async fn record_failure(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
        owner: &str,
        error: &str,
        next_due_at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut c = self.conn.acquire().await?;
        let done = sqlx::query(
            "UPDATE poll_state
                SET last_error = $4, consecutive_failures = consecutive_failures + 1, next_due_at = $5,
                    lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
              WHERE tenant_id = $1 AND integration_id = $2 AND lease_owner = $3",
        )
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .bind(owner)
        .bind(error)
        .bind(next_due_at)
        .execute(&mut *c)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Makes the integration due now (an on-demand re-sync); a lease in progress is left alone.
    pub async fn request_poll_now(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
    ) -> StoreResult<PollStateRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, PollStateRecord>(concat!(
            "UPDATE poll_state SET next_due_at = LEAST(next_due_at, now()), updated_at = now()
             WHERE tenant_id = $1 AND integration_id = $2
             RETURNING ",
            poll_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("integration", integration))
    }
}
