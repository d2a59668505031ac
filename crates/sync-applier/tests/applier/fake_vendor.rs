//! The seam without ServiceNow: a vendor defined only here (a fake `VendorSpec`, registered for
//! Jira, whose shipped spec parses no webhooks yet) has its webhook body parsed through the
//! applier's registry, and the observation moves the linked finding like any vendor's.

use std::sync::Arc;
use std::time::Duration;

use lockstep_connectors::webhook::{StandardWebhooksAuth, WebhookAuth, WebhookEvent};
use lockstep_connectors::{
    Connector, ConnectorError, ConnectorSetup, Registry, Result, VendorSpec,
};
use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{
    ExternalId, FindingStatus, IntegrationId, ObservedFields, ScannerKey, Severity, SyncChannel,
    TicketKey, TicketObservation, TicketRef, TicketTarget, Vendor, VendorVersion,
};
use lockstep_proto::v1;
use lockstep_store::{AuthKind, IntegrationSettings, LiveTicket, NewFinding, NewIntegration};
use time::OffsetDateTime;

use crate::support::{World, eventually};

/// Parses the fake vendor's webhook body: `{"id", "key", "status", "category", "resolution",
/// "changed_at" (unix seconds), "revision", "by"}`.
struct FakeSpec;

fn field<'a>(body: &'a serde_json::Value, name: &str) -> Result<&'a str> {
    body[name]
        .as_str()
        .ok_or_else(|| ConnectorError::config(format!("the fake body has no {name}")))
}

impl VendorSpec for FakeSpec {
    fn auth_kinds(&self) -> &'static [lockstep_connectors::AuthKind] {
        &[lockstep_connectors::AuthKind::Basic]
    }

    fn vendor(&self) -> Vendor {
        Vendor::Jira
    }
    fn webhook_auth(&self) -> &dyn WebhookAuth {
        &StandardWebhooksAuth
    }
    fn parse_webhook(&self, body: &[u8], received_at: OffsetDateTime) -> Result<WebhookEvent> {
        let body: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| ConnectorError::config(format!("not JSON: {e}")))?;
        let key = field(&body, "key")?;
        let ticket = TicketRef::parse(Vendor::Jira, "SEC", field(&body, "id")?, key)
            .map_err(|e| ConnectorError::config(e.to_string()))?;
        let changed_at = body["changed_at"]
            .as_i64()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or_else(|| ConnectorError::config("the fake body has no changed_at"))?;
        let revision = body["revision"].as_i64().unwrap_or_default();
        Ok(WebhookEvent {
            event_id: format!("{key}-{revision}"),
            event_type: Some("issue_updated".into()),
            correlation_id: None,
            observation: TicketObservation {
                ticket,
                vendor_state: field(&body, "status")?.to_owned(),
                vendor_state_label: None,
                vendor_state_category: Some(field(&body, "category")?.to_owned()),
                resolution: Some(field(&body, "resolution")?.to_owned()),
                version: VendorVersion::new(changed_at, revision),
                actor: Some(field(&body, "by")?.to_owned()),
                observed_at: received_at,
                fields: ObservedFields::default(),
            },
        })
    }
    fn normalize_base_url(&self, input: &str) -> Result<String> {
        Ok(input.to_owned())
    }
    fn parse_container(&self, input: &str) -> Result<TicketTarget> {
        TicketTarget::parse(Vendor::Jira, input).map_err(|e| ConnectorError::config(e.to_string()))
    }
    fn default_container(&self) -> Option<&'static str> {
        None
    }
    fn deep_link(&self, _: &str, _: &TicketRef) -> Option<String> {
        None
    }
    fn connect(&self, _: ConnectorSetup) -> Result<Arc<dyn Connector>> {
        Err(ConnectorError::config("the applier never connects"))
    }
}

/// A Jira integration in `w`'s tenant and a finding with a live link to SEC-1 (To Do).
async fn linked_jira_finding(w: &World) -> (IntegrationId, lockstep_domain::FindingId) {
    let store = w.store();
    let id = IntegrationId::new();
    let sealed = lockstep_crypto::Sealed {
        key_id: "k".into(),
        nonce: [7; 12],
        ciphertext: vec![7; 40],
    };
    store
        .integrations()
        .create(
            w.tenant,
            &NewIntegration {
                id,
                vendor: Vendor::Jira,
                name: "fake".into(),
                base_url: "https://fake.example.com".into(),
                auth_kind: AuthKind::Basic,
                sealed_credentials: sealed,
                sealed_webhook_secret: None,
                settings: IntegrationSettings::default(),
            },
        )
        .await
        .unwrap();
    let imported = store
        .findings()
        .import(
            w.tenant,
            &[NewFinding {
                scanner_key: ScannerKey::parse("FK-1").unwrap(),
                title: "Finding FK-1".into(),
                description: "d".into(),
                severity: Severity::High,
                asset: None,
                cve: None,
                cwe: None,
                scanner: "nessus".into(),
                seen_at: OffsetDateTime::now_utc(),
            }],
        )
        .await
        .unwrap();
    let finding = imported.rows[0].id;
    let target = TicketTarget::parse(Vendor::Jira, "SEC").unwrap();
    let pending = store
        .links()
        .insert_pending(w.tenant, finding, id, &target)
        .await
        .unwrap();
    store
        .links()
        .mark_live(
            w.tenant,
            pending.id,
            &LiveTicket {
                external_id: ExternalId::parse("10001").unwrap(),
                ticket_key: TicketKey::parse(Vendor::Jira, "SEC-1").unwrap(),
                url: None,
                snapshot: Some(VendorSnapshot {
                    version: VendorVersion::new(w.t0 - time::Duration::seconds(30), 1),
                    state: "To Do".into(),
                }),
                channel: SyncChannel::Api,
            },
        )
        .await
        .unwrap();
    (id, finding)
}

#[tokio::test]
async fn a_fake_vendor_registered_in_a_test_has_its_webhook_applied() {
    let w = World::new(false).await;
    let (integration, finding) = linked_jira_finding(&w).await;
    let body = serde_json::json!({
        "id": "10001",
        "key": "SEC-1",
        "status": "Done",
        "category": "done",
        "resolution": "Done",
        "changed_at": (w.t0 + time::Duration::seconds(10)).unix_timestamp(),
        "revision": 2,
        "by": "dev@example.com",
    });
    let delivery = v1::WebhookReceived {
        event_id: format!("wh:{integration}:SEC-1-2"),
        tenant_id: w.tenant.to_string(),
        integration_id: integration.to_string(),
        vendor: "jira".into(),
        body: body.to_string().into_bytes(),
        content_type: "application/json".into(),
        delivery_id: "SEC-1-2".into(),
        received_at: Some(lockstep_proto::to_timestamp(OffsetDateTime::now_utc())),
        traceparent: String::new(),
    };
    let subject = w.bus.subjects().webhook(w.tenant, integration);
    let group = lockstep_bus::webhook_batch(w.tenant, integration, vec![delivery]);
    w.bus.publish(&subject, &group).await.unwrap();

    let shipped = Registry::builtin().spec(Vendor::Jira).unwrap();
    assert!(
        shipped
            .parse_webhook(body.to_string().as_bytes(), OffsetDateTime::now_utc())
            .is_err(),
        "the shipped Jira spec parses no webhooks yet: only the fake can apply this delivery"
    );
    let registry = Registry::builtin().register(Arc::new(FakeSpec));
    let stop = w.start_applier_for(&[], registry).await;
    let status = || async {
        w.store()
            .findings()
            .get(w.tenant, finding)
            .await
            .unwrap()
            .status
    };
    assert!(
        eventually(Duration::from_secs(20), || async {
            status().await != FindingStatus::Open
        })
        .await,
        "the fake vendor's delivery was applied"
    );
    stop.trigger();
    assert_eq!(status().await, FindingStatus::ReTest);
    let link = w
        .store()
        .links()
        .find_active(w.tenant, finding, integration)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.vendor_snapshot.unwrap().state, "Done");
    assert_eq!(link.last_sync_channel, Some(SyncChannel::Webhook));
    assert_eq!(w.count("SELECT count(*) FROM inbox").await, 1);
}
