//! The bus against a real nats-server (the project's pinned version), one private prefix per test.

mod connect;
mod consume;
mod publish;

use lockstep_bus::{Bus, StreamSettings};
use lockstep_domain::{FindingId, TenantId};
use lockstep_proto::v1;
use lockstep_testkit::TestNats;

/// A bus on this test's own prefix with its stream created.
async fn bus(nats: &TestNats) -> Bus {
    let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
    bus.ensure_stream(&StreamSettings::default()).await.unwrap();
    bus
}

/// A `finding.changed` message with one change, under the given message id (the tests choose
/// ids to exercise deduplication).
fn finding_changed(event_id: &str, tenant: TenantId) -> v1::FindingChanges {
    v1::FindingChanges {
        event_id: event_id.to_owned(),
        tenant_id: tenant.to_string(),
        changes: vec![v1::FindingChanged {
            event_id: format!("fc:{event_id}"),
            tenant_id: tenant.to_string(),
            finding_id: FindingId::new().to_string(),
            from_status: "open".into(),
            to_status: "re_test".into(),
            origin: v1::ChangeOrigin::Vendor as i32,
            channel: "webhook".into(),
            integration_id: String::new(),
            changed_at: None,
            traceparent: String::new(),
        }],
    }
}
