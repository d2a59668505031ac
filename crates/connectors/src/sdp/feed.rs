//! The change feed (reference B4's poller recipe): requests whose `last_updated_time` is after
//! the watermark minus the overlap, sorted by `last_updated_time` ascending, paged with
//! `start_index` while `has_more_rows`, deduplicated on (id, `last_updated_time`). Times are epoch
//! milliseconds, so no time zone is involved.
//!
//! The feed does not filter on Lockstep's correlation marker: the applier ignores requests
//! without a live link, and a description search on every poll would rest on the UNCONFIRMED
//! `description contains` of real builds. Filtering on `last_updated_time` is itself UNCONFIRMED
//! in a vendor example (the field is sortable, reference B4).

use std::collections::HashSet;
use std::time::Duration;

use http::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::client::{SdpCall, SdpClient};
use super::record::{id_of, millis_of, observation_from_request};
use crate::connector::FeedBatch;
use crate::error::Result;

fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

impl SdpClient {
    /// Requests updated at or after `watermark − overlap`.
    pub async fn changes_since(
        &self,
        watermark: OffsetDateTime,
        overlap: Duration,
    ) -> Result<FeedBatch> {
        let since = millis(watermark - overlap);
        let page_size = self.config().page_size.clamp(1, 100);
        let cap = self.config().max_feed_records.max(1);
        let now = OffsetDateTime::now_utc();
        let mut seen = HashSet::new();
        let mut observations = Vec::new();
        let (mut pages, mut skipped, mut read) = (0u32, 0usize, 0usize);
        let mut start = 1u64;
        let mut newest = millis(watermark);
        let complete = loop {
            let call =
                SdpCall::new("feed_page", Method::GET, "requests").input(json!({"list_info": {
                "row_count": page_size, "start_index": start,
                "sort_field": "last_updated_time", "sort_order": "asc",
                // "greater than" since − 1 ms: at or after the watermark minus the overlap.
                "search_criteria": [{"field": "last_updated_time", "condition": "greater than",
                                     "value": (since - 1).to_string()}]}}));
            let body = self.call(&call).await?;
            pages += 1;
            let rows = body
                .get("requests")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for row in &rows {
                read += 1;
                let key = (
                    id_of(row.get("id")),
                    millis_of(row.get("last_updated_time")),
                );
                if !seen.insert(key.clone()) {
                    continue;
                }
                match observation_from_request(row, now) {
                    Ok(obs) => {
                        newest = newest.max(key.1.unwrap_or(newest));
                        observations.push(obs);
                    }
                    Err(e) => {
                        skipped += 1;
                        tracing::warn!(error = %e, "skipping a ServiceDesk Plus request the feed cannot read");
                    }
                }
            }
            let more = body
                .pointer("/list_info/has_more_rows")
                .is_some_and(|v| v == true || v == "true");
            if !more || rows.is_empty() {
                break true;
            }
            if read >= cap {
                break false;
            }
            start += rows.len() as u64;
        };
        observations.sort_by_key(|o| o.version);
        // Cut short: rows of the newest millisecond may be unread, so stop just before it.
        let next = if complete { newest } else { newest - 1 };
        let next = OffsetDateTime::from_unix_timestamp_nanos(i128::from(next) * 1_000_000)
            .unwrap_or(watermark)
            .max(watermark);
        Ok(FeedBatch {
            observations,
            next_watermark: next,
            complete,
            skipped,
            pages,
        })
    }
}
