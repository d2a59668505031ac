//! The Jira world of the stories: the Jira emulator (plain HTTP on loopback), api, ticket-writer,
//! ingest-webhook and sync-applier in-process (the poller on demand), a fresh database and a
//! private NATS prefix. Integrations are created through the api as an admin would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lockstep_bus::Bus;
use lockstep_crypto::Keyring;
use lockstep_domain::{FindingId, FindingStatus, IntegrationId, TenantId};
use lockstep_itsm_sim::{SimConfig, SimHandle, SimServer};
use lockstep_platform::Shutdown;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::finding_service_client::FindingServiceClient;
use lockstep_proto::v1::integration_service_client::IntegrationServiceClient;
use lockstep_proto::v1::ticket_service_client::TicketServiceClient;
use lockstep_store::{IntegrationSettings, Role, Store};
use lockstep_testkit::{TestDb, TestNats};
use serde_json::json;
use tonic::transport::Channel;

/// The admin-webhook secret, as typed into Jira and into the integration (used as typed).
pub const HOOK_SECRET: &str = "jira-admin-webhook-secret-7f3a9c";
pub const WAIT: Duration = Duration::from_secs(20);

pub struct JiraWorld {
    pub db: TestDb,
    /// Kept so the test's NATS prefix lives as long as the world.
    _nats: TestNats,
    pub bus: Bus,
    pub sim: SimHandle,
    pub tenant: TenantId,
    pub admin: String,
    pub analyst: String,
    pub ingest: SocketAddr,
    api: Channel,
    writer: Channel,
    stop: Shutdown,
}

fn keyring() -> Arc<Keyring> {
    Arc::new(Keyring::new("stories", &[42u8; 32]).expect("keyring"))
}

async fn token(store: &Store, tenant: TenantId, name: &str, role: Role) -> anyhow::Result<String> {
    let token = lockstep_crypto::generate_token("lst_")?;
    let hash = lockstep_crypto::hash_token(token.expose());
    store.api_tokens().create(tenant, name, &hash, role).await?;
    Ok(token.expose().to_owned())
}

async fn channel(addr: SocketAddr) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?)
}

/// One environment for every service, as under `lockstep up`: each ignores the others' keys.
fn config<T: serde::de::DeserializeOwned + serde::Serialize>(
    defaults: &str,
    env: &[(String, String)],
) -> anyhow::Result<T> {
    Ok(lockstep_platform::config::load_shared_with_env(defaults, None, env.to_vec())?.value)
}

pub fn req<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        r.metadata_mut().insert("authorization", value);
    }
    r
}

impl JiraWorld {
    pub async fn start() -> anyhow::Result<Self> {
        lockstep_platform::install_crypto_provider();
        let db = TestDb::try_new().await?;
        let nats = TestNats::try_new().await?;
        let bus = Bus::from_client(nats.client().clone(), nats.prefix())?;
        let sim = SimServer::start(SimConfig::default()).await?;
        let store = db.store().clone();
        let tenant = store.tenants().create("Acme").await?.id;
        let admin = token(&store, tenant, "admin", Role::Admin).await?;
        let analyst = token(&store, tenant, "analyst", Role::Analyst).await?;
        let env: Vec<(String, String)> = [
            ("LOCKSTEP_DATABASE__URL", db.url()),
            ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0"),
            ("LOCKSTEP_HTTP__LISTEN", "127.0.0.1:0"),
            ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0"),
            ("LOCKSTEP_APPLIER__FETCH_WAIT", "200ms"),
            ("LOCKSTEP_POLLER__TICK", "50ms"),
            ("LOCKSTEP_POLLER__REPLICA_ID", "jira-stories"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into_iter()
        .chain([lockstep_testkit::loopback_vendor_allow_list()])
        .collect();
        let stop = Shutdown::new();

        let mut api_config: lockstep_api::Config = config(lockstep_api::config::DEFAULTS, &env)?;
        // The api's HTTP JSON API on a free port too (its default is 8081).
        api_config.http.listen = "127.0.0.1:0".parse()?;
        let api = lockstep_api::App::build(
            api_config,
            lockstep_api::Deps {
                store: store.clone(),
                bus: bus.clone(),
                keyring: keyring(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("api: {e}"))?;
        let api_addr = api.local_addr();
        tokio::spawn(api.run(stop.clone()));
        let writer = lockstep_ticket_writer::App::build(
            config(lockstep_ticket_writer::config::DEFAULTS, &env)?,
            lockstep_ticket_writer::Deps {
                store: store.clone(),
                bus: bus.clone(),
                keyring: keyring(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("ticket-writer: {e}"))?;
        let writer_addr = writer.local_addr();
        tokio::spawn(writer.run(stop.clone()));
        let ingest = lockstep_ingest_webhook::App::build(
            config(lockstep_ingest_webhook::config::DEFAULTS, &env)?,
            lockstep_ingest_webhook::Deps {
                store: store.clone(),
                bus: bus.clone(),
                keyring: keyring(),
            },
        )
        .await?;
        let ingest_addr = ingest.local_addr();
        tokio::spawn(ingest.run(stop.clone()));
        let applier = lockstep_sync_applier::App::build(
            config(lockstep_sync_applier::config::DEFAULTS, &env)?,
            lockstep_sync_applier::Deps {
                store: store.clone(),
                bus: bus.clone(),
            },
        )
        .await?;
        tokio::spawn(applier.run(stop.clone()));
        Ok(Self {
            api: channel(api_addr).await?,
            writer: channel(writer_addr).await?,
            db,
            _nats: nats,
            bus,
            sim,
            tenant,
            admin,
            analyst,
            ingest: ingest_addr,
            stop,
        })
    }

    pub fn store(&self) -> &Store {
        self.db.store()
    }

    pub fn tickets(&self) -> TicketServiceClient<Channel> {
        TicketServiceClient::new(self.writer.clone())
    }

    pub fn findings(&self) -> FindingServiceClient<Channel> {
        FindingServiceClient::new(self.api.clone())
    }

    pub fn integrations(&self) -> IntegrationServiceClient<Channel> {
        IntegrationServiceClient::new(self.api.clone())
    }

    /// A Jira integration of the seeded account `<user>@example.com` creating in `project`,
    /// created through the api with the admin-webhook secret.
    pub async fn integration(
        &self,
        user: &str,
        project: &str,
        auto_close: bool,
    ) -> anyhow::Result<IntegrationId> {
        let created = self
            .integrations()
            .create_integration(req(
                &self.admin,
                pb::CreateIntegrationRequest {
                    request_id: String::new(),
                    vendor: "jira".into(),
                    name: format!("jira-{user}-{project}"),
                    base_url: self.sim.base_url().into(),
                    credentials: Some(pb::Credentials {
                        kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                            username: format!("{user}@example.com"),
                            password: format!("{user}-token"),
                        })),
                    }),
                    settings: Some(pb::IntegrationSettings {
                        auto_close_on_resolve: auto_close,
                        default_table: project.into(),
                        poll_interval_secs: 0,
                        allow_unsigned: false,
                    }),
                    webhook_secret: HOOK_SECRET.into(),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        Ok(IntegrationId::parse(&created.id)?)
    }

    /// Polls `integration` every second (the api refuses less than 30 s; stories set it here).
    pub async fn poll_every_second(&self, integration: IntegrationId) -> anyhow::Result<()> {
        let current = self
            .store()
            .integrations()
            .get(self.tenant, integration)
            .await?;
        self.store()
            .integrations()
            .update_settings(
                self.tenant,
                integration,
                &IntegrationSettings {
                    poll_interval_secs: 1,
                    ..current.settings
                },
            )
            .await?;
        Ok(())
    }

    /// The poller in-process until the world stops; returns its gRPC address (SyncService).
    pub async fn start_poller(&self) -> anyhow::Result<SocketAddr> {
        let env = [
            ("LOCKSTEP_DATABASE__URL", self.db.url()),
            ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0"),
            ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0"),
            ("LOCKSTEP_POLLER__TICK", "50ms"),
            ("LOCKSTEP_POLLER__REPLICA_ID", "jira-stories"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into_iter()
        .chain([lockstep_testkit::loopback_vendor_allow_list()]);
        let config: lockstep_poller::Config =
            lockstep_platform::config::load_with_env(lockstep_poller::config::DEFAULTS, None, env)?;
        let http = config
            .vendor_http
            .executor()
            .map_err(|e| anyhow::anyhow!(e))?;
        let app = lockstep_poller::App::build(
            config,
            lockstep_poller::Deps {
                store: self.store().clone(),
                bus: self.bus.clone(),
                keyring: keyring(),
                http,
            },
        )
        .await?;
        let addr = app.grpc_addr();
        tokio::spawn(app.run(self.stop.clone()));
        Ok(addr)
    }

    /// Registers ingest-webhook for `integration` as a Jira admin webhook (as a site admin would
    /// in Settings → System → WebHooks) for `project`'s issues, signed with `secret`.
    pub async fn register_webhook(
        &self,
        integration: IntegrationId,
        project: &str,
        secret: Option<&str>,
    ) -> anyhow::Result<()> {
        let mut body = json!({
            "name": format!("lockstep {integration}"),
            "url": self.webhook_url(integration),
            "events": ["jira:issue_created", "jira:issue_updated"],
            "filters": {"issue-related-events-section": format!("project = {project}")},
            "excludeBody": false,
        });
        if let Some(secret) = secret {
            body["secret"] = json!(secret);
        }
        let resp = reqwest::Client::new()
            .post(format!("{}/rest/webhooks/1.0/webhook", self.sim.base_url()))
            .basic_auth("admin@example.com", Some("admin-token"))
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "webhook registration: {}",
            resp.status()
        );
        Ok(())
    }

    pub fn webhook_url(&self, integration: IntegrationId) -> String {
        format!("http://{}/v1/webhooks/{integration}", self.ingest)
    }

    /// Imports findings `<prefix>-000 …` (all high) and returns their ids in key order.
    pub async fn import(&self, prefix: &str, n: usize) -> anyhow::Result<Vec<FindingId>> {
        let items: Vec<_> = (0..n)
            .map(|i| json!({"key": format!("{prefix}-{i:03}"), "title": format!("Finding {i}"), "severity": "high"}))
            .collect();
        let doc = json!({"scanner": "nessus", "findings": items});
        let mut out = self
            .findings()
            .import_findings(req(
                &self.analyst,
                pb::ImportFindingsRequest {
                    format: pb::ImportFormat::Json as i32,
                    content: doc.to_string().into_bytes(),
                    scanner: String::new(),
                },
            ))
            .await?
            .into_inner()
            .findings;
        out.sort_by(|x, y| x.scanner_key.cmp(&y.scanner_key));
        out.iter().map(|f| Ok(FindingId::parse(&f.id)?)).collect()
    }

    pub fn spec(&self, integration: IntegrationId, project: &str) -> pb::TicketSpec {
        pb::TicketSpec {
            integration_id: integration.to_string(),
            table: project.into(),
            ..Default::default()
        }
    }

    /// Creates the finding's issue through ticket-writer; returns its key.
    pub async fn ticket(
        &self,
        finding: FindingId,
        integration: IntegrationId,
        project: &str,
    ) -> anyhow::Result<String> {
        let result = self
            .tickets()
            .create_ticket(req(
                &self.analyst,
                pb::CreateTicketRequest {
                    request_id: String::new(),
                    finding_id: finding.to_string(),
                    spec: Some(self.spec(integration, project)),
                },
            ))
            .await?
            .into_inner();
        let link = result
            .link
            .ok_or_else(|| anyhow::anyhow!("no link: {}", result.error_message))?;
        // The emulator keeps whole seconds: vendor changes from now on must be later than the
        // finding's own last change (real Jira keeps milliseconds).
        self.sim.control().advance_clock(2).await?;
        Ok(link.key)
    }

    /// The analyst sets the finding's status (the api publishes the change for ticket-writer).
    pub async fn set_status(&self, finding: FindingId, status: &str) -> anyhow::Result<()> {
        self.findings()
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

    pub async fn wait_for(
        &self,
        finding: FindingId,
        status: FindingStatus,
    ) -> anyhow::Result<Duration> {
        let started = tokio::time::Instant::now();
        loop {
            let now = self.status(finding).await?;
            if now == status {
                return Ok(started.elapsed());
            }
            anyhow::ensure!(
                started.elapsed() < WAIT,
                "finding {finding} is {now}, not {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `check` holds (polling the condition, never a fixed sleep).
    pub async fn eventually<F, Fut>(&self, what: &str, mut check: F) -> anyhow::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = tokio::time::Instant::now();
        while !check().await {
            anyhow::ensure!(
                started.elapsed() < WAIT,
                "not reached after {WAIT:?}: {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Messages in the stream (what was published).
    pub async fn published(&self) -> anyhow::Result<u64> {
        Ok(self
            .bus
            .jetstream()
            .get_stream(self.bus.subjects().stream_name())
            .await?
            .info()
            .await?
            .state
            .messages)
    }

    pub async fn stop(self) {
        self.stop.trigger();
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.sim.shutdown().await;
    }
}
