//! The append-only activity feed of each finding: what changed, through which channel, by whom.

use lockstep_domain::{ActivityId, ActivityKind, FindingId, FindingStatus, SyncChannel, TenantId};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{FromRow, Postgres, QueryBuilder, Row};
use time::OffsetDateTime;

use crate::conn::area_handle;
use crate::error::{StoreError, StoreResult};
use crate::page::{Cursor, Page, PageRequest};
use crate::row;

/// One entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    pub finding_id: FindingId,
    pub channel: SyncChannel,
    /// The vendor user for inbound changes, the API token name for ours.
    pub actor: String,
    pub kind: ActivityKind,
    pub from_status: Option<FindingStatus>,
    pub to_status: Option<FindingStatus>,
    pub message: String,
    /// Anything else worth keeping (vendor state, ticket key, event id…); an object by convention.
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRecord {
    pub id: ActivityId,
    pub tenant_id: TenantId,
    pub finding_id: FindingId,
    pub at: OffsetDateTime,
    pub channel: SyncChannel,
    pub actor: String,
    pub kind: ActivityKind,
    pub from_status: Option<FindingStatus>,
    pub to_status: Option<FindingStatus>,
    pub message: String,
    pub details: serde_json::Value,
}

impl ActivityRecord {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            at: self.at,
            id: self.id.as_uuid(),
        }
    }
}

macro_rules! activity_columns {
    () => {
        "id, tenant_id, finding_id, at, channel, actor, kind, from_status, to_status, message, details"
    };
}

impl<'r> FromRow<'r, PgRow> for ActivityRecord {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(ActivityRecord {
            id: row::id(r, "id", ActivityId::from_uuid)?,
            tenant_id: row::id(r, "tenant_id", TenantId::from_uuid)?,
            finding_id: row::id(r, "finding_id", FindingId::from_uuid)?,
            at: r.try_get("at")?,
            channel: row::vocab(r, "channel")?,
            actor: r.try_get("actor")?,
            kind: row::vocab(r, "kind")?,
            from_status: row::opt_vocab(r, "from_status")?,
            to_status: row::opt_vocab(r, "to_status")?,
            message: r.try_get("message")?,
            details: row::json(r, "details")?,
        })
    }
}

area_handle!(
    /// The activity feed (`store.activity()` / `tx.activity()`).
    Activity
);

impl Activity<'_> {
    /// Appends one entry to the feed of a finding of `tenant` (`NotFound` for any other finding).
    ///
    /// `at` is the transaction's time, so an entry written with the change it describes carries the
    /// same timestamp as that change; entries of one transaction are ordered by their (v7) ids.
    pub async fn append(
        mut self,
        tenant: TenantId,
        entry: &NewActivity,
    ) -> StoreResult<ActivityRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, ActivityRecord>(concat!(
            "INSERT INTO activity (id, tenant_id, finding_id, channel, actor, kind, from_status, to_status,
                                   message, details)
             SELECT $3, f.tenant_id, f.id, $4, $5, $6, $7, $8, $9, $10
             FROM findings f WHERE f.tenant_id = $1 AND f.id = $2
             RETURNING ",
            activity_columns!()
        ))
        .bind(tenant.as_uuid())
        .bind(entry.finding_id.as_uuid())
        .bind(ActivityId::new().as_uuid())
        .bind(entry.channel.as_str())
        .bind(&entry.actor)
        .bind(entry.kind.as_str())
        .bind(entry.from_status.map(|s| s.as_str()))
        .bind(entry.to_status.map(|s| s.as_str()))
        .bind(&entry.message)
        .bind(Json(&entry.details))
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("finding", entry.finding_id))
    }

    /// The entry a consumer wrote for event `event_id` (it keeps the id in `details.event_id`), if
    /// any: how the sync-applier re-publishes the change of an event it already applied when a
    /// crash came between its commit and its publish. Scoped to one finding's feed, so it reads
    /// a handful of rows through the feed's index.
    pub async fn find_by_event(
        mut self,
        tenant: TenantId,
        finding: FindingId,
        event_id: &str,
    ) -> StoreResult<Option<ActivityRecord>> {
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, ActivityRecord>(concat!(
            "SELECT ",
            activity_columns!(),
            " FROM activity WHERE tenant_id = $1 AND finding_id = $2 AND details->>'event_id' = $3
             ORDER BY at DESC, id DESC LIMIT 1"
        ))
        .bind(tenant.as_uuid())
        .bind(finding.as_uuid())
        .bind(event_id)
        .fetch_optional(&mut *c)
        .await?)
    }

    /// One page of a finding's feed, newest first. Another tenant's finding has an empty feed.
    pub async fn list_for_finding(
        mut self,
        tenant: TenantId,
        finding: FindingId,
        page: PageRequest,
    ) -> StoreResult<Page<ActivityRecord>> {
        let limit = page.clamped_limit();
        let mut query = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            activity_columns!(),
            " FROM activity WHERE tenant_id = "
        ));
        query
            .push_bind(tenant.as_uuid())
            .push(" AND finding_id = ")
            .push_bind(finding.as_uuid());
        if let Some(after) = page.after {
            query
                .push(" AND (at, id) < (")
                .push_bind(after.at)
                .push(", ")
                .push_bind(after.id)
                .push(")");
        }
        query
            .push(" ORDER BY at DESC, id DESC LIMIT ")
            .push_bind(limit as i64 + 1);

        let mut c = self.conn.acquire().await?;
        let rows = query
            .build_query_as::<ActivityRecord>()
            .fetch_all(&mut *c)
            .await?;
        Ok(Page::from_overfetch(rows, limit, ActivityRecord::cursor))
    }
}
