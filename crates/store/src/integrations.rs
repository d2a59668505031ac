//! Integrations: one configured ITSM instance each, with sealed credentials.
//!
//! Deletion is SOFT: the row stays (ticket links and the activity feed keep pointing at a real
//! integration, which audit needs), but in the same statement its sealed secrets are wiped, it is
//! deactivated, its name is freed for reuse, its pending and live links become `unlinked` and its
//! poll schedule is removed. Every read of this module skips deleted rows, so to a caller a deleted
//! integration is indistinguishable from one that never existed.

use std::time::Duration;

use lockstep_crypto::Sealed;
use lockstep_domain::{IntegrationId, TenantId, Vendor};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{FromRow, Row};
use time::OffsetDateTime;

mod vendor_webhook;
mod webhook_secrets;

use crate::conn::area_handle;
use crate::error::{StoreError, StoreResult};
use crate::row::{self, store_vocabulary};

store_vocabulary!(
    /// How Lockstep authenticates to the vendor; the sealed credentials hold the matching secret.
    AuthKind, "auth kind", {
        Basic => "basic",
        OAuth2ClientCredentials => "oauth2_client_credentials",
        /// OAuth 2.0 password grant, then refresh tokens.
        OAuth2Password => "oauth2_password",
        ApiKey => "api_key",
        /// An OAuth 2.0 refresh token from an admin's consent (authorization-code flows).
        OAuth2RefreshToken => "oauth2_refresh_token",
    }
);

/// Behaviour switches of an integration, stored as JSONB.
///
/// Every field has a serde default, so rows written by older code (with fewer fields) still read,
/// and unknown fields written by newer code are ignored rather than rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegrationSettings {
    /// A vendor "done" state closes the finding; when false (the default) it moves to `re_test`.
    /// Which states are "done" is part of the inbound mapping rules, not of these settings.
    pub auto_close_on_resolve: bool,
    /// Where new tickets go: a ServiceNow table (`incident`), a Jira project key, an SDP request type.
    pub default_table_or_project: Option<String>,
    /// Seconds between two polls of this integration.
    pub poll_interval_secs: u32,
    /// Accept unsigned webhooks (refused anyway when the server runs in production mode).
    pub allow_unsigned: bool,
}

impl IntegrationSettings {
    pub const DEFAULT_POLL_INTERVAL_SECS: u32 = 300;

    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.poll_interval_secs))
    }
}

impl Default for IntegrationSettings {
    fn default() -> Self {
        IntegrationSettings {
            auto_close_on_resolve: false,
            default_table_or_project: None,
            poll_interval_secs: Self::DEFAULT_POLL_INTERVAL_SECS,
            allow_unsigned: false,
        }
    }
}

/// An integration as stored. The sealed values print redacted in `Debug`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationRecord {
    pub id: IntegrationId,
    pub tenant_id: TenantId,
    pub vendor: Vendor,
    pub name: String,
    pub base_url: String,
    pub auth_kind: AuthKind,
    pub sealed_credentials: Sealed,
    pub sealed_webhook_secret: Option<Sealed>,
    pub settings: IntegrationSettings,
    pub active: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub credentials_rotated_at: OffsetDateTime,
}

macro_rules! integration_columns {
    () => {
        "id, tenant_id, vendor, name, base_url, auth_kind, sealed_credentials, sealed_webhook_secret, \
         settings, active, created_at, updated_at, credentials_rotated_at"
    };
}
pub(crate) use integration_columns;

impl<'r> FromRow<'r, PgRow> for IntegrationRecord {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(IntegrationRecord {
            id: row::id(r, "id", IntegrationId::from_uuid)?,
            tenant_id: row::id(r, "tenant_id", TenantId::from_uuid)?,
            vendor: row::vocab(r, "vendor")?,
            name: r.try_get("name")?,
            base_url: r.try_get("base_url")?,
            auth_kind: row::vocab(r, "auth_kind")?,
            sealed_credentials: row::sealed(r, "sealed_credentials")?,
            sealed_webhook_secret: row::opt_sealed(r, "sealed_webhook_secret")?,
            settings: row::json(r, "settings")?,
            active: r.try_get("active")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            credentials_rotated_at: r.try_get("credentials_rotated_at")?,
        })
    }
}

/// A new integration. The caller picks the id because the sealed values' AAD is bound to it:
/// seal with `IntegrationId::new()` first, then create with the same id.
#[derive(Debug, Clone)]
pub struct NewIntegration {
    pub id: IntegrationId,
    pub vendor: Vendor,
    pub name: String,
    pub base_url: String,
    pub auth_kind: AuthKind,
    pub sealed_credentials: Sealed,
    pub sealed_webhook_secret: Option<Sealed>,
    pub settings: IntegrationSettings,
}

area_handle!(
    /// Integrations (`store.integrations()` / `tx.integrations()`).
    Integrations
);

/// What ingest-webhook needs to authenticate a delivery to `/v1/webhooks/{integration_id}`, whose
/// URL names no tenant. Read by [`Integrations::find_for_webhook_delivery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    pub id: IntegrationId,
    /// The tenant the delivery belongs to; every later call is scoped to it.
    pub tenant_id: TenantId,
    pub vendor: Vendor,
    pub active: bool,
    pub sealed_webhook_secret: Option<Sealed>,
    /// Secrets replaced by a rotation and still accepted, newest first.
    pub previous_webhook_secrets: Vec<Sealed>,
    pub allow_unsigned: bool,
}

impl Integrations<'_> {
    /// Creates an active integration and its poll schedule (first poll due now).
    pub async fn create(
        mut self,
        tenant: TenantId,
        new: &NewIntegration,
    ) -> StoreResult<IntegrationRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, IntegrationRecord>(concat!(
            "WITH created AS (
                 INSERT INTO integrations (id, tenant_id, vendor, name, base_url, auth_kind, sealed_credentials,
                                           sealed_webhook_secret, settings)
                 SELECT $2, t.id, $3, $4, $5, $6, $7, $8, $9 FROM tenants t WHERE t.id = $1
                 RETURNING *
             ), schedule AS (
                 INSERT INTO poll_state (integration_id, tenant_id) SELECT id, tenant_id FROM created
             )
             SELECT ",
            integration_columns!(),
            " FROM created"
        ))
        .bind(tenant.as_uuid())
        .bind(new.id.as_uuid())
        .bind(new.vendor.as_str())
        .bind(new.name.trim())
        .bind(new.base_url.trim())
        .bind(new.auth_kind.as_str())
        .bind(new.sealed_credentials.to_bytes())
        .bind(new.sealed_webhook_secret.as_ref().map(Sealed::to_bytes))
        .bind(Json(&new.settings))
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("tenant", tenant))
    }

    pub async fn get(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
    ) -> StoreResult<IntegrationRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, IntegrationRecord>(concat!(
            "SELECT ",
            integration_columns!(),
            " FROM integrations WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("integration", id))
    }

    /// The tenant's integrations by name. A tenant has a handful, so there is no pagination.
    pub async fn list(mut self, tenant: TenantId) -> StoreResult<Vec<IntegrationRecord>> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, IntegrationRecord>(concat!(
            "SELECT ",
            integration_columns!(),
            " FROM integrations WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY lower(name), id"
        ))
        .bind(tenant.as_uuid())
        .fetch_all(&mut *c)
        .await?)
    }

    pub async fn update_settings(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
        settings: &IntegrationSettings,
    ) -> StoreResult<IntegrationRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, IntegrationRecord>(concat!(
            "UPDATE integrations SET settings = $3, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL
             RETURNING ",
            integration_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(Json(settings))
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("integration", id))
    }

    /// Replaces the credentials (and their kind, which may change with them) and records when.
    pub async fn rotate_credentials(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
        auth_kind: AuthKind,
        sealed_credentials: &Sealed,
    ) -> StoreResult<IntegrationRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, IntegrationRecord>(concat!(
            "UPDATE integrations
                SET auth_kind = $3, sealed_credentials = $4, credentials_rotated_at = now(), updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL
             RETURNING ",
            integration_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(auth_kind.as_str())
        .bind(sealed_credentials.to_bytes())
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("integration", id))
    }

    /// Replaces the sealed credentials with ones a connector rotated itself (an OAuth provider's
    /// new refresh token). Unlike [`Integrations::rotate_credentials`] it keeps
    /// `credentials_rotated_at`, so the connectors built from the old row stay cached: the one
    /// that rotated holds the new token already, and the others reload it when theirs is refused.
    pub async fn store_rotated_credentials(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
        sealed_credentials: &Sealed,
    ) -> StoreResult<()> {
        let mut c = self.conn.acquire().await?;
        let done = sqlx::query(
            "UPDATE integrations SET sealed_credentials = $3, updated_at = now()
              WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(sealed_credentials.to_bytes())
        .execute(&mut *c)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("integration", id));
        }
        Ok(())
    }

    /// Sets or (with `None`) removes the webhook secret; either way no previous secret stays
    /// accepted (rotation with overlap is [`Integrations::rotate_webhook_secret`]).
    pub async fn set_webhook_secret(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
        sealed_secret: Option<&Sealed>,
    ) -> StoreResult<IntegrationRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, IntegrationRecord>(concat!(
            "WITH forgotten AS (
                 DELETE FROM previous_webhook_secrets WHERE tenant_id = $1 AND integration_id = $2
             )
             UPDATE integrations SET sealed_webhook_secret = $3, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL
             RETURNING ",
            integration_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(sealed_secret.map(Sealed::to_bytes))
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("integration", id))
    }

    /// Pauses (`false`) or resumes (`true`) polling and ticketing through this integration.
    pub async fn set_active(
        mut self,
        tenant: TenantId,
        id: IntegrationId,
        active: bool,
    ) -> StoreResult<IntegrationRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, IntegrationRecord>(concat!(
            "UPDATE integrations SET active = $3, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL
             RETURNING ",
            integration_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(active)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("integration", id))
    }

    /// CROSS-TENANT READ (the second one, after the poll scheduler's): the webhook target of an
    /// integration by id alone, because a vendor's delivery URL carries no tenant. It returns
    /// only what verifying a delivery needs, never credentials, and `None` for deleted or unknown
    /// integrations. The caller must treat `None`, an inactive target and a failed verification
    /// alike, so the answer reveals nothing about which integrations exist.
    pub async fn find_for_webhook_delivery(
        mut self,
        id: IntegrationId,
    ) -> StoreResult<Option<WebhookTarget>> {
        let mut c = self.conn.acquire().await?;
        let row = sqlx::query(
            "SELECT id, tenant_id, vendor, active, sealed_webhook_secret, settings,
                    ARRAY(SELECT p.sealed_secret FROM previous_webhook_secrets p
                           WHERE p.tenant_id = integrations.tenant_id
                             AND p.integration_id = integrations.id
                           ORDER BY p.replaced_at DESC) AS previous
             FROM integrations WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let settings: IntegrationSettings = row::json(&r, "settings")?;
        let previous: Vec<Vec<u8>> = r.try_get("previous")?;
        let previous_webhook_secrets = previous
            .iter()
            .map(|b| Sealed::from_bytes(b).map_err(|e| row::decode_error("previous", e)))
            .collect::<Result<_, _>>()?;
        Ok(Some(WebhookTarget {
            id: row::id(&r, "id", IntegrationId::from_uuid)?,
            tenant_id: row::id(&r, "tenant_id", TenantId::from_uuid)?,
            vendor: row::vocab(&r, "vendor")?,
            active: r.try_get("active")?,
            sealed_webhook_secret: row::opt_sealed(&r, "sealed_webhook_secret")?,
            previous_webhook_secrets,
            allow_unsigned: settings.allow_unsigned,
        }))
    }

    /// Soft-deletes the integration (see the module docs for everything this does, atomically).
    pub async fn delete(mut self, tenant: TenantId, id: IntegrationId) -> StoreResult<()> {
        let mut c = self.conn.acquire().await?;
        let deleted: Option<uuid::Uuid> = sqlx::query_scalar(
            "WITH gone AS (
                 UPDATE integrations
                    SET deleted_at = now(), active = false, sealed_credentials = ''::bytea,
                        sealed_webhook_secret = NULL, updated_at = now()
                  WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL
                 RETURNING id, tenant_id
             ), unlinked AS (
                 UPDATE ticket_links l SET state = 'unlinked', updated_at = now()
                   FROM gone
                  WHERE l.tenant_id = gone.tenant_id AND l.integration_id = gone.id
                    AND l.state IN ('pending', 'live')
             ), unscheduled AS (
                 DELETE FROM poll_state p USING gone WHERE p.integration_id = gone.id
             ), forgotten AS (
                 DELETE FROM previous_webhook_secrets w USING gone
                  WHERE w.tenant_id = gone.tenant_id AND w.integration_id = gone.id
             )
             SELECT id FROM gone",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await?;
        deleted
            .map(|_| ())
            .ok_or_else(|| StoreError::not_found("integration", id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_fill_missing_fields_with_defaults_and_ignore_unknown_ones() {
        let settings: IntegrationSettings =
            serde_json::from_str(r#"{"auto_close_on_resolve": true, "from_the_future": 1}"#)
                .unwrap();
        assert!(settings.auto_close_on_resolve);
        assert_eq!(settings.poll_interval(), Duration::from_secs(300));
        assert!(!settings.allow_unsigned);
        assert_eq!(
            serde_json::from_str::<IntegrationSettings>("{}").unwrap(),
            IntegrationSettings::default()
        );
    }

    #[test]
    fn auth_kinds_round_trip() {
        for kind in AuthKind::ALL {
            assert_eq!(kind.as_str().parse::<AuthKind>().unwrap(), *kind);
        }
        assert!("kerberos".parse::<AuthKind>().is_err());
    }
}
