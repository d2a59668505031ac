//! Creating tickets without ever creating two for one finding.
//!
//! 1. Pre-flight: a pending link is inserted per finding; the database refuses a second pending
//!    or live link for the finding on the integration (`AlreadyLinked`). A live one is returned
//!    as it is (ALREADY_LINKED).
//! 2. The vendor call (`Connector::create_many`: one result per ticket; a vendor's bulk API when
//!    it has one). A definitive refusal marks the link
//!    failed (the finding is free again); an ambiguous failure (timeout, lost answer) leaves it
//!    pending, since the ticket may exist.
//! 3. Write-back in one transaction: link live (key, external id, URL, first state) + activity row;
//!    then `lockstep.ticket.created` and the finding→ticket metric.
//! 4. Repair: a request that meets a pending link looks the ticket up by correlation id and
//!    writes it back. Only a pending link older than `pending_stale_after`, claimed atomically,
//!    may lead to a create, so a slow first attempt is never duplicated.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use lockstep_bus::Bus;
use std::sync::Arc;

use lockstep_connectors::{
    Connector, ConnectorError, Connectors, CreatedTicket, ErrorClass, TicketCreate,
};
use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{ActivityKind, FindingId, SyncChannel};
use lockstep_proto::v1 as pb;
use lockstep_service_kit::convert::{self, ts};
use lockstep_service_kit::vendor;
use lockstep_service_kit::{Caller, status};
use lockstep_store::{FindingRecord, LiveTicket, NewActivity, Store, StoreError, TicketLinkRecord};
use time::OffsetDateTime;
use tonic::{Code, Status};

use crate::spec::Plan;

pub const FINDING_TO_TICKET_SECONDS: &str = "lockstep_finding_to_ticket_seconds";

#[derive(Clone)]
pub struct Writer {
    pub store: Store,
    pub bus: Bus,
    pub connectors: Connectors,
    pub pending_stale_after: Duration,
}

/// One finding's way through a request.
struct Item {
    finding: FindingRecord,
    ticket: TicketCreate,
    link: TicketLinkRecord,
}

fn failed(finding: FindingId, status: &Status) -> pb::TicketResult {
    pb::TicketResult {
        finding_id: finding.to_string(),
        outcome: pb::TicketOutcome::Failed as i32,
        link: None,
        error_code: status::code_name(status.code()).to_owned(),
        error_message: status.message().to_owned(),
        error: error_code(status.code()) as i32,
    }
}

/// Whether the vendor's answer proves no ticket was created.
fn definitive(err: &ConnectorError) -> bool {
    matches!(
        err.class(),
        ErrorClass::InvalidArgument
            | ErrorClass::Unauthenticated
            | ErrorClass::PermissionDenied
            | ErrorClass::NotFound
            | ErrorClass::FailedPrecondition
            | ErrorClass::ResourceExhausted
    )
}

impl Writer {
    fn link_pb(&self, plan: &Plan, link: &TicketLinkRecord) -> pb::TicketLink {
        convert::link(link, Some(&plan.integration))
    }

    /// Creates (or returns) the tickets of `ids`, one result per id in the same order.
    pub async fn create(
        &self,
        caller: &Caller,
        plan: &Plan,
        ids: &[FindingId],
    ) -> Result<Vec<pb::TicketResult>, Status> {
        let client = vendor::connector(&self.connectors, &plan.integration)?;
        let found = self
            .store
            .findings()
            .by_ids(caller.tenant, ids)
            .await
            .map_err(status::from_store)?;
        let mut by_id: HashMap<FindingId, FindingRecord> =
            found.into_iter().map(|f| (f.id, f)).collect();
        let mut results: Vec<Option<pb::TicketResult>> = vec![None; ids.len()];
        let mut prepared = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            // Another tenant's finding is exactly as absent as one that never existed.
            let Some(finding) = by_id.remove(id) else {
                let s = Status::not_found(format!("finding {id} not found"));
                results[i] = Some(failed(*id, &s));
                continue;
            };
            let domain = finding.to_finding();
            match plan.draft(&domain).map(|d| plan.ticket_create(d, &domain)) {
                Ok(ticket) => prepared.push((i, finding, ticket)),
                Err(s) => results[i] = Some(failed(*id, &s)),
            }
        }
        // Pre-flight: pending links, a few at a time, in order.
        let target = &plan.target;
        let integration = plan.integration.id;
        let inserted: Vec<_> = futures::stream::iter(prepared)
            .map(|(i, finding, ticket)| async move {
                let r = self
                    .store
                    .links()
                    .insert_pending(caller.tenant, finding.id, integration, target)
                    .await;
                (i, finding, ticket, r)
            })
            .buffered(8)
            .collect()
            .await;
        let mut fresh: Vec<(usize, Item)> = Vec::new();
        let mut repairs: Vec<(usize, Item)> = Vec::new();
        for (i, finding, ticket, r) in inserted {
            match r {
                Ok(link) => fresh.push((
                    i,
                    Item {
                        finding,
                        ticket,
                        link,
                    },
                )),
                Err(StoreError::AlreadyLinked { existing })
                    if existing.state == lockstep_store::TicketLinkState::Live =>
                {
                    results[i] = Some(pb::TicketResult {
                        finding_id: finding.id.to_string(),
                        outcome: pb::TicketOutcome::AlreadyLinked as i32,
                        link: Some(self.link_pb(plan, &existing)),
                        ..Default::default()
                    });
                }
                Err(StoreError::AlreadyLinked { existing }) => {
                    repairs.push((
                        i,
                        Item {
                            finding,
                            ticket,
                            link: *existing,
                        },
                    ));
                }
                Err(e) => results[i] = Some(failed(finding.id, &status::from_store(e))),
            }
        }
        // The vendor calls: one bulk run for the fresh items.
        let outcomes: Vec<Result<CreatedTicket, ConnectorError>> = if fresh.is_empty() {
            Vec::new()
        } else {
            let tickets: Vec<TicketCreate> =
                fresh.iter().map(|(_, item)| item.ticket.clone()).collect();
            client.create_many(&tickets).await
        };
        let written: Vec<_> = futures::stream::iter(fresh.into_iter().zip(outcomes))
            .map(|((i, item), outcome)| async move {
                (i, self.settle(caller, plan, &item, outcome).await)
            })
            .buffer_unordered(8)
            .collect()
            .await;
        for (i, result) in written {
            results[i] = Some(result);
        }
        for (i, item) in repairs {
            results[i] = Some(self.repair(caller, plan, &client, &item).await);
        }
        Ok(results
            .into_iter()
            .zip(ids)
            .map(|(r, id)| r.unwrap_or_else(|| failed(*id, &Status::internal("no result"))))
            .collect())
    }

    /// Writes back a vendor outcome for a pending link.
    async fn settle(
        &self,
        caller: &Caller,
        plan: &Plan,
        item: &Item,
        outcome: Result<CreatedTicket, ConnectorError>,
    ) -> pb::TicketResult {
        match outcome {
            Ok(created) => match self.write_back(caller, plan, item, &created).await {
                Ok(link) => pb::TicketResult {
                    finding_id: item.finding.id.to_string(),
                    outcome: pb::TicketOutcome::Created as i32,
                    link: Some(self.link_pb(plan, &link)),
                    ..Default::default()
                },
                Err(s) => failed(item.finding.id, &s),
            },
            Err(e) if definitive(&e) => {
                if let Err(err) = self
                    .store
                    .links()
                    .mark_failed(caller.tenant, item.link.id, &e.to_string())
                    .await
                {
                    tracing::warn!(error = %err, link = %item.link.id, "marking a refused ticket link failed");
                }
                failed(item.finding.id, &status::from_connector(&e))
            }
            Err(e) => {
                tracing::warn!(error = %e, finding = %item.finding.id, "ticket create outcome unknown; link stays pending");
                let s = Status::new(
                    status::connector_code(&e),
                    format!(
                        "{e}; the ticket may have been created, repeat the request to reconcile it (no duplicate will be made)"
                    ),
                );
                failed(item.finding.id, &s)
            }
        }
    }

    /// A pending link met by this request: find the ticket by correlation id; create it only if
    /// the pending link is abandoned and this request claims it.
    async fn repair(
        &self,
        caller: &Caller,
        plan: &Plan,
        client: &Arc<dyn Connector>,
        item: &Item,
    ) -> pb::TicketResult {
        let found = match client
            .find_by_correlation(&plan.target, item.finding.id)
            .await
        {
            Ok(found) => found,
            Err(e) => return failed(item.finding.id, &status::from_connector(&e)),
        };
        if let Some(observation) = found {
            tracing::info!(finding = %item.finding.id, ticket = %observation.ticket, "pending link repaired by correlation id");
            let created = CreatedTicket {
                url: client.deep_link(&observation.ticket),
                ticket: observation.ticket.clone(),
                observation,
                recovered: true,
            };
            return self.settle(caller, plan, item, Ok(created)).await;
        }
        let stale_before = OffsetDateTime::now_utc() - self.pending_stale_after;
        match self
            .store
            .links()
            .claim_pending(caller.tenant, item.link.id, stale_before)
            .await
        {
            Ok(true) => {
                let outcome = client.find_or_create(&item.ticket).await;
                self.settle(caller, plan, item, outcome).await
            }
            Ok(false) => failed(
                item.finding.id,
                &Status::aborted(format!(
                    "a ticket for finding {} is being created by another request (pending since {}); \
                     repeat the request in a minute",
                    item.finding.id, item.link.updated_at
                )),
            ),
            Err(e) => failed(item.finding.id, &status::from_store(e)),
        }
    }

    async fn write_back(
        &self,
        caller: &Caller,
        plan: &Plan,
        item: &Item,
        created: &CreatedTicket,
    ) -> Result<TicketLinkRecord, Status> {
        let live = LiveTicket {
            external_id: created.ticket.external_id().clone(),
            ticket_key: created.ticket.key().clone(),
            url: Some(created.url.to_string()),
            snapshot: Some(VendorSnapshot {
                version: created.observation.version,
                state: created.observation.vendor_state.clone(),
            }),
            channel: SyncChannel::Api,
        };
        let key = created.ticket.key().as_str().to_owned();
        let entry = NewActivity {
            finding_id: item.finding.id,
            channel: SyncChannel::Api,
            actor: caller.name.clone(),
            kind: ActivityKind::TicketCreated,
            from_status: None,
            to_status: None,
            message: format!(
                "Ticket {key} {} in {} ({})",
                if created.recovered {
                    "linked (found by correlation id)"
                } else {
                    "created"
                },
                plan.integration.name,
                plan.target
            ),
            details: serde_json::json!({
                "ticket_key": key,
                "external_id": created.ticket.external_id().as_str(),
                "integration_id": plan.integration.id.to_string(),
                "integration_name": plan.integration.name,
                "url": created.url.as_str(),
                "recovered": created.recovered,
            }),
        };
        let tenant = caller.tenant;
        let link_id = item.link.id;
        let link = self
            .store
            .in_tx(async |tx| -> Result<TicketLinkRecord, StoreError> {
                let link = tx.links().mark_live(tenant, link_id, &live).await?;
                tx.activity().append(tenant, &entry).await?;
                Ok(link)
            })
            .await
            .map_err(status::from_store)?;
        let age = (OffsetDateTime::now_utc() - item.finding.created_at)
            .as_seconds_f64()
            .max(0.0);
        metrics::histogram!(FINDING_TO_TICKET_SECONDS, "vendor" => plan.integration.vendor.as_str()).record(age);
        let event = pb::TicketCreated {
            event_id: format!("ticket-created:{}", link.id),
            tenant_id: tenant.to_string(),
            finding_id: item.finding.id.to_string(),
            integration_id: plan.integration.id.to_string(),
            ticket: Some(pb::TicketRef {
                vendor: plan.integration.vendor.as_str().to_owned(),
                table_or_project: plan.target.container().to_owned(),
                external_id: live.external_id.as_str().to_owned(),
                key: live.ticket_key.as_str().to_owned(),
            }),
            url: created.url.to_string(),
            created_at: ts(OffsetDateTime::now_utc()),
        };
        // The ticket and its link are committed; the event is for metrics and audit, so a
        // failed publish is logged rather than failing the request.
        if let Err(e) = self
            .bus
            .publish(&self.bus.subjects().ticket_created(tenant), &event)
            .await
        {
            tracing::warn!(error = %e, link = %link.id, "publishing lockstep.ticket.created failed");
        }
        Ok(link)
    }
}

/// The typed code of a failed result: `TicketErrorCode` is numbered like the gRPC codes.
fn error_code(code: Code) -> pb::TicketErrorCode {
    pb::TicketErrorCode::try_from(code as i32).unwrap_or(pb::TicketErrorCode::Internal)
}

/// The status of a single-finding result (CreateTicket answers failures as errors).
pub fn result_status(result: &pb::TicketResult) -> Option<Status> {
    if result.outcome != pb::TicketOutcome::Failed as i32 {
        return None;
    }
    let code = match Code::from_i32(result.error) {
        Code::Ok => Code::Internal,
        code => code,
    };
    Some(Status::new(code, result.error_message.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_error_codes_round_trip_every_failure_code() {
        for code in [
            Code::NotFound,
            Code::InvalidArgument,
            Code::FailedPrecondition,
            Code::ResourceExhausted,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::Unavailable,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::Internal,
        ] {
            let result = failed(FindingId::new(), &Status::new(code, "m"));
            assert_eq!(result.error_code, status::code_name(code));
            assert_eq!(
                pb::TicketErrorCode::try_from(result.error)
                    .unwrap()
                    .as_str_name()
                    .strip_prefix("TICKET_ERROR_CODE_"),
                Some(status::code_name(code))
            );
            assert_eq!(result_status(&result).unwrap().code(), code);
        }
    }
}
