//! Webhook secret rotation. An integration has one current secret (`sealed_webhook_secret`) and
//! any number of previous ones (`previous_webhook_secrets`) that are still accepted: rotating
//! makes the new secret current and keeps the old one, retiring forgets every previous one.

use lockstep_crypto::Sealed;
use lockstep_domain::{IntegrationId, TenantId};

use super::{IntegrationRecord, Integrations, integration_columns};
use crate::error::{StoreError, StoreResult};

impl Integrations<'_> {
    /// Makes `sealed_secret` the current webhook secret; the one it replaces (if any) stays
    /// accepted until [`Integrations::retire_previous_webhook_secrets`]. One statement.
    pub async fn rotate_webhook_secret(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
        sealed_secret: &Sealed,
    ) -> StoreResult<IntegrationRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, IntegrationRecord>(concat!(
            "WITH old AS (
                 SELECT tenant_id AS t_id, id AS i_id, sealed_webhook_secret AS secret
                   FROM integrations
                  WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL
                    FOR UPDATE
             ), kept AS (
                 INSERT INTO previous_webhook_secrets (id, tenant_id, integration_id, sealed_secret)
                 SELECT $4, t_id, i_id, secret FROM old WHERE secret IS NOT NULL
             )
             UPDATE integrations SET sealed_webhook_secret = $3, updated_at = now()
               FROM old WHERE tenant_id = old.t_id AND id = old.i_id
             RETURNING ",
            integration_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(sealed_secret.to_bytes())
        .bind(uuid::Uuid::new_v4())
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("integration", id))
    }

    /// Forgets every previous webhook secret: from now on only the current one is accepted.
    /// Returns how many were retired.
    pub async fn retire_previous_webhook_secrets(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
    ) -> StoreResult<u64> {
        let mut c = self.conn.acquire().await?;
        let row: Option<i64> = sqlx::query_scalar(
            "WITH target AS (
                 SELECT id FROM integrations
                  WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL
             ), gone AS (
                 DELETE FROM previous_webhook_secrets p USING target
                  WHERE p.tenant_id = $1 AND p.integration_id = target.id
                 RETURNING 1
             )
             SELECT (SELECT count(*) FROM gone) FROM target",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await?;
        row.map(|n| u64::try_from(n).unwrap_or(0))
            .ok_or_else(|| StoreError::not_found("integration", id))
    }

    /// How many previous webhook secrets are still accepted.
    pub async fn previous_webhook_secret_count(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
    ) -> StoreResult<u64> {
        let mut c = self.conn.acquire().await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM previous_webhook_secrets WHERE tenant_id = $1 AND integration_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_one(&mut *c)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
