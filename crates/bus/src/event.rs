//! The events that travel on the stream. Each knows its dedupe id, so publishing can set
//! `Nats-Msg-Id` without the caller having to remember.

use lockstep_domain::TenantId;
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
event!(v1::FindingChanges, "finding_changes");
event!(v1::TicketCreated, "ticket_created");

/// The message for `changes` of `tenant`'s findings (see `FindingChanges` in events.proto). Its id
/// is a digest of the changes' ids in order, so publishing the same changes again is the same
/// message to JetStream's dedupe window, and a different set never collides with it.
pub fn finding_changes(tenant: TenantId, changes: Vec<v1::FindingChanged>) -> v1::FindingChanges {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    for change in &changes {
        digest.update(change.event_id.as_bytes());
        // A separator no id contains, so ("ab", "c") and ("a", "bc") differ.
        digest.update(b"\n");
    }
    v1::FindingChanges {
        event_id: format!("fcs:{}", hex::encode(digest.finish())),
        tenant_id: tenant.to_string(),
        changes,
    }
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
}
