//! The change feed the poller runs (reference A5): every Lockstep issue (label `lockstep`) in the
//! linked projects updated since the watermark minus an overlap, read with
//! `POST /rest/api/3/search/jql` page by page (`nextPageToken` until `isLast`; there is no total).
//!
//! The watermark pitfall of Jira is the time zone: a JQL date literal is read in the *searching
//! user's* profile zone at minute granularity, which makes UTC literals skip issues for users west
//! of UTC and re-read them east of it. The feed therefore sends the watermark as unquoted epoch
//! milliseconds, which carry no zone, and floors them to the minute, so it stays correct whether
//! Jira compares epoch values to the millisecond or only to the minute (UNCONFIRMED, reference
//! A5 (b)). Re-reads from the overlap are harmless: an observation not newer than the stored
//! vendor version changes nothing, and within one run duplicates are dropped on
//! `(issue id, updated)`.

use std::collections::HashSet;
use std::time::Duration;

use lockstep_domain::TicketTarget;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::client::{JCall, JiraClient};
use super::create::project_of;
use super::issue::{LOCKSTEP_LABEL, OBSERVED_FIELDS, observation_from_issue};
use crate::connector::FeedBatch;
use crate::error::Result;

/// One `search/jql` page.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    pub issues: Vec<Value>,
    pub next_page_token: Option<String>,
}

/// `since` as JQL: epoch milliseconds floored to the minute.
pub fn jql_instant(since: OffsetDateTime) -> String {
    let ms = since.unix_timestamp_nanos() / 1_000_000;
    (ms - ms.rem_euclid(60_000)).to_string()
}

/// The feed's JQL: bounded by project and label, oldest first, ties by id.
pub fn feed_jql(projects: &[&str], since: OffsetDateTime) -> String {
    let list: Vec<String> = projects.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        "project in ({}) AND labels = \"{LOCKSTEP_LABEL}\" AND updated >= {} ORDER BY updated ASC, id ASC",
        list.join(", "),
        jql_instant(since)
    )
}

fn updated_at(obs: &lockstep_domain::TicketObservation) -> OffsetDateTime {
    obs.version.updated_at()
}

impl JiraClient {
    /// One page of `jql` with the observed fields. `reconcile` (≤ 50 issue ids) asks Jira to
    /// include those issues' latest writes (read-after-write, reference A5).
    pub async fn search(
        &self,
        jql: &str,
        max_results: u32,
        next_page_token: Option<&str>,
        reconcile: &[u64],
    ) -> Result<SearchPage> {
        let mut body = json!({"jql": jql, "fields": OBSERVED_FIELDS, "maxResults": max_results});
        if let Some(token) = next_page_token {
            body["nextPageToken"] = json!(token);
        }
        if !reconcile.is_empty() {
            body["reconcileIssues"] = json!(reconcile);
        }
        let resp = self
            .call(&JCall::post("search_jql", "search/jql", body).idempotent(true))
            .await?;
        let issues = resp
            .body
            .get("issues")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let last = resp
            .body
            .get("isLast")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let next_page_token = resp
            .body
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|_| !last)
            .map(str::to_owned);
        Ok(SearchPage {
            issues,
            next_page_token,
        })
    }

    /// Lockstep issues in `targets` updated at or after `watermark − overlap`.
    ///
    /// The record cap ([`super::JiraConfig::max_feed_records`]) ends a read only at an update
    /// time later than `watermark` whose issues were all read (rows are ordered by `updated`), so
    /// a next run starting there misses nothing and always gets further.
    pub async fn changes_since(
        &self,
        watermark: OffsetDateTime,
        overlap: Duration,
        targets: &[TicketTarget],
    ) -> Result<FeedBatch> {
        let projects = targets.iter().map(project_of).collect::<Result<Vec<_>>>()?;
        let mut batch = FeedBatch {
            observations: Vec::new(),
            next_watermark: watermark,
            complete: true,
            skipped: 0,
            pages: 0,
        };
        if projects.is_empty() {
            return Ok(batch);
        }
        let jql = feed_jql(&projects, watermark - overlap);
        let cap = self.config().max_feed_records.max(1);
        let mut seen = HashSet::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .search(&jql, self.config().page_size, token.as_deref(), &[])
                .await?;
            batch.pages += 1;
            let observed_at = OffsetDateTime::now_utc();
            for issue in &page.issues {
                match observation_from_issue(issue, None, None, observed_at) {
                    Ok(obs) => {
                        if seen.insert((obs.ticket.external_id().clone(), updated_at(&obs))) {
                            batch.observations.push(obs);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "skipping a Jira issue the feed cannot read");
                        batch.skipped += 1;
                    }
                }
            }
            token = page.next_page_token;
            if token.is_none() {
                break;
            }
            if batch.observations.len() >= cap && cut_at_complete_instant(&mut batch, watermark) {
                return Ok(batch);
            }
        }
        let newest = batch.observations.iter().map(updated_at).max();
        batch.next_watermark = newest.unwrap_or(watermark).max(watermark);
        Ok(batch)
    }
}

/// Keeps only the observations up to the newest update time before the last one read (that
/// instant was read completely) and moves the watermark there; false when that instant is not
/// after `watermark` (then the read goes on, so it always gets further).
fn cut_at_complete_instant(batch: &mut FeedBatch, watermark: OffsetDateTime) -> bool {
    let Some(last) = batch.observations.iter().map(updated_at).max() else {
        return false;
    };
    let complete = batch
        .observations
        .iter()
        .map(updated_at)
        .filter(|t| *t < last)
        .max();
    match complete.filter(|c| *c > watermark) {
        Some(cut) => {
            batch.observations.retain(|o| updated_at(o) <= cut);
            batch.next_watermark = cut;
            batch.complete = false;
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_watermark_is_zone_free_epoch_ms_floored_to_the_minute() {
        // 12:00:59.999 in UTC−5 is 17:00:59.999 UTC; floored to 17:00:00.
        let since = datetime!(2026-03-01 12:00:59.999 -05:00);
        assert_eq!(jql_instant(since), "1772384400000");
        assert_eq!(
            jql_instant(datetime!(2026-03-01 22:30:00 +05:30)),
            jql_instant(datetime!(2026-03-01 17:00:00 UTC))
        );
        assert_eq!(
            feed_jql(&["SEC", "OPS"], since),
            "project in (\"SEC\", \"OPS\") AND labels = \"lockstep\" AND updated >= 1772384400000 \
             ORDER BY updated ASC, id ASC"
        );
    }
}
