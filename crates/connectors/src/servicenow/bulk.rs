//! Bulk ticket creation through the Batch API (`POST /api/now/v1/batch`), with per-item results.
//!
//! Each sub-request is an ordinary Table API POST, run by the instance one after another within
//! its 30 s batch budget; items it did not get to come back in `unserviced_requests` and are sent
//! again (up to three rounds, as pysnc does). When the Batch API itself is unavailable (blocked by
//! an API access policy, missing, or answering something else) the items are created one by one,
//! `bulk_concurrency` at a time. When a batch call's answer is lost (timeout, 5xx), ServiceNow may
//! have created some of its items, so each of those is looked up by correlation id before being
//! created singly: never a second ticket.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures::StreamExt as _;
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::client::{ServiceNowClient, SnCall, error_from_response};
use super::record::{OBSERVED_FIELDS, SnRecord, observation_from_record};
use super::writes::{CreatedTicket, NewTicket, answer_may_be_lost, create_op};
use crate::error::{ConnectorError, Result};
use crate::http::VendorResponse;

const BATCH_ROUNDS: usize = 3;

/// Per-item results, in the order of the input, and how they were made.
#[derive(Debug)]
pub struct BulkOutcome {
    pub results: Vec<Result<CreatedTicket>>,
    /// Items created (or failed) inside a Batch API call.
    pub via_batch: usize,
    /// Items sent as single creates (fallback).
    pub via_single: usize,
}

#[derive(Deserialize)]
struct BatchResponse {
    #[serde(default)]
    serviced_requests: Vec<ServicedRequest>,
    #[serde(default)]
    unserviced_requests: Vec<Value>,
}

#[derive(Deserialize)]
struct ServicedRequest {
    id: Value,
    status_code: u16,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
}

/// How the items a batch did not settle are sent singly.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Single {
    Create,
    /// The batch may have created them: look up first.
    FindOrCreate,
}

impl ServiceNowClient {
    /// Creates every ticket; one failure does not stop the others.
    pub async fn create_tickets(&self, tickets: &[NewTicket]) -> BulkOutcome {
        let mut results: Vec<Option<Result<CreatedTicket>>> =
            (0..tickets.len()).map(|_| None).collect();
        let mut singles: Vec<(usize, Single)> = Vec::new();
        let mut batch_available = true;
        let mut via_batch = 0;
        let indices: Vec<usize> = (0..tickets.len()).collect();
        for chunk in indices.chunks(self.config().batch_size.max(1)) {
            if !batch_available {
                singles.extend(chunk.iter().map(|i| (*i, Single::Create)));
                continue;
            }
            let mut pending: Vec<usize> = chunk.to_vec();
            for _ in 0..BATCH_ROUNDS {
                match self.batch_round(tickets, &pending).await {
                    Ok((done, unserviced)) => {
                        via_batch += done.len();
                        for (i, r) in done {
                            results[i] = Some(r);
                        }
                        pending = unserviced;
                    }
                    Err(e) if batch_unavailable(&e) => {
                        tracing::info!(error = %e, "ServiceNow Batch API unavailable; creating tickets one by one");
                        batch_available = false;
                        break;
                    }
                    Err(e) if answer_may_be_lost(&e) => {
                        tracing::warn!(error = %e, "Batch API answer lost; looking items up before creating them singly");
                        singles.extend(pending.drain(..).map(|i| (i, Single::FindOrCreate)));
                        break;
                    }
                    Err(e) => {
                        for i in pending.drain(..) {
                            results[i] = Some(Err(e.clone()));
                        }
                        break;
                    }
                }
                if pending.is_empty() {
                    break;
                }
            }
            // Still unserviced after the rounds, or the batch API went away: singly.
            singles.extend(pending.into_iter().map(|i| (i, Single::Create)));
        }
        let via_single = singles.len();
        let created: Vec<(usize, Result<CreatedTicket>)> = futures::stream::iter(singles)
            .map(|(i, mode)| async move {
                let r = match mode {
                    Single::Create => self.create_ticket(&tickets[i]).await,
                    Single::FindOrCreate => self.find_or_create_ticket(&tickets[i]).await,
                };
                (i, r)
            })
            .buffered(self.config().bulk_concurrency.max(1))
            .collect()
            .await;
        for (i, r) in created {
            results[i] = Some(r);
        }
        let results = results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ConnectorError::invalid_response("the item was never sent"))
                })
            })
            .collect();
        BulkOutcome {
            results,
            via_batch,
            via_single,
        }
    }

    /// One Batch API call for `items`: the settled results and the unserviced indices.
    async fn batch_round(
        &self,
        tickets: &[NewTicket],
        items: &[usize],
    ) -> Result<(Vec<(usize, Result<CreatedTicket>)>, Vec<usize>)> {
        let mut sub = Vec::with_capacity(items.len());
        for &i in items {
            let t = &tickets[i];
            let body = serde_json::to_vec(&t.to_body())
                .map_err(|e| ConnectorError::config(e.to_string()))?;
            sub.push(json!({
                "id": i.to_string(),
                "method": "POST",
                "url": format!(
                    "/api/now/table/{}?sysparm_display_value=all&sysparm_exclude_reference_link=true&sysparm_fields={}",
                    t.table.as_str(), OBSERVED_FIELDS.join(",")
                ),
                "headers": [
                    {"name": "Content-Type", "value": "application/json"},
                    {"name": "Accept", "value": "application/json"}
                ],
                "body": STANDARD.encode(body),
                "exclude_response_headers": true,
            }));
        }
        let call = SnCall::new("batch_create", Method::POST, "api/now/v1/batch").body(
            json!({ "batch_request_id": uuid::Uuid::now_v7().to_string(), "rest_requests": sub }),
        );
        let resp = self.call(&call).await?;
        let answer: BatchResponse = serde_json::from_value(resp.body).map_err(|e| {
            ConnectorError::invalid_response(format!(
                "the Batch API answer is not the documented shape: {e}"
            ))
        })?;
        let mut done = Vec::new();
        let mut settled = std::collections::HashSet::new();
        let now = OffsetDateTime::now_utc();
        for served in answer.serviced_requests {
            let Some(i) = id_of(&served.id).filter(|i| items.contains(i)) else {
                continue;
            };
            if settled.insert(i) {
                done.push((i, self.sub_response(&tickets[i], served, now)));
            }
        }
        let mut unserviced: Vec<usize> = answer
            .unserviced_requests
            .iter()
            .filter_map(id_of)
            .filter(|i| items.contains(i))
            .collect();
        // Items the answer does not mention at all were not run either.
        let unmentioned: Vec<usize> = items
            .iter()
            .copied()
            .filter(|i| !settled.contains(i) && !unserviced.contains(i))
            .collect();
        unserviced.extend(unmentioned);
        unserviced.retain(|i| !settled.contains(i));
        Ok((done, unserviced))
    }

    fn sub_response(
        &self,
        ticket: &NewTicket,
        served: ServicedRequest,
        now: OffsetDateTime,
    ) -> Result<CreatedTicket> {
        let body = served
            .body
            .as_deref()
            .map(|b| STANDARD.decode(b.trim()))
            .transpose()
            .map_err(|_| {
                ConnectorError::invalid_response("a Batch API sub-response body is not base64")
            })?;
        let status = StatusCode::from_u16(served.status_code).map_err(|_| {
            ConnectorError::invalid_response(format!("Batch API status {}", served.status_code))
        })?;
        if !status.is_success() {
            let mut body = body.unwrap_or_default();
            if body.is_empty()
                && let Some(msg) = served.error_message
            {
                body = serde_json::to_vec(&json!({"error": {"message": msg}})).unwrap_or_default();
            }
            let raw = VendorResponse {
                status,
                headers: HeaderMap::new(),
                body: Bytes::from(body),
                attempts: 1,
            };
            return Err(error_from_response(&raw, create_op(ticket.table)));
        }
        let json: Value = serde_json::from_slice(&body.unwrap_or_default()).map_err(|e| {
            ConnectorError::invalid_response(format!("a Batch API sub-response is not JSON: {e}"))
        })?;
        let result = json.get("result").ok_or_else(|| {
            ConnectorError::invalid_response("a Batch API sub-response has no result")
        })?;
        let record = SnRecord::from_json(result)?;
        let observation = observation_from_record(&record, Some(ticket.table), now)?;
        Ok(self.created(observation, false))
    }
}

fn id_of(v: &Value) -> Option<usize> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        _ => None,
    }
}

/// The Batch API cannot be used at all (as opposed to failing for these items).
fn batch_unavailable(e: &ConnectorError) -> bool {
    match e {
        ConnectorError::NotFound { .. }
        | ConnectorError::Permission { .. }
        | ConnectorError::InvalidResponse { .. } => true,
        ConnectorError::Vendor { status, .. } => matches!(status, 400 | 405 | 501),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_unavailability() {
        assert_eq!(id_of(&json!("12")), Some(12));
        assert_eq!(id_of(&json!(7)), Some(7));
        assert_eq!(id_of(&json!(null)), None);
        assert!(batch_unavailable(&ConnectorError::NotFound {
            message: "x".into()
        }));
        assert!(batch_unavailable(&ConnectorError::Vendor {
            status: 405,
            message: "x".into()
        }));
        assert!(!batch_unavailable(&ConnectorError::Vendor {
            status: 503,
            message: "x".into()
        }));
        assert!(!batch_unavailable(&ConnectorError::RateLimited {
            retry_after: None,
            message: "x".into()
        }));
    }
}
