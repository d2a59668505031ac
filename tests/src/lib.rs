//! The inbound loop assembled for stories and the demo: the ServiceNow emulator with a signed
//! webhook target, ingest-webhook and sync-applier in-process, a fresh database and a private
//! NATS prefix (from `lockstep-testkit`).

pub use lockstep_testkit::nats_server;

use std::time::Duration;

use lockstep_bus::Bus;
use lockstep_crypto::{Aad, Keyring, Purpose};
use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{
    CorrelationId, ExternalId, FindingId, FindingStatus, IntegrationId, ScannerKey, Severity,
    SyncChannel, TenantId, TicketKey, TicketTarget, Vendor, VendorVersion,
};
use lockstep_itsm_sim::control::{DeliveryBehaviour, WebhookTargetSpec};
use lockstep_itsm_sim::{SimConfig, SimHandle, SimServer};
use lockstep_platform::Shutdown;
use lockstep_store::{
    AuthKind, IntegrationSettings, LiveTicket, NewFinding, NewIntegration, Store,
};
use lockstep_testkit::{TestDb, TestNats};
use std::sync::Arc;

/// The webhook secret configured on both sides.
pub const SECRET: &str = "whsec_c3RvcmllcyBzaGFyZWQgd2ViaG9vayBzZWNyZXQh";

pub struct InboundLoop {
    pub db: TestDb,
    /// The shared test NATS, unless the loop runs on a private server ([`Self::start_with`]).
    pub nats: Option<TestNats>,
    pub bus: Bus,
    pub sim: SimHandle,
    pub tenant: TenantId,
    pub integration: IntegrationId,
    pub webhook_url: String,
    /// The master keys the integration's secrets are sealed with.
    pub keyring: Arc<Keyring>,
    stop: Shutdown,
}

impl InboundLoop {
    /// Everything running; the emulator has no webhook target yet (see [`Self::sign_webhooks`]).
    pub async fn start(auto_close: bool) -> anyhow::Result<Self> {
        Self::start_with(auto_close, None, &[]).await
    }

    /// As [`Self::start`], on `private` (a nats-server the story freezes or restarts) when given,
    /// with `ingest_env` (`LOCKSTEP_INGEST__…` settings) for ingest-webhook.
    pub async fn start_with(
        auto_close: bool,
        private: Option<&nats_server::NatsServer>,
        ingest_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        lockstep_platform::install_crypto_provider();
        let db = TestDb::try_new().await?;
        let (nats, bus) = match private {
            Some(server) => (None, Bus::connect(&server.url(), "lockstep").await?),
            None => {
                let nats = TestNats::try_new().await?;
                let bus = Bus::from_client(nats.client().clone(), nats.prefix())?;
                (Some(nats), bus)
            }
        };
        let store = db.store().clone();
        let keyring = Arc::new(Keyring::new("stories", &[42u8; 32])?);
        let tenant = store.tenants().create("Acme").await?.id;
        let integration = IntegrationId::new();
        let seal =
            |purpose, bytes: &[u8]| keyring.seal(bytes, &Aad::new(tenant, integration, purpose));
        let sim = SimServer::start(SimConfig::default()).await?;
        store
            .integrations()
            .create(
                tenant,
                &NewIntegration {
                    id: integration,
                    vendor: Vendor::ServiceNow,
                    name: "ServiceNow (emulator)".into(),
                    base_url: sim.base_url().to_owned(),
                    auth_kind: AuthKind::Basic,
                    sealed_credentials: seal(Purpose::Credentials, b"{}")?,
                    sealed_webhook_secret: Some(seal(Purpose::WebhookSecret, SECRET.as_bytes())?),
                    settings: IntegrationSettings {
                        auto_close_on_resolve: auto_close,
                        ..Default::default()
                    },
                },
            )
            .await?;

        // One environment for both services, as under `lockstep up`: each ignores the other's
        // keys (`load_shared_with_env`).
        let env = |extra: &[(&str, &str)]| {
            let mut env = vec![
                ("LOCKSTEP_DATABASE__URL".to_owned(), db.url().to_owned()),
                ("LOCKSTEP_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
                (
                    "LOCKSTEP_ADMIN__LISTEN".to_owned(),
                    "127.0.0.1:0".to_owned(),
                ),
                (
                    "LOCKSTEP_APPLIER__FETCH_WAIT".to_owned(),
                    "200ms".to_owned(),
                ),
            ];
            env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            env
        };
        let stop = Shutdown::new();
        let ingest_config: lockstep_ingest_webhook::Config =
            lockstep_platform::config::load_shared_with_env(
                lockstep_ingest_webhook::config::DEFAULTS,
                None,
                env(ingest_env),
            )?
            .value;
        let ingest = lockstep_ingest_webhook::App::build(
            ingest_config,
            lockstep_ingest_webhook::Deps {
                store: store.clone(),
                bus: bus.clone(),
                keyring: keyring.clone(),
            },
        )
        .await?;
        let webhook_url = format!("http://{}/v1/webhooks/{integration}", ingest.local_addr());
        tokio::spawn(ingest.run(stop.clone()));
        let applier_config: lockstep_sync_applier::Config =
            lockstep_platform::config::load_shared_with_env(
                lockstep_sync_applier::config::DEFAULTS,
                None,
                env(&[]),
            )?
            .value;
        let applier = lockstep_sync_applier::App::build(
            applier_config,
            lockstep_sync_applier::Deps {
                store,
                bus: bus.clone(),
            },
        )
        .await?;
        tokio::spawn(applier.run(stop.clone()));
        Ok(Self {
            db,
            nats,
            bus,
            sim,
            tenant,
            integration,
            webhook_url,
            keyring,
            stop,
        })
    }

    pub fn store(&self) -> &Store {
        self.db.store()
    }

    /// The signal [`Self::stop`] fires: services a story adds run until it, like the built-in ones.
    pub fn shutdown(&self) -> Shutdown {
        self.stop.clone()
    }

    /// Registers ingest-webhook as the emulator's webhook target, signing with `secret`.
    pub async fn sign_webhooks(
        &self,
        secret: &str,
        behaviour: DeliveryBehaviour,
    ) -> anyhow::Result<()> {
        self.sim
            .control()
            .set_delivery_behaviour(&behaviour)
            .await?;
        self.sim
            .control()
            .add_webhook_target(&WebhookTargetSpec {
                url: self.webhook_url.clone(),
                secret: Some(secret.to_owned()),
                ..Default::default()
            })
            .await?;
        Ok(())
    }

    /// An incident on the emulator and a finding linked to it, as ticket-writer leaves them.
    /// Returns the finding and the incident number.
    pub async fn ticketed_finding(&self, key: &str) -> anyhow::Result<(FindingId, String)> {
        let imported = self
            .store()
            .findings()
            .import(
                self.tenant,
                &[NewFinding {
                    scanner_key: ScannerKey::parse(key)?,
                    title: format!("OpenSSL out of date ({key})"),
                    description: "CVE-2026-0001 on web-01".into(),
                    severity: Severity::High,
                    asset: Some("web-01".into()),
                    cve: None,
                    cwe: None,
                    scanner: "nessus".into(),
                    seen_at: time::OffsetDateTime::now_utc(),
                }],
            )
            .await?;
        let finding = imported.rows[0].id;
        let record = self
            .sim
            .control()
            .create_as(
                "admin",
                "incident",
                serde_json::json!({
                    "short_description": format!("Lockstep: {key}"), "impact": "2", "urgency": "2",
                    // As ticket-writer writes it; the poller's change feed reads only these.
                    "correlation_id": CorrelationId::for_finding(finding).to_string()
                }),
            )
            .await?;
        let field = |name: &str| {
            record
                .get(name)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let target = TicketTarget::parse(Vendor::ServiceNow, "incident")?;
        let link = self
            .store()
            .links()
            .insert_pending(self.tenant, finding, self.integration, &target)
            .await?;
        let version = VendorVersion::servicenow(&field("sys_updated_on"), &field("sys_mod_count"))?;
        self.store()
            .links()
            .mark_live(
                self.tenant,
                link.id,
                &LiveTicket {
                    external_id: ExternalId::parse(&field("sys_id"))?,
                    ticket_key: TicketKey::parse(Vendor::ServiceNow, &field("number"))?,
                    url: None,
                    snapshot: Some(VendorSnapshot {
                        version,
                        state: field("state"),
                    }),
                    channel: SyncChannel::Api,
                },
            )
            .await?;
        // Vendor changes from now on are later than the finding's own status (second precision).
        self.sim.control().advance_clock(2).await?;
        Ok((finding, field("number")))
    }

    pub async fn status(&self, finding: FindingId) -> anyhow::Result<FindingStatus> {
        Ok(self
            .store()
            .findings()
            .get(self.tenant, finding)
            .await?
            .status)
    }

    /// Waits until the finding has `status`.
    pub async fn wait_for(
        &self,
        finding: FindingId,
        status: FindingStatus,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let now = self.status(finding).await?;
            if now == status {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(anyhow::anyhow!(
                    "finding {finding} is {now}, not {status}, after {timeout:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        self.stop.trigger();
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.sim.shutdown().await;
    }
}
