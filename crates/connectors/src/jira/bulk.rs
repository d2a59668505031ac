//! Bulk creation through `POST /rest/api/3/issue/bulk` (reference A3): chunks of at most 50,
//! several chunks in flight within the integration's bound, one result per finding.
//!
//! Jira answers 201 when any element succeeded and 400 when all failed, in the same shape:
//! `issues[]` holds only the successes, in request order, and `errors[]` names the failures by
//! their 0-based `failedElementNumber`. Results are mapped back by walking the request indices,
//! skipping the failed ones and taking `issues[]` in order, as pycontribs `create_issues` does
//! (the ordering is inferred from that client; UNCONFIRMED in Atlassian's docs). Only the failed
//! elements come back as errors, so a retry sends only those. When a chunk's answer is lost
//! (timeout, 5xx) Jira may have created some of it: each of its elements is then looked up by its
//! correlation label before being created singly, never twice.

use futures::StreamExt as _;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::client::{JCall, JiraClient, collection_text};
use super::create::answer_may_be_lost;
use super::issue::{id_at, observation_from_issue};
use crate::connector::{CreatedTicket, TicketCreate};
use crate::error::{ConnectorError, Result};

/// What one bulk answer said about its elements, by request index.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    Created { id: String },
    Failed { status: u16, message: String },
}

/// Maps a bulk answer (201 or 400, same shape) back to the `count` request elements.
pub fn map_bulk_answer(body: &Value, count: usize) -> Result<Vec<Element>> {
    let mut out: Vec<Option<Element>> = vec![None; count];
    for e in body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(i) = e.get("failedElementNumber").and_then(Value::as_u64) else {
            continue;
        };
        let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) else {
            continue;
        };
        let message = e
            .get("elementErrors")
            .and_then(collection_text)
            .unwrap_or_else(|| "Jira refused this element".into());
        let status = e.get("status").and_then(Value::as_u64).unwrap_or(400);
        *slot = Some(Element::Failed {
            status: u16::try_from(status).unwrap_or(400),
            message,
        });
    }
    let mut created = body
        .get("issues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for slot in out.iter_mut().filter(|s| s.is_none()) {
        let issue = created.next().ok_or_else(|| {
            ConnectorError::invalid_response("the bulk answer lists fewer issues than it created")
        })?;
        let id = id_at(issue, "/id")
            .ok_or_else(|| ConnectorError::invalid_response("a created issue has no id"))?;
        *slot = Some(Element::Created { id });
    }
    Ok(out.into_iter().flatten().collect())
}

fn element_error(status: u16, message: String) -> ConnectorError {
    match status {
        429 => ConnectorError::RateLimited {
            retry_after: None,
            message,
        },
        s if s >= 500 => ConnectorError::Vendor { status: s, message },
        _ => ConnectorError::DataPolicy {
            message,
            remedy: "Fix the fields Jira names (the project's required fields, priority scheme \
                     and create screen), then retry: only the failed findings are sent again"
                .into(),
        },
    }
}

impl JiraClient {
    /// Creates every ticket; one failure does not stop the others.
    pub async fn create_issues(&self, tickets: &[TicketCreate]) -> Vec<Result<CreatedTicket>> {
        let chunk = self.config().bulk_chunk.clamp(1, 50);
        let indexed: Vec<(usize, &TicketCreate)> = tickets.iter().enumerate().collect();
        // The futures are made first: a closure in the stream would need a higher-ranked
        // lifetime the async-trait boxes cannot name.
        let chunks: Vec<_> = indexed
            .chunks(chunk)
            .map(|c| self.create_chunk(c))
            .collect();
        let done: Vec<Vec<(usize, Result<CreatedTicket>)>> = futures::stream::iter(chunks)
            .buffer_unordered(self.config().bulk_concurrency.max(1))
            .collect()
            .await;
        let mut results: Vec<Option<Result<CreatedTicket>>> =
            (0..tickets.len()).map(|_| None).collect();
        for (i, r) in done.into_iter().flatten() {
            results[i] = Some(r);
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(ConnectorError::invalid_response("never sent"))))
            .collect()
    }

    async fn create_chunk(
        &self,
        chunk: &[(usize, &TicketCreate)],
    ) -> Vec<(usize, Result<CreatedTicket>)> {
        let mut out = Vec::new();
        let mut sent: Vec<(usize, &TicketCreate)> = Vec::new();
        let mut bodies = Vec::new();
        for (i, t) in chunk {
            match self.create_body(t).await {
                Ok(b) => {
                    bodies.push(b);
                    sent.push((*i, t));
                }
                Err(e) => out.push((*i, Err(e))),
            }
        }
        if sent.is_empty() {
            return out;
        }
        let call = JCall::post("bulk_create", "issue/bulk", json!({"issueUpdates": bodies}))
            .idempotent(false);
        // A 400 carries the same per-element shape (every element failed), so read it too.
        let answer = match self.send_raw(&call).await {
            Ok(resp) if resp.status.as_u16() == 201 || resp.status.as_u16() == 400 => resp
                .json::<Value>()
                .and_then(|b| map_bulk_answer(&b, sent.len())),
            Ok(resp) => Err(match resp.status.as_u16() {
                401 => self
                    .inner
                    .auth
                    .rejected(&super::client::envelope_message(&resp)),
                _ => super::client::error_from_response(&resp, "bulk_create"),
            }),
            Err(e) => Err(e),
        };
        let elements = match answer {
            Ok(elements) => elements,
            Err(e) if answer_may_be_lost(&e) => {
                tracing::warn!(error = %e, "bulk answer lost; looking its elements up before creating them singly");
                for (i, t) in sent {
                    out.push((i, crate::Connector::find_or_create(self, t).await));
                }
                return out;
            }
            Err(e) => {
                out.extend(sent.into_iter().map(|(i, _)| (i, Err(e.clone()))));
                return out;
            }
        };
        let ids: Vec<u64> = elements
            .iter()
            .filter_map(|e| match e {
                Element::Created { id } => id.parse().ok(),
                Element::Failed { .. } => None,
            })
            .collect();
        let observed = self.read_created(&ids).await;
        for ((i, t), element) in sent.into_iter().zip(elements) {
            let r = match element {
                Element::Failed { status, message } => Err(element_error(status, message)),
                Element::Created { id } => match &observed {
                    Ok(list) => match list.iter().find(|c| c.ticket.external_id().as_str() == id) {
                        Some(c) => Ok(c.clone()),
                        None => self.read_issue(&id).await.map(|o| self.created(o, false)),
                    },
                    Err(e) => Err(e.clone()),
                },
            };
            if let (Ok(c), lockstep_domain::TicketMode::Link { related }) = (&r, &t.mode) {
                self.link(c.ticket.key().as_str(), related.as_str()).await;
            }
            out.push((i, r));
        }
        out
    }

    /// The issues just created, in one search (`reconcileIssues` makes them visible at once).
    async fn read_created(&self, ids: &[u64]) -> Result<Vec<CreatedTicket>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(u64::to_string).collect();
        let jql = format!("id in ({})", list.join(", "));
        let page = self
            .search(&jql, u32::try_from(ids.len()).unwrap_or(50), None, ids)
            .await?;
        let now = OffsetDateTime::now_utc();
        page.issues
            .iter()
            .map(|i| observation_from_issue(i, None, None, now).map(|o| self.created(o, false)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_answers_map_back_by_request_index() {
        let body = json!({"issues": [{"id": "10", "key": "A-1"}, {"id": "11", "key": "A-2"}],
            "errors": [{"status": 400, "failedElementNumber": 1,
                "elementErrors": {"errorMessages": [], "errors": {"priority": "bad"}}}]});
        let got = map_bulk_answer(&body, 3).unwrap();
        assert_eq!(got[0], Element::Created { id: "10".into() });
        assert_eq!(
            got[1],
            Element::Failed {
                status: 400,
                message: "priority: bad".into()
            }
        );
        assert_eq!(got[2], Element::Created { id: "11".into() });
        let all_failed = json!({"issues": [], "errors": [
            {"status": 400, "failedElementNumber": 0, "elementErrors": {"errorMessages": ["x"]}}]});
        assert!(matches!(
            map_bulk_answer(&all_failed, 1).unwrap()[0],
            Element::Failed { .. }
        ));
        assert!(map_bulk_answer(&json!({"issues": []}), 1).is_err());
    }
}
