//! The consume loop. Each round: fetch up to `batch_size` messages, decode them into events (a
//! webhook message may hold a group of deliveries; what can never apply is dead-lettered), apply
//! the events in ONE transaction (or one per `max_events_per_transaction`), commit, publish the resulting `finding.changed` messages (one
//! per tenant of the batch), then settle each message. If any event of the batch fails, the batch
//! rolls back and its events are applied one transaction each, so one bad event costs its batch a
//! retry, never its neighbours their effect.
//!
//! A message is acked once every event in it has applied (or gone to the dead letters), and
//! nakked when any of them must be retried: the inbox turns its other events into duplicates on
//! the redelivery.
//!
//! Crash safety: nothing is acked before its commit, so a crash redelivers; the inbox turns the
//! redelivery into a duplicate, and a duplicate re-publishes the change it caused (the same
//! change id; the same message id too when the batch comes back whole, which JetStream then
//! deduplicates) before it is acked. So a crash between commit and publish loses no change.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::future::join_all;
use lockstep_bus::{Bus, Delivery, EventConsumer, finding_changes};
use lockstep_connectors::Registry;
use lockstep_domain::TenantId;
use lockstep_platform::Shutdown;
use lockstep_platform::telemetry::propagation;
use lockstep_proto::v1;
use lockstep_store::Store;
use time::OffsetDateTime;
use tracing::Instrument as _;

use crate::apply::{Applied, Failure, apply_one, lag_seconds};
use crate::batch::apply_batch;
use crate::config::ApplierSettings;
use crate::decode::{Inbound, decode, delivery_of};

/// One event of a fetched batch: part `part` of message `delivery`.
struct Item {
    delivery: usize,
    part: usize,
    inbound: Inbound,
    /// The event's own span, a child of the request or poll that produced it (see
    /// [`event_span`]); it lives until the event's message is settled.
    span: tracing::Span,
}

/// Links a batch span keeps at most (the SDK's default span limit).
const MAX_BATCH_LINKS: usize = 128;

/// What happens to a fetched message once its events are handled; a message takes the strongest
/// verdict of its events (`Retry` over `Ack`). `Settled`: already dead-lettered whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Ack,
    Retry,
    Settled,
}

pub(crate) struct Worker {
    pub store: Store,
    pub bus: Bus,
    pub consumer: EventConsumer,
    /// The vendors whose webhook bodies it parses.
    pub registry: Registry,
    pub settings: ApplierSettings,
}

impl Worker {
    pub async fn run(self, shutdown: Shutdown) {
        while !shutdown.is_triggered() {
            let batch = match self
                .consumer
                .fetch(self.settings.batch_size.max(1), self.settings.fetch_wait)
                .await
            {
                Ok(batch) => batch,
                Err(err) => {
                    tracing::warn!(error = %err, "fetching events failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        () = shutdown.cancelled() => {}
                    }
                    continue;
                }
            };
            if !batch.is_empty() {
                self.process(batch).await;
            }
        }
    }

    /// Runs in a `apply_batch` span of its own, linked to the events' spans: one transaction
    /// serves many traces, so it cannot be the child of each. Each event's span (a child of its
    /// delivery's trace) is what continues the trace: it holds the event's outcome, and the
    /// `finding.changed` the event causes carries its context on.
    async fn process(&self, batch: Vec<Delivery>) {
        let span = tracing::info_span!(
            parent: None,
            "apply_batch",
            messages = batch.len(),
            events = tracing::field::Empty
        );
        self.process_in(batch, &span).instrument(span.clone()).await;
    }

    async fn process_in(&self, batch: Vec<Delivery>, batch_span: &tracing::Span) {
        let started = Instant::now();
        let mut verdicts = vec![Verdict::Ack; batch.len()];
        let mut ready = Vec::with_capacity(batch.len());
        for (d, delivery) in batch.iter().enumerate() {
            let parts = match decode(
                &self.registry,
                self.bus.subjects(),
                delivery.subject(),
                delivery.kind(),
                delivery.payload(),
            ) {
                Ok(parts) => parts,
                Err(unusable) => {
                    verdicts[d] = self.dead_letter(delivery, &unusable.0).await;
                    continue;
                }
            };
            for (part, decoded) in parts.into_iter().enumerate() {
                match decoded {
                    Ok(inbound) => ready.push(Item {
                        delivery: d,
                        part,
                        span: event_span(delivery, &inbound),
                        inbound,
                    }),
                    Err(rejected) => {
                        let verdict = self
                            .dead_letter_part(
                                delivery,
                                part,
                                &rejected.delivery,
                                &rejected.reason.0,
                            )
                            .await;
                        verdicts[d] = verdicts[d].max(verdict);
                    }
                }
            }
        }
        // One lock order for every batch (and older versions first): concurrent batches wait
        // for each other instead of deadlocking.
        ready.sort_by(|a, b| {
            let (a, b) = (&a.inbound, &b.inbound);
            (
                a.tenant,
                a.integration,
                a.observation.ticket.external_id().as_str(),
                a.observation.version,
            )
                .cmp(&(
                    b.tenant,
                    b.integration,
                    b.observation.ticket.external_id().as_str(),
                    b.observation.version,
                ))
        });
        batch_span.record("events", ready.len());
        for item in ready.iter().take(MAX_BATCH_LINKS) {
            propagation::link(batch_span, &propagation::traceparent(&item.span));
        }
        // Chunks keep the lock order: each is a run of the sorted events.
        let mut outcomes = Vec::with_capacity(ready.len());
        for chunk in ready.chunks(self.settings.max_events_per_transaction.max(1)) {
            match self.apply_batch(chunk).await {
                Ok(results) => outcomes.extend(results.into_iter().map(Ok)),
                Err(err) => {
                    tracing::info!(error = %err, events = chunk.len(),
                        "batch rolled back; applying its events one by one");
                    for item in chunk {
                        outcomes.push(self.apply_single(&batch, item).await);
                    }
                }
            }
        }
        self.finish(&batch, &ready, outcomes, verdicts).await;
        metrics::histogram!("lockstep_applier_batch_seconds")
            .record(started.elapsed().as_secs_f64());
    }

    /// All events in one transaction, with a constant number of statements; any failure rolls
    /// all of them back.
    async fn apply_batch(&self, ready: &[Item]) -> Result<Vec<Applied>, Failure> {
        if ready.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.store.begin().await?;
        let events: Vec<&Inbound> = ready.iter().map(|item| &item.inbound).collect();
        let receiver = self.settings.receiver(OffsetDateTime::now_utc());
        let results = apply_batch(&mut tx, &receiver, &events).await?;
        tx.commit().await?;
        Ok(results)
    }

    /// One event in its own transaction. An event that can never apply, or that has failed on
    /// every delivery but the last the consumer allows, is dead-lettered on its own here.
    async fn apply_single(&self, batch: &[Delivery], item: &Item) -> Result<Applied, Verdict> {
        let delivery = &batch[item.delivery];
        let inbound = &item.inbound;
        let result = async {
            let mut tx = self.store.begin().await?;
            let receiver = self.settings.receiver(OffsetDateTime::now_utc());
            let applied = apply_one(&mut tx, &receiver, inbound).await?;
            tx.commit().await?;
            Ok::<_, Failure>(applied)
        }
        .instrument(item.span.clone())
        .await;
        let reason = match result {
            Ok(applied) => return Ok(applied),
            Err(Failure::Permanent(reason)) => reason,
            Err(Failure::Transient(err)) => {
                if delivery.delivered() < self.settings.max_deliver - 1 {
                    tracing::warn!(event_id = %inbound.event_id, error = %err, "event will be retried");
                    return Err(Verdict::Retry);
                }
                format!(
                    "still failing after {} deliveries: {err}",
                    delivery.delivered()
                )
            }
        };
        match delivery_of(delivery.kind(), delivery.payload(), item.part) {
            Some(part) => Err(self
                .dead_letter_part(delivery, item.part, &part, &reason)
                .await),
            // A message of one event: the message itself goes to the dead letters.
            None => Err(self.dead_letter(delivery, &reason).await),
        }
    }

    /// After the commits: publish the changes, one `FindingChanges` message per tenant of the
    /// batch (pipelined), then settle each message: ack it when all its events are done, nak it
    /// when any must be retried (the inbox turns the others into duplicates then). An event whose
    /// tenant's message could not be published counts as one to retry; its redelivery is a
    /// duplicate that publishes its change again.
    async fn finish(
        &self,
        batch: &[Delivery],
        ready: &[Item],
        outcomes: Vec<Result<Applied, Verdict>>,
        mut verdicts: Vec<Verdict>,
    ) {
        let now = OffsetDateTime::now_utc();
        // Tenants in order of first appearance; each message keeps its changes in batch order.
        let mut tenants: Vec<TenantId> = Vec::new();
        let mut changes: HashMap<TenantId, Vec<v1::FindingChanged>> = HashMap::new();
        // A delivery and its duplicate in the same batch carry the same change; send it once.
        let mut sent: HashSet<&str> = HashSet::new();
        for (item, outcome) in ready.iter().zip(&outcomes) {
            let Some(change) = outcome.as_ref().ok().and_then(Applied::change) else {
                continue;
            };
            if !sent.insert(change.event_id.as_str()) {
                continue;
            }
            let tenant = item.inbound.tenant;
            if !changes.contains_key(&tenant) {
                tenants.push(tenant);
            }
            let mut change = change.clone();
            // The push of this change continues the event's trace.
            change.traceparent = propagation::traceparent(&item.span);
            changes.entry(tenant).or_default().push(change);
        }
        // A fetch of group messages can carry many thousands of changes; split each tenant's
        // into messages of at most `max_changes_per_message` (~250 bytes a change), well under
        // NATS's max_payload (1 MiB by default), which a single message would otherwise exceed.
        let per_message = self.settings.max_changes_per_message.max(1);
        let mut messages: Vec<(TenantId, String, v1::FindingChanges)> = Vec::new();
        for tenant in &tenants {
            let mut list = changes.remove(tenant).unwrap_or_default();
            while !list.is_empty() {
                let rest = list.split_off(per_message.min(list.len()));
                messages.push((
                    *tenant,
                    self.bus.subjects().finding_changed(*tenant),
                    finding_changes(*tenant, std::mem::replace(&mut list, rest)),
                ));
            }
        }
        let refs: Vec<(String, &v1::FindingChanges)> =
            messages.iter().map(|(_, s, m)| (s.clone(), m)).collect();
        let published = self.bus.publish_all(&refs).await;
        let failed: HashSet<TenantId> = messages
            .iter()
            .zip(&published)
            .filter_map(|((tenant, _, _), outcome)| match outcome {
                Ok(_) => None,
                Err(err) => {
                    tracing::warn!(%tenant, error = %err, "publishing finding changes failed");
                    Some(*tenant)
                }
            })
            .collect();
        for (item, outcome) in ready.iter().zip(outcomes) {
            let inbound = &item.inbound;
            let verdict = match outcome {
                Ok(applied) if applied.change().is_some() && failed.contains(&inbound.tenant) => {
                    Verdict::Retry
                }
                Ok(applied) => {
                    self.count(applied.outcome());
                    if applied == Applied::Refused {
                        metrics::counter!("lockstep_vendor_versions_refused_total",
                            "channel" => inbound.channel.as_str())
                        .increment(1);
                    }
                    if matches!(applied, Applied::Applied { .. }) {
                        metrics::histogram!("lockstep_sync_lag_seconds", "channel" => inbound.channel.as_str())
                            .record(lag_seconds(inbound, now));
                    }
                    Verdict::Ack
                }
                Err(verdict) => verdict,
            };
            if verdict == Verdict::Retry {
                self.count("retried");
            }
            item.span.record("outcome", verdict_name(verdict));
            verdicts[item.delivery] = verdicts[item.delivery].max(verdict);
        }
        join_all(
            batch
                .iter()
                .zip(verdicts)
                .map(|(delivery, verdict)| async move {
                    let settled = match verdict {
                        Verdict::Settled => return,
                        Verdict::Ack => delivery.ack().await,
                        Verdict::Retry => delivery.nak(self.settings.retry_delay).await,
                    };
                    if let Err(err) = settled {
                        // The message comes back after ack_wait; its events are then duplicates.
                        tracing::warn!(sequence = delivery.stream_sequence(), error = %err,
                    "settling a message failed");
                    }
                }),
        )
        .await;
    }

    /// Dead-letters a whole message; `Settled` when done, `Retry` when the copy could not be
    /// stored (the message comes back).
    async fn dead_letter(&self, delivery: &Delivery, reason: &str) -> Verdict {
        tracing::warn!(
            subject = delivery.subject(),
            sequence = delivery.stream_sequence(),
            reason,
            "dead-lettering an event that can never apply"
        );
        match delivery
            .dead_letter(&self.bus, &self.settings.consumer, reason)
            .await
        {
            Ok(()) => {
                self.count("dead_lettered");
                Verdict::Settled
            }
            Err(err) => {
                tracing::warn!(error = %err, "dead-lettering failed; the event will come back");
                Verdict::Retry
            }
        }
    }

    /// Dead-letters one delivery of a group message; the message is then acked with the rest
    /// (`Ack`), or comes back when the copy could not be stored (`Retry`).
    async fn dead_letter_part(
        &self,
        delivery: &Delivery,
        part: usize,
        event: &v1::WebhookReceived,
        reason: &str,
    ) -> Verdict {
        tracing::warn!(
            subject = delivery.subject(),
            sequence = delivery.stream_sequence(),
            part,
            event_id = %event.event_id,
            reason,
            "dead-lettering a delivery that can never apply"
        );
        match delivery
            .dead_letter_part(&self.bus, &self.settings.consumer, part, event, reason)
            .await
        {
            Ok(()) => {
                self.count("dead_lettered");
                Verdict::Ack
            }
            Err(err) => {
                tracing::warn!(error = %err, "dead-lettering failed; the message will come back");
                Verdict::Retry
            }
        }
    }

    fn count(&self, outcome: &'static str) {
        metrics::counter!("lockstep_events_total",
            "consumer" => self.settings.consumer.clone(), "outcome" => outcome)
        .increment(1);
    }
}

/// The span of one event: a consumer span continuing the trace the event carries (a webhook
/// delivery's own `traceparent`, else its message's headers).
fn event_span(delivery: &Delivery, inbound: &Inbound) -> tracing::Span {
    let span = tracing::info_span!(
        parent: None,
        "apply_event",
        otel.kind = "consumer",
        messaging.system = "nats",
        messaging.operation.type = "process",
        event_id = %inbound.event_id,
        channel = inbound.channel.as_str(),
        outcome = tracing::field::Empty,
    );
    delivery.continue_item_trace(&span, &inbound.traceparent);
    span
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Ack => "done",
        Verdict::Retry => "retry",
        Verdict::Settled => "dead_lettered",
    }
}
