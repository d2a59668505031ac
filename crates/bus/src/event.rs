//! The events that travel on the stream. Each knows its dedupe id, so publishing can set
//! `Nats-Msg-Id` without the caller having to remember.

use lockstep_proto::v1;

pub trait Event: prost::Message + Default {
    /// A short name for errors and metrics.
    const KIND: &'static str;
    /// Stable id of the event: the same fact published twice carries the same id.
    fn event_id(&self) -> &str;
}

macro_rules! event {
    ($ty:ty, $kind:literal) => {
        impl Event for $ty {
            const KIND: &'static str = $kind;
            fn event_id(&self) -> &str {
                &self.event_id
            }
        }
    };
}

event!(v1::WebhookReceived, "webhook_received");
event!(v1::TicketObserved, "ticket_observed");
event!(v1::FindingChanged, "finding_changed");
event!(v1::TicketCreated, "ticket_created");
