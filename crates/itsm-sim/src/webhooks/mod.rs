//! Outbound webhook delivery, vendor-neutral. A vendor emulator hands over an [`OutboundEvent`]
//! (exact body bytes plus an event id); every registered target whose vendor and topic match gets
//! it, signed per Standard Webhooks when the target has a secret and/or carrying a token header when
//! it has a token. Delivery misbehaves on request: drop rate, fixed delay plus jitter, duplication
//! and reordering, all drawn from the seeded RNG. Every attempt (and every drop) is recorded with
//! what was sent and the response code, for `GET /_sim/webhooks/deliveries`.

pub mod sign;
mod worker;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;

pub(crate) use worker::run as run_worker;

use crate::rng::SimRng;

pub const DEFAULT_TOKEN_HEADER: &str = "x-lockstep-token";

/// One event a vendor emulator emits.
#[derive(Clone, Debug)]
pub struct OutboundEvent {
    pub vendor: String,
    /// What the event is about (ServiceNow: the table name). Targets may filter on it.
    pub topic: String,
    /// Stable id of the event, sent as `webhook-id` (the same on duplicates and redeliveries).
    pub event_id: String,
    pub body: Vec<u8>,
    /// Vendor headers sent with every attempt (Jira: `X-Atlassian-Webhook-Identifier`, `-Flow`).
    pub headers: Vec<(String, String)>,
}

/// How a target's deliveries are authenticated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signing {
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (with a secret).
    #[default]
    StandardWebhooks,
    /// WebSub style `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>` when a secret is set,
    /// and none of the Standard Webhooks headers (Jira admin webhooks).
    HubSha256,
}

/// Sender-side retries of failed attempts (the ServiceNow business rule does not retry; Jira does).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub backoff_ms: u64,
    /// Answers that are retried (besides connection failures and timeouts).
    pub statuses: Vec<u16>,
    /// Whether every 5xx is retried too.
    pub server_errors: bool,
    /// Header carrying the retry count on retries (absent on the first attempt).
    pub header: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookTargetSpec {
    pub url: String,
    /// Standard Webhooks secret: `webhook-signature` is sent when present.
    pub secret: Option<String>,
    /// Shared token: sent in `token_header` when present.
    pub token: Option<String>,
    /// Header carrying the token; `x-lockstep-token` when absent.
    pub token_header: Option<String>,
    /// Vendor whose events this target receives; `servicenow` when absent.
    pub vendor: Option<String>,
    /// Topics (ServiceNow: tables) to receive; all when empty.
    pub topics: Vec<String>,
    pub signing: Signing,
    pub retry: Option<RetryPolicy>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookTarget {
    pub id: String,
    #[serde(flatten)]
    pub spec: WebhookTargetSpec,
}

impl WebhookTarget {
    fn receives(&self, vendor: &str, topic: &str) -> bool {
        self.spec.vendor.as_deref().unwrap_or("servicenow") == vendor
            && (self.spec.topics.is_empty() || self.spec.topics.iter().any(|t| t == topic))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryBehaviour {
    /// Probability that an event is never sent to a target.
    pub drop_rate: f64,
    /// Fixed delay before sending.
    pub delay_ms: u64,
    /// Uniform extra delay in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Probability that an event is sent twice (same `webhook-id`, like a sender retry).
    pub duplicate_rate: f64,
    /// Probability that an event is held back by `reorder_delay_ms`, so later events overtake it.
    pub reorder_rate: f64,
    pub reorder_delay_ms: u64,
    /// Per-attempt timeout.
    pub timeout_ms: u64,
}

impl Default for DeliveryBehaviour {
    fn default() -> Self {
        Self {
            drop_rate: 0.0,
            delay_ms: 0,
            jitter_ms: 0,
            duplicate_rate: 0.0,
            reorder_rate: 0.0,
            reorder_delay_ms: 1000,
            timeout_ms: 10_000,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    Pending,
    Dropped,
    Delivered,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: u64,
    pub target_id: String,
    pub url: String,
    pub vendor: String,
    pub topic: String,
    pub event_id: String,
    /// 1 for the first send; duplicates and redeliveries count up.
    pub attempt: u32,
    pub outcome: DeliveryOutcome,
    /// HTTP status the target answered with.
    pub status: Option<u16>,
    pub error: Option<String>,
    /// Headers as sent (empty for drops and pending deliveries).
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub queued_at_ms: i64,
    pub sent_at_ms: Option<i64>,
    /// Retries of this event's first attempt so far (0 for the first attempt).
    #[serde(default)]
    pub retry: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_headers: Vec<(String, String)>,
}

pub(crate) struct Job {
    pub generation: u64,
    pub delivery_id: u64,
    pub due: Instant,
    pub target: WebhookTarget,
    pub event: Arc<OutboundEvent>,
    pub attempt: u32,
    pub retry: u32,
}

#[derive(Default)]
struct State {
    generation: u64,
    targets: Vec<WebhookTarget>,
    behaviour: DeliveryBehaviour,
    deliveries: Vec<Delivery>,
    next_target: u64,
    next_delivery: u64,
}

pub struct Webhooks {
    state: Mutex<State>,
    tx: mpsc::UnboundedSender<Job>,
    rng: Arc<SimRng>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks").finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl Webhooks {
    pub(crate) fn new(rng: Arc<SimRng>) -> (Self, mpsc::UnboundedReceiver<Job>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Self {
                state: Mutex::new(State::default()),
                tx,
                rng,
            },
            rx,
        )
    }

    pub fn add_target(&self, spec: WebhookTargetSpec) -> WebhookTarget {
        let mut s = self.state.lock();
        s.next_target += 1;
        let target = WebhookTarget {
            id: format!("wh_{}", s.next_target),
            spec,
        };
        s.targets.push(target.clone());
        target
    }

    pub fn remove_target(&self, id: &str) -> bool {
        let mut s = self.state.lock();
        let before = s.targets.len();
        s.targets.retain(|t| t.id != id);
        before != s.targets.len()
    }

    pub fn targets(&self) -> Vec<WebhookTarget> {
        self.state.lock().targets.clone()
    }

    pub fn behaviour(&self) -> DeliveryBehaviour {
        self.state.lock().behaviour.clone()
    }

    pub fn set_behaviour(&self, b: DeliveryBehaviour) {
        self.state.lock().behaviour = b;
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state.lock().deliveries.clone()
    }

    pub fn clear_deliveries(&self) {
        self.state.lock().deliveries.clear();
    }

    /// Forgets targets, deliveries and behaviour; jobs already queued are discarded by the worker.
    pub fn reset(&self) {
        let mut s = self.state.lock();
        let generation = s.generation + 1;
        *s = State {
            generation,
            ..State::default()
        };
    }

    /// Whether any target would receive an event of this vendor and topic.
    pub fn wants(&self, vendor: &str, topic: &str) -> bool {
        self.state
            .lock()
            .targets
            .iter()
            .any(|t| t.receives(vendor, topic))
    }

    /// Schedules `event` for every matching target according to the delivery behaviour.
    pub fn emit(&self, event: OutboundEvent) {
        let event = Arc::new(event);
        let mut s = self.state.lock();
        let targets: Vec<WebhookTarget> = s
            .targets
            .iter()
            .filter(|t| t.receives(&event.vendor, &event.topic))
            .cloned()
            .collect();
        let b = s.behaviour.clone();
        for target in targets {
            if self.rng.chance(b.drop_rate) {
                let id = Self::record(&mut s, &target, &event, 1);
                if let Some(d) = s.deliveries.iter_mut().find(|d| d.id == id) {
                    d.outcome = DeliveryOutcome::Dropped;
                }
                continue;
            }
            let copies = if self.rng.chance(b.duplicate_rate) {
                2
            } else {
                1
            };
            for attempt in 1..=copies {
                let mut delay = b.delay_ms + self.rng.up_to(b.jitter_ms);
                if self.rng.chance(b.reorder_rate) {
                    delay += b.reorder_delay_ms;
                }
                self.schedule(
                    &mut s,
                    &target,
                    &event,
                    attempt,
                    Duration::from_millis(delay),
                );
            }
        }
    }

    /// Sends a recorded delivery's event once more, now, with the same `webhook-id`.
    pub fn redeliver(&self, delivery_id: u64) -> Option<u64> {
        let mut s = self.state.lock();
        let old = s.deliveries.iter().find(|d| d.id == delivery_id)?.clone();
        let target = s.targets.iter().find(|t| t.id == old.target_id)?.clone();
        let attempt = s
            .deliveries
            .iter()
            .filter(|d| d.event_id == old.event_id && d.target_id == old.target_id)
            .count();
        let event = Arc::new(OutboundEvent {
            vendor: old.vendor,
            topic: old.topic,
            event_id: old.event_id,
            body: old.body.into_bytes(),
            headers: old.event_headers,
        });
        Some(self.schedule(&mut s, &target, &event, attempt as u32 + 1, Duration::ZERO))
    }

    /// Schedules the next retry of a failed attempt if the target's policy allows one.
    pub(crate) fn retry_after_failure(&self, job: &Job, result: &Result<u16, String>) {
        let Some(policy) = &job.target.spec.retry else {
            return;
        };
        let retryable = match result {
            Ok(status) => {
                policy.statuses.contains(status)
                    || (policy.server_errors && (500..600).contains(status))
            }
            Err(_) => true,
        };
        if !retryable || job.retry >= policy.max_retries {
            return;
        }
        let mut s = self.state.lock();
        if s.generation != job.generation || !s.targets.iter().any(|t| t.id == job.target.id) {
            return;
        }
        let delivery_id = Self::record(&mut s, &job.target, &job.event, job.attempt + 1);
        if let Some(d) = s.deliveries.iter_mut().find(|d| d.id == delivery_id) {
            d.retry = job.retry + 1;
        }
        let _ = self.tx.send(Job {
            generation: s.generation,
            delivery_id,
            due: Instant::now() + Duration::from_millis(policy.backoff_ms),
            target: job.target.clone(),
            event: job.event.clone(),
            attempt: job.attempt + 1,
            retry: job.retry + 1,
        });
    }

    fn schedule(
        &self,
        s: &mut State,
        target: &WebhookTarget,
        event: &Arc<OutboundEvent>,
        attempt: u32,
        delay: Duration,
    ) -> u64 {
        let delivery_id = Self::record(s, target, event, attempt);
        let job = Job {
            generation: s.generation,
            delivery_id,
            due: Instant::now() + delay,
            target: target.clone(),
            event: event.clone(),
            attempt,
            retry: 0,
        };
        // The worker only goes away at shutdown, when nothing waits for deliveries any more.
        let _ = self.tx.send(job);
        delivery_id
    }

    fn record(s: &mut State, target: &WebhookTarget, event: &OutboundEvent, attempt: u32) -> u64 {
        s.next_delivery += 1;
        let id = s.next_delivery;
        s.deliveries.push(Delivery {
            id,
            target_id: target.id.clone(),
            url: target.spec.url.clone(),
            vendor: event.vendor.clone(),
            topic: event.topic.clone(),
            event_id: event.event_id.clone(),
            attempt,
            outcome: DeliveryOutcome::Pending,
            status: None,
            error: None,
            headers: BTreeMap::new(),
            body: String::from_utf8_lossy(&event.body).into_owned(),
            queued_at_ms: now_ms(),
            sent_at_ms: None,
            retry: 0,
            event_headers: event.headers.clone(),
        });
        id
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.state.lock().behaviour.timeout_ms.max(1))
    }

    pub(crate) fn is_current(&self, generation: u64) -> bool {
        self.state.lock().generation == generation
    }

    pub(crate) fn finish(
        &self,
        delivery_id: u64,
        headers: BTreeMap<String, String>,
        result: Result<u16, String>,
    ) {
        let mut s = self.state.lock();
        if let Some(d) = s.deliveries.iter_mut().find(|d| d.id == delivery_id) {
            d.headers = headers;
            d.sent_at_ms = Some(now_ms());
            match result {
                Ok(status) => {
                    d.status = Some(status);
                    d.outcome = if (200..300).contains(&status) {
                        DeliveryOutcome::Delivered
                    } else {
                        DeliveryOutcome::Failed
                    };
                }
                Err(e) => {
                    d.error = Some(e);
                    d.outcome = DeliveryOutcome::Failed;
                }
            }
        }
    }
}
