//! The seam without ServiceNow: a vendor defined only here (a fake `VendorSpec` + `Connector`,
//! registered for Jira, which ships no connector yet) is polled through its change feed, and
//! what changed is published like any vendor's observation.

use std::sync::Arc;
use std::time::Duration;

use lockstep_connectors::webhook::{StandardWebhooksAuth, WebhookAuth, WebhookEvent};
use lockstep_connectors::{
    ConnectionReport, Connector, ConnectorError, ConnectorSetup, Connectors, CreatedTicket,
    Credentials, FeedBatch, FieldMetadata, HttpConfig, HttpExecutor, OutboundChange, Registry,
    Result, TicketCreate, VendorSpec,
};
use lockstep_crypto::SecretString;
use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{
    ExternalId, FindingId, IntegrationId, ObservedFields, ScannerKey, Severity, SyncChannel,
    TicketKey, TicketObservation, TicketRef, TicketTarget, Vendor, VendorVersion,
};
use lockstep_poller::Poller;
use lockstep_service_kit::vendor::seal_credentials;
use lockstep_store::{AuthKind, IntegrationSettings, LiveTicket, NewFinding, NewIntegration};
use parking_lot::Mutex;
use time::OffsetDateTime;
use time::macros::datetime;
use url::Url;

use crate::support::{Env, fast_settings};

const CHANGED_AT: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn ticket() -> TicketRef {
    TicketRef::parse(Vendor::Jira, "SEC", "10001", "SEC-1").unwrap()
}

/// The targets the fake feed was asked for.
#[derive(Default)]
struct Seen {
    feeds: Mutex<Vec<Vec<TicketTarget>>>,
}

struct FakeSpec(Arc<Seen>);

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
    fn parse_webhook(&self, _: &[u8], _: OffsetDateTime) -> Result<WebhookEvent> {
        Err(ConnectorError::config("the fake vendor sends no webhooks"))
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
        Ok(Arc::new(Fake(self.0.clone())))
    }
}

struct Fake(Arc<Seen>);

#[async_trait::async_trait]
impl Connector for Fake {
    fn vendor(&self) -> Vendor {
        Vendor::Jira
    }
    async fn test_connection(&self) -> ConnectionReport {
        ConnectionReport {
            instance: "fake".into(),
            user_name: None,
            checks: Vec::new(),
        }
    }
    async fn create(&self, _: &TicketCreate) -> Result<CreatedTicket> {
        Err(ConnectorError::config("not needed here"))
    }
    async fn find_by_correlation(
        &self,
        _: &TicketTarget,
        _: FindingId,
    ) -> Result<Option<TicketObservation>> {
        Ok(None)
    }
    async fn push(&self, _: &TicketRef, _: &OutboundChange) -> Result<TicketObservation> {
        Err(ConnectorError::config("not needed here"))
    }
    /// One ticket moved to Done since any watermark.
    async fn changes_since(
        &self,
        watermark: OffsetDateTime,
        _: Duration,
        targets: &[TicketTarget],
    ) -> Result<FeedBatch> {
        self.0.feeds.lock().push(targets.to_vec());
        Ok(FeedBatch {
            observations: vec![TicketObservation {
                ticket: ticket(),
                vendor_state: "Done".into(),
                vendor_state_label: Some("Done".into()),
                vendor_state_category: Some("done".into()),
                resolution: Some("Fixed".into()),
                version: VendorVersion::new(CHANGED_AT, 2),
                actor: Some("dev@example.com".into()),
                observed_at: OffsetDateTime::now_utc(),
                fields: ObservedFields::default(),
            }],
            next_watermark: watermark.max(CHANGED_AT),
            complete: true,
            skipped: 0,
            pages: 1,
        })
    }
    async fn field_metadata(&self, target: &TicketTarget) -> Result<FieldMetadata> {
        Ok(FieldMetadata {
            target: target.clone(),
            fields: Default::default(),
            complete: true,
            partial_reason: None,
        })
    }
    fn deep_link(&self, ticket: &TicketRef) -> Url {
        Url::parse(&format!("https://fake.example.com/browse/{}", ticket.key())).unwrap()
    }
}

#[tokio::test]
async fn a_fake_vendor_registered_in_a_test_is_polled_through_its_feed() {
    lockstep_connectors::install_crypto_provider();
    let env = Env::start().await;
    let (store, tenant) = (env.store(), env.tenant);
    let id = IntegrationId::new();
    let creds = Credentials::Basic {
        username: "bot@example.com".into(),
        password: SecretString::new("token"),
    };
    store
        .integrations()
        .create(
            tenant,
            &NewIntegration {
                id,
                vendor: Vendor::Jira,
                name: "fake".into(),
                base_url: "https://fake.example.com".into(),
                auth_kind: AuthKind::Basic,
                sealed_credentials: seal_credentials(&env.keyring, tenant, id, &creds).unwrap(),
                sealed_webhook_secret: None,
                settings: IntegrationSettings::default(),
            },
        )
        .await
        .unwrap();
    let imported = store
        .findings()
        .import(
            tenant,
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
    let target = TicketTarget::parse(Vendor::Jira, "SEC").unwrap();
    let pending = store
        .links()
        .insert_pending(tenant, imported.rows[0].id, id, &target)
        .await
        .unwrap();
    store
        .links()
        .mark_live(
            tenant,
            pending.id,
            &LiveTicket {
                external_id: ExternalId::parse("10001").unwrap(),
                ticket_key: TicketKey::parse(Vendor::Jira, "SEC-1").unwrap(),
                url: None,
                snapshot: Some(VendorSnapshot {
                    version: VendorVersion::new(CHANGED_AT - time::Duration::hours(1), 1),
                    state: "To Do".into(),
                }),
                channel: SyncChannel::Api,
            },
        )
        .await
        .unwrap();

    let seen = Arc::new(Seen::default());
    let registry = Registry::builtin().register(Arc::new(FakeSpec(seen.clone())));
    let exec = HttpExecutor::new(HttpConfig::default()).unwrap();
    let poller = Poller::new(
        store.clone(),
        env.bus.clone(),
        Connectors::new(registry, env.keyring.clone(), exec),
        fast_settings(),
        "replica-fake",
    );
    let report = poller.poll_now(tenant, id).await.unwrap();
    let success = report.outcome.expect("the poll succeeds");
    assert_eq!((success.tickets_read, success.tickets_changed), (1, 1));
    assert_eq!(
        *seen.feeds.lock(),
        vec![vec![target]],
        "polled the link's project"
    );

    let observed = env.observed().await;
    assert_eq!(observed.len(), 1, "{observed:?}");
    let event = &observed[0].2;
    assert_eq!(event.integration_id, id.to_string());
    let observation = TicketObservation::try_from(event.observation.as_ref().unwrap()).unwrap();
    assert_eq!(observation.ticket, ticket());
    assert_eq!(observation.vendor_state, "Done");
}
