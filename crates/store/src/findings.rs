//! Findings: scanner import, reads, and status changes (in `findings/status.rs`).

use std::collections::HashMap;

use lockstep_domain::transition::LocalStatus;
use lockstep_domain::{
    Cve, Cwe, Finding, FindingId, FindingStatus, ScannerKey, Severity, TenantId,
};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::conn::area_handle;
use crate::error::{StoreError, StoreResult};
use crate::page::{Cursor, Page, PageRequest};
use crate::row;

mod status;

/// A finding as stored: the domain's [`Finding`] plus what only the store tracks (the local status,
/// scanner sighting times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRecord {
    pub id: FindingId,
    pub tenant_id: TenantId,
    pub scanner_key: ScannerKey,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    /// The current status, whoever set it.
    pub status: FindingStatus,
    /// The status Lockstep's own side last set, and when: the input of
    /// `lockstep_domain::transition::apply` next to the current status.
    pub local: LocalStatus,
    pub asset: Option<String>,
    pub cve: Option<Cve>,
    pub cwe: Option<Cwe>,
    pub scanner: String,
    pub first_seen_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl FindingRecord {
    /// The pagination key of this row.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            at: self.created_at,
            id: self.id.as_uuid(),
        }
    }

    /// The finding as the rest of Lockstep sees it.
    pub fn to_finding(&self) -> Finding {
        Finding {
            id: self.id,
            tenant_id: self.tenant_id,
            scanner_key: self.scanner_key.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            severity: self.severity,
            status: self.status,
            asset: self.asset.clone(),
            cve: self.cve.clone(),
            cwe: self.cwe,
            scanner: self.scanner.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl From<FindingRecord> for Finding {
    fn from(record: FindingRecord) -> Finding {
        record.to_finding()
    }
}

macro_rules! finding_columns {
    () => {
        "id, tenant_id, scanner_key, title, description, severity, status, local_status, local_status_at, \
         asset, cve, cwe, scanner, first_seen_at, last_seen_at, created_at, updated_at"
    };
}

impl<'r> FromRow<'r, PgRow> for FindingRecord {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(FindingRecord {
            id: row::id(r, "id", FindingId::from_uuid)?,
            tenant_id: row::id(r, "tenant_id", TenantId::from_uuid)?,
            scanner_key: row::parsed(r, "scanner_key", ScannerKey::parse)?,
            title: r.try_get("title")?,
            description: r.try_get("description")?,
            severity: row::vocab(r, "severity")?,
            status: row::vocab(r, "status")?,
            local: LocalStatus {
                status: row::vocab(r, "local_status")?,
                set_at: r.try_get("local_status_at")?,
            },
            asset: r.try_get("asset")?,
            cve: row::opt_parsed(r, "cve", Cve::parse)?,
            cwe: row::opt_parsed(r, "cwe", Cwe::parse)?,
            scanner: r.try_get("scanner")?,
            first_seen_at: r.try_get("first_seen_at")?,
            last_seen_at: r.try_get("last_seen_at")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}

/// One finding as a scanner reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFinding {
    /// The scanner's stable identity of the finding; re-imports with the same key update the row.
    pub scanner_key: ScannerKey,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub asset: Option<String>,
    pub cve: Option<Cve>,
    pub cwe: Option<Cwe>,
    pub scanner: String,
    /// When the scanner saw it (moves `last_seen_at` forward, `first_seen_at` back).
    pub seen_at: OffsetDateTime,
}

/// What an import did, row by row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub created: usize,
    pub updated: usize,
    /// One entry per distinct scanner key of the input, in no particular order.
    pub rows: Vec<ImportedFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFinding {
    pub id: FindingId,
    pub scanner_key: ScannerKey,
    /// `true` if the import created the finding, `false` if it updated an existing one.
    pub created: bool,
}

/// Optional narrowing of a finding list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FindingFilter {
    pub status: Option<FindingStatus>,
    pub severity: Option<Severity>,
}

/// The result of a status change: the status before it, and the finding after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub previous: FindingStatus,
    pub finding: FindingRecord,
}

impl StatusChange {
    /// Whether the status actually moved (setting the current status again is a no-op).
    pub fn changed(&self) -> bool {
        self.previous != self.finding.status
    }
}

impl<'r> FromRow<'r, PgRow> for StatusChange {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(StatusChange {
            previous: row::vocab(r, "previous_status")?,
            finding: FindingRecord::from_row(r)?,
        })
    }
}

area_handle!(
    /// Findings (`store.findings()` / `tx.findings()`).
    Findings
);

impl Findings<'_> {
    /// Upserts findings by `(tenant, scanner_key)` in one statement.
    ///
    /// A re-import refreshes what the scanner owns (title, description, severity, asset, CVE, CWE,
    /// scanner, seen times) and NEVER touches `status`: a finding an analyst closed, or whose ticket
    /// is in progress, keeps that status however often the scanner reports it again. Within one
    /// call, a scanner key given twice counts once and its last occurrence wins.
    pub async fn import(
        mut self,
        tenant: TenantId,
        findings: &[NewFinding],
    ) -> StoreResult<ImportOutcome> {
        let mut last_by_key: HashMap<&str, &NewFinding> = HashMap::with_capacity(findings.len());
        for finding in findings {
            last_by_key.insert(finding.scanner_key.as_str(), finding);
        }
        if last_by_key.is_empty() {
            return Ok(ImportOutcome::default());
        }
        let rows: Vec<&NewFinding> = last_by_key.into_values().collect();
        let ids: Vec<Uuid> = rows.iter().map(|_| FindingId::new().as_uuid()).collect();
        let column = |f: fn(&NewFinding) -> String| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
        let optional =
            |f: fn(&NewFinding) -> Option<String>| rows.iter().map(|r| f(r)).collect::<Vec<_>>();

        let mut c = self.conn.acquire().await?;
        let returned = sqlx::query(
            "INSERT INTO findings (id, tenant_id, scanner_key, title, description, severity, asset, cve, cwe,
                                   scanner, first_seen_at, last_seen_at)
             SELECT u.id, $1, u.scanner_key, u.title, u.description, u.severity, u.asset, u.cve, u.cwe,
                    u.scanner, u.seen_at, u.seen_at
             FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                         $9::text[], $10::text[], $11::timestamptz[])
                  AS u(id, scanner_key, title, description, severity, asset, cve, cwe, scanner, seen_at)
             ON CONFLICT (tenant_id, scanner_key) DO UPDATE SET
                 title = EXCLUDED.title,
                 description = EXCLUDED.description,
                 severity = EXCLUDED.severity,
                 asset = EXCLUDED.asset,
                 cve = EXCLUDED.cve,
                 cwe = EXCLUDED.cwe,
                 scanner = EXCLUDED.scanner,
                 first_seen_at = LEAST(findings.first_seen_at, EXCLUDED.first_seen_at),
                 last_seen_at = GREATEST(findings.last_seen_at, EXCLUDED.last_seen_at),
                 updated_at = now()
             RETURNING id, scanner_key, (xmax = 0) AS created",
        )
        .bind(tenant.as_uuid())
        .bind(&ids)
        .bind(column(|f| f.scanner_key.as_str().to_owned()))
        .bind(column(|f| f.title.trim().to_owned()))
        .bind(column(|f| f.description.clone()))
        .bind(column(|f| f.severity.as_str().to_owned()))
        .bind(optional(|f| f.asset.clone()))
        .bind(optional(|f| f.cve.as_ref().map(|c| c.as_str().to_owned())))
        .bind(optional(|f| f.cwe.as_ref().map(ToString::to_string)))
        .bind(column(|f| f.scanner.clone()))
        .bind(rows.iter().map(|r| r.seen_at).collect::<Vec<_>>())
        .fetch_all(&mut *c)
        .await?;

        let mut outcome = ImportOutcome {
            rows: Vec::with_capacity(returned.len()),
            ..Default::default()
        };
        for r in &returned {
            // `xmax = 0` holds exactly for a row version this statement inserted: the usual
            // PostgreSQL idiom to tell the two arms of an upsert apart.
            let created: bool = r.try_get("created")?;
            if created {
                outcome.created += 1;
            } else {
                outcome.updated += 1;
            }
            outcome.rows.push(ImportedFinding {
                id: row::id(r, "id", FindingId::from_uuid)?,
                scanner_key: row::parsed(r, "scanner_key", ScannerKey::parse)?,
                created,
            });
        }
        Ok(outcome)
    }

    pub async fn get(mut self, tenant: TenantId, id: FindingId) -> StoreResult<FindingRecord> {
        let mut c = self.conn.acquire().await?;
        sqlx::query_as::<_, FindingRecord>(concat!(
            "SELECT ",
            finding_columns!(),
            " FROM findings WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::not_found("finding", id))
    }

    /// The tenant's findings among `ids`. Ids that do not exist, or belong to another tenant, are
    /// simply absent from the result; order is unspecified.
    pub async fn by_ids(
        mut self,
        tenant: TenantId,
        ids: &[FindingId],
    ) -> StoreResult<Vec<FindingRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = ids.iter().map(FindingId::as_uuid).collect();
        let mut c = self.conn.acquire().await?;
        Ok(sqlx::query_as::<_, FindingRecord>(concat!(
            "SELECT ",
            finding_columns!(),
            " FROM findings WHERE tenant_id = $1 AND id = ANY($2)"
        ))
        .bind(tenant.as_uuid())
        .bind(&ids)
        .fetch_all(&mut *c)
        .await?)
    }

    /// One page of the tenant's findings, newest first (see [`PageRequest`] and [`Cursor`]).
    pub async fn list(
        mut self,
        tenant: TenantId,
        filter: FindingFilter,
        page: PageRequest,
    ) -> StoreResult<Page<FindingRecord>> {
        let limit = page.clamped_limit();
        let mut query = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            finding_columns!(),
            " FROM findings WHERE tenant_id = "
        ));
        query.push_bind(tenant.as_uuid());
        if let Some(status) = filter.status {
            query.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(severity) = filter.severity {
            query.push(" AND severity = ").push_bind(severity.as_str());
        }
        if let Some(after) = page.after {
            query
                .push(" AND (created_at, id) < (")
                .push_bind(after.at)
                .push(", ")
                .push_bind(after.id)
                .push(")");
        }
        query
            .push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(limit as i64 + 1);

        let mut c = self.conn.acquire().await?;
        let rows = query
            .build_query_as::<FindingRecord>()
            .fetch_all(&mut *c)
            .await?;
        Ok(Page::from_overfetch(rows, limit, FindingRecord::cursor))
    }
}
