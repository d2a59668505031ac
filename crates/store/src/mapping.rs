//! The mapping rules of an integration: one `lockstep_domain::MappingRules` document each (severity
//! → priority fields, inbound and outbound status rules, for every kind of ticket of the vendor).
//!
//! An integration without a stored document uses `MappingRules::defaults(vendor)`: decided here
//! once, by [`MappingRulesStore::effective`] (and the batch read of the sync-applier), so no
//! caller repeats the fallback. [`MappingRulesStore::get`] still tells "none stored" as `None`.

use lockstep_domain::{IntegrationId, MappingRuleId, MappingRules, TenantId, Vendor};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{FromRow, Row};
use time::OffsetDateTime;

use crate::conn::area_handle;
use crate::error::{StoreError, StoreResult};
use crate::integrations::IntegrationRecord;
use crate::row;

/// The rules an integration works with, and the stored document they come from (`None`: the
/// vendor's defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveRules {
    pub rules: MappingRules,
    pub stored: Option<MappingRulesRecord>,
}

/// The stored rules, or the vendor's defaults when none are stored: the one fallback.
pub(crate) fn or_defaults(stored: Option<MappingRules>, vendor: Vendor) -> MappingRules {
    stored.unwrap_or_else(|| MappingRules::defaults(vendor))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRulesRecord {
    pub id: MappingRuleId,
    pub tenant_id: TenantId,
    pub integration_id: IntegrationId,
    pub rules: MappingRules,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

macro_rules! mapping_columns {
    () => {
        "id, tenant_id, integration_id, rules, created_at, updated_at"
    };
}

impl<'r> FromRow<'r, PgRow> for MappingRulesRecord {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(MappingRulesRecord {
            id: row::id(r, "id", MappingRuleId::from_uuid)?,
            tenant_id: row::id(r, "tenant_id", TenantId::from_uuid)?,
            integration_id: row::id(r, "integration_id", IntegrationId::from_uuid)?,
            rules: row::json(r, "rules")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

area_handle!(
    /// Mapping rules (`store.mapping_rules()` / `tx.mapping_rules()`).
    MappingRulesStore
);

impl MappingRulesStore<'_> {
    /// The stored rules, or `None` when the integration has none (use the vendor defaults).
    /// Integrations of other tenants have none, as far as the caller can tell.
    pub async fn get(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
    ) -> StoreResult<Option<MappingRulesRecord>> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, MappingRulesRecord>(concat!(
            "SELECT ",
            mapping_columns!(),
            " FROM mapping_rules WHERE tenant_id = $1 AND integration_id = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .fetch_optional(&mut *c)
        .await?)
    }

    /// The rules `integration` works with: its stored document, or its vendor's defaults.
    pub async fn effective(self, integration: &IntegrationRecord) -> StoreResult<EffectiveRules> {
        let stored = self.get(integration.tenant_id, integration.id).await?;
        Ok(EffectiveRules {
            rules: or_defaults(stored.as_ref().map(|s| s.rules.clone()), integration.vendor),
            stored,
        })
    }

    /// Replaces the integration's rules (creating them the first time; the id stays stable).
    /// Rules for another vendor than the integration's are `Invalid`.
    pub async fn put(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
        rules: &MappingRules,
    ) -> StoreResult<MappingRulesRecord> {
        let mut c = self.conn.acquire().await?;
        let stored = sqlx::query_as::<_, MappingRulesRecord>(concat!(
            "INSERT INTO mapping_rules (id, tenant_id, integration_id, rules)
             SELECT $3, i.tenant_id, i.id, $4 FROM integrations i
             WHERE i.tenant_id = $1 AND i.id = $2 AND i.deleted_at IS NULL AND i.vendor = $5
             ON CONFLICT (integration_id) DO UPDATE SET rules = EXCLUDED.rules, updated_at = now()
             RETURNING ",
            mapping_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(integration.as_uuid())
        .bind(MappingRuleId::new().as_uuid())
        .bind(Json(rules))
        .bind(rules.vendor().as_str())
        .fetch_optional(&mut *c)
        .await?;
        if let Some(stored) = stored {
            return Ok(stored);
        }
        let vendor: Option<String> =
            sqlx::query_scalar("SELECT vendor FROM integrations WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL")
                .bind(tenant.as_uuid())
                .bind(integration.as_uuid())
                .fetch_optional(&mut *c)
                .await?;
        match vendor {
            None => Err(StoreError::not_found("integration", integration)),
            Some(vendor) => Err(StoreError::Invalid {
                what: format!(
                    "integration {integration} is a {vendor} integration; it cannot use {} mapping rules",
                    rules.vendor()
                ),
            }),
        }
    }

    /// Removes the stored rules, so the vendor defaults apply again. `false` if there were none.
    pub async fn delete(
        mut self,
        tenant: TenantId,
        integration: IntegrationId,
    ) -> StoreResult<bool> {
        let mut c = self.conn.acquire().await?;
        let done =
            sqlx::query("DELETE FROM mapping_rules WHERE tenant_id = $1 AND integration_id = $2")
                .bind(tenant.as_uuid())
                .bind(integration.as_uuid())
                .execute(&mut *c)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}
