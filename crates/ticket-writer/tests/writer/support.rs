//! An api and a ticket-writer per test over one fresh database, a per-test NATS prefix and an
//! HTTPS ServiceNow emulator; tenants A and B with admin, analyst and viewer tokens.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lockstep_bus::Bus;
use lockstep_crypto::Keyring;
use lockstep_domain::TenantId;
use lockstep_itsm_sim::{SimConfig, SimHandle, SimServer};
use lockstep_platform::Shutdown;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::finding_service_client::FindingServiceClient;
use lockstep_proto::v1::integration_service_client::IntegrationServiceClient;
use lockstep_proto::v1::ticket_service_client::TicketServiceClient;
use lockstep_store::{Role, Store};
use lockstep_testkit::{TestDb, TestNats};
use tonic::transport::Channel;

/// The test master key, `test:` + base64 of 32 bytes of 9.
pub const MASTER_KEYS: &str = "test:CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";

pub struct Tenant {
    pub id: TenantId,
    pub admin: String,
    pub analyst: String,
    pub viewer: String,
}

pub struct Env {
    pub db: TestDb,
    pub nats: TestNats,
    pub bus: Bus,
    pub sim: SimHandle,
    pub ca: String,
    pub api: Channel,
    pub writer_addr: SocketAddr,
    pub writer: Channel,
    pub shutdown: Shutdown,
    pub a: Tenant,
    pub b: Tenant,
}

async fn token(store: &Store, tenant: TenantId, name: &str, role: Role) -> String {
    let token = lockstep_crypto::generate_token("lst_").unwrap();
    store
        .api_tokens()
        .create(
            tenant,
            name,
            &lockstep_crypto::hash_token(token.expose()),
            role,
        )
        .await
        .unwrap();
    token.expose().to_owned()
}

async fn tenant(store: &Store, name: &str) -> Tenant {
    let id = store.tenants().create(name).await.unwrap().id;
    Tenant {
        id,
        admin: token(store, id, &format!("{name}-admin"), Role::Admin).await,
        analyst: token(store, id, &format!("{name}-analyst"), Role::Analyst).await,
        viewer: token(store, id, &format!("{name}-viewer"), Role::Viewer).await,
    }
}

/// The environment variables that configure a service for this test (also used for the child
/// process of the crash test).
pub fn service_env(db: &TestDb, nats: &TestNats, ca: &str) -> Vec<(String, String)> {
    [
        ("LOCKSTEP_DATABASE__URL", db.url().to_owned()),
        ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0".to_owned()),
        ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0".to_owned()),
        ("LOCKSTEP_NATS__URL", nats.url().to_owned()),
        ("LOCKSTEP_NATS__SUBJECT_PREFIX", nats.prefix().to_owned()),
        ("LOCKSTEP_VENDOR_HTTP__CA_FILES", format!("[\"{ca}\"]")),
        ("LOCKSTEP_VENDOR_HTTP__REQUEST_TIMEOUT", "10s".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .into_iter()
    // The emulator listens on loopback, which only an explicit allow-list reaches.
    .chain([lockstep_testkit::loopback_vendor_allow_list()])
    .collect()
}

pub fn keyring() -> Arc<Keyring> {
    Arc::new(Keyring::from_list(MASTER_KEYS, "test").unwrap())
}

pub async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut lockstep_ticket_writer::Config)) -> Self {
        Self::start_full(tune, lockstep_connectors::Registry::builtin()).await
    }

    /// api and ticket-writer with the vendors of `registry` (a fake vendor in a test).
    pub async fn start_with_registry(registry: lockstep_connectors::Registry) -> Self {
        Self::start_full(|_| {}, registry).await
    }

    async fn start_full(
        tune: impl FnOnce(&mut lockstep_ticket_writer::Config),
        registry: lockstep_connectors::Registry,
    ) -> Self {
        lockstep_platform::install_crypto_provider();
        let db = TestDb::new().await;
        let nats = TestNats::new().await;
        let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
        let sim = SimServer::start(SimConfig {
            tls: true,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let ca_path = std::env::temp_dir().join(format!(
            "lockstep-sim-ca-{}.pem",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&ca_path, sim.ca_cert_pem().unwrap()).unwrap();
        let ca = ca_path.display().to_string();
        let env = service_env(&db, &nats, &ca);
        let shutdown = Shutdown::new();

        let mut api_config: lockstep_api::Config = lockstep_platform::config::load_with_env(
            lockstep_api::config::DEFAULTS,
            None,
            env.clone(),
        )
        .unwrap();
        // The api's HTTP JSON API too on a free port (its default is 8081).
        api_config.http.listen = "127.0.0.1:0".parse().unwrap();
        let api_deps = lockstep_api::Deps {
            store: db.store().clone(),
            bus: bus.clone(),
            keyring: keyring(),
        };
        let api = lockstep_api::App::build_with(api_config, api_deps, registry.clone())
            .await
            .unwrap();
        let api_addr = api.local_addr();
        tokio::spawn(api.run(shutdown.clone()));

        let mut config: lockstep_ticket_writer::Config = lockstep_platform::config::load_with_env(
            lockstep_ticket_writer::config::DEFAULTS,
            None,
            env,
        )
        .unwrap();
        tune(&mut config);
        let deps = lockstep_ticket_writer::Deps {
            store: db.store().clone(),
            bus: bus.clone(),
            keyring: keyring(),
        };
        let writer = lockstep_ticket_writer::App::build_with(config, deps, registry)
            .await
            .unwrap();
        let writer_addr = writer.local_addr();
        tokio::spawn(writer.run(shutdown.clone()));

        let a = tenant(db.store(), "a").await;
        let b = tenant(db.store(), "b").await;
        Self {
            api: channel(api_addr).await,
            writer: channel(writer_addr).await,
            writer_addr,
            db,
            nats,
            bus,
            sim,
            ca,
            shutdown,
            a,
            b,
        }
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

    pub async fn integration(&self, token: &str, name: &str) -> pb::Integration {
        IntegrationServiceClient::new(self.api.clone())
            .create_integration(req(
                token,
                pb::CreateIntegrationRequest {
                    request_id: String::new(),
                    vendor: "servicenow".into(),
                    name: name.into(),
                    base_url: self.sim.base_url().into(),
                    credentials: Some(pb::Credentials {
                        kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                            username: "lockstep.integration".into(),
                            password: "lockstep.integration".into(),
                        })),
                    }),
                    settings: None,
                    webhook_secret: String::new(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner()
    }

    /// Imports `n` findings (severities cycling critical → info), in key order.
    pub async fn import(&self, token: &str, prefix: &str, n: usize) -> Vec<String> {
        let items: Vec<_> = (0..n)
            .map(|i| {
                let severity = ["critical", "high", "medium", "low", "info"][i % 5];
                serde_json::json!({"key": format!("{prefix}-{i:03}"), "title": format!("Finding {i}"), "severity": severity})
            })
            .collect();
        let doc = serde_json::json!({"scanner": "nessus", "findings": items});
        let mut out = self
            .findings()
            .import_findings(req(
                token,
                pb::ImportFindingsRequest {
                    format: pb::ImportFormat::Json as i32,
                    content: doc.to_string().into_bytes(),
                    scanner: String::new(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .findings;
        out.sort_by(|x, y| x.scanner_key.cmp(&y.scanner_key));
        out.into_iter().map(|f| f.id).collect()
    }

    /// Incidents in the emulator carrying the finding's correlation id.
    pub async fn incidents_for(&self, finding: &str) -> usize {
        self.sim
            .control()
            .records("incident", &format!("correlation_id=lockstep:{finding}"))
            .await
            .unwrap()
            .len()
    }

    /// POSTs the emulator received on the incident table (creates).
    pub async fn incident_posts(&self) -> usize {
        self.sim
            .control()
            .requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| {
                r.method == "POST"
                    && (r.path.starts_with("/api/now/table/incident")
                        || r.path.starts_with("/api/now/v1/batch"))
            })
            .count()
    }
}

pub fn spec(integration: &pb::Integration) -> pb::TicketSpec {
    pb::TicketSpec {
        integration_id: integration.id.clone(),
        ..Default::default()
    }
}

pub fn req<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

pub fn code<T: std::fmt::Debug>(r: Result<tonic::Response<T>, tonic::Status>) -> tonic::Code {
    match r {
        Ok(resp) => panic!("expected an error, got {resp:?}"),
        Err(s) => s.code(),
    }
}

pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}
