//! Durable pull consumers with explicit acks. Any number of replicas of a service bind to the same
//! durable consumer and share its messages. A message is acked only after its effect is committed;
//! until then JetStream redelivers it after `ack_wait`.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{
    self, AckKind,
    consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull},
};
use futures::StreamExt;

use lockstep_platform::telemetry::propagation;

use crate::{Bus, BusError, Event, trace};

/// How a consumer is configured on the server.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// How long the server waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// Deliveries before the server gives up; consumers dead-letter before reaching it.
    pub max_deliver: i64,
    /// Unacked messages in flight across all replicas.
    pub max_ack_pending: i64,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_secs(30),
            max_deliver: 20,
            max_ack_pending: 1000,
        }
    }
}

/// A bound durable consumer.
pub struct EventConsumer {
    name: String,
    inner: PullConsumer,
}

impl Bus {
    /// Creates (or binds to) the durable consumer `name` over `filters`.
    pub async fn consumer(
        &self,
        name: &str,
        filters: Vec<String>,
        settings: &ConsumerSettings,
    ) -> Result<EventConsumer, BusError> {
        let stream_name = self.subjects.stream_name();
        let consumer_err = |e: Box<dyn std::error::Error + Send + Sync>| BusError::Consumer {
            stream: stream_name.clone(),
            consumer: name.to_owned(),
            source: e,
        };
        let stream = self
            .js
            .get_stream(&stream_name)
            .await
            .map_err(|e| consumer_err(Box::new(e)))?;
        let config = pull::Config {
            durable_name: Some(name.to_owned()),
            filter_subjects: filters,
            ack_policy: AckPolicy::Explicit,
            deliver_policy: DeliverPolicy::All,
            ack_wait: settings.ack_wait,
            max_deliver: settings.max_deliver,
            max_ack_pending: settings.max_ack_pending,
            ..Default::default()
        };
        let inner: PullConsumer = stream
            .get_or_create_consumer(name, config)
            .await
            .map_err(|e| consumer_err(Box::new(e)))?;
        Ok(EventConsumer {
            name: name.to_owned(),
            inner,
        })
    }
}

impl EventConsumer {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits up to `wait` for messages and returns at most `max` of them (possibly none).
    pub async fn fetch(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError> {
        let receive_err = |e: Box<dyn std::error::Error + Send + Sync>| BusError::Receive {
            consumer: self.name.clone(),
            source: e,
        };
        let mut batch = self
            .inner
            .fetch()
            .max_messages(max)
            .expires(wait)
            .messages()
            .await
            .map_err(|e| receive_err(Box::new(e)))?;
        let mut out = Vec::with_capacity(max);
        while let Some(message) = batch.next().await {
            let message = message.map_err(&receive_err)?;
            out.push(Delivery { message });
        }
        Ok(out)
    }
}

/// One delivered message, to be acked, nakked or dead-lettered exactly once.
pub struct Delivery {
    message: jetstream::Message,
}

impl Delivery {
    pub fn subject(&self) -> &str {
        self.message.subject.as_str()
    }

    pub fn payload(&self) -> &[u8] {
        &self.message.payload
    }

    pub fn headers(&self) -> Option<&HeaderMap> {
        self.message.headers.as_ref()
    }

    /// The `Nats-Msg-Id` the publisher set.
    pub fn message_id(&self) -> Option<&str> {
        self.headers()?
            .get(async_nats::header::NATS_MESSAGE_ID)
            .map(|v| v.as_str())
    }

    /// How many times this message has been delivered, 1 on the first delivery.
    pub fn delivered(&self) -> i64 {
        self.message.info().map(|i| i.delivered).unwrap_or(1)
    }

    pub fn stream_sequence(&self) -> u64 {
        self.message.info().map(|i| i.stream_sequence).unwrap_or(0)
    }

    pub fn decode<E: Event>(&self) -> Result<E, BusError> {
        E::decode(self.payload()).map_err(|source| BusError::Decode {
            subject: self.subject().to_owned(),
            kind: E::KIND,
            source,
        })
    }

    /// Makes `span` continue the publisher's trace (call before the span is entered).
    pub fn continue_trace(&self, span: &tracing::Span) {
        propagation::continue_trace(span, trace::extract(self.headers()));
    }

    /// Makes `span` continue the trace of one item of this message: the item's own `traceparent`
    /// (a delivery of a webhook group, a change of a `FindingChanges`) when it has one, else the
    /// message's headers. Call before the span is entered.
    pub fn continue_item_trace(&self, span: &tracing::Span, traceparent: &str) {
        propagation::continue_trace(span, trace::item_context(traceparent, self.headers()));
    }

    /// Acknowledges, waiting for the server's confirmation so an applied event is not redelivered
    /// because the ack was lost.
    pub async fn ack(&self) -> Result<(), BusError> {
        self.message.double_ack().await.map_err(|e| self.ack_err(e))
    }

    /// Asks for redelivery after `delay` (a transient failure such as a database outage).
    pub async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        self.message
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(|e| self.ack_err(e))
    }

    /// Copies the message to the consumer's dead-letter subject with the reason, then tells the
    /// server never to redeliver it.
    pub async fn dead_letter(
        &self,
        bus: &Bus,
        consumer: &str,
        reason: &str,
    ) -> Result<(), BusError> {
        let headers = self.headers().cloned().unwrap_or_default();
        // The dead-letter copy must not be deduplicated against the original's id.
        let id = format!("dl-{}-{}", consumer, self.stream_sequence());
        self.publish_dead_letter(
            bus,
            consumer,
            reason,
            headers,
            &id,
            self.message.payload.clone(),
        )
        .await?;
        self.message
            .ack_with(AckKind::Term)
            .await
            .map_err(|e| self.ack_err(e))
    }

    /// Dead-letters `event`, part `part` of this message (one delivery of a batch), with the
    /// reason. The message itself is left to be acked or nakked with its other parts.
    pub async fn dead_letter_part<E: Event>(
        &self,
        bus: &Bus,
        consumer: &str,
        part: usize,
        event: &E,
        reason: &str,
    ) -> Result<(), BusError> {
        let mut headers = HeaderMap::new();
        headers.insert("Lockstep-Event", E::KIND);
        // Names the delivery even when its copy has to be cut to fit.
        headers.insert("Lockstep-Event-Id", header_text(event.event_id(), 256));
        let id = format!("dl-{}-{}-{part}", consumer, self.stream_sequence());
        self.publish_dead_letter(
            bus,
            consumer,
            reason,
            headers,
            &id,
            event.encode_to_vec().into(),
        )
        .await
    }

    /// The `Lockstep-Event` header: which event type the payload is (see [`Event::KIND`]).
    pub fn kind(&self) -> Option<&str> {
        self.headers()?.get("Lockstep-Event").map(|v| v.as_str())
    }

    async fn publish_dead_letter(
        &self,
        bus: &Bus,
        consumer: &str,
        reason: &str,
        mut headers: HeaderMap,
        id: &str,
        payload: bytes::Bytes,
    ) -> Result<(), BusError> {
        let subject = bus.subjects().dead_letter(consumer);
        headers.insert(
            "Lockstep-Dead-Letter-Reason",
            header_text(reason, MAX_REASON),
        );
        headers.insert("Lockstep-Original-Subject", self.subject());
        headers.insert(
            "Lockstep-Original-Sequence",
            self.stream_sequence().to_string(),
        );
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id);
        let payload = fit_dead_letter(&mut headers, payload, bus.client().max_payload());
        let publish_err = |e: Box<dyn std::error::Error + Send + Sync>| BusError::Publish {
            subject: subject.clone(),
            source: e,
        };
        bus.jetstream()
            .publish_with_headers(subject.clone(), headers, payload)
            .await
            .map_err(|e| publish_err(Box::new(e)))?
            .await
            .map_err(|e| publish_err(Box::new(e)))?;
        Ok(())
    }

    fn ack_err(&self, e: async_nats::Error) -> BusError {
        BusError::Ack {
            sequence: self.stream_sequence(),
            source: e,
        }
    }
}

/// The longest dead-letter reason kept, in bytes.
const MAX_REASON: usize = 1024;

/// `text` as a header value: control characters (which would break NATS's header framing)
/// become spaces, and it is cut to at most `max` bytes at a character boundary.
fn header_text(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Bytes `headers` take on the wire, as NATS counts them against max_payload: "NATS/1.0\r\n",
/// "<name>: <value>\r\n" each, then "\r\n".
fn headers_len(headers: &HeaderMap) -> usize {
    let entries: usize = headers
        .iter()
        .flat_map(|(name, values)| {
            let name: &str = name.as_ref();
            values
                .iter()
                .map(move |v| name.len() + 2 + v.as_str().len() + 2)
        })
        .sum();
    10 + entries + 2
}

/// A dead letter must always be storable, or the message it stands for can be neither applied
/// nor dead-lettered. When `payload` and `headers` together exceed `max_payload`, the payload is
/// cut to fit, and two headers keep what was cut: its original length and its SHA-256 (hex).
fn fit_dead_letter(
    headers: &mut HeaderMap,
    payload: bytes::Bytes,
    max_payload: usize,
) -> bytes::Bytes {
    if headers_len(headers) + payload.len() <= max_payload {
        return payload;
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, &payload);
    headers.insert(
        "Lockstep-Dead-Letter-Original-Length",
        payload.len().to_string(),
    );
    headers.insert("Lockstep-Dead-Letter-Sha256", hex::encode(digest));
    let keep = max_payload.saturating_sub(headers_len(headers));
    payload.slice(..keep.min(payload.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(reason: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("Lockstep-Event", "webhook_received");
        headers.insert(
            "Lockstep-Dead-Letter-Reason",
            header_text(reason, MAX_REASON),
        );
        headers.insert(async_nats::header::NATS_MESSAGE_ID, "dl-sync-applier-7-0");
        headers
    }

    #[test]
    fn a_dead_letter_that_fits_is_left_whole() {
        let mut h = headers("bad body");
        let payload = bytes::Bytes::from(vec![7u8; 1000]);
        let out = fit_dead_letter(&mut h, payload.clone(), 1024 * 1024);
        assert_eq!(out, payload);
        assert!(h.get("Lockstep-Dead-Letter-Sha256").is_none());
    }

    #[test]
    fn a_dead_letter_too_large_is_cut_to_fit_and_keeps_its_length_and_digest() {
        let max = 1024 * 1024;
        let mut h = headers(&"a long reason\r\n".repeat(500));
        let payload = bytes::Bytes::from(vec![7u8; max]);
        let out = fit_dead_letter(&mut h, payload.clone(), max);
        assert!(headers_len(&h) + out.len() <= max);
        assert!(
            out.len() > max - 4096,
            "keeps as much as fits: {}",
            out.len()
        );
        assert_eq!(out[..], payload[..out.len()]);
        assert_eq!(
            h.get("Lockstep-Dead-Letter-Original-Length")
                .unwrap()
                .as_str(),
            max.to_string()
        );
        let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, &payload));
        assert_eq!(
            h.get("Lockstep-Dead-Letter-Sha256").unwrap().as_str(),
            digest
        );
        let reason = h.get("Lockstep-Dead-Letter-Reason").unwrap().as_str();
        assert!(reason.len() <= MAX_REASON && !reason.contains(['\r', '\n']));
    }

    #[test]
    fn reasons_are_cut_at_a_character_boundary() {
        assert_eq!(header_text("ééé", 3), "é");
        assert_eq!(header_text("a\u{7}b", 10), "a b");
    }
}
