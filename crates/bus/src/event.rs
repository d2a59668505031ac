//! The events that travel on the stream. Each knows its dedupe id, so publishing can set
//! `Nats-Msg-Id` without the caller having to remember.

use lockstep_domain::{IntegrationId, TenantId};
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
event!(v1::WebhookBatch, "webhook_batch");
event!(v1::TicketObserved, "ticket_observed");
event!(v1::FindingChanges, "finding_changes");
event!(v1::TicketCreated, "ticket_created");

/// The message for `changes` of `tenant`'s findings (see `FindingChanges` in events.proto). Its id
/// is a digest of the changes' ids in order, so publishing the same changes again is the same
/// message to JetStream's dedupe window, and a different set never collides with it. A change
/// without its own `traceparent` gets the current span's, so the push of that change continues
/// the trace that made it.
pub fn finding_changes(
    tenant: TenantId,
    mut changes: Vec<v1::FindingChanged>,
) -> v1::FindingChanges {
    if changes.iter().any(|c| c.traceparent.is_empty()) {
        let current = crate::trace::current_traceparent();
        for change in changes.iter_mut().filter(|c| c.traceparent.is_empty()) {
            change.traceparent.clone_from(&current);
        }
    }
    v1::FindingChanges {
        event_id: format!("fcs:{}", digest_of_ids(changes.iter().map(|c| &c.event_id))),
        tenant_id: tenant.to_string(),
        changes,
    }
}

/// The message for `deliveries` of one integration (see `WebhookBatch` in events.proto). A lone
/// delivery keeps its own event id as the message id, so JetStream deduplicates its retries as it
/// would a bare delivery; a group gets a digest of its deliveries' ids.
pub fn webhook_batch(
    tenant: TenantId,
    integration: IntegrationId,
    deliveries: Vec<v1::WebhookReceived>,
) -> v1::WebhookBatch {
    let event_id = match deliveries.as_slice() {
        [one] => one.event_id.clone(),
        many => format!("whb:{}", digest_of_ids(many.iter().map(|d| &d.event_id))),
    };
    v1::WebhookBatch {
        event_id,
        tenant_id: tenant.to_string(),
        integration_id: integration.to_string(),
        deliveries,
    }
}

/// SHA-256 (hex) of `ids` in order, each followed by a separator no id contains, so ("ab", "c")
/// and ("a", "bc") differ.
fn digest_of_ids<'a>(ids: impl Iterator<Item = &'a String>) -> String {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    for id in ids {
        digest.update(id.as_bytes());
        digest.update(b"\n");
    }
    hex::encode(digest.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: &str) -> v1::FindingChanged {
        v1::FindingChanged {
            event_id: id.to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn the_same_changes_make_the_same_message_id() {
        let tenant = TenantId::new();
        let a = finding_changes(tenant, vec![change("fc:1"), change("fc:2")]);
        let b = finding_changes(tenant, vec![change("fc:1"), change("fc:2")]);
        assert_eq!(a.event_id, b.event_id);
        assert_eq!(a.tenant_id, tenant.to_string());
        assert_eq!(a.changes.len(), 2);
    }

    #[test]
    fn different_changes_make_different_message_ids() {
        let tenant = TenantId::new();
        let ids = [
            finding_changes(tenant, vec![change("fc:1"), change("fc:2")]).event_id,
            finding_changes(tenant, vec![change("fc:2"), change("fc:1")]).event_id,
            finding_changes(tenant, vec![change("fc:1")]).event_id,
            finding_changes(tenant, vec![change("fc:1fc:2")]).event_id,
            finding_changes(tenant, vec![change("ab"), change("c")]).event_id,
            finding_changes(tenant, vec![change("a"), change("bc")]).event_id,
        ];
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "{ids:?}");
    }

    fn delivery(id: &str) -> v1::WebhookReceived {
        v1::WebhookReceived {
            event_id: id.to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn a_lone_delivery_keeps_its_id_and_a_group_gets_a_digest_of_theirs() {
        let (tenant, integration) = (TenantId::new(), IntegrationId::new());
        let one = webhook_batch(tenant, integration, vec![delivery("wh:i:1")]);
        assert_eq!(one.event_id, "wh:i:1");
        assert_eq!(one.integration_id, integration.to_string());
        let two = webhook_batch(
            tenant,
            integration,
            vec![delivery("wh:i:1"), delivery("wh:i:2")],
        );
        let again = webhook_batch(
            tenant,
            integration,
            vec![delivery("wh:i:1"), delivery("wh:i:2")],
        );
        let other = webhook_batch(
            tenant,
            integration,
            vec![delivery("wh:i:2"), delivery("wh:i:1")],
        );
        assert!(two.event_id.starts_with("whb:"), "{}", two.event_id);
        assert_eq!(two.event_id, again.event_id);
        assert_ne!(two.event_id, other.event_id);
        assert_eq!(two.deliveries.len(), 2);
    }
}
