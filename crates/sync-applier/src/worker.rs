//! The consume loop. Each round: fetch up to `batch_size` events, decode them (dead-lettering
//! what can never apply), apply the rest in ONE transaction, commit, publish the resulting
//! `finding.changed` messages (one per tenant of the batch), then acknowledge. If any event of
//! the batch fails, the batch rolls back and its events are applied one transaction each, so one
//! bad event costs its batch a retry, never its neighbours their effect.
//!
//! Crash safety: nothing is acked before its commit, so a crash redelivers; the inbox turns the
//! redelivery into a duplicate, and a duplicate re-publishes the change it caused (the same
//! change id; the same message id too when the batch comes back whole, which JetStream then
//! deduplicates) before it is acked. So a crash between commit and publish loses no change.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::future::join_all;
use lockstep_bus::{Bus, Delivery, EventConsumer, finding_changes};
use lockstep_domain::TenantId;
use lockstep_platform::Shutdown;
use lockstep_proto::v1;
use lockstep_store::Store;
use time::OffsetDateTime;

use crate::apply::{Applied, BatchCache, Failure, apply_one, lag_seconds};
use crate::batch::apply_batch;
use crate::config::ApplierSettings;
use crate::decode::{Inbound, decode};

pub(crate) struct Worker {
    pub store: Store,
    pub bus: Bus,
    pub consumer: EventConsumer,
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

    async fn process(&self, batch: Vec<Delivery>) {
        let started = Instant::now();
        let mut ready = Vec::with_capacity(batch.len());
        for delivery in batch {
            match decode(self.bus.subjects(), delivery.subject(), delivery.payload()) {
                Ok(inbound) => ready.push((delivery, inbound)),
                Err(unusable) => self.dead_letter(&delivery, &unusable.0).await,
            }
        }
        // One lock order for every batch (and older versions first): concurrent batches wait
        // for each other instead of deadlocking.
        ready.sort_by(|(_, a), (_, b)| {
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
        match self.apply_batch(&ready).await {
            Ok(results) => {
                let items: Vec<_> = ready.iter().zip(results).collect();
                self.finish(&items).await;
            }
            Err(err) => {
                tracing::info!(error = %err, events = ready.len(),
                    "batch rolled back; applying its events one by one");
                for item in &ready {
                    self.apply_single(item).await;
                }
            }
        }
        metrics::histogram!("lockstep_applier_batch_seconds")
            .record(started.elapsed().as_secs_f64());
    }

    /// All events in one transaction, with a constant number of statements; any failure rolls
    /// all of them back.
    async fn apply_batch(&self, ready: &[(Delivery, Inbound)]) -> Result<Vec<Applied>, Failure> {
        let mut tx = self.store.begin().await?;
        let events: Vec<&Inbound> = ready.iter().map(|(_, inbound)| inbound).collect();
        let results = apply_batch(&mut tx, &self.settings.consumer, &events).await?;
        tx.commit().await?;
        Ok(results)
    }

    async fn apply_single(&self, item: &(Delivery, Inbound)) {
        let (delivery, inbound) = item;
        let result = async {
            let mut tx = self.store.begin().await?;
            let applied = apply_one(
                &mut tx,
                &mut BatchCache::default(),
                &self.settings.consumer,
                inbound,
            )
            .await?;
            tx.commit().await?;
            Ok::<_, Failure>(applied)
        }
        .await;
        match result {
            Ok(applied) => self.finish(&[(item, applied)]).await,
            Err(Failure::Permanent(reason)) => self.dead_letter(delivery, &reason).await,
            Err(Failure::Transient(err)) => {
                if delivery.delivered() >= self.settings.max_deliver - 1 {
                    let reason = format!(
                        "still failing after {} deliveries: {err}",
                        delivery.delivered()
                    );
                    self.dead_letter(delivery, &reason).await;
                } else {
                    tracing::warn!(event_id = %inbound.event_id, error = %err, "event will be retried");
                    self.count("retried");
                    if let Err(err) = delivery.nak(self.settings.retry_delay).await {
                        tracing::warn!(error = %err, "nak failed; the event comes back after ack_wait");
                    }
                }
            }
        }
    }

    /// After the commit: publish the changes, one `FindingChanges` message per tenant of the batch
    /// (pipelined), then ack the events concurrently. An event whose tenant's message could not be
    /// published is nakked; its redelivery is a duplicate that publishes its change again.
    async fn finish(&self, items: &[(&(Delivery, Inbound), Applied)]) {
        let now = OffsetDateTime::now_utc();
        // Tenants in order of first appearance; each message keeps its changes in batch order.
        let mut tenants: Vec<TenantId> = Vec::new();
        let mut changes: HashMap<TenantId, Vec<v1::FindingChanged>> = HashMap::new();
        // A delivery and its duplicate in the same batch carry the same change; send it once.
        let mut sent: HashSet<&str> = HashSet::new();
        for ((_, inbound), applied) in items {
            if let Some(change) = applied.change() {
                if !sent.insert(change.event_id.as_str()) {
                    continue;
                }
                if !changes.contains_key(&inbound.tenant) {
                    tenants.push(inbound.tenant);
                }
                changes
                    .entry(inbound.tenant)
                    .or_default()
                    .push(change.clone());
            }
        }
        let messages: Vec<(String, v1::FindingChanges)> = tenants
            .iter()
            .map(|tenant| {
                let list = changes.remove(tenant).unwrap_or_default();
                (
                    self.bus.subjects().finding_changed(*tenant),
                    finding_changes(*tenant, list),
                )
            })
            .collect();
        let refs: Vec<(String, &v1::FindingChanges)> =
            messages.iter().map(|(s, m)| (s.clone(), m)).collect();
        let outcomes = self.bus.publish_all(&refs).await;
        let failed: HashSet<TenantId> = tenants
            .iter()
            .zip(&outcomes)
            .filter_map(|(tenant, outcome)| match outcome {
                Ok(_) => None,
                Err(err) => {
                    tracing::warn!(%tenant, error = %err, "publishing finding changes failed");
                    Some(*tenant)
                }
            })
            .collect();
        join_all(items.iter().map(|((delivery, inbound), applied)| {
            let ok = applied.change().is_none() || !failed.contains(&inbound.tenant);
            async move {
                if !ok {
                    self.count("retried");
                    let _ = delivery.nak(self.settings.retry_delay).await;
                    return;
                }
                self.count(applied.outcome());
                if matches!(applied, Applied::Applied { .. }) {
                    metrics::histogram!("lockstep_sync_lag_seconds", "channel" => inbound.channel.as_str())
                        .record(lag_seconds(inbound, now));
                }
                if let Err(err) = delivery.ack().await {
                    // The event comes back and is then a duplicate: no second effect.
                    tracing::warn!(event_id = %inbound.event_id, error = %err, "ack failed");
                }
            }
        }))
        .await;
    }

    async fn dead_letter(&self, delivery: &Delivery, reason: &str) {
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
            Ok(()) => self.count("dead_lettered"),
            Err(err) => {
                tracing::warn!(error = %err, "dead-lettering failed; the event will come back");
                let _ = delivery.nak(self.settings.retry_delay).await;
            }
        }
    }

    fn count(&self, outcome: &'static str) {
        metrics::counter!("lockstep_events_total",
            "consumer" => self.settings.consumer.clone(), "outcome" => outcome)
        .increment(1);
    }
}
