//! Group commit of verified deliveries into JetStream.
//!
//! Under `sync_interval: always` nats-server fsyncs every stored message on its own, one after
//! another, so one message per delivery caps ingest at the disk's sync rate however many senders
//! there are (measured: 32-message atomic batches store no faster than single publishes). Here the
//! deliveries of one integration that arrive while that integration's publishes are in flight wait
//! in its lane and go out together as the next `WebhookBatch` message: one write and one fsync for
//! all of them. Nothing waits on a timer: an idle lane publishes a delivery at once, alone, and the
//! groups grow only as far as the load makes them.
//!
//! Every delivery is answered only once the message holding it is acknowledged, so an accepted
//! delivery is as durable as before. Publishing runs in its own task, never in a request's future,
//! so a client that hangs up cannot cancel the publish the others in its group are waiting for.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use lockstep_bus::{Bus, BusError, Published, webhook_batch};
use lockstep_domain::{IntegrationId, TenantId};
use lockstep_platform::telemetry::propagation;
use lockstep_proto::v1;
use parking_lot::Mutex;
use prost::Message as _;
use tokio::sync::oneshot;
use tracing::Instrument as _;

/// How large a group may grow, and how many publishes one integration may have in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GroupLimits {
    pub max_deliveries: usize,
    /// Encoded size of a group's deliveries, framing included; a single larger delivery still
    /// goes, alone. At most the server's max_payload less `limits::ENVELOPE_RESERVE` (checked at
    /// start), so a group's message always fits; a lone delivery fits by the body limit.
    pub max_bytes: usize,
    pub publishes_in_flight: usize,
    /// Queued deliveries per integration beyond which abandoned ones (already answered 503) are
    /// dropped from the queue rather than kept for a stalled server.
    pub max_queued: usize,
}

/// The outcome every delivery of a group shares.
pub(crate) type GroupResult = Result<Published, Arc<BusError>>;

pub(crate) struct GroupCommit {
    bus: Bus,
    limits: GroupLimits,
    // One lane per integration that has received a delivery since start: a few hundred bytes
    // each, and bounded by the number of integrations, so lanes are never removed.
    lanes: Mutex<HashMap<(TenantId, IntegrationId), Arc<Lane>>>,
}

struct Lane {
    tenant: TenantId,
    integration: IntegrationId,
    subject: String,
    state: Mutex<LaneState>,
}

#[derive(Default)]
struct LaneState {
    queue: VecDeque<Waiting>,
    /// Publishing tasks running for this lane (at most `publishes_in_flight`).
    flushing: usize,
}

struct Waiting {
    delivery: v1::WebhookReceived,
    size: usize,
    reply: oneshot::Sender<GroupResult>,
}

impl GroupCommit {
    pub fn new(bus: Bus, limits: GroupLimits) -> Self {
        Self {
            bus,
            limits,
            lanes: Mutex::new(HashMap::new()),
        }
    }

    /// Stores `delivery` on its integration's subject, together with whatever else of that
    /// integration is waiting, and returns once JetStream has acknowledged the message holding
    /// it. `Err(None)` means the publishing task ended without an answer (the runtime is
    /// shutting down); the delivery may or may not be stored.
    /// A `notice` delivery (its vendor's payload only names the ticket) goes to the notice
    /// subject, for the poller to re-read, instead of the webhook subject the applier reads.
    pub async fn store(
        &self,
        tenant: TenantId,
        integration: IntegrationId,
        notice: bool,
        delivery: v1::WebhookReceived,
    ) -> Result<Published, Option<Arc<BusError>>> {
        let lane = self.lane(tenant, integration, notice);
        let (reply, answer) = oneshot::channel();
        let size = framed_len(&delivery);
        let start_flusher = {
            let mut state = lane.state.lock();
            if state.queue.len() >= self.limits.max_queued {
                state.queue.retain(|w| !w.reply.is_closed());
            }
            state.queue.push_back(Waiting {
                delivery,
                size,
                reply,
            });
            let start = state.flushing < self.limits.publishes_in_flight.max(1);
            if start {
                state.flushing += 1;
            }
            start
        };
        if start_flusher {
            // Not in the request's span: the task publishes the groups of many requests, each
            // in a span of its own (see `group_span`).
            tokio::spawn(
                flush(lane, self.bus.clone(), self.limits).instrument(tracing::Span::none()),
            );
        }
        match answer.await {
            Ok(result) => result.map_err(Some),
            Err(_) => Err(None),
        }
    }

    fn lane(&self, tenant: TenantId, integration: IntegrationId, notice: bool) -> Arc<Lane> {
        let subjects = self.bus.subjects();
        self.lanes
            .lock()
            .entry((tenant, integration))
            .or_insert_with(|| {
                Arc::new(Lane {
                    tenant,
                    integration,
                    // An integration's vendor never changes, so its lane's subject does not.
                    subject: if notice {
                        subjects.notice(tenant, integration)
                    } else {
                        subjects.webhook(tenant, integration)
                    },
                    state: Mutex::new(LaneState::default()),
                })
            })
            .clone()
    }
}

/// What `delivery` adds to a `WebhookBatch`: its encoding plus the field's tag and length.
fn framed_len(delivery: &v1::WebhookReceived) -> usize {
    let len = delivery.encoded_len();
    1 + prost::length_delimiter_len(len) + len
}

/// Publishes the lane's queue, group after group, until it finds the queue empty. The check for
/// an empty queue and the end of the task happen under the lane's lock, so a delivery queued at
/// any moment is either taken by a running task or starts a new one.
async fn flush(lane: Arc<Lane>, bus: Bus, limits: GroupLimits) {
    loop {
        let group = {
            let mut state = lane.state.lock();
            let group = take_group(&mut state.queue, &limits);
            if group.is_empty() {
                state.flushing -= 1;
                return;
            }
            group
        };
        let (deliveries, replies): (Vec<_>, Vec<_>) =
            group.into_iter().map(|w| (w.delivery, w.reply)).unzip();
        metrics::histogram!("lockstep_webhook_group_deliveries").record(deliveries.len() as f64);
        let span = group_span(&deliveries);
        let message = webhook_batch(lane.tenant, lane.integration, deliveries);
        let result = bus
            .publish(&lane.subject, &message)
            .instrument(span)
            .await
            .map_err(Arc::new);
        if let Err(err) = &result {
            tracing::warn!(deliveries = replies.len(), error = %err, "storing a group of deliveries failed");
        }
        for reply in replies {
            // A receiver that is gone has already answered its sender (503 on timeout).
            let _ = reply.send(result.clone());
        }
    }
}

/// The span a group is published in: a child of its first delivery's request, so the message's
/// `traceparent` header continues that request's trace, with a link to every other delivery's
/// request. Each delivery also carries its own `traceparent`, which the applier continues.
fn group_span(deliveries: &[v1::WebhookReceived]) -> tracing::Span {
    let span = tracing::info_span!(parent: None, "webhook_group", deliveries = deliveries.len());
    if let Some((first, rest)) = deliveries.split_first() {
        if let Some(cx) = propagation::from_traceparent(&first.traceparent) {
            propagation::continue_trace(&span, cx);
        }
        for delivery in rest {
            propagation::link(&span, &delivery.traceparent);
        }
    }
    span
}

/// Takes the next group off the front of `queue`: deliveries whose requests are still waiting,
/// up to the limits, and always at least one of them when any is waiting.
fn take_group(queue: &mut VecDeque<Waiting>, limits: &GroupLimits) -> Vec<Waiting> {
    let mut group = Vec::new();
    let mut bytes = 0;
    while let Some(next) = queue.front() {
        if next.reply.is_closed() {
            queue.pop_front();
            continue;
        }
        let full = group.len() >= limits.max_deliveries.max(1)
            || (!group.is_empty() && bytes + next.size > limits.max_bytes);
        if full {
            break;
        }
        bytes += next.size;
        group.extend(queue.pop_front());
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(size: usize) -> (Waiting, oneshot::Receiver<GroupResult>) {
        let (reply, rx) = oneshot::channel();
        let delivery = v1::WebhookReceived::default();
        (
            Waiting {
                delivery,
                size,
                reply,
            },
            rx,
        )
    }

    const LIMITS: GroupLimits = GroupLimits {
        max_deliveries: 3,
        max_bytes: 100,
        publishes_in_flight: 1,
        max_queued: 10,
    };

    #[test]
    fn a_group_stops_at_the_delivery_limit() {
        let mut queue = VecDeque::new();
        let _rx: Vec<_> = (0..5)
            .map(|_| {
                let (w, rx) = waiting(1);
                queue.push_back(w);
                rx
            })
            .collect();
        assert_eq!(take_group(&mut queue, &LIMITS).len(), 3);
        assert_eq!(take_group(&mut queue, &LIMITS).len(), 2);
        assert!(take_group(&mut queue, &LIMITS).is_empty());
    }

    #[test]
    fn a_group_stops_at_the_byte_limit_but_an_oversized_delivery_still_goes_alone() {
        let mut queue = VecDeque::new();
        let mut keep = Vec::new();
        for size in [60, 30, 20, 500, 10] {
            let (w, rx) = waiting(size);
            queue.push_back(w);
            keep.push(rx);
        }
        let sizes = |g: Vec<Waiting>| g.iter().map(|w| w.size).collect::<Vec<_>>();
        assert_eq!(sizes(take_group(&mut queue, &LIMITS)), [60, 30]);
        assert_eq!(sizes(take_group(&mut queue, &LIMITS)), [20]);
        assert_eq!(sizes(take_group(&mut queue, &LIMITS)), [500]);
        assert_eq!(sizes(take_group(&mut queue, &LIMITS)), [10]);
    }

    #[test]
    fn a_full_group_fits_the_byte_limit_plus_the_envelope_reserve() {
        let (tenant, integration) = (TenantId::new(), IntegrationId::new());
        let limits = GroupLimits {
            max_deliveries: 10_000,
            max_bytes: 64 * 1024,
            ..LIMITS
        };
        let mut queue = VecDeque::new();
        let mut keep = Vec::new();
        for n in 0..100 {
            let delivery = v1::WebhookReceived {
                event_id: format!("wh:{integration}:{n}"),
                tenant_id: tenant.to_string(),
                integration_id: integration.to_string(),
                body: vec![b'x'; 1000 + n],
                ..Default::default()
            };
            let (reply, rx) = oneshot::channel();
            queue.push_back(Waiting {
                size: framed_len(&delivery),
                delivery,
                reply,
            });
            keep.push(rx);
        }
        let group = take_group(&mut queue, &limits);
        assert!(group.len() > 1 && !queue.is_empty());
        let deliveries = group.into_iter().map(|w| w.delivery).collect();
        let message = webhook_batch(tenant, integration, deliveries);
        // The batch's own fields (ids, a digest) are all the envelope adds to the framed sizes.
        assert!(
            message.encoded_len() <= limits.max_bytes + 200,
            "{}",
            message.encoded_len()
        );
    }

    #[test]
    fn deliveries_already_answered_are_not_published() {
        let mut queue = VecDeque::new();
        let (gone, rx) = waiting(1);
        drop(rx);
        queue.push_back(gone);
        let (live, _rx) = waiting(2);
        queue.push_back(live);
        let group = take_group(&mut queue, &LIMITS);
        assert_eq!(group.len(), 1);
        assert_eq!(group[0].size, 2);
        assert!(queue.is_empty());
    }
}
