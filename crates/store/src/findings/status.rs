//! Status changes: by Lockstep's own side (which moves the local status) or by the vendor.

use lockstep_domain::{FindingId, FindingStatus, TenantId};

use super::{Findings, StatusChange};
use crate::error::{StoreError, StoreResult};

impl Findings<'_> {
    /// Lockstep's own side sets the status (an analyst, the API, a rescan rule): it becomes the
    /// local status too, set now. Optionally only if the current status is `expected`
    /// (compare-and-set): a mismatch is `Conflict`, naming both statuses.
    pub async fn set_status(
        self,
        tenant: TenantId,
        id: FindingId,
        to: FindingStatus,
        expected: Option<FindingStatus>,
    ) -> StoreResult<StatusChange> {
        self.change_status(tenant, id, to, expected, true).await
    }

    /// The vendor moved the finding (a transition of `lockstep_domain::transition::apply`): only
    /// the current status changes, the local status stays. Pass the status the transition was
    /// computed from as `expected`, so a concurrent change makes this a `Conflict` (re-read and
    /// re-apply) rather than a lost update. Setting the current status again is a no-op that keeps
    /// `updated_at`.
    pub async fn set_status_from_vendor(
        self,
        tenant: TenantId,
        id: FindingId,
        to: FindingStatus,
        expected: Option<FindingStatus>,
    ) -> StoreResult<StatusChange> {
        self.change_status(tenant, id, to, expected, false).await
    }

    /// The check and the write are one statement on a locked row, so two concurrent changes with
    /// the same expectation cannot both succeed.
    async fn change_status(
        mut self,
        tenant: TenantId,
        id: FindingId,
        to: FindingStatus,
        expected: Option<FindingStatus>,
        local: bool,
    ) -> StoreResult<StatusChange> {
        let mut c = self.conn.acquire().await?;
        let change = sqlx::query_as::<_, StatusChange>(concat!(
            "UPDATE findings f
                SET status = $3,
                    local_status = CASE WHEN $5 THEN $3 ELSE f.local_status END,
                    local_status_at = CASE WHEN $5 THEN now() ELSE f.local_status_at END,
                    updated_at = CASE WHEN old.previous_status = $3 AND NOT $5 THEN f.updated_at ELSE now() END
             FROM (SELECT id, status AS previous_status FROM findings
                   WHERE tenant_id = $1 AND id = $2 FOR UPDATE) old
             WHERE f.id = old.id AND ($4::text IS NULL OR old.previous_status = $4)
             RETURNING old.previous_status, ",
            "f.id, f.tenant_id, f.scanner_key, f.title, f.description, f.severity, f.status, f.local_status, \
             f.local_status_at, f.asset, f.cve, f.cwe, f.scanner, f.first_seen_at, f.last_seen_at, f.created_at, \
             f.updated_at"
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(to.as_str())
        .bind(expected.map(|s| s.as_str()))
        .bind(local)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(change) = change {
            return Ok(change);
        }

        // Nothing updated: tell "no such finding" apart from "the expectation did not hold".
        let current: Option<String> =
            sqlx::query_scalar("SELECT status FROM findings WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *c)
                .await?;
        match (current, expected) {
            (None, _) => Err(StoreError::not_found("finding", id)),
            (Some(current), Some(expected)) => Err(StoreError::conflict(format!(
                "finding {id} is {current}, not {expected}; its status was not changed"
            ))),
            (Some(_), None) => Err(StoreError::conflict(format!(
                "finding {id} changed concurrently; try again"
            ))),
        }
    }
}
