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

    /// Makes `span` continue the publisher's trace.
    pub fn continue_trace(&self, span: &tracing::Span) {
        trace::continue_trace(span, self.headers());
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
        headers.insert("Lockstep-Dead-Letter-Reason", reason);
        headers.insert("Lockstep-Original-Subject", self.subject());
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id);
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
