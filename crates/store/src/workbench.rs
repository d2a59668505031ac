//! The Tickets workbench: every ITSM-linked finding of a tenant across its integrations, in one
//! filtered, keyset-paged list.
//!
//! A row is a live ticket link with its finding and integration. Pages are ordered newest link
//! first by `(link created_at, link id)`, which never change, so paging visits every row exactly
//! once even while links are synced, SLAs refreshed or findings moved. Every join is on
//! `(tenant_id, id)` and the tenant is the first condition: there is no filter that reaches
//! another tenant's rows.
//!
//! Severity, SLA breach and free text are filtered on the link row (its copies of the finding's
//! severity and searchable text, kept exact by triggers: migration
//! `20261205000150_workbench_filter_indexes.sql`), where indexes walk them in page order or find
//! the text's rows, so a filtered page costs its page and its matching rows, not the tenant's total
//! (docs/architecture.md, "Tickets page cost").

use lockstep_domain::{
    ExternalId, FindingId, FindingStatus, IntegrationId, Severity, SyncChannel, TenantId,
    TicketKey, TicketLinkId, TicketTarget, Vendor,
};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::conn::area_handle;
use crate::error::StoreResult;
use crate::page::{Cursor, Page, PageRequest};
use crate::row;

/// Longest free-text search accepted; longer input is cut (it could only match nothing anyway).
pub const MAX_SEARCH_CHARS: usize = 200;

/// Which rows to list. Empty lists and `None` do not filter; filters combine with AND, values
/// inside one list with OR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkbenchFilter {
    pub integrations: Vec<IntegrationId>,
    pub severities: Vec<Severity>,
    pub statuses: Vec<FindingStatus>,
    /// Raw vendor state codes as stored on the link (ServiceNow `6`, a Jira status id, ...).
    pub vendor_states: Vec<String>,
    /// Case-insensitive substring of the finding title, scanner key, asset or CVE, or of the
    /// ticket key or external id.
    pub text: Option<String>,
    pub sla_breached: Option<bool>,
    /// Only tickets of these vendors.
    pub vendors: Vec<Vendor>,
    /// `Some(true)`: only tickets whose integration's last poll failed; `Some(false)`: only the
    /// others.
    pub sync_error: Option<bool>,
}

/// One linked ticket and its finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkbenchRow {
    pub link_id: TicketLinkId,
    pub finding_id: FindingId,
    pub finding_title: String,
    pub scanner_key: String,
    pub asset: Option<String>,
    pub severity: Severity,
    pub finding_status: FindingStatus,
    pub integration_id: IntegrationId,
    pub integration_name: String,
    pub target: TicketTarget,
    pub external_id: ExternalId,
    pub ticket_key: TicketKey,
    /// The vendor's web page of the ticket: the URL stored at creation, else one built from the
    /// integration's base URL.
    /// The ticket's URL as stored at creation (the connector's deep link), when there is one.
    pub url: Option<String>,
    /// The integration's base URL, from which the connector's spec builds the deep link of a
    /// link without a stored URL.
    pub base_url: String,
    pub vendor_state: Option<String>,
    pub sla_due_at: Option<OffsetDateTime>,
    pub sla_breached: bool,
    pub last_synced_at: Option<OffsetDateTime>,
    pub last_sync_channel: Option<SyncChannel>,
    pub linked_at: OffsetDateTime,
    /// The integration's last poll error, when its last poll failed.
    pub sync_error: Option<String>,
}

impl WorkbenchRow {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            at: self.linked_at,
            id: self.link_id.as_uuid(),
        }
    }

    pub fn vendor(&self) -> Vendor {
        self.target.vendor()
    }
}

impl<'r> FromRow<'r, PgRow> for WorkbenchRow {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        let vendor: Vendor = row::vocab(r, "vendor")?;
        let target = row::parsed(r, "table_or_project", |t| TicketTarget::parse(vendor, t))?;
        let external_id: ExternalId = row::parsed(r, "external_id", ExternalId::parse)?;
        let ticket_key = row::parsed(r, "ticket_key", |t| TicketKey::parse(vendor, t))?;
        let url: Option<String> = r.try_get("url")?;
        let url = url.filter(|u| !u.trim().is_empty());
        let base_url: String = r.try_get("base_url")?;
        Ok(WorkbenchRow {
            link_id: row::id(r, "link_id", TicketLinkId::from_uuid)?,
            finding_id: row::id(r, "finding_id", FindingId::from_uuid)?,
            finding_title: r.try_get("title")?,
            scanner_key: r.try_get("scanner_key")?,
            asset: r.try_get("asset")?,
            severity: row::vocab(r, "severity")?,
            finding_status: row::vocab(r, "status")?,
            integration_id: row::id(r, "integration_id", IntegrationId::from_uuid)?,
            integration_name: r.try_get("integration_name")?,
            target,
            external_id,
            ticket_key,
            url,
            base_url,
            vendor_state: r.try_get("vendor_state")?,
            sla_due_at: r.try_get("sla_due_at")?,
            sla_breached: r.try_get("sla_breached")?,
            last_synced_at: r.try_get("last_synced_at")?,
            last_sync_channel: row::opt_vocab(r, "last_sync_channel")?,
            linked_at: r.try_get("linked_at")?,
            sync_error: r.try_get("sync_error")?,
        })
    }
}

/// What joins the searchable columns in `ticket_links.search` (U+001F, unit separator).
const SEARCH_SEPARATOR: char = '\u{1f}';

/// `text` as an ILIKE pattern matching it anywhere, with `%`, `_` and `\` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for ch in text.chars().take(MAX_SEARCH_CHARS) {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

area_handle!(
    /// The Tickets workbench (`store.workbench()`).
    Workbench
);

impl Workbench<'_> {
    /// One page of the tenant's live ticket links matching `filter`, newest first.
    pub async fn list(
        mut self,
        tenant: TenantId,
        filter: &WorkbenchFilter,
        page: PageRequest,
    ) -> StoreResult<Page<WorkbenchRow>> {
        let limit = page.clamped_limit();
        let mut q = page_query("", tenant, filter, page);
        let mut c = self.conn.acquire().await?;
        let rows = q
            .build_query_as::<WorkbenchRow>()
            .fetch_all(&mut *c)
            .await?;
        Ok(Page::from_overfetch(rows, limit, WorkbenchRow::cursor))
    }

    /// PostgreSQL's plan of [`Workbench::list`]'s query, executed (`EXPLAIN (ANALYZE, BUFFERS)`),
    /// one line a row: the benchmark checks that a page reads about its own rows, not the tenant's.
    pub async fn explain(
        mut self,
        tenant: TenantId,
        filter: &WorkbenchFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<String>> {
        let mut q = page_query("EXPLAIN (ANALYZE, BUFFERS) ", tenant, filter, page);
        let mut c = self.conn.acquire().await?;
        let rows = q.build().fetch_all(&mut *c).await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .collect())
    }
}

/// The page query of [`Workbench::list`], after `prefix` (empty, or `EXPLAIN ...`).
fn page_query<'a>(
    prefix: &str,
    tenant: TenantId,
    filter: &'a WorkbenchFilter,
    page: PageRequest,
) -> QueryBuilder<'a, Postgres> {
    let limit = page.clamped_limit();
    let mut q = QueryBuilder::<Postgres>::new(prefix);
    q.push(
            "SELECT l.id AS link_id, l.finding_id, l.integration_id, l.vendor, l.table_or_project,
                    l.external_id, l.ticket_key, l.url, l.vendor_state, l.sla_due_at, l.sla_breached,
                    l.last_synced_at, l.last_sync_channel, l.created_at AS linked_at,
                    f.title, f.scanner_key, f.asset, f.severity, f.status,
                    i.name AS integration_name, i.base_url, p.last_error AS sync_error
               FROM ticket_links l
               JOIN findings f ON f.tenant_id = l.tenant_id AND f.id = l.finding_id
               JOIN integrations i ON i.tenant_id = l.tenant_id AND i.id = l.integration_id
               LEFT JOIN poll_state p ON p.tenant_id = l.tenant_id AND p.integration_id = l.integration_id
              WHERE l.tenant_id = ",
        );
    q.push_bind(tenant.as_uuid());
    q.push(" AND f.tenant_id = ")
        .push_bind(tenant.as_uuid())
        .push(" AND l.state = 'live' AND i.deleted_at IS NULL");
    if !filter.integrations.is_empty() {
        let ids: Vec<Uuid> = filter.integrations.iter().map(|i| i.as_uuid()).collect();
        q.push(" AND l.integration_id = ANY(")
            .push_bind(ids)
            .push(")");
    }
    if !filter.severities.is_empty() {
        // The link's copy of the finding's severity. One severity is an equality, so the severity
        // indexes yield rows in page order and the scan stops at the page's end; `= ANY` of
        // several sorts the rows they match.
        if let [one] = filter.severities.as_slice() {
            q.push(" AND l.severity = ").push_bind(one.as_str());
        } else {
            let v: Vec<&str> = filter.severities.iter().map(|s| s.as_str()).collect();
            q.push(" AND l.severity = ANY(").push_bind(v).push(")");
        }
    }
    if !filter.statuses.is_empty() {
        let v: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        q.push(" AND f.status = ANY(").push_bind(v).push(")");
    }
    if !filter.vendor_states.is_empty() {
        q.push(" AND l.vendor_state = ANY(")
            .push_bind(filter.vendor_states.clone())
            .push(")");
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        push_text_filter(&mut q, text);
    }
    if !filter.vendors.is_empty() {
        let v: Vec<&str> = filter.vendors.iter().map(|v| v.as_str()).collect();
        q.push(" AND l.vendor = ANY(").push_bind(v).push(")");
    }
    match filter.sync_error {
        Some(true) => q.push(" AND p.last_error IS NOT NULL"),
        Some(false) => q.push(" AND p.last_error IS NULL"),
        None => &mut q,
    };
    // A literal, not a bind parameter: the planner can use the `WHERE sla_breached` partial
    // indexes only when the condition proves their predicate, which a parameter does not in a
    // generic (cached) plan.
    match filter.sla_breached {
        Some(true) => q.push(" AND l.sla_breached"),
        Some(false) => q.push(" AND NOT l.sla_breached"),
        None => &mut q,
    };
    if let Some(after) = page.after {
        q.push(" AND (l.created_at, l.id) < (")
            .push_bind(after.at)
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
    q.push(" ORDER BY l.created_at DESC, l.id DESC LIMIT ")
        .push_bind(limit as i64 + 1);
    q
}

/// The free-text condition. The link's `search` column joins the six searchable columns with
/// [`SEARCH_SEPARATOR`] (migration `20261205000150_workbench_filter_indexes.sql`); a pattern
/// without that character matches the joined text exactly when it matches one column, and the
/// trigram index answers it. A text containing the separator is matched column by column.
fn push_text_filter(q: &mut QueryBuilder<'_, Postgres>, text: &str) {
    let pattern = contains_pattern(text);
    if !pattern.contains(SEARCH_SEPARATOR) {
        q.push(" AND l.search ILIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\'");
        return;
    }
    q.push(" AND (");
    for (n, column) in [
        "f.title",
        "f.scanner_key",
        "f.asset",
        "f.cve",
        "l.ticket_key",
        "l.external_id",
    ]
    .into_iter()
    .enumerate()
    {
        if n > 0 {
            q.push(" OR ");
        }
        q.push(column)
            .push(" ILIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\'");
    }
    q.push(")");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_literal() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(
            contains_pattern(&"x".repeat(500)).len(),
            MAX_SEARCH_CHARS + 2
        );
    }
}
