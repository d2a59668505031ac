//! The change feed the poller runs: every Lockstep ticket (`correlation_id` starting with
//! `lockstep:`) updated since the watermark minus an overlap, as observations.
//!
//! `sys_updated_on` has whole-second precision and commits can become visible after their
//! timestamp, so the query uses `>=` on `watermark − overlap`: tickets updated in the same second
//! as the watermark, or committed late, are read again rather than missed. Re-reads are harmless
//! because an observation not newer than the stored vendor version changes nothing; within one run
//! duplicates (rows shifted between pages by concurrent updates) are dropped here by
//! `(sys_id, sys_mod_count)`.

use std::collections::HashSet;
use std::time::Duration;

use lockstep_domain::ServiceNowTable;
use time::OffsetDateTime;

use super::client::ServiceNowClient;
use super::list::ListQuery;
use super::record::{
    OBSERVED_FIELDS, SnRecord, format_sn_datetime, observation_from_record, parse_sn_datetime,
};
pub use crate::connector::FeedBatch;
use crate::error::Result;

/// The encoded query of the feed for one table.
pub fn feed_query(since: OffsetDateTime) -> String {
    format!(
        "sys_updated_on>={}^correlation_idSTARTSWITHlockstep:^ORDERBYsys_updated_on^ORDERBYsys_id",
        format_sn_datetime(since)
    )
}

/// Rows of one table read by a feed run.
struct TableRead {
    rows: Vec<SnRecord>,
    /// Set when the record cap ended the read: every row up to this second was read.
    cut_at: Option<OffsetDateTime>,
    pages: u32,
}

fn updated_at(r: &SnRecord) -> Option<OffsetDateTime> {
    r.value("sys_updated_on").and_then(parse_sn_datetime)
}

impl ServiceNowClient {
    /// Lockstep tickets in `tables` updated at or after `watermark − overlap`.
    ///
    /// The record cap ([`super::ServiceNowConfig::max_feed_records`]) only ends a read at a second
    /// boundary later than `watermark`: the rows are ordered by `sys_updated_on`, so every second
    /// before the last row's is complete, and a next run starting there (`>=`) misses nothing and
    /// always gets further, even when one second holds more tickets than the cap.
    pub async fn changes_since(
        &self,
        watermark: OffsetDateTime,
        overlap: Duration,
        tables: &[ServiceNowTable],
    ) -> Result<FeedBatch> {
        let since = watermark - overlap;
        let mut batch = FeedBatch {
            observations: Vec::new(),
            next_watermark: watermark,
            complete: true,
            skipped: 0,
            pages: 0,
        };
        let mut newest = watermark;
        let mut cut_at: Option<OffsetDateTime> = None;
        let mut seen = HashSet::new();
        for table in tables {
            let read = self.read_table(*table, since, watermark).await?;
            batch.pages += read.pages;
            let observed_at = OffsetDateTime::now_utc();
            for record in &read.rows {
                let obs = match observation_from_record(record, Some(*table), observed_at) {
                    Ok(obs) => obs,
                    Err(e) => {
                        tracing::warn!(table = table.as_str(), sys_id = record.value("sys_id").unwrap_or("?"), error = %e,
                            "skipping a ServiceNow record the feed cannot read");
                        batch.skipped += 1;
                        continue;
                    }
                };
                newest = newest.max(obs.version.updated_at());
                if seen.insert((obs.ticket.external_id().clone(), obs.version.sequence())) {
                    batch.observations.push(obs);
                }
            }
            if let Some(cut) = read.cut_at {
                batch.complete = false;
                cut_at = Some(cut_at.map_or(cut, |c: OffsetDateTime| c.min(cut)));
            }
        }
        batch.next_watermark = cut_at.unwrap_or(newest).max(watermark);
        Ok(batch)
    }

    async fn read_table(
        &self,
        table: ServiceNowTable,
        since: OffsetDateTime,
        watermark: OffsetDateTime,
    ) -> Result<TableRead> {
        let config = self.config();
        let query = ListQuery {
            op: "feed_page",
            table: table.as_str().to_owned(),
            query: feed_query(since),
            fields: Some(OBSERVED_FIELDS.join(",")),
            display_value: "all",
            page_size: config.page_size,
            max_rows: config.max_feed_records,
        };
        let mut read = TableRead {
            rows: Vec::new(),
            cut_at: None,
            pages: 0,
        };
        let mut offset = 0u64;
        loop {
            let page = self.fetch_page(&query, offset).await?;
            read.pages += 1;
            let more = page.more_after(offset, query.page_size);
            read.rows.extend(page.rows);
            offset += u64::from(query.page_size.max(1));
            if !more {
                return Ok(read);
            }
            if read.rows.len() < query.max_rows {
                continue;
            }
            // The latest complete second: the newest one before the last row's second.
            let last = read.rows.iter().rev().find_map(updated_at);
            let complete_second = last.and_then(|last| {
                read.rows
                    .iter()
                    .rev()
                    .filter_map(updated_at)
                    .find(|t| *t < last)
            });
            if let Some(cut) = complete_second.filter(|cut| *cut > watermark) {
                read.rows.retain(|r| updated_at(r).is_none_or(|t| t <= cut));
                read.cut_at = Some(cut);
                return Ok(read);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_query_uses_ge_utc_and_a_stable_order() {
        let q = feed_query(datetime!(2026-03-01 12:00:05 +01:00));
        assert_eq!(
            q,
            "sys_updated_on>=2026-03-01 11:00:05^correlation_idSTARTSWITHlockstep:^ORDERBYsys_updated_on^ORDERBYsys_id"
        );
    }
}
