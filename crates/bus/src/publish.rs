//! Publishing with acknowledgement: a publish returns only once JetStream has stored the event (or
//! recognised it as a duplicate), which is what lets ingest-webhook answer 2xx safely.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::header::NATS_MESSAGE_ID;

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
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, event.event_id());
        headers.insert("Lockstep-Event", E::KIND);
        trace::inject_current(&mut headers);
        let payload = event.encode_to_vec();
        let publish_err = |e: Box<dyn std::error::Error + Send + Sync>| BusError::Publish {
            subject: subject.to_owned(),
            source: e,
        };
        let ack_future = self
            .js
            .publish_with_headers(subject.to_owned(), headers, payload.into())
            .await
            .map_err(|e| publish_err(Box::new(e)))?;
        let ack = tokio::time::timeout(ACK_TIMEOUT, ack_future)
            .await
            .map_err(|_| BusError::PublishTimeout {
                subject: subject.to_owned(),
                timeout: ACK_TIMEOUT,
            })?
            .map_err(|e| publish_err(Box::new(e)))?;
        Ok(Published {
            sequence: ack.sequence,
            duplicate: ack.duplicate,
        })
    }
}
