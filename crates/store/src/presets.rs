//! Presets: named sets of ticket field defaults, shared by a whole tenant.

use lockstep_domain::{PresetId, TenantId};
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{FromRow, Row};
use time::OffsetDateTime;

use crate::conn::area_handle;
use crate::error::{StoreError, StoreResult};
use crate::row;

#[derive(Debug, Clone, PartialEq)]
pub struct PresetRecord {
    pub id: PresetId,
    pub tenant_id: TenantId,
    pub name: String,
    /// Ticket field name → default value; a JSON object by construction (and by CHECK).
    pub fields: Map<String, Value>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

macro_rules! preset_columns {
    () => {
        "id, tenant_id, name, fields, created_at, updated_at"
    };
}

impl<'r> FromRow<'r, PgRow> for PresetRecord {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(PresetRecord {
            id: row::id(r, "id", PresetId::from_uuid)?,
            tenant_id: row::id(r, "tenant_id", TenantId::from_uuid)?,
            name: r.try_get("name")?,
            fields: row::json(r, "fields")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

area_handle!(
    /// Presets (`store.presets()` / `tx.presets()`).
    Presets
);

impl Presets<'_> {
    /// Creates a preset; names are unique per tenant, ignoring case.
    pub async fn create(
        self,
        tenant: TenantId,
        name: &str,
        fields: &Map<String, Value>,
    ) -> StoreResult<PresetRecord> {
        self.create_with_id(tenant, PresetId::new(), name, fields)
            .await
    }

    /// [`Presets::create`] with an id chosen by the caller (derived from an API `request_id`, so a
    /// retried create finds the preset the first attempt made, by id).
    pub async fn create_with_id(
        mut self,
        tenant: TenantId,
        id: PresetId,
        name: &str,
        fields: &Map<String, Value>,
    ) -> StoreResult<PresetRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, PresetRecord>(concat!(
            "INSERT INTO presets (id, tenant_id, name, fields)
             SELECT $2, t.id, $3, $4 FROM tenants t WHERE t.id = $1
             RETURNING ",
            preset_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(name.trim())
        .bind(Json(fields))
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("tenant", tenant))
    }

    pub async fn get(mut self, tenant: TenantId, id: PresetId) -> StoreResult<PresetRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, PresetRecord>(concat!(
            "SELECT ",
            preset_columns!(),
            " FROM presets WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("preset", id))
    }

    /// The tenant's presets by name (a tenant has tens, not thousands).
    pub async fn list(mut self, tenant: TenantId) -> StoreResult<Vec<PresetRecord>> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, PresetRecord>(concat!(
            "SELECT ",
            preset_columns!(),
            " FROM presets WHERE tenant_id = $1 ORDER BY lower(name), id"
        ))
        .bind(tenant.as_uuid())
        .fetch_all(&mut *c)
        .await?)
    }

    /// Renames the preset and replaces its fields.
    pub async fn update(
        mut self,
        tenant: TenantId,
        id: PresetId,
        name: &str,
        fields: &Map<String, Value>,
    ) -> StoreResult<PresetRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, PresetRecord>(concat!(
            "UPDATE presets SET name = $3, fields = $4, updated_at = now()
             WHERE tenant_id = $1 AND id = $2
             RETURNING ",
            preset_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(name.trim())
        .bind(Json(fields))
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("preset", id))
    }

    /// Deletes the preset for good: presets are defaults, nothing refers to them.
    pub async fn delete(mut self, tenant: TenantId, id: PresetId) -> StoreResult<()> {
        let mut c = self.conn.acquire().await?;
        let done = sqlx::query("DELETE FROM presets WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(&mut *c)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("preset", id));
        }
        Ok(())
    }
}
