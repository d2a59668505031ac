//! The outbound status push: `lockstep.finding.changed` (`FindingChanges` messages, each change
//! handled in turn) → the linked tickets.
//!
//! A durable consumer (replicas share it) reads every tenant's finding changes. What is pushed is
//! decided by the pure rules of `lockstep_domain::push`: changes caused by the vendor are never
//! echoed back; a change is pushed only while the finding still has the status it announces; each
//! live ticket of the finding is moved by the integration's outbound rule for that status, unless
//! it is already in the target state. The move is ONE vendor request carrying the state and the
//! note (`Connector::push`); its answer is stored on the link together with the activity row in
//! ONE transaction, so a link never shows a push without its activity row or the reverse, and a
//! redelivered event changes nothing. Transient failures are retried (nak); events that can never
//! be applied are dead-lettered.

use std::time::Duration;

use lockstep_bus::{Bus, BusError, ConsumerSettings, Delivery};
use lockstep_connectors::{ConnectorError, Connectors, ErrorClass, OutboundChange};
use lockstep_domain::push::{change_is_pushable, push_for_link};
use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{ActivityKind, FindingId, SyncChannel, TenantId};
use lockstep_platform::Shutdown;
use lockstep_platform::telemetry::propagation;
use lockstep_proto::v1 as pb;
use lockstep_service_kit::vendor;
use lockstep_store::{NewActivity, Store, StoreError, TicketLinkRecord, TicketLinkState};
use tracing::Instrument as _;

/// Why an event was not acked.
#[derive(Debug)]
pub enum PushError {
    /// Try again later (database or vendor temporarily unavailable).
    Retry(String),
    /// The event can never be applied.
    Poison(String),
}

impl From<StoreError> for PushError {
    fn from(e: StoreError) -> Self {
        if e.is_retryable() {
            PushError::Retry(e.to_string())
        } else {
            PushError::Poison(e.to_string())
        }
    }
}

fn transient(e: &ConnectorError) -> bool {
    matches!(
        e.class(),
        ErrorClass::Unavailable
            | ErrorClass::DeadlineExceeded
            | ErrorClass::ResourceExhausted
            | ErrorClass::Internal
    )
}

#[derive(Clone)]
pub struct Pusher {
    pub store: Store,
    pub bus: Bus,
    pub connectors: Connectors,
    pub consumer: String,
}

impl Pusher {
    /// Consumes until `shutdown` fires.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), BusError> {
        let consumer = self
            .bus
            .consumer(
                &self.consumer,
                vec![self.bus.subjects().all_finding_changes()],
                &ConsumerSettings::default(),
            )
            .await?;
        tracing::info!(consumer = %self.consumer, "outbound status push running");
        while !shutdown.is_triggered() {
            let batch = tokio::select! {
                batch = consumer.fetch(16, Duration::from_secs(2)) => batch,
                _ = shutdown.cancelled() => break,
            };
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "fetching finding changes failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            for delivery in batch {
                self.deliver(&delivery).await;
            }
        }
        Ok(())
    }

    /// Handles every change of one `FindingChanges` message. The message is acked when all are
    /// done, nakked when one must be retried (handling a change again is harmless: a ticket
    /// already in the target state is left alone), and dead-lettered when one can never be.
    async fn deliver(&self, delivery: &Delivery) {
        let span = tracing::info_span!(
            parent: None,
            "finding_changed",
            otel.kind = "consumer",
            messaging.system = "nats",
            messaging.operation.type = "process",
            subject = delivery.subject(),
        );
        delivery.continue_trace(&span);
        self.settle(delivery).instrument(span).await;
    }

    async fn settle(&self, delivery: &Delivery) {
        let outcome = match delivery.decode::<pb::FindingChanges>() {
            Ok(message) => self.handle_all(&message.changes).await,
            Err(e) => Err(PushError::Poison(e.to_string())),
        };
        let acked = match outcome {
            Ok(()) => delivery.ack().await,
            Err(PushError::Retry(why)) => {
                tracing::warn!(%why, "finding change not pushed yet; will retry");
                delivery.nak(Duration::from_secs(5)).await
            }
            Err(PushError::Poison(why)) => {
                tracing::error!(%why, "finding change cannot be pushed; dead-lettering it");
                delivery.dead_letter(&self.bus, &self.consumer, &why).await
            }
        };
        if let Err(e) = acked {
            tracing::warn!(error = %e, "acknowledging a finding change failed; it will be redelivered");
        }
    }

    /// Every change in order. A change that can never be pushed does not stop the others; the
    /// first reason is reported once all were tried. A retry stops at once (the redelivery
    /// starts over).
    async fn handle_all(&self, changes: &[pb::FindingChanged]) -> Result<(), PushError> {
        let mut poisoned = None;
        for change in changes {
            // Each change continues the trace that made it (its own `traceparent`: the api's
            // RPC, the applier's event), so its vendor call is part of that trace.
            // Without one it stays a child of the message's span.
            let span = tracing::info_span!(
                "push_change",
                event_id = %change.event_id,
                finding_id = %change.finding_id,
            );
            if let Some(cx) = propagation::from_traceparent(&change.traceparent) {
                propagation::continue_trace(&span, cx);
            }
            match self.handle(change).instrument(span).await {
                Ok(()) => {}
                Err(PushError::Retry(why)) => return Err(PushError::Retry(why)),
                Err(PushError::Poison(why)) => {
                    poisoned.get_or_insert(format!("change {}: {why}", change.event_id));
                }
            }
        }
        poisoned.map_or(Ok(()), |why| Err(PushError::Poison(why)))
    }

    /// Applies one change. `Ok` means "done with it" (pushed, or nothing to push).
    pub async fn handle(&self, event: &pb::FindingChanged) -> Result<(), PushError> {
        let from_vendor = event.origin == pb::ChangeOrigin::Vendor as i32;
        if from_vendor {
            return Ok(());
        }
        let tenant =
            TenantId::parse(&event.tenant_id).map_err(|e| PushError::Poison(e.to_string()))?;
        let finding_id =
            FindingId::parse(&event.finding_id).map_err(|e| PushError::Poison(e.to_string()))?;
        let finding = match self.store.findings().get(tenant, finding_id).await {
            Ok(f) => f,
            Err(StoreError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if change_is_pushable(from_vendor, &event.to_status, finding.status).is_err() {
            // The finding moved on; the event for its newer status does the push.
            return Ok(());
        }
        let links = self
            .store
            .links()
            .list_for_findings(tenant, &[finding_id])
            .await?;
        let domain = finding.to_finding();
        for link in links.iter().filter(|l| l.state == TicketLinkState::Live) {
            self.push_link(tenant, &domain, link, event).await?;
        }
        Ok(())
    }

    async fn push_link(
        &self,
        tenant: TenantId,
        finding: &lockstep_domain::Finding,
        link: &TicketLinkRecord,
        event: &pb::FindingChanged,
    ) -> Result<(), PushError> {
        let integration = match self
            .store
            .integrations()
            .get(tenant, link.integration_id)
            .await
        {
            Ok(i) => i,
            Err(StoreError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let rules = self
            .store
            .mapping_rules()
            .effective(&integration)
            .await?
            .rules;
        let outbound = rules.outbound(link.target.kind()).ok();
        let Ok(push) = push_for_link(finding, outbound, link.vendor_snapshot.as_ref()) else {
            return Ok(());
        };
        let Some(ticket) = link.ticket_ref() else {
            return Ok(());
        };
        let client = match vendor::connector(&self.connectors, &integration) {
            Ok(c) => c,
            Err(s) => {
                self.note(
                    tenant,
                    finding,
                    ActivityKind::TicketUpdateFailed,
                    format!("Ticket {} not updated: {}", ticket.key(), s.message()),
                    link,
                )
                .await?;
                return Ok(());
            }
        };
        let change = OutboundChange {
            push,
            note: Some(format!(
                "Lockstep: finding {} is now {} (changed from {} via {}).",
                finding.scanner_key, finding.status, event.from_status, event.channel
            )),
            priority: None,
        };
        match client.push(&ticket, &change).await {
            Ok(observation) => {
                let snapshot = VendorSnapshot {
                    version: observation.version,
                    state: observation.vendor_state.clone(),
                };
                let message = format!(
                    "Ticket {} moved to state {} because the finding is {}",
                    ticket.key(),
                    observation
                        .vendor_state_label
                        .as_deref()
                        .unwrap_or(&observation.vendor_state),
                    finding.status
                );
                let entry = activity(finding, ActivityKind::TicketUpdated, message, link);
                let link_id = link.id;
                self.store
                    .in_tx(async |tx| -> Result<(), StoreError> {
                        tx.links()
                            .apply_vendor_state(tenant, link_id, &snapshot, SyncChannel::Api)
                            .await?;
                        tx.activity().append(tenant, &entry).await?;
                        Ok(())
                    })
                    .await?;
                Ok(())
            }
            Err(e) if transient(&e) => Err(PushError::Retry(e.to_string())),
            Err(e) => {
                let message = format!(
                    "Ticket {} could not be moved for status {}: {e}",
                    ticket.key(),
                    finding.status
                );
                self.note(
                    tenant,
                    finding,
                    ActivityKind::TicketUpdateFailed,
                    message,
                    link,
                )
                .await
            }
        }
    }

    async fn note(
        &self,
        tenant: TenantId,
        finding: &lockstep_domain::Finding,
        kind: ActivityKind,
        message: String,
        link: &TicketLinkRecord,
    ) -> Result<(), PushError> {
        self.store
            .activity()
            .append(tenant, &activity(finding, kind, message, link))
            .await?;
        Ok(())
    }
}

/// The activity row of a push to `link`.
fn activity(
    finding: &lockstep_domain::Finding,
    kind: ActivityKind,
    message: String,
    link: &TicketLinkRecord,
) -> NewActivity {
    NewActivity {
        finding_id: finding.id,
        channel: SyncChannel::Api,
        actor: "ticket-writer".into(),
        kind,
        from_status: None,
        to_status: None,
        message,
        details: serde_json::json!({
            "link_id": link.id.to_string(),
            "ticket_key": link.ticket_key.as_ref().map(|k| k.as_str().to_owned()),
        }),
    }
}
