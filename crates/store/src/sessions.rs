//! Browser sessions (`store.web_sessions()`): an API token exchanged for a short-lived secret.
//!
//! Like token lookup, finding a session by its secret's hash is a read without a `TenantId`: the
//! secret is how the caller proves its tenant. The identity is the token's, read live, so a
//! revoked token's sessions stop working at once.

use lockstep_domain::{ApiTokenId, TenantId};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::conn::area_handle;
use crate::error::StoreResult;
use crate::tenants::TokenIdentity;

area_handle!(
    /// Browser sessions (`store.web_sessions()`).
    WebSessions
);

/// A new session: its id and when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub expires_at: OffsetDateTime,
}

impl WebSessions<'_> {
    /// Records a session of `token` for `ttl`, by the SHA-256 of its secret. Expired sessions of
    /// the same token are removed on the way, so the table does not grow with sign-ins.
    pub async fn create(
        mut self,
        tenant: TenantId,
        token: ApiTokenId,
        secret_hash: &[u8],
        ttl: Duration,
    ) -> StoreResult<SessionRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query("DELETE FROM web_sessions WHERE token_id = $1 AND expires_at < now()")
            .bind(token.as_uuid())
            .execute(&mut *c)
            .await?;
        let id = Uuid::now_v7();
        let expires_at: OffsetDateTime = sqlx::query_scalar(
            "INSERT INTO web_sessions (id, tenant_id, token_id, secret_hash, expires_at)
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
             RETURNING expires_at",
        )
        .bind(id)
        .bind(tenant.as_uuid())
        .bind(token.as_uuid())
        .bind(secret_hash)
        .bind(ttl.as_seconds_f64())
        .fetch_one(&mut *c)
        .await?;
        Ok(SessionRecord { id, expires_at })
    }

    /// The identity of the unexpired session with this secret hash, whose token is unrevoked,
    /// and when the session ends.
    pub async fn find_by_hash(
        mut self,
        secret_hash: &[u8],
    ) -> StoreResult<Option<(TokenIdentity, OffsetDateTime)>> {
        let mut c = self.conn.acquire().await?;
        let row: Option<(TokenIdentity, OffsetDateTime)> = sqlx::query_as::<_, SessionRow>(
            "SELECT a.id, a.tenant_id, a.name, a.role, s.expires_at
               FROM web_sessions s
               JOIN api_tokens a ON a.id = s.token_id AND a.tenant_id = s.tenant_id
              WHERE s.secret_hash = $1 AND s.expires_at > now() AND a.revoked_at IS NULL",
        )
        .bind(secret_hash)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| (r.identity, r.expires_at));
        Ok(row)
    }

    /// Ends the session with this secret hash (nothing when there is none).
    pub async fn delete(mut self, secret_hash: &[u8]) -> StoreResult<bool> {
        let mut c = self.conn.acquire().await?;
        let done = sqlx::query("DELETE FROM web_sessions WHERE secret_hash = $1")
            .bind(secret_hash)
            .execute(&mut *c)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

struct SessionRow {
    identity: TokenIdentity,
    expires_at: OffsetDateTime,
}

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for SessionRow {
    fn from_row(r: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(SessionRow {
            identity: TokenIdentity::from_row(r)?,
            expires_at: r.try_get("expires_at")?,
        })
    }
}
