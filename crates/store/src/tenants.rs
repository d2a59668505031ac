//! Tenants and their API tokens.
//!
//! Token lookup by hash is the one read that does not take a `TenantId`: the token is how the caller
//! proves which tenant it is. It returns the identity and nothing else.

use lockstep_domain::{ApiTokenId, TenantId};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Row};
use time::OffsetDateTime;

use crate::conn::area_handle;
use crate::error::{StoreError, StoreResult};
use crate::row::{self, store_vocabulary};

store_vocabulary!(
    /// What an API token may do, from most to least privileged.
    Role, "role", {
        /// Everything, including integrations and their credentials.
        Admin => "admin",
        /// Work on findings and tickets.
        Analyst => "analyst",
        /// Read only.
        Viewer => "viewer",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    pub id: TenantId,
    pub name: String,
    pub created_at: OffsetDateTime,
}

impl<'r> FromRow<'r, PgRow> for TenantRecord {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(TenantRecord {
            id: row::id(r, "id", TenantId::from_uuid)?,
            name: r.try_get("name")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

/// A token as listed to its tenant's admins (the hash is never read back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    pub id: ApiTokenId,
    pub tenant_id: TenantId,
    pub name: String,
    pub role: Role,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl<'r> FromRow<'r, PgRow> for ApiTokenRecord {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(ApiTokenRecord {
            id: row::id(r, "id", ApiTokenId::from_uuid)?,
            tenant_id: row::id(r, "tenant_id", TenantId::from_uuid)?,
            name: r.try_get("name")?,
            role: row::vocab(r, "role")?,
            created_at: r.try_get("created_at")?,
            last_used_at: r.try_get("last_used_at")?,
            revoked_at: r.try_get("revoked_at")?,
        })
    }
}

/// Who is calling: the result of authenticating a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIdentity {
    pub token_id: ApiTokenId,
    pub tenant_id: TenantId,
    /// Shown as the actor in the activity feed.
    pub name: String,
    pub role: Role,
}

impl<'r> FromRow<'r, PgRow> for TokenIdentity {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(TokenIdentity {
            token_id: row::id(r, "id", ApiTokenId::from_uuid)?,
            tenant_id: row::id(r, "tenant_id", TenantId::from_uuid)?,
            name: r.try_get("name")?,
            role: row::vocab(r, "role")?,
        })
    }
}

macro_rules! token_columns {
    () => {
        "id, tenant_id, name, role, created_at, last_used_at, revoked_at"
    };
}

area_handle!(
    /// Tenants (`store.tenants()`).
    Tenants
);

impl Tenants<'_> {
    pub async fn create(mut self, name: &str) -> StoreResult<TenantRecord> {
        let mut c = self.conn.acquire().await?;
        let tenant = sqlx::query_as::<_, TenantRecord>(
            "INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING id, name, created_at",
        )
        .bind(TenantId::new().as_uuid())
        .bind(name.trim())
        .fetch_one(&mut *c)
        .await?;
        Ok(tenant)
    }

    pub async fn get(mut self, tenant: TenantId) -> StoreResult<TenantRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, TenantRecord>("SELECT id, name, created_at FROM tenants WHERE id = $1")
            .bind(tenant.as_uuid())
            .fetch_optional(&mut *c)
            .await?
            .ok_or_else(|| StoreError::not_found("tenant", tenant))
    }
}

area_handle!(
    /// API tokens (`store.api_tokens()`).
    ApiTokens
);

impl ApiTokens<'_> {
    /// Registers a token by the SHA-256 of its secret (hashing is the caller's job).
    pub async fn create(
        mut self,
        tenant: TenantId,
        name: &str,
        token_hash: &[u8],
        role: Role,
    ) -> StoreResult<ApiTokenRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, ApiTokenRecord>(concat!(
            "INSERT INTO api_tokens (id, tenant_id, name, token_hash, role)
             SELECT $2, t.id, $3, $4, $5 FROM tenants t WHERE t.id = $1
             RETURNING ",
            token_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(ApiTokenId::new().as_uuid())
        .bind(name.trim())
        .bind(token_hash)
        .bind(role.as_str())
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("tenant", tenant))
    }

    /// Every token of the tenant, revoked ones included, oldest first.
    pub async fn list(mut self, tenant: TenantId) -> StoreResult<Vec<ApiTokenRecord>> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, ApiTokenRecord>(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at, id"
        ))
        .bind(tenant.as_uuid())
        .fetch_all(&mut *c)
        .await?)
    }

    /// Authenticates a bearer token: the identity of the unrevoked token with this hash.
    ///
    /// Records `last_used_at` in the same statement, but at most once a minute per token, so that
    /// authentication does not turn every read request into a write.
    pub async fn find_by_hash(mut self, token_hash: &[u8]) -> StoreResult<Option<TokenIdentity>> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, TokenIdentity>(
            "WITH found AS (
                 SELECT id, tenant_id, name, role, last_used_at FROM api_tokens
                 WHERE token_hash = $1 AND revoked_at IS NULL
             ), touched AS (
                 UPDATE api_tokens a SET last_used_at = now()
                 FROM found
                 WHERE a.id = found.id
                   AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '60 seconds')
             )
             SELECT id, tenant_id, name, role FROM found",
        )
        .bind(token_hash)
        .fetch_optional(&mut *c)
        .await?)
    }

    /// Revokes a token of the tenant. Revoking twice keeps the first revocation time.
    pub async fn revoke(
        mut self,
        tenant: TenantId,
        token: ApiTokenId,
    ) -> StoreResult<ApiTokenRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, ApiTokenRecord>(concat!(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now())
             WHERE tenant_id = $1 AND id = $2
             RETURNING ",
            token_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(token.as_uuid())
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("API token", token))
    }
}
