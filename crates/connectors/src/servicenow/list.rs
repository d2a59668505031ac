//! Offset paging over a Table API list, the way the reference says it must be done: a stable
//! order supplied by the caller (`…^ORDERBYsys_id`), and stop on `offset >= X-Total-Count`, never
//! on a short page, because `sysparm_limit` is applied before ACLs and pages can come back short
//! or even empty while more rows exist.

use http::Method;

use super::client::{ServiceNowClient, SnCall};
use super::record::SnRecord;
use crate::error::Result;

/// A list query: table, encoded query (ending in ORDERBY terms) and fields.
#[derive(Debug, Clone)]
pub(crate) struct ListQuery {
    pub op: &'static str,
    pub table: String,
    pub query: String,
    pub fields: Option<String>,
    pub display_value: &'static str,
    pub page_size: u32,
    /// Stop after this many rows (the rest are left for the next run).
    pub max_rows: usize,
}

/// What a paged read produced.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListOutcome {
    pub rows: Vec<SnRecord>,
    /// The last `X-Total-Count` seen.
    pub total: Option<u64>,
    /// False when `max_rows` cut the read short.
    pub complete: bool,
    pub pages: u32,
}

/// One page: its rows and the `X-Total-Count` it carried.
#[derive(Debug, Clone, Default)]
pub(crate) struct Page {
    pub rows: Vec<SnRecord>,
    pub total: Option<u64>,
}

impl Page {
    /// Whether another page follows the one at `offset`: by the count when there is one;
    /// without a count (an instance that never sends it) only an empty page ends the list.
    pub fn more_after(&self, offset: u64, page_size: u32) -> bool {
        let next = offset + u64::from(page_size.max(1));
        match self.total {
            Some(total) => next < total,
            None => !self.rows.is_empty(),
        }
    }
}

impl ServiceNowClient {
    pub(crate) async fn fetch_page(&self, q: &ListQuery, offset: u64) -> Result<Page> {
        let mut call = SnCall::new(q.op, Method::GET, format!("api/now/table/{}", q.table))
            .query("sysparm_query", q.query.clone())
            .query("sysparm_display_value", q.display_value)
            .query("sysparm_exclude_reference_link", "true")
            .query("sysparm_suppress_pagination_header", "true")
            .query("sysparm_limit", q.page_size.max(1).to_string())
            .query("sysparm_offset", offset.to_string());
        if let Some(fields) = &q.fields {
            call = call.query("sysparm_fields", fields.clone());
        }
        let resp = self.call(&call).await?;
        let rows = resp
            .result_list()?
            .iter()
            .map(SnRecord::from_json)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            rows,
            total: resp.total_count(),
        })
    }

    pub(crate) async fn list_all(&self, q: &ListQuery) -> Result<ListOutcome> {
        let mut out = ListOutcome::default();
        let mut offset: u64 = 0;
        loop {
            let page = self.fetch_page(q, offset).await?;
            out.pages += 1;
            let more = page.more_after(offset, q.page_size);
            if page.total.is_some() {
                out.total = page.total;
            }
            out.rows.extend(page.rows);
            offset += u64::from(q.page_size.max(1));
            if !more {
                out.complete = true;
                return Ok(out);
            }
            if out.rows.len() >= q.max_rows {
                return Ok(out);
            }
        }
    }
}

/// `a,b,c` for an `IN` term; commas inside values cannot be expressed and are dropped.
pub(crate) fn in_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values
        .into_iter()
        .map(|v| v.replace([',', '^'], ""))
        .collect::<Vec<_>>()
        .join(",")
}
