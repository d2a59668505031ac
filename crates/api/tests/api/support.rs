//! An API server per test: a fresh database, a per-test NATS prefix, an HTTPS ServiceNow
//! emulator, and two tenants (A and B) with an admin, an analyst and a viewer token each.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use lockstep_api::config::DEFAULTS;
use lockstep_api::{App, Config, Deps};
use lockstep_bus::Bus;
use lockstep_crypto::Keyring;
use lockstep_domain::TenantId;
use lockstep_itsm_sim::{SimConfig, SimHandle, SimServer};
use lockstep_platform::Shutdown;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::finding_service_client::FindingServiceClient;
use lockstep_proto::v1::integration_service_client::IntegrationServiceClient;
use lockstep_proto::v1::mapping_service_client::MappingServiceClient;
use lockstep_proto::v1::preset_service_client::PresetServiceClient;
use lockstep_store::{Role, Store};
use lockstep_testkit::{TestDb, TestNats};
use tonic::transport::Channel;

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
    pub addr: SocketAddr,
    /// The HTTP JSON API.
    pub http: SocketAddr,
    /// ticket-writer's and the poller's gRPC addresses, when [`Env::start_stack`] started them.
    pub upstream: Option<(SocketAddr, SocketAddr)>,
    pub channel: Channel,
    pub shutdown: Shutdown,
    pub a: Tenant,
    pub b: Tenant,
}

pub async fn token(store: &Store, tenant: TenantId, name: &str, role: Role) -> String {
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

pub async fn tenant(store: &Store, name: &str) -> Tenant {
    let id = store.tenants().create(name).await.unwrap().id;
    Tenant {
        id,
        admin: token(store, id, &format!("{name}-admin"), Role::Admin).await,
        analyst: token(store, id, &format!("{name}-analyst"), Role::Analyst).await,
        viewer: token(store, id, &format!("{name}-viewer"), Role::Viewer).await,
    }
}

/// Writes the emulator's CA where the config can name it.
pub fn ca_file(sim: &SimHandle) -> String {
    let path = std::env::temp_dir().join(format!(
        "lockstep-sim-ca-{}.pem",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, sim.ca_cert_pem().expect("TLS emulator")).unwrap();
    path.display().to_string()
}

/// The environment every service of a test reads (each service refuses keys it does not know, so
/// only shared ones are here).
pub fn service_env(db: &TestDb, nats: &TestNats, ca: &str) -> Vec<(String, String)> {
    [
        ("LOCKSTEP_DATABASE__URL", db.url().to_owned()),
        ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0".to_owned()),
        ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0".to_owned()),
        ("LOCKSTEP_NATS__URL", nats.url().to_owned()),
        ("LOCKSTEP_NATS__SUBJECT_PREFIX", nats.prefix().to_owned()),
        ("LOCKSTEP_VENDOR_HTTP__CA_FILES", format!("[\"{ca}\"]")),
        ("LOCKSTEP_VENDOR_HTTP__REQUEST_TIMEOUT", "5s".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    // The emulator listens on loopback, which only an explicit allow-list reaches.
    .into_iter()
    .chain([lockstep_testkit::loopback_vendor_allow_list()])
    .collect()
}

pub fn config(db: &TestDb, nats: &TestNats, ca: &str) -> Config {
    let mut env = service_env(db, nats, ca);
    env.push(("LOCKSTEP_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()));
    lockstep_platform::config::load_with_env(DEFAULTS, None, env).unwrap()
}

pub fn keyring() -> Arc<Keyring> {
    Arc::new(Keyring::new("test", &[9u8; 32]).unwrap())
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// [`Env::start`] with the service's configuration changed by `tune` first.
    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> Self {
        Self::start_inner(false, tune).await
    }

    /// [`Env::start`] plus a ticket-writer and a poller, which the api's HTTP routes reach as
    /// its upstreams (as under `lockstep up`).
    pub async fn start_stack() -> Self {
        Self::start_inner(true, |_| {}).await
    }

    async fn start_inner(stack: bool, tune: impl FnOnce(&mut Config)) -> Self {
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
        let ca = ca_file(&sim);
        let mut config = config(&db, &nats, &ca);
        tune(&mut config);
        let shutdown = Shutdown::new();
        let mut upstream = None;
        if stack {
            let env = service_env(&db, &nats, &ca);
            let (writer, poller) = crate::stack::start(env, db.store(), &bus, &shutdown).await;
            config.upstream.ticket_writer = format!("http://{writer}");
            config.upstream.poller = format!("http://{poller}");
            upstream = Some((writer, poller));
        }
        let deps = Deps {
            store: db.store().clone(),
            bus: bus.clone(),
            keyring: keyring(),
        };
        let app = App::build(config, deps).await.unwrap();
        let addr = app.local_addr();
        let http = app.http_addr();
        tokio::spawn(app.run(shutdown.clone()));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let a = tenant(db.store(), "a").await;
        let b = tenant(db.store(), "b").await;
        Self {
            db,
            nats,
            bus,
            sim,
            addr,
            http,
            upstream,
            channel,
            shutdown,
            a,
            b,
        }
    }

    pub fn store(&self) -> &Store {
        self.db.store()
    }

    pub fn integrations(&self) -> IntegrationServiceClient<Channel> {
        IntegrationServiceClient::new(self.channel.clone())
    }
    pub fn mapping(&self) -> MappingServiceClient<Channel> {
        MappingServiceClient::new(self.channel.clone())
    }
    pub fn presets(&self) -> PresetServiceClient<Channel> {
        PresetServiceClient::new(self.channel.clone())
    }
    pub fn findings(&self) -> FindingServiceClient<Channel> {
        FindingServiceClient::new(self.channel.clone())
    }

    /// Creates a ServiceNow integration against the emulator (basic auth, integration user).
    pub async fn integration(&self, token: &str, name: &str) -> pb::Integration {
        self.integrations()
            .create_integration(req(token, create_integration(self.sim.base_url(), name)))
            .await
            .unwrap()
            .into_inner()
    }

    /// Imports `n` findings and returns them in key order.
    pub async fn import(&self, token: &str, prefix: &str, n: usize) -> Vec<pb::ImportedFinding> {
        let items: Vec<_> = (0..n)
            .map(|i| {
                let severity = ["critical", "high", "medium", "low", "info"][i % 5];
                serde_json::json!({"key": format!("{prefix}-{i:03}"), "title": format!("Finding {i}"),
                                   "severity": severity})
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
        out
    }
}

pub fn create_integration(base_url: &str, name: &str) -> pb::CreateIntegrationRequest {
    pb::CreateIntegrationRequest {
        request_id: String::new(),
        vendor: "servicenow".into(),
        name: name.into(),
        base_url: base_url.into(),
        credentials: Some(basic("lockstep.integration", "lockstep.integration")),
        settings: None,
        webhook_secret: String::new(),
        ..Default::default()
    }
}

pub fn basic(user: &str, password: &str) -> pb::Credentials {
    pb::Credentials {
        kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
            username: user.into(),
            password: password.into(),
        })),
    }
}

/// A request carrying `authorization: Bearer <token>`.
pub fn req<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    if !token.is_empty() {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    r
}

/// The status code of a failed call.
pub fn code<T: std::fmt::Debug>(r: Result<tonic::Response<T>, tonic::Status>) -> tonic::Code {
    match r {
        Ok(resp) => panic!("expected an error, got {resp:?}"),
        Err(s) => s.code(),
    }
}
