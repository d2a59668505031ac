//! From a message on the stream to [`Inbound`] observations. Both channels end in the same
//! `TicketObservation`: a webhook body goes through the vendor connector's parser (the one the
//! poller's change feed uses too), a poll event carries the observation already.
//!
//! A webhook message holds a group of deliveries (`WebhookBatch`, ingest-webhook's group commit)
//! or, from older publishers and dead letters, a bare `WebhookReceived`; the `Lockstep-Event`
//! header says which. Each delivery of a group decodes on its own, so one unusable delivery does
//! not take its neighbours with it. Anything that cannot become an observation is [`Unusable`]: it
//! will never apply, however often it is redelivered, so the worker dead-letters it.

use lockstep_bus::{Event, Subjects};
use lockstep_connectors::Registry;
use lockstep_domain::{IntegrationId, SyncChannel, TenantId, TicketObservation, Vendor};
use lockstep_proto::v1;
use prost::Message as _;
use time::OffsetDateTime;

/// One observation to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The stream event's id: the inbox key.
    pub event_id: String,
    pub tenant: TenantId,
    pub integration: IntegrationId,
    pub channel: SyncChannel,
    pub observation: TicketObservation,
    /// The W3C `traceparent` the event carries itself (a webhook delivery: its request's span);
    /// empty when the message's headers are its only trace context (a poll observation).
    pub traceparent: String,
}

/// Why a message can never be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

fn unusable(what: impl Into<String>) -> Unusable {
    Unusable(what.into())
}

/// One part of a message: an observation to apply, or a delivery of a group that can never
/// apply (with the delivery, to dead-letter on its own).
pub type Part = Result<Inbound, Rejected>;

/// A delivery of a group that cannot become an observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub reason: Unusable,
    pub delivery: Box<v1::WebhookReceived>,
}

/// Decodes the message published on `subject` with the `Lockstep-Event` header `kind`, into its
/// parts in order; webhook bodies are parsed by `registry`'s vendors. `Err` means the message as
/// a whole is unusable.
pub fn decode(
    registry: &Registry,
    subjects: &Subjects,
    subject: &str,
    kind: Option<&str>,
    payload: &[u8],
) -> Result<Vec<Part>, Unusable> {
    let tail = subject
        .strip_prefix(subjects.prefix())
        .and_then(|s| s.strip_prefix('.'))
        .unwrap_or_default();
    if tail.starts_with("webhook.") {
        if kind == Some(v1::WebhookBatch::KIND) {
            webhook_batch(registry, payload)
        } else {
            let event = v1::WebhookReceived::decode(payload)
                .map_err(|e| unusable(format!("not a WebhookReceived event: {e}")))?;
            Ok(vec![Ok(webhook(registry, &event)?)])
        }
    } else if tail.starts_with("observed.") {
        Ok(vec![Ok(observed(payload)?)])
    } else {
        Err(unusable(format!(
            "subject {subject} is not one the applier consumes"
        )))
    }
}

/// Delivery `part` of a group message, as [`decode`] read it (to dead-letter it on its own).
pub fn delivery_of(kind: Option<&str>, payload: &[u8], part: usize) -> Option<v1::WebhookReceived> {
    if kind != Some(v1::WebhookBatch::KIND) {
        return None;
    }
    v1::WebhookBatch::decode(payload)
        .ok()?
        .deliveries
        .into_iter()
        .nth(part)
}

fn webhook_batch(registry: &Registry, payload: &[u8]) -> Result<Vec<Part>, Unusable> {
    let batch = v1::WebhookBatch::decode(payload)
        .map_err(|e| unusable(format!("not a WebhookBatch event: {e}")))?;
    if batch.deliveries.is_empty() {
        return Err(unusable("the webhook batch holds no deliveries"));
    }
    Ok(batch
        .deliveries
        .into_iter()
        .map(|delivery| {
            // A delivery travels under its group's tenant and integration (the subject's); one
            // that names others is refused rather than applied in another tenant.
            let owner_matches = delivery.tenant_id == batch.tenant_id
                && delivery.integration_id == batch.integration_id;
            let decoded = if owner_matches {
                webhook(registry, &delivery)
            } else {
                Err(unusable(
                    "a delivery names another tenant or integration than its batch",
                ))
            };
            decoded.map_err(|reason| Rejected {
                reason,
                delivery: Box::new(delivery),
            })
        })
        .collect())
}

fn ids(
    event_id: &str,
    tenant: &str,
    integration: &str,
) -> Result<(TenantId, IntegrationId), Unusable> {
    if event_id.trim().is_empty() {
        return Err(unusable("the event has no event_id"));
    }
    let tenant = tenant
        .parse()
        .map_err(|e| unusable(format!("tenant_id: {e}")))?;
    let integration = integration
        .parse()
        .map_err(|e| unusable(format!("integration_id: {e}")))?;
    Ok((tenant, integration))
}

fn webhook(registry: &Registry, event: &v1::WebhookReceived) -> Result<Inbound, Unusable> {
    let (tenant, integration) = ids(&event.event_id, &event.tenant_id, &event.integration_id)?;
    let vendor: Vendor = event
        .vendor
        .parse()
        .map_err(|e| unusable(format!("vendor: {e}")))?;
    let received_at = event
        .received_at
        .as_ref()
        .and_then(lockstep_proto::from_timestamp)
        .unwrap_or_else(OffsetDateTime::now_utc);
    // The vendor's one payload parser (the same the change feed's observations come from).
    let observation = registry
        .spec(vendor)
        .and_then(|spec| spec.parse_webhook(&event.body, received_at))
        .map_err(|e| unusable(e.to_string()))?
        .observation;
    Ok(Inbound {
        event_id: event.event_id.clone(),
        tenant,
        integration,
        channel: SyncChannel::Webhook,
        observation,
        traceparent: event.traceparent.clone(),
    })
}

/// The channel of a `TicketObserved`: a re-read the poller made on a webhook notice counts as the
/// webhook's doing, one a person asked for as a re-sync; anything else (empty) is a poll. Only
/// these three come from the poller: a `manual` or `api` claim on this subject is not believed.
fn observed_channel(claimed: &str) -> SyncChannel {
    match claimed.parse::<SyncChannel>() {
        Ok(c @ (SyncChannel::Webhook | SyncChannel::Resync)) => c,
        _ => SyncChannel::Poll,
    }
}

fn observed(payload: &[u8]) -> Result<Inbound, Unusable> {
    let event = v1::TicketObserved::decode(payload)
        .map_err(|e| unusable(format!("not a TicketObserved event: {e}")))?;
    let (tenant, integration) = ids(&event.event_id, &event.tenant_id, &event.integration_id)?;
    let wire = event
        .observation
        .as_ref()
        .ok_or_else(|| unusable("the event carries no observation"))?;
    let observation =
        TicketObservation::try_from(wire).map_err(|e| unusable(format!("observation: {e}")))?;
    let channel = observed_channel(&event.channel);
    Ok(Inbound {
        event_id: event.event_id,
        tenant,
        integration,
        channel,
        observation,
        traceparent: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observation_names_webhook_resync_or_poll_and_nothing_else() {
        assert_eq!(observed_channel("webhook"), SyncChannel::Webhook);
        assert_eq!(observed_channel("resync"), SyncChannel::Resync);
        for claimed in ["", "poll", "manual", "api", "bogus"] {
            assert_eq!(observed_channel(claimed), SyncChannel::Poll, "{claimed:?}");
        }
    }
}
