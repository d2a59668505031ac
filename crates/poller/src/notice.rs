//! Webhook notices: deliveries of a vendor whose payload only names the changed ticket
//! (`VendorSpec::webhook_payload_is_notice`, ServiceDesk Plus: an admin-typed template that
//! nothing signs). ingest-webhook stores them on `notice.<tenant>.<integration>` instead of
//! `webhook.…`, so the applier never applies what such a payload claims. Here each delivery's
//! ticket is re-read through the connector and the reading is published on
//! `observed.<tenant>.<integration>` with channel `webhook` (the webhook moved it), under the
//! same id a poll of that ticket version gets, so a version is applied once whichever comes first
//! (the read and the publication are [`crate::reread`], shared with the re-sync of one ticket).
//!
//! A delivery that can never be re-read (unparsable, unknown integration, a ticket the vendor
//! refuses to show) is dead-lettered on its own; a transient failure (vendor or NATS) naks the
//! whole message, whose re-publish is harmless (stable ids).

use std::time::Duration;

use lockstep_bus::{ConsumerSettings, Delivery, Event as _};
use lockstep_domain::{IntegrationId, SyncChannel, TenantId, Vendor};
use lockstep_platform::Shutdown;
use lockstep_proto::v1;
use lockstep_store::StoreError;
use prost::Message as _;
use time::OffsetDateTime;

use crate::Poller;

/// The durable consumer every replica shares.
pub const CONSUMER: &str = "poller-notices";
const FETCH: usize = 64;
const FETCH_WAIT: Duration = Duration::from_secs(1);
const RETRY: Duration = Duration::from_secs(5);

/// What became of one delivery.
enum Outcome {
    Published,
    /// Never re-readable: dead-letter the delivery with this reason.
    Unusable(String),
    /// Try the whole message again later.
    Retry(String),
}

impl Poller {
    /// Re-reads the tickets webhook notices name until `shutdown` fires.
    pub async fn run_notices(&self, shutdown: Shutdown) {
        let bus = &self.inner.bus;
        let consumer = loop {
            match bus
                .consumer(
                    CONSUMER,
                    vec![bus.subjects().all_notices()],
                    &ConsumerSettings::default(),
                )
                .await
            {
                Ok(c) => break c,
                Err(e) if shutdown.is_triggered() => {
                    tracing::warn!(error = %e, "notice consumer not bound before shutdown");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "binding the notice consumer failed; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
        };
        while !shutdown.is_triggered() {
            match consumer.fetch(FETCH, FETCH_WAIT).await {
                Ok(messages) => {
                    for message in messages {
                        self.handle_notice(&message).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "fetching webhook notices failed");
                    tokio::time::sleep(FETCH_WAIT).await;
                }
            }
        }
    }

    async fn handle_notice(&self, message: &Delivery) {
        let bus = &self.inner.bus;
        let deliveries = if message.kind() == Some(v1::WebhookBatch::KIND) {
            v1::WebhookBatch::decode(message.payload()).map(|b| b.deliveries)
        } else {
            v1::WebhookReceived::decode(message.payload()).map(|d| vec![d])
        };
        let deliveries = match deliveries {
            Ok(d) => d,
            Err(e) => {
                let reason = format!("not a webhook notice: {e}");
                if let Err(e) = message.dead_letter(bus, CONSUMER, &reason).await {
                    tracing::warn!(error = %e, "dead-lettering a notice failed");
                }
                return;
            }
        };
        let mut retry = None;
        for (part, delivery) in deliveries.iter().enumerate() {
            match self.reread(delivery).await {
                Outcome::Published => {}
                Outcome::Unusable(reason) => {
                    tracing::warn!(event_id = %delivery.event_id, %reason, "webhook notice unusable");
                    if let Err(e) = message
                        .dead_letter_part(bus, CONSUMER, part, delivery, &reason)
                        .await
                    {
                        retry = Some(e.to_string());
                    }
                }
                Outcome::Retry(reason) => retry = Some(reason),
            }
        }
        let settled = match retry {
            Some(reason) => {
                tracing::warn!(%reason, "re-reading a notice's ticket failed; retrying later");
                message.nak(RETRY).await
            }
            None => message.ack().await,
        };
        if let Err(e) = settled {
            tracing::warn!(error = %e, "settling a webhook notice failed");
        }
    }

    /// Re-reads the ticket `delivery` names and publishes the reading.
    async fn reread(&self, delivery: &v1::WebhookReceived) -> Outcome {
        let ids = delivery
            .tenant_id
            .parse::<TenantId>()
            .map_err(|e| e.to_string())
            .and_then(|t| {
                let i = delivery
                    .integration_id
                    .parse::<IntegrationId>()
                    .map_err(|e| e.to_string())?;
                Ok((t, i))
            });
        let (tenant, integration) = match ids {
            Ok(ids) => ids,
            Err(e) => return Outcome::Unusable(format!("ids: {e}")),
        };
        let store = &self.inner.store;
        let record = match store.integrations().get(tenant, integration).await {
            Ok(r) => r,
            Err(StoreError::NotFound { .. }) => {
                return Outcome::Unusable(format!("integration {integration} does not exist"));
            }
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        if delivery.vendor.parse::<Vendor>().ok() != Some(record.vendor) {
            return Outcome::Unusable("the delivery's vendor is not its integration's".into());
        }
        let spec = match self.inner.connectors.registry().spec(record.vendor) {
            Ok(spec) => spec,
            Err(e) => return Outcome::Unusable(e.to_string()),
        };
        if !spec.webhook_payload_is_notice() {
            // ingest-webhook routes only notice vendors here: anything else is a mistake.
            return Outcome::Unusable(format!(
                "{} webhook payloads carry the ticket's state; they are not re-read on arrival",
                record.vendor
            ));
        }
        // The payload is trusted only to say WHICH ticket: the state is read from the vendor.
        let named = match spec.parse_webhook(&delivery.body, OffsetDateTime::now_utc()) {
            Ok(event) => event.observation.ticket,
            Err(e) => return Outcome::Unusable(e.to_string()),
        };
        let observation = match self.read_one(&record, &named).await {
            Ok(o) => o,
            Err(e) if e.is_transient() => return Outcome::Retry(e.to_string()),
            Err(e) => return Outcome::Unusable(format!("re-reading {named}: {e}")),
        };
        match self
            .publish_reading(&record, &observation, SyncChannel::Webhook)
            .await
        {
            Ok(_) => Outcome::Published,
            Err(e) => Outcome::Retry(e.to_string()),
        }
    }
}
