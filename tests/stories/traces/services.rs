//! The api and ticket-writer in-process over a fresh database, a private NATS prefix and the
//! ServiceNow emulator (HTTPS), with an analyst and an admin token: the outbound half of the
//! system, driven as the CLI drives it (gRPC with a bearer token and a `traceparent`).

use std::sync::Arc;

use lockstep_bus::Bus;
use lockstep_crypto::Keyring;
use lockstep_itsm_sim::{SimConfig, SimHandle, SimServer};
use lockstep_platform::Shutdown;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::finding_service_client::FindingServiceClient;
use lockstep_proto::v1::integration_service_client::IntegrationServiceClient;
use lockstep_proto::v1::ticket_service_client::TicketServiceClient;
use lockstep_store::Role;
use lockstep_testkit::{TestDb, TestNats};
use tonic::transport::Channel;

pub struct Services {
    _db: TestDb,
    _nats: TestNats,
    sim: SimHandle,
    api: Channel,
    /// The api's HTTP JSON API.
    http: std::net::SocketAddr,
    writer: Channel,
    admin: String,
    analyst: String,
    shutdown: Shutdown,
}

impl Services {
    pub async fn start() -> Self {
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
        let ca = std::env::temp_dir().join(format!(
            "lockstep-traces-ca-{}.pem",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&ca, sim.ca_cert_pem().unwrap()).unwrap();
        let env: Vec<(String, String)> = [
            ("LOCKSTEP_DATABASE__URL", db.url().to_owned()),
            ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0".to_owned()),
            ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0".to_owned()),
            ("LOCKSTEP_NATS__URL", nats.url().to_owned()),
            ("LOCKSTEP_NATS__SUBJECT_PREFIX", nats.prefix().to_owned()),
            (
                "LOCKSTEP_VENDOR_HTTP__CA_FILES",
                format!("[\"{}\"]", ca.display()),
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .into_iter()
        .chain([lockstep_testkit::loopback_vendor_allow_list()])
        .collect();
        let keyring = Arc::new(Keyring::new("traces", &[7u8; 32]).unwrap());
        let shutdown = Shutdown::new();

        let config: lockstep_ticket_writer::Config = lockstep_platform::config::load_with_env(
            lockstep_ticket_writer::config::DEFAULTS,
            None,
            env.clone(),
        )
        .unwrap();
        let deps = lockstep_ticket_writer::Deps {
            store: db.store().clone(),
            bus: bus.clone(),
            keyring: keyring.clone(),
        };
        let writer = lockstep_ticket_writer::App::build(config, deps)
            .await
            .unwrap();
        let writer_addr = writer.local_addr();
        tokio::spawn(writer.run(shutdown.clone()));

        let config: lockstep_api::Config = lockstep_platform::config::load_with_env(
            lockstep_api::config::DEFAULTS,
            None,
            // The HTTP JSON API on a free port, its ticket routes calling this ticket-writer.
            env.into_iter().chain([
                ("LOCKSTEP_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
                (
                    "LOCKSTEP_UPSTREAM__TICKET_WRITER".to_owned(),
                    format!("http://{writer_addr}"),
                ),
            ]),
        )
        .unwrap();
        let deps = lockstep_api::Deps {
            store: db.store().clone(),
            bus,
            keyring,
        };
        let api = lockstep_api::App::build(config, deps).await.unwrap();
        let api_addr = api.local_addr();
        let http_addr = api.http_addr();
        tokio::spawn(api.run(shutdown.clone()));

        let store = db.store();
        let tenant = store.tenants().create("traces").await.unwrap().id;
        let mut tokens = Vec::new();
        for (name, role) in [("admin", Role::Admin), ("analyst", Role::Analyst)] {
            let token = lockstep_crypto::generate_token("lst_").unwrap();
            let hash = lockstep_crypto::hash_token(token.expose());
            store
                .api_tokens()
                .create(tenant, name, &hash, role)
                .await
                .unwrap();
            tokens.push(token.expose().to_owned());
        }
        let [admin, analyst] = <[String; 2]>::try_from(tokens).unwrap();
        Self {
            api: channel(api_addr).await,
            http: http_addr,
            writer: channel(writer_addr).await,
            _db: db,
            _nats: nats,
            sim,
            admin,
            analyst,
            shutdown,
        }
    }

    /// A ServiceNow integration on the emulator.
    pub async fn integration(&self) -> String {
        IntegrationServiceClient::new(self.api.clone())
            .create_integration(req(
                &self.admin,
                None,
                pb::CreateIntegrationRequest {
                    vendor: "servicenow".into(),
                    name: "traced".into(),
                    base_url: self.sim.base_url().into(),
                    credentials: Some(pb::Credentials {
                        kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                            username: "lockstep.integration".into(),
                            password: "lockstep.integration".into(),
                        })),
                    }),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .id
    }

    /// One imported finding's id.
    pub async fn import(&self, key: &str) -> String {
        let doc = serde_json::json!({"scanner": "nessus", "findings": [
            {"key": key, "title": "Traced finding", "severity": "high"}
        ]});
        FindingServiceClient::new(self.api.clone())
            .import_findings(req(
                &self.analyst,
                None,
                pb::ImportFindingsRequest {
                    format: pb::ImportFormat::Json as i32,
                    content: doc.to_string().into_bytes(),
                    scanner: String::new(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .findings
            .remove(0)
            .id
    }

    /// `CreateTicket` on ticket-writer, sent with `traceparent`.
    pub async fn create_ticket(&self, traceparent: &str, finding: &str, integration: &str) {
        let result = TicketServiceClient::new(self.writer.clone())
            .create_ticket(req(
                &self.analyst,
                Some(traceparent),
                pb::CreateTicketRequest {
                    request_id: String::new(),
                    finding_id: finding.to_owned(),
                    spec: Some(pb::TicketSpec {
                        integration_id: integration.to_owned(),
                        ..Default::default()
                    }),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(result.link.is_some(), "{result:?}");
    }

    /// `POST /v1/tickets` on the api's HTTP JSON API (which calls ticket-writer), sent with
    /// `traceparent` as a browser's tracing or a proxy would.
    pub async fn create_ticket_over_http(
        &self,
        traceparent: &str,
        finding: &str,
        integration: &str,
    ) {
        let answer = reqwest::Client::new()
            .post(format!("http://{}/v1/tickets", self.http))
            .bearer_auth(&self.analyst)
            .header("traceparent", traceparent)
            .json(&serde_json::json!({
                "finding_id": finding,
                "spec": {"integration_id": integration},
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let result: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(result["outcome"], "created", "{result}");
    }

    /// `SetFindingStatus closed` on the api, sent with `traceparent`.
    pub async fn close_finding(&self, traceparent: &str, finding: &str) {
        FindingServiceClient::new(self.api.clone())
            .set_finding_status(req(
                &self.analyst,
                Some(traceparent),
                pb::SetFindingStatusRequest {
                    id: finding.to_owned(),
                    status: "closed".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap();
    }

    /// The `traceparent` headers of the requests the emulator received.
    pub async fn vendor_traceparents(&self) -> Vec<String> {
        let requests = self.sim.control().requests().await.unwrap();
        requests.into_iter().filter_map(|r| r.traceparent).collect()
    }

    pub fn stop(&self) {
        self.shutdown.trigger();
    }
}

async fn channel(addr: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// A request as the CLI sends it: bearer token, and the caller's `traceparent` when it has one.
fn req<T>(token: &str, traceparent: Option<&str>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let metadata = request.metadata_mut();
    metadata.insert("authorization", format!("Bearer {token}").parse().unwrap());
    if let Some(traceparent) = traceparent {
        metadata.insert("traceparent", traceparent.parse().unwrap());
    }
    request
}
