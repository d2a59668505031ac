//! The seam without ServiceNow: a vendor defined only here (a fake `VendorSpec` + `Connector`,
//! registered for Jira, which ships no connector yet) is created through the API and gets its
//! tickets through ticket-writer's create path, single and bulk.

use std::sync::Arc;
use std::time::Duration;

use lockstep_connectors::webhook::{StandardWebhooksAuth, WebhookAuth, WebhookEvent};
use lockstep_connectors::{
    ConnectionReport, Connector, ConnectorError, ConnectorSetup, CreatedTicket, FeedBatch,
    FieldMetadata, OutboundChange, Registry, Result, TicketCreate, VendorSpec,
};
use lockstep_domain::{
    FindingId, ObservedFields, TicketObservation, TicketRef, TicketTarget, Vendor, VendorVersion,
};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::integration_service_client::IntegrationServiceClient;
use parking_lot::Mutex;
use time::OffsetDateTime;
use url::Url;

use crate::support::{Env, req};

/// What the fake vendor was asked to create.
#[derive(Default)]
struct Seen {
    creates: Mutex<Vec<TicketCreate>>,
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
        Ok(input.trim_end_matches('/').to_owned())
    }
    fn parse_container(&self, input: &str) -> Result<TicketTarget> {
        TicketTarget::parse(Vendor::Jira, input).map_err(|e| ConnectorError::config(e.to_string()))
    }
    fn default_container(&self) -> Option<&'static str> {
        Some("SEC")
    }
    fn deep_link(&self, base_url: &str, ticket: &TicketRef) -> Option<String> {
        Some(format!("{base_url}/browse/{}", ticket.key()))
    }
    fn connect(&self, setup: ConnectorSetup) -> Result<Arc<dyn Connector>> {
        Ok(Arc::new(Fake {
            base_url: setup.base_url,
            seen: self.0.clone(),
        }))
    }
}

struct Fake {
    base_url: String,
    seen: Arc<Seen>,
}

#[async_trait::async_trait]
impl Connector for Fake {
    fn vendor(&self) -> Vendor {
        Vendor::Jira
    }
    async fn test_connection(&self) -> ConnectionReport {
        ConnectionReport {
            instance: self.base_url.clone(),
            user_name: None,
            checks: Vec::new(),
        }
    }
    async fn create(&self, ticket: &TicketCreate) -> Result<CreatedTicket> {
        let n = {
            let mut creates = self.seen.creates.lock();
            creates.push(ticket.clone());
            creates.len()
        };
        let reference = TicketRef::parse(
            Vendor::Jira,
            ticket.draft.target.container(),
            &format!("{}", 10_000 + n),
            &format!("{}-{n}", ticket.draft.target.container()),
        )
        .map_err(|e| ConnectorError::config(e.to_string()))?;
        let observation = TicketObservation {
            ticket: reference.clone(),
            vendor_state: "To Do".into(),
            vendor_state_label: None,
            vendor_state_category: Some("new".into()),
            resolution: None,
            version: VendorVersion::new(OffsetDateTime::now_utc(), 1),
            actor: None,
            observed_at: OffsetDateTime::now_utc(),
            fields: ObservedFields::default(),
        };
        Ok(CreatedTicket {
            url: self.deep_link(&reference),
            ticket: reference,
            observation,
            recovered: false,
        })
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
    async fn changes_since(
        &self,
        watermark: OffsetDateTime,
        _: Duration,
        _: &[TicketTarget],
    ) -> Result<FeedBatch> {
        Ok(FeedBatch {
            observations: Vec::new(),
            next_watermark: watermark,
            complete: true,
            skipped: 0,
            pages: 0,
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
        Url::parse(&format!("{}/browse/{}", self.base_url, ticket.key())).unwrap()
    }
}

#[tokio::test]
async fn a_fake_vendor_registered_in_a_test_gets_tickets_through_the_create_path() {
    let seen = Arc::new(Seen::default());
    let registry = Registry::builtin().register(Arc::new(FakeSpec(seen.clone())));
    let env = Env::start_with_registry(registry).await;
    let integration = IntegrationServiceClient::new(env.api.clone())
        .create_integration(req(
            &env.a.admin,
            pb::CreateIntegrationRequest {
                vendor: "jira".into(),
                name: "fake".into(),
                base_url: "https://fake.example.com/".into(),
                credentials: Some(pb::Credentials {
                    kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                        username: "bot@example.com".into(),
                        password: "token".into(),
                    })),
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(integration.vendor, "jira");
    assert_eq!(integration.base_url, "https://fake.example.com");
    let ids = env.import(&env.a.analyst, "FK", 3).await;
    let spec = pb::TicketSpec {
        integration_id: integration.id.clone(),
        ..Default::default()
    };

    let one = env
        .tickets()
        .create_ticket(req(
            &env.a.analyst,
            pb::CreateTicketRequest {
                finding_id: ids[0].clone(),
                spec: Some(spec.clone()),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.outcome, pb::TicketOutcome::Created as i32);
    let link = one.link.unwrap();
    assert_eq!(link.key, "SEC-1");
    assert_eq!(link.url, "https://fake.example.com/browse/SEC-1");

    let bulk = env
        .tickets()
        .bulk_create_tickets(req(
            &env.a.analyst,
            pb::BulkCreateTicketsRequest {
                finding_ids: ids.clone(),
                spec: Some(spec),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((bulk.created, bulk.already_linked, bulk.failed), (2, 1, 0));

    let creates = seen.creates.lock();
    assert_eq!(creates.len(), 3, "one vendor create per new ticket");
    let finding_ids: Vec<String> = creates.iter().map(|c| c.finding_id.to_string()).collect();
    assert_eq!(finding_ids[0], ids[0]);
    let mut bulk_ids = finding_ids[1..].to_vec();
    bulk_ids.sort();
    let mut expected = ids[1..].to_vec();
    expected.sort();
    assert_eq!(bulk_ids, expected);
    assert!(
        creates
            .iter()
            .all(|c| c.draft.target == TicketTarget::parse(Vendor::Jira, "SEC").unwrap())
    );
    assert!(creates[0].reference_label.starts_with("Lockstep FK-"));
}
