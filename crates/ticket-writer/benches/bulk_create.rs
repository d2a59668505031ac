//! Bulk creation of 500 findings' tickets against the ServiceNow emulator with 50 ms of injected
//! latency on every vendor call, through the real gRPC service (pre-flight, Batch API, write-back,
//! events). Prints the wall time beside the serial lower bound (500 × 50 ms), and a single
//! create's measured time in the same run.
//!
//! Run: `cargo bench -p lockstep-ticket-writer --bench bulk_create` (needs PostgreSQL and NATS, as
//! the tests do: `make bench` provides them).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lockstep_bus::Bus;
use lockstep_crypto::Keyring;
use lockstep_domain::{IntegrationId, ScannerKey, Severity, Vendor};
use lockstep_itsm_sim::control::FaultRule;
use lockstep_itsm_sim::{SimConfig, SimServer};
use lockstep_platform::Shutdown;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::ticket_service_client::TicketServiceClient;
use lockstep_service_kit::vendor;
use lockstep_store::{IntegrationSettings, NewFinding, NewIntegration, Role};
use lockstep_testkit::{TestDb, TestNats};

const FINDINGS: usize = 500;
const LATENCY_MS: u64 = 50;

fn req<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

#[tokio::main]
async fn main() {
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
    let ca = std::env::temp_dir().join(format!("lockstep-bench-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, sim.ca_cert_pem().unwrap()).unwrap();
    let keyring = Arc::new(Keyring::new("bench", &[7u8; 32]).unwrap());
    let store = db.store().clone();

    let tenant = store.tenants().create("bench").await.unwrap().id;
    let token = lockstep_crypto::generate_token("lst_").unwrap();
    store
        .api_tokens()
        .create(
            tenant,
            "bench",
            &lockstep_crypto::hash_token(token.expose()),
            Role::Analyst,
        )
        .await
        .unwrap();
    let token = token.expose().to_owned();
    let id = IntegrationId::new();
    let credentials = lockstep_connectors::Credentials::Basic {
        username: "lockstep.integration".into(),
        password: lockstep_crypto::SecretString::new("lockstep.integration"),
    };
    let integration = store
        .integrations()
        .create(
            tenant,
            &NewIntegration {
                id,
                vendor: Vendor::ServiceNow,
                name: "bench".into(),
                base_url: sim.base_url().trim_end_matches('/').into(),
                auth_kind: vendor::auth_kind(&credentials),
                sealed_credentials: vendor::seal_credentials(&keyring, tenant, id, &credentials)
                    .unwrap(),
                sealed_webhook_secret: None,
                settings: IntegrationSettings::default(),
            },
        )
        .await
        .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let findings: Vec<NewFinding> = (0..=FINDINGS)
        .map(|i| NewFinding {
            scanner_key: ScannerKey::parse(&format!("BENCH-{i:04}")).unwrap(),
            title: format!("Benchmark finding {i}"),
            description: "Upgrade the package.".into(),
            severity: Severity::ALL[i % Severity::ALL.len()],
            asset: Some(format!("host-{i}")),
            cve: None,
            cwe: None,
            scanner: "bench".into(),
            seen_at: now,
        })
        .collect();
    let mut ids: Vec<String> = store
        .findings()
        .import(tenant, &findings)
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.id.to_string())
        .collect();
    let single_id = ids.pop().unwrap();

    let env = [
        ("LOCKSTEP_DATABASE__URL", db.url().to_owned()),
        ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0".to_owned()),
        ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0".to_owned()),
        (
            "LOCKSTEP_VENDOR_HTTP__CA_FILES",
            format!("[\"{}\"]", ca.display()),
        ),
        ("LOCKSTEP_WRITER__PUSH_ENABLED", "false".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .into_iter()
    // The emulator listens on loopback, which only an explicit allow-list reaches.
    .chain([lockstep_testkit::loopback_vendor_allow_list()]);
    let config: lockstep_ticket_writer::Config = lockstep_platform::config::load_with_env(
        lockstep_ticket_writer::config::DEFAULTS,
        None,
        env,
    )
    .unwrap();
    let deps = lockstep_ticket_writer::Deps {
        store: store.clone(),
        bus,
        keyring,
    };
    let app = lockstep_ticket_writer::App::build(config, deps)
        .await
        .unwrap();
    let addr = app.local_addr();
    let shutdown = Shutdown::new();
    tokio::spawn(app.run(shutdown.clone()));
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = TicketServiceClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);

    sim.control()
        .set_faults(&[FaultRule {
            path_prefix: "/api/now".into(),
            latency_ms: LATENCY_MS,
            ..Default::default()
        }])
        .await
        .unwrap();
    let spec = || {
        Some(pb::TicketSpec {
            integration_id: integration.id.to_string(),
            ..Default::default()
        })
    };

    // One ticket alone: what each ticket costs when created serially.
    let started = Instant::now();
    let single = client
        .create_ticket(req(
            &token,
            pb::CreateTicketRequest {
                request_id: String::new(),
                finding_id: single_id,
                spec: spec(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let single_time = started.elapsed();
    assert_eq!(single.outcome, pb::TicketOutcome::Created as i32);

    let started = Instant::now();
    let bulk = client
        .bulk_create_tickets(req(
            &token,
            pb::BulkCreateTicketsRequest {
                request_id: String::new(),
                finding_ids: ids,
                spec: spec(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let wall = started.elapsed();
    let incidents = sim.control().records("incident", "").await.unwrap().len();
    shutdown.trigger();

    let bound = Duration::from_millis(LATENCY_MS) * FINDINGS as u32;
    let serial_estimate = single_time * FINDINGS as u32;
    println!(
        "bulk_create: {FINDINGS} findings, {LATENCY_MS} ms injected latency on every vendor call"
    );
    println!(
        "  bulk wall time               {:>8.2} s   ({} created, {} failed)",
        wall.as_secs_f64(),
        bulk.created,
        bulk.failed
    );
    println!(
        "  serial lower bound           {:>8.2} s   ({FINDINGS} x {LATENCY_MS} ms)",
        bound.as_secs_f64()
    );
    println!(
        "  one create, measured         {:>8.3} s   (x {FINDINGS} = {:.2} s serial)",
        single_time.as_secs_f64(),
        serial_estimate.as_secs_f64()
    );
    println!(
        "  speed-up over the bound      {:>8.1} x",
        bound.as_secs_f64() / wall.as_secs_f64()
    );
    println!("  incidents in the emulator    {incidents:>8}");
    assert_eq!(
        bulk.created as usize, FINDINGS,
        "every finding got its ticket"
    );
    assert_eq!(incidents, FINDINGS + 1, "exactly one ticket per finding");
}
