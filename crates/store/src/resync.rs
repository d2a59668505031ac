//! The re-sync-all cooldown per caller, held in PostgreSQL so every poller replica enforces the
//! same one.

use std::time::Duration;

use lockstep_domain::TenantId;

use crate::conn::area_handle;
use crate::error::StoreResult;

area_handle!(
    /// Re-sync cooldowns (`store.resync_cooldowns()`).
    ResyncCooldowns
);

impl ResyncCooldowns<'_> {
    /// Starts a re-sync for `caller` unless it started one less than `cooldown` ago. `Ok(Ok(()))`
    /// when it may go ahead (the start is recorded); `Ok(Err(remaining))` with the time left
    /// otherwise. Two concurrent starts of one caller: exactly one goes ahead.
    pub async fn try_start(
        mut self,
        tenant: TenantId,
        caller: &str,
        cooldown: Duration,
    ) -> StoreResult<Result<(), Duration>> {
        let mut c = self.conn.acquire().await?;
        let started = sqlx::query(
            "INSERT INTO resync_cooldowns (tenant_id, caller, started_at) VALUES ($1, $2, now())
             ON CONFLICT (tenant_id, caller) DO UPDATE SET started_at = now()
              WHERE resync_cooldowns.started_at <= now() - make_interval(secs => $3)",
        )
        .bind(tenant.as_uuid())
        .bind(caller)
        .bind(cooldown.as_secs_f64())
        .execute(&mut *c)
        .await?
        .rows_affected()
            == 1;
        if started {
            return Ok(Ok(()));
        }
        let remaining: f64 = sqlx::query_scalar(
            "SELECT GREATEST(EXTRACT(EPOCH FROM (started_at + make_interval(secs => $3) - now())), 0)::float8
               FROM resync_cooldowns WHERE tenant_id = $1 AND caller = $2",
        )
        .bind(tenant.as_uuid())
        .bind(caller)
        .bind(cooldown.as_secs_f64())
        .fetch_optional(&mut *c)
        .await?
        .unwrap_or(0.0);
        Ok(Err(Duration::from_secs_f64(remaining.max(0.0))))
    }
}
