//! The poll scheduler's claim: due integrations taken in one statement with
//! `FOR UPDATE SKIP LOCKED`, so any number of poller replicas share the work and an integration is
//! polled by exactly one replica per cycle.
//!
//! Checking "due and not leased" and taking the lease happen in the same statement: a replica that
//! read a stale list cannot poll an integration another replica has just finished (its
//! `next_due_at` moved into the future), and two replicas claiming at once skip each other's rows
//! instead of waiting on them.

use std::time::Duration;

use lockstep_domain::{IntegrationId, TenantId};
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::PollState;
use crate::error::StoreResult;
use crate::integrations::IntegrationRecord;

/// An integration whose lease this replica now holds, with what the poll needs from its schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedPoll {
    pub integration: IntegrationRecord,
    pub watermark: Option<OffsetDateTime>,
    pub consecutive_failures: i32,
    pub lease_expires_at: OffsetDateTime,
}

impl ClaimedPoll {
    fn from_row(r: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(ClaimedPoll {
            integration: sqlx::FromRow::from_row(r)?,
            watermark: r.try_get("poll_watermark")?,
            consecutive_failures: r.try_get("poll_consecutive_failures")?,
            lease_expires_at: r.try_get("poll_lease_expires_at")?,
        })
    }
}

impl PollState<'_> {
    /// Claims up to `limit` due integrations across tenants for `owner` for `ttl`, most overdue
    /// first. Part of the poll scheduler's cross-tenant access (integration rows and their
    /// schedules only, see the crate docs); every later call is scoped to the returned tenant ids.
    pub async fn claim_due_across_tenants(
        mut self,
        owner: &str,
        ttl: Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedPoll>> {
        let mut c = self.conn.acquire().await?;
        let rows = sqlx::query(
            "WITH due AS (
                 SELECT p.integration_id
                   FROM poll_state p
                   JOIN integrations i ON i.id = p.integration_id AND i.tenant_id = p.tenant_id
                  WHERE p.next_due_at <= now()
                    AND (p.lease_expires_at IS NULL OR p.lease_expires_at <= now())
                    AND i.active AND i.deleted_at IS NULL
                  ORDER BY p.next_due_at, p.integration_id
                  LIMIT $3
                  FOR UPDATE OF p SKIP LOCKED
             ), claimed AS (
                 UPDATE poll_state p
                    SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2),
                        updated_at = now()
                   FROM due
                  WHERE p.integration_id = due.integration_id
                 RETURNING p.integration_id, p.watermark, p.consecutive_failures, p.lease_expires_at,
                           p.next_due_at
             )
             SELECT i.id, i.tenant_id, i.vendor, i.name, i.base_url, i.auth_kind, i.sealed_credentials,
                    i.sealed_webhook_secret, i.settings, i.active, i.created_at, i.updated_at,
                    i.credentials_rotated_at,
                    c.watermark AS poll_watermark, c.consecutive_failures AS poll_consecutive_failures,
                    c.lease_expires_at AS poll_lease_expires_at
               FROM claimed c JOIN integrations i ON i.id = c.integration_id
              ORDER BY c.next_due_at, c.integration_id",
        )
        .bind(owner)
        .bind(ttl.as_secs_f64())
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await?;
        Ok(rows
            .iter()
            .map(ClaimedPoll::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Claims one integration of the tenant now, due or not (an on-demand re-sync), unless another
    /// owner holds its lease. `None` when the lease is held elsewhere or the integration is
    /// inactive; `NotFound` for an integration the tenant does not have.
    pub async fn claim_now(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<ClaimedPoll>> {
        let mut c = self.conn.acquire().await?;
        let row = sqlx::query(
            "WITH claimed AS (
                 UPDATE poll_state p
                    SET lease_owner = $3, lease_expires_at = now() + make_interval(secs => $4),
                        updated_at = now()
                   FROM integrations i
                  WHERE p.tenant_id = $1 AND p.integration_id = $2
                    AND i.tenant_id = p.tenant_id AND i.id = p.integration_id
                    AND i.active AND i.deleted_at IS NULL
                    AND (p.lease_owner IS NULL OR p.lease_expires_at <= now() OR p.lease_owner = $3)
                 RETURNING p.integration_id, p.tenant_id, p.watermark, p.consecutive_failures,
                           p.lease_expires_at
             )
             SELECT i.id, i.tenant_id, i.vendor, i.name, i.base_url, i.auth_kind, i.sealed_credentials,
                    i.sealed_webhook_secret, i.settings, i.active, i.created_at, i.updated_at,
                    i.credentials_rotated_at,
                    c.watermark AS poll_watermark, c.consecutive_failures AS poll_consecutive_failures,
                    c.lease_expires_at AS poll_lease_expires_at
               FROM claimed c JOIN integrations i ON i.id = c.integration_id AND i.tenant_id = c.tenant_id",
        )
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .bind(owner)
        .bind(ttl.as_secs_f64())
        .fetch_optional(&mut *c)
        .await?;
        match row {
            Some(row) => Ok(Some(ClaimedPoll::from_row(&row)?)),
            None => {
                drop(c);
                // NotFound for an integration the tenant does not have (or a deleted one).
                self.get(tenant, integration).await?;
                Ok(None)
            }
        }
    }

    /// How many active integrations' last poll failed, across tenants: a number for the
    /// `integrations failing` gauge, reading no row content.
    pub async fn count_failing_across_tenants(mut self) -> StoreResult<i64> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM poll_state p
               JOIN integrations i ON i.id = p.integration_id AND i.tenant_id = p.tenant_id
              WHERE p.consecutive_failures > 0 AND i.active AND i.deleted_at IS NULL",
        )
        .fetch_one(&mut *c)
        .await?)
    }
}
