//! Publishing with acknowledgement: a publish returns only once JetStream has stored the event (or
//! recognised it as a duplicate), which is what lets ingest-webhook answer 2xx safely.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::context::PublishAckFuture;

use tracing::Instrument as _;

use crate::{Bus, BusError, Event, trace};

/// What JetStream said about a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub sequence: u64,
    /// The server had already stored an event with this id within the duplicate window.
    pub duplicate: bool,
}

const ACK_TIMEOUT: Duration = Duration::from_secs(10);

impl Bus {
    /// Publishes `event` to `subject` with `Nats-Msg-Id` = its event id and the current trace
    /// context, and waits for JetStream's acknowledgement.
    pub async fn publish<E: Event>(&self, subject: &str, event: &E) -> Result<Published, BusError> {
        let ack = self.send(subject, event).await?;
        wait_ack(subject, ack).await
    }

    /// Publishes every `(subject, event)` as [`Bus::publish`] does, pipelined: all are sent before
    /// any acknowledgement is awaited, then the acknowledgements are awaited together. One result
    /// per event, in order; a failure of one does not stop the others.
    pub async fn publish_all<E: Event>(
        &self,
        events: &[(String, &E)],
    ) -> Vec<Result<Published, BusError>> {
        let mut pending = Vec::with_capacity(events.len());
        for (subject, event) in events {
            pending.push(self.send(subject, *event).await);
        }
        futures::future::join_all(
            events
                .iter()
                .zip(pending)
                .map(|((subject, _), sent)| async move { wait_ack(subject, sent?).await }),
        )
        .await
    }

    /// Hands the event to the client; the returned future resolves with JetStream's ack.
    /// The message's `traceparent` header names a producer span, a child of the caller's current
    /// span, so a consumer's span hangs below the publish in the same trace.
    async fn send<E: Event>(&self, subject: &str, event: &E) -> Result<PublishAckFuture, BusError> {
        let span = tracing::info_span!(
            "publish",
            otel.name = %format_args!("publish {}", E::KIND),
            otel.kind = "producer",
            messaging.system = "nats",
            messaging.operation.type = "send",
            messaging.destination.name = subject,
            messaging.message.id = event.event_id(),
        );
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, event.event_id());
        headers.insert("Lockstep-Event", E::KIND);
        trace::inject(&span, &mut headers);
        let payload = event.encode_to_vec();
        self.js
            .publish_with_headers(subject.to_owned(), headers, payload.into())
            .instrument(span)
            .await
            .map_err(|e| BusError::Publish {
                subject: subject.to_owned(),
                source: Box::new(e),
            })
    }
}

async fn wait_ack(subject: &str, ack_future: PublishAckFuture) -> Result<Published, BusError> {
    let ack = tokio::time::timeout(ACK_TIMEOUT, ack_future)
        .await
        .map_err(|_| BusError::PublishTimeout {
            subject: subject.to_owned(),
            timeout: ACK_TIMEOUT,
        })?
        .map_err(|e| BusError::Publish {
            subject: subject.to_owned(),
            source: Box::new(e),
        })?;
    Ok(Published {
        sequence: ack.sequence,
        duplicate: ack.duplicate,
    })
}
