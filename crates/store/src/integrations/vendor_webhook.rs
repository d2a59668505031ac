//! The vendor's id of the webhook Lockstep registered for an integration (webhook auto-setup),
//! read back when the integration is deleted so the webhook can be removed.

use lockstep_domain::{IntegrationId, TenantId};

use super::Integrations;
use crate::error::{StoreError, StoreResult};

impl Integrations<'_> {
    /// Records (or with `None` forgets) the vendor's webhook id.
    pub async fn set_vendor_webhook_id(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
        vendor_id: Option<&str>,
    ) -> StoreResult<()> {
        let mut c = self.conn.acquire().await?;
        let done = sqlx::query(
            "UPDATE integrations SET vendor_webhook_id = $3, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(vendor_id)
        .execute(&mut *c)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("integration", id));
        }
        Ok(())
    }

    /// The vendor's webhook id of a live integration, when Lockstep registered one.
    pub async fn vendor_webhook_id(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
    ) -> StoreResult<Option<String>> {
        let mut c = self.conn.acquire().await?;
        let row: Option<Option<String>> = sqlx::query_scalar(
            "SELECT vendor_webhook_id FROM integrations
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await?;
        row.ok_or_else(|| StoreError::not_found("integration", id))
    }
}
