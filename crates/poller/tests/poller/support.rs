//! The harness: a database, a NATS prefix and ServiceNow emulators per test; integrations with
//! sealed credentials pointing at them; tickets created in the emulator and linked to findings;
//! a consumer that reads back what the poller published.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use lockstep_bus::{Bus, ConsumerSettings, StreamSettings};
use lockstep_connectors::Credentials as ServiceNowCredentials;
use lockstep_connectors::http::AllowList;
use lockstep_connectors::servicenow::{
    CredentialsHandle, InstanceUrl, NewTicket, ServiceNowClient, ServiceNowConfig,
};
use lockstep_connectors::{HttpConfig, HttpExecutor, RetryPolicy};
use lockstep_crypto::{Keyring, SecretString};
use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{
    BySeverity, Finding, FindingStatus, IntegrationId, ScannerKey, ServiceNowFields,
    ServiceNowTable, Severity, SyncChannel, TenantId, TicketTarget, Vendor,
};
use lockstep_itsm_sim::{SimConfig, SimHandle, SimServer};
use lockstep_poller::{Poller, PollerSettings};
use lockstep_proto::v1;
use lockstep_service_kit::vendor::seal_credentials;
use lockstep_store::{
    AuthKind, IntegrationRecord, IntegrationSettings, LiveTicket, NewFinding, NewIntegration,
    Store, TicketLinkRecord,
};
use lockstep_testkit::{TestDb, TestNats};
use time::OffsetDateTime;

pub const USER: &str = "lockstep.integration";

pub struct Env {
    pub db: TestDb,
    pub nats: TestNats,
    pub bus: Bus,
    pub keyring: Arc<Keyring>,
    pub tenant: TenantId,
}

pub struct Sim {
    pub sim: SimHandle,
    pub exec: HttpExecutor,
}

/// Settings for tests: fast ticks, short timeouts and backoff.
pub fn fast_settings() -> PollerSettings {
    PollerSettings {
        tick: Duration::from_millis(50),
        max_concurrent_polls: 8,
        poll_timeout: Duration::from_secs(10),
        lease_ttl: Duration::from_secs(15),
        overlap: Duration::from_secs(5),
        backoff_base: Duration::from_secs(1),
        backoff_max: Duration::from_secs(5),
        sla_sweep_interval: Duration::from_secs(3600),
        publish_concurrency: 16,
        resync_all_cooldown: Duration::from_secs(60),
        resync_ticket_apply_wait: Duration::from_secs(10),
        replica_id: String::new(),
    }
}

impl Env {
    pub async fn start() -> Self {
        let db = TestDb::new().await;
        let nats = TestNats::new().await;
        let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
        bus.ensure_stream(&StreamSettings::default()).await.unwrap();
        let tenant = db.store().tenants().create("Acme").await.unwrap().id;
        Env {
            db,
            nats,
            bus,
            keyring: Arc::new(Keyring::new("k1", &[7u8; 32]).unwrap()),
            tenant,
        }
    }

    pub fn store(&self) -> &Store {
        self.db.store()
    }

    pub fn poller(&self, sim: &Sim, owner: &str) -> Poller {
        self.poller_with(sim, owner, fast_settings())
    }

    pub fn poller_with(&self, sim: &Sim, owner: &str, settings: PollerSettings) -> Poller {
        Poller::new(
            self.store().clone(),
            self.bus.clone(),
            lockstep_connectors::Connectors::new(
                lockstep_connectors::Registry::builtin(),
                self.keyring.clone(),
                sim.exec.clone(),
            ),
            settings,
            owner,
        )
    }

    /// An active ServiceNow integration of `tenant` on `sim`, polled every `interval_secs`.
    pub async fn integration_of(
        &self,
        tenant: TenantId,
        sim: &Sim,
        name: &str,
        interval_secs: u32,
    ) -> IntegrationRecord {
        let id = IntegrationId::new();
        let creds = ServiceNowCredentials::Basic {
            username: USER.into(),
            password: SecretString::new(USER),
        };
        let sealed = seal_credentials(&self.keyring, tenant, id, &creds).unwrap();
        self.store()
            .integrations()
            .create(
                tenant,
                &NewIntegration {
                    id,
                    vendor: Vendor::ServiceNow,
                    name: name.into(),
                    base_url: sim.sim.base_url().to_owned(),
                    auth_kind: AuthKind::Basic,
                    sealed_credentials: sealed,
                    sealed_webhook_secret: None,
                    settings: IntegrationSettings {
                        poll_interval_secs: interval_secs,
                        ..IntegrationSettings::default()
                    },
                },
            )
            .await
            .unwrap()
    }

    pub async fn integration(&self, sim: &Sim, name: &str, interval: u32) -> IntegrationRecord {
        self.integration_of(self.tenant, sim, name, interval).await
    }

    /// A finding of `tenant` with a live link to a new incident in the emulator. The link holds
    /// the version the create answered (as ticket-writer's write-back leaves it).
    pub async fn linked_ticket_of(
        &self,
        tenant: TenantId,
        sim: &Sim,
        integration: &IntegrationRecord,
        key: &str,
        severity: Severity,
    ) -> TicketLinkRecord {
        let store = self.store();
        let imported = store
            .findings()
            .import(
                tenant,
                &[NewFinding {
                    scanner_key: ScannerKey::parse(key).unwrap(),
                    title: format!("Finding {key}"),
                    description: "Upgrade the package.".into(),
                    severity,
                    asset: Some("web-01".into()),
                    cve: None,
                    cwe: None,
                    scanner: "nessus".into(),
                    seen_at: OffsetDateTime::now_utc(),
                }],
            )
            .await
            .unwrap();
        let finding_id = imported.rows[0].id;
        let target = TicketTarget::parse(Vendor::ServiceNow, "incident").unwrap();
        let pending = store
            .links()
            .insert_pending(tenant, finding_id, integration.id, &target)
            .await
            .unwrap();
        let created = sim
            .client(integration.id)
            .create_ticket(&ticket_for(key, severity))
            .await
            .unwrap();
        store
            .links()
            .mark_live(
                tenant,
                pending.id,
                &LiveTicket {
                    external_id: created.ticket.external_id().clone(),
                    ticket_key: created.ticket.key().clone(),
                    url: Some(created.url.to_string()),
                    snapshot: Some(VendorSnapshot {
                        version: created.observation.version,
                        state: created.observation.vendor_state.clone(),
                    }),
                    channel: SyncChannel::Api,
                },
            )
            .await
            .unwrap()
    }

    pub async fn linked_ticket(
        &self,
        sim: &Sim,
        integration: &IntegrationRecord,
        key: &str,
    ) -> TicketLinkRecord {
        self.linked_ticket_of(self.tenant, sim, integration, key, Severity::High)
            .await
    }

    /// Everything published on `observed.>` so far (a fresh consumer each call).
    pub async fn observed(&self) -> Vec<(String, String, v1::TicketObserved)> {
        let name = format!("probe{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let consumer = self
            .bus
            .consumer(
                &name,
                vec![self.bus.subjects().all_observed()],
                &ConsumerSettings::default(),
            )
            .await
            .unwrap();
        let mut out = Vec::new();
        loop {
            let batch = consumer
                .fetch(100, Duration::from_millis(300))
                .await
                .unwrap();
            if batch.is_empty() {
                break;
            }
            for d in batch {
                let event: v1::TicketObserved = d.decode().unwrap();
                out.push((
                    d.subject().to_owned(),
                    d.message_id().unwrap_or_default().to_owned(),
                    event,
                ));
                d.ack().await.unwrap();
            }
        }
        out
    }
}

impl Sim {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut HttpConfig)) -> Self {
        let sim = SimServer::start(SimConfig {
            tls: true,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let mut config = HttpConfig {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            retry: RetryPolicy {
                max_attempts: 2,
                base_delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(100),
                retry_after_cap: Duration::from_secs(1),
            },
            max_concurrency_per_integration: 4,
            trusted_roots_pem: vec![sim.ca_cert_pem().unwrap().as_bytes().to_vec()],
            // The emulator listens on loopback, which only an explicit allow-list reaches.
            allow_private_networks: AllowList::loopback(),
            ..HttpConfig::default()
        };
        tune(&mut config);
        let exec = HttpExecutor::new(config).unwrap();
        Sim { sim, exec }
    }

    /// A connector client as the integration user (for creating tickets like ticket-writer).
    pub fn client(&self, integration: IntegrationId) -> ServiceNowClient {
        ServiceNowClient::new(
            self.exec.clone(),
            ServiceNowConfig::new(
                integration,
                InstanceUrl::parse(self.sim.base_url()).unwrap(),
            ),
            CredentialsHandle::new(ServiceNowCredentials::Basic {
                username: USER.into(),
                password: SecretString::new(USER),
            })
            .unwrap(),
        )
    }

    /// The encoded queries (`sysparm_query`) of the feed requests the emulator saw.
    pub async fn feed_requests(&self) -> Vec<String> {
        self.sim
            .control()
            .requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.starts_with("/api/now/table/incident"))
            .filter_map(|r| {
                url::form_urlencoded::parse(r.query.as_bytes())
                    .find(|(k, _)| k == "sysparm_query")
                    .map(|(_, v)| v.into_owned())
            })
            .collect()
    }
}

pub fn ticket_for(key: &str, severity: Severity) -> NewTicket {
    let now = OffsetDateTime::now_utc();
    let finding = Finding {
        id: lockstep_domain::FindingId::new(),
        tenant_id: TenantId::new(),
        scanner_key: ScannerKey::parse(key).unwrap(),
        title: format!("Finding {key}"),
        description: "Upgrade the package.".into(),
        severity,
        status: FindingStatus::Open,
        asset: Some("web-01".into()),
        cve: None,
        cwe: None,
        scanner: "nessus".into(),
        created_at: now,
        updated_at: now,
    };
    let fields = BySeverity::<ServiceNowFields>::servicenow_default()
        .get(severity)
        .clone();
    NewTicket::for_finding(ServiceNowTable::Incident, &finding, &fields, None).unwrap()
}

/// The observation's vendor state and the ticket's sys_id.
pub fn state_of(event: &v1::TicketObserved) -> (String, String) {
    let obs = event.observation.as_ref().unwrap();
    (
        obs.ticket.as_ref().unwrap().external_id.clone(),
        obs.vendor_state.clone(),
    )
}
