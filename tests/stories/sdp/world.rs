//! A ServiceDesk Plus world: the SDP emulator (on-premises portal `itdesk` with the technician
//! key, or Cloud portal `secops` with a Zoho refresh token), and the real services in-process on
//! one fresh database and NATS prefix: api (the integration is created through it), ticket-writer
//! (creates and pushes), ingest-webhook, sync-applier, and the poller when a story asks for it.

use std::sync::Arc;
use std::time::Duration;

use lockstep_bus::Bus;
use lockstep_crypto::Keyring;
use lockstep_domain::{
    FindingId, FindingStatus, IntegrationId, Label, MappingRules, OutboundRule, OutboundRules,
    ScannerKey, Severity, Template, TenantId,
};
use lockstep_itsm_sim::sdp::model::SdpWebhook;
use lockstep_itsm_sim::{SimConfig, SimHandle, SimServer};
use lockstep_platform::Shutdown;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::finding_service_client::FindingServiceClient;
use lockstep_proto::v1::integration_service_client::IntegrationServiceClient;
use lockstep_proto::v1::ticket_service_client::TicketServiceClient;
use lockstep_store::{NewFinding, Role, Store, TicketLinkRecord};
use lockstep_testkit::{TestDb, TestNats};
use tonic::transport::Channel;

/// The webhook token configured on both sides (SDP: a custom header of the webhook).
pub const TOKEN: &str = "sdp-webhook-token-7f3a9c1e5b2d";
pub const LOCKSTEP_KEY: &str = "A1B2C3D4-0000-4000-8000-0000000LOCK";
pub const WAIT: Duration = Duration::from_secs(20);

/// How the world is set up.
#[derive(Clone, Copy, Default)]
pub struct Setup {
    /// The Cloud portal with a Zoho refresh token instead of the on-premises key.
    pub cloud: bool,
    /// Poll every second. Without it the poller still runs (it re-reads the requests webhook
    /// notices name) but polls once, before the story starts, and then not for a day.
    pub poller: bool,
}

pub struct SdpWorld {
    pub db: TestDb,
    /// Held so the world's NATS prefix lives as long as the world.
    _nats: TestNats,
    pub bus: Bus,
    pub sim: SimHandle,
    pub tenant: TenantId,
    pub analyst: String,
    pub api: Channel,
    pub writer: Channel,
    pub integration: IntegrationId,
    pub webhook_url: String,
    pub portal: &'static str,
    stop: Shutdown,
}

async fn token(store: &Store, tenant: TenantId, name: &str, role: Role) -> anyhow::Result<String> {
    let token = lockstep_crypto::generate_token("lst_")?;
    let hash = lockstep_crypto::hash_token(token.expose());
    store.api_tokens().create(tenant, name, &hash, role).await?;
    Ok(token.expose().to_owned())
}

pub fn req<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    let bearer = format!("Bearer {token}").parse().expect("ascii token");
    r.metadata_mut().insert("authorization", bearer);
    r
}

async fn channel(addr: std::net::SocketAddr) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?)
}

/// The SDP outbound rules of the stories: a closed finding closes its request with closure code
/// "Success" (the default rules resolve instead).
pub fn closing_rules() -> anyhow::Result<MappingRules> {
    let mut rules = MappingRules::defaults(lockstep_domain::Vendor::ManageEngine);
    if let MappingRules::ManageEngine { request } = &mut rules {
        request.outbound = OutboundRules::new(vec![OutboundRule {
            status: FindingStatus::Closed,
            state: Label::parse("Closed")?,
            close_code: Some(Label::parse("Success")?),
            close_notes: Some(Template::parse(
                "Lockstep closed {key}: the rescan is clean.",
            )?),
        }])?;
    }
    Ok(rules)
}

impl SdpWorld {
    pub async fn start(setup: Setup) -> anyhow::Result<Self> {
        lockstep_platform::install_crypto_provider();
        let db = TestDb::try_new().await?;
        let nats = TestNats::try_new().await?;
        let bus = Bus::from_client(nats.client().clone(), nats.prefix())?;
        let sim = SimServer::start(SimConfig::default()).await?;
        let store = db.store().clone();
        let keyring = Arc::new(Keyring::new("stories", &[42u8; 32])?);
        let tenant = store.tenants().create("Acme").await?.id;
        let admin = token(&store, tenant, "admin", Role::Admin).await?;
        let analyst = token(&store, tenant, "analyst", Role::Analyst).await?;
        let mut env: Vec<(String, String)> = [
            ("LOCKSTEP_DATABASE__URL", db.url()),
            ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0"),
            ("LOCKSTEP_HTTP__LISTEN", "127.0.0.1:0"),
            ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0"),
            ("LOCKSTEP_APPLIER__FETCH_WAIT", "200ms"),
            ("LOCKSTEP_POLLER__TICK", "50ms"),
            ("LOCKSTEP_POLLER__REPLICA_ID", "sdp-stories"),
            ("LOCKSTEP_VENDOR_HTTP__REQUEST_TIMEOUT", "10s"),
            // A create that failed ambiguously may be retried after this (the stories wait for it).
            ("LOCKSTEP_WRITER__PENDING_STALE_AFTER", "1s"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
        env.push(lockstep_testkit::loopback_vendor_allow_list());
        macro_rules! config {
            ($krate:ident) => {
                lockstep_platform::config::load_shared_with_env::<$krate::Config>(
                    $krate::config::DEFAULTS,
                    None,
                    env.clone(),
                )?
                .value
            };
        }
        let stop = Shutdown::new();
        let api = lockstep_api::App::build(
            config!(lockstep_api),
            lockstep_api::Deps {
                store: store.clone(),
                bus: bus.clone(),
                keyring: keyring.clone(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("api: {e}"))?;
        let api_addr = api.local_addr();
        tokio::spawn(api.run(stop.clone()));
        let writer = lockstep_ticket_writer::App::build(
            config!(lockstep_ticket_writer),
            lockstep_ticket_writer::Deps {
                store: store.clone(),
                bus: bus.clone(),
                keyring: keyring.clone(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("ticket-writer: {e}"))?;
        let writer_addr = writer.local_addr();
        tokio::spawn(writer.run(stop.clone()));
        let ingest = lockstep_ingest_webhook::App::build(
            config!(lockstep_ingest_webhook),
            lockstep_ingest_webhook::Deps {
                store: store.clone(),
                bus: bus.clone(),
                keyring: keyring.clone(),
            },
        )
        .await?;
        let ingest_addr = ingest.local_addr();
        tokio::spawn(ingest.run(stop.clone()));
        let applier = lockstep_sync_applier::App::build(
            config!(lockstep_sync_applier),
            lockstep_sync_applier::Deps {
                store: store.clone(),
                bus: bus.clone(),
            },
        )
        .await?;
        tokio::spawn(applier.run(stop.clone()));

        let portal = if setup.cloud { "secops" } else { "itdesk" };
        let (base_url, kind) = if setup.cloud {
            let zoho = pb::OAuthRefreshToken {
                client_id: "1000.LOCKSTEPSDP".into(),
                client_secret: "lockstep-sdp-secret".into(),
                refresh_token: "1000.refresh.lockstep".into(),
                token_url: format!("{}/oauth/v2/token", sim.base_url()),
            };
            (
                format!("{}/app/secops", sim.base_url()),
                pb::credentials::Kind::Oauth2RefreshToken(zoho),
            )
        } else {
            let key = pb::ApiKeyAuth {
                key: LOCKSTEP_KEY.into(),
            };
            (
                sim.base_url().to_owned(),
                pb::credentials::Kind::ApiKey(key),
            )
        };
        let api = channel(api_addr).await?;
        let created = IntegrationServiceClient::new(api.clone())
            .create_integration(req(
                &admin,
                pb::CreateIntegrationRequest {
                    request_id: String::new(),
                    vendor: "manageengine".into(),
                    name: format!("ServiceDesk Plus ({portal})"),
                    base_url,
                    credentials: Some(pb::Credentials { kind: Some(kind) }),
                    settings: None,
                    webhook_secret: TOKEN.into(),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        let integration: IntegrationId = created.id.parse()?;
        // The api allows 30 s at least; the stories poll every second, set as poll.rs does.
        let current = store.integrations().get(tenant, integration).await?;
        let settings = lockstep_store::IntegrationSettings {
            poll_interval_secs: if setup.poller { 1 } else { 86_400 },
            ..current.settings
        };
        store
            .integrations()
            .update_settings(tenant, integration, &settings)
            .await?;
        store
            .mapping_rules()
            .put(tenant, integration, &closing_rules()?)
            .await?;
        {
            let config = config!(lockstep_poller);
            let http = config
                .vendor_http
                .executor()
                .map_err(|e| anyhow::anyhow!(e))?;
            let poller = lockstep_poller::App::build(
                config,
                lockstep_poller::Deps {
                    store: store.clone(),
                    bus: bus.clone(),
                    keyring,
                    http,
                },
            )
            .await?;
            tokio::spawn(poller.run(stop.clone()));
        }
        if !setup.poller {
            // The one poll of the day is over before the story begins, so whatever reaches a
            // finding afterwards came by webhook.
            let deadline = tokio::time::Instant::now() + WAIT;
            while store
                .poll_state()
                .get(tenant, integration)
                .await?
                .last_success_at
                .is_none()
            {
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "the first poll did not finish"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        Ok(Self {
            db,
            _nats: nats,
            bus,
            sim,
            tenant,
            analyst,
            api,
            writer: channel(writer_addr).await?,
            integration,
            webhook_url: format!("http://{ingest_addr}/v1/webhooks/{integration}"),
            portal,
            stop,
        })
    }

    pub fn store(&self) -> &Store {
        self.db.store()
    }

    /// Configures the SDP webhook as the README says: our URL, the default payload template and
    /// the `X-Lockstep-Token` header (`token`; none when `None`).
    pub async fn configure_webhook(&self, url: &str, token: Option<&str>) -> anyhow::Result<()> {
        self.sim
            .control()
            .add_sdp_webhook(&SdpWebhook {
                id: 0,
                portal: self.portal.into(),
                url: url.into(),
                events: Vec::new(),
                payload_template: None,
                header_name: token.map(|_| "X-Lockstep-Token".to_owned()),
                header_value: token.map(str::to_owned),
                target_id: String::new(),
            })
            .await?;
        Ok(())
    }

    pub async fn finding(&self, key: &str) -> anyhow::Result<FindingId> {
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
        Ok(imported.rows[0].id)
    }

    /// `CreateTicket` through ticket-writer, as an analyst.
    pub async fn create_ticket(
        &self,
        finding: FindingId,
    ) -> Result<pb::TicketResult, tonic::Status> {
        TicketServiceClient::new(self.writer.clone())
            .create_ticket(req(
                &self.analyst,
                pb::CreateTicketRequest {
                    request_id: String::new(),
                    finding_id: finding.to_string(),
                    spec: Some(pb::TicketSpec {
                        integration_id: self.integration.to_string(),
                        ..Default::default()
                    }),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// A finding with its request created by ticket-writer; returns the finding and request id.
    pub async fn ticketed(&self, key: &str) -> anyhow::Result<(FindingId, String)> {
        let finding = self.finding(key).await?;
        let result = self.create_ticket(finding).await?;
        let link = result
            .link
            .filter(|l| !l.external_id.is_empty())
            .ok_or_else(|| anyhow::anyhow!("no ticket: {}", result.error_message))?;
        // SDP times are milliseconds; the finding's own change must be older than the vendor's.
        self.sim.control().advance_clock(2).await?;
        Ok((finding, link.external_id))
    }

    pub async fn link(&self, finding: FindingId) -> anyhow::Result<Option<TicketLinkRecord>> {
        Ok(self
            .store()
            .links()
            .find_active(self.tenant, finding, self.integration)
            .await?)
    }

    pub async fn set_status(&self, finding: FindingId, status: &str) -> anyhow::Result<()> {
        FindingServiceClient::new(self.api.clone())
            .set_finding_status(req(
                &self.analyst,
                pb::SetFindingStatusRequest {
                    id: finding.to_string(),
                    status: status.into(),
                    ..Default::default()
                },
            ))
            .await?;
        Ok(())
    }

    pub async fn status(&self, finding: FindingId) -> anyhow::Result<FindingStatus> {
        Ok(self
            .store()
            .findings()
            .get(self.tenant, finding)
            .await?
            .status)
    }

    pub async fn wait_for(&self, finding: FindingId, status: FindingStatus) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let now = self.status(finding).await?;
            if now == status {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("finding {finding} is {now}, not {status}, after {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A v3 call as a technician of the world's portal (a person working in SDP).
    pub async fn act(
        &self,
        method: &str,
        path: &str,
        input: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let r = self
            .sim
            .control()
            .sdp_act(&lockstep_itsm_sim::sdp::control::SdpAct {
                portal: self.portal.into(),
                email_id: format!("admin@{}.example.com", self.portal),
                method: method.into(),
                path: path.into(),
                input_data: input,
            })
            .await?;
        r.body.ok_or_else(|| anyhow::anyhow!("no body"))
    }

    /// The requests of the portal (up to 100).
    pub async fn requests(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let body = self
            .act(
                "GET",
                "requests",
                Some(serde_json::json!({"list_info": {"row_count": 100}})),
            )
            .await?;
        Ok(body["requests"].as_array().cloned().unwrap_or_default())
    }

    /// Messages on the world's stream.
    pub async fn stream_messages(&self) -> anyhow::Result<u64> {
        let stream = self
            .bus
            .jetstream()
            .get_stream(self.bus.subjects().stream_name())
            .await?;
        let mut stream = stream;
        Ok(stream.info().await?.state.messages)
    }

    pub async fn stop(self) {
        self.stop.trigger();
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.sim.shutdown().await;
    }
}
