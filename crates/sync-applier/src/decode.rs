//! From a message on the stream to an [`Inbound`] observation. Both channels end in the same
//! `TicketObservation`: a webhook body goes through the vendor connector's parser (the one the
//! poller's change feed uses too), a poll event carries the observation already.
//!
//! Anything that cannot become an observation is [`Unusable`]: it will never apply, however often
//! it is redelivered, so the worker dead-letters it.

use lockstep_bus::Subjects;
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
}

/// Why a message can never be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

fn unusable(what: impl Into<String>) -> Unusable {
    Unusable(what.into())
}

/// Decodes the message published on `subject`.
pub fn decode(subjects: &Subjects, subject: &str, payload: &[u8]) -> Result<Inbound, Unusable> {
    let tail = subject
        .strip_prefix(subjects.prefix())
        .and_then(|s| s.strip_prefix('.'))
        .unwrap_or_default();
    if tail.starts_with("webhook.") {
        webhook(payload)
    } else if tail.starts_with("observed.") {
        observed(payload)
    } else {
        Err(unusable(format!(
            "subject {subject} is not one the applier consumes"
        )))
    }
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

fn webhook(payload: &[u8]) -> Result<Inbound, Unusable> {
    let event = v1::WebhookReceived::decode(payload)
        .map_err(|e| unusable(format!("not a WebhookReceived event: {e}")))?;
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
    let observation = match vendor {
        Vendor::ServiceNow => {
            lockstep_connectors::servicenow::parse_webhook(&event.body, received_at)
                .map_err(|e| unusable(format!("ServiceNow webhook body: {e}")))?
                .observation
        }
        other => {
            return Err(unusable(format!(
                "no webhook parser for {other} yet (it arrives with its connector)"
            )));
        }
    };
    Ok(Inbound {
        event_id: event.event_id,
        tenant,
        integration,
        channel: SyncChannel::Webhook,
        observation,
    })
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
    Ok(Inbound {
        event_id: event.event_id,
        tenant,
        integration,
        channel: SyncChannel::Poll,
        observation,
    })
}
