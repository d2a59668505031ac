//! `make bench`: the Tickets workbench over 100,000 live ticket links in one tenant. Server time
//! of the first page and of a filtered page (SLA breached + severity + text) at p50/p99, through
//! the HTTP JSON API and through gRPC in the same run, the bytes of each page, and the rows
//! PostgreSQL read per page (from pg_stat_user_tables: a page whose cost grew with the total
//! would read far more than its 200 rows).

use std::time::{Duration, Instant};

use lockstep_api::config::DEFAULTS;
use lockstep_api::{App, Config, Deps};
use lockstep_bus::Bus;
use lockstep_platform::Shutdown;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::integration_service_client::IntegrationServiceClient;
use lockstep_proto::v1::workbench_service_client::WorkbenchServiceClient;
use lockstep_store::Role;
use lockstep_testkit::{TestDb, TestNats};
use prost::Message as _;

const LINKS: i64 = 100_000;
const ROUNDS: usize = 200;

fn req<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

async fn seed(db: &TestDb, tenant: uuid::Uuid, integration: uuid::Uuid) {
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO findings (id, tenant_id, scanner_key, title, severity, asset, first_seen_at,
                               last_seen_at, created_at)
         SELECT gen_random_uuid(), $1, 'bench-' || g,
                'Finding ' || g || ' in ' || (ARRAY['openssl','nginx','log4j','glibc','zlib','curl','sudo'])[1 + g % 7],
                (ARRAY['critical','high','medium','low','info'])[1 + g % 5],
                'host-' || (g % 1000), now(), now(), now() - make_interval(secs => $2 - g)
           FROM generate_series(1, $2) g",
    )
    .bind(tenant)
    .bind(LINKS)
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO ticket_links (id, tenant_id, finding_id, integration_id, vendor,
                                   table_or_project, external_id, ticket_key, state, vendor_state,
                                   vendor_updated_at, vendor_sequence, sla_due_at, sla_breached,
                                   last_sync_channel, last_synced_at, created_at)
         SELECT gen_random_uuid(), f.tenant_id, f.id, $2, 'servicenow', 'incident',
                md5(f.scanner_key), 'INC' || lpad(substr(f.scanner_key, 7), 7, '0'), 'live', '2',
                now(), 1, now() - interval '1 hour', abs(hashtext(f.scanner_key)) % 10 = 0,
                'poll', now(), f.created_at
           FROM findings f WHERE f.tenant_id = $1",
    )
    .bind(tenant)
    .bind(integration)
    .execute(db.pool())
    .await
    .unwrap();
    for table in ["findings", "ticket_links"] {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(db.pool())
            .await
            .unwrap();
    }
    println!(
        "seeded {LINKS} findings and live links in {:.1?}",
        started.elapsed()
    );
}

/// The executed plan's figures that show what a page cost: the rows each scan node produced.
fn plan_summary(plan: &[String]) -> String {
    plan.iter()
        .filter(|l| l.contains("Scan"))
        .map(|l| {
            let node = l.trim().trim_start_matches("->").trim();
            let name = node.split("  (").next().unwrap_or(node);
            let actual = node.split("(actual").nth(1).unwrap_or("");
            let rows = actual
                .split("rows=")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .unwrap_or("?");
            let loops = actual
                .split("loops=")
                .nth(1)
                .and_then(|r| r.split(')').next())
                .unwrap_or("1");
            format!("{name}: {rows} rows x {loops}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut times: Vec<Duration>, bytes: usize) {
    times.sort();
    println!(
        "{name:<34} p50 {:>8.2?}  p99 {:>8.2?}  {bytes:>7} bytes/page",
        pct(&times, 0.5),
        pct(&times, 0.99)
    );
}

#[tokio::main]
async fn main() {
    lockstep_platform::install_crypto_provider();
    let db = TestDb::new().await;
    let nats = TestNats::new().await;
    let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
    let env = [
        ("LOCKSTEP_DATABASE__URL", db.url().to_owned()),
        ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0".to_owned()),
        ("LOCKSTEP_HTTP__LISTEN", "127.0.0.1:0".to_owned()),
        ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0".to_owned()),
        ("LOCKSTEP_NATS__URL", nats.url().to_owned()),
        ("LOCKSTEP_NATS__SUBJECT_PREFIX", nats.prefix().to_owned()),
        ("LOCKSTEP_TELEMETRY__FILTER", "warn".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .into_iter()
    .chain([lockstep_testkit::loopback_vendor_allow_list()]);
    let config: Config = lockstep_platform::config::load_with_env(DEFAULTS, None, env).unwrap();
    let keyring = std::sync::Arc::new(lockstep_crypto::Keyring::new("bench", &[7u8; 32]).unwrap());
    let deps = Deps {
        store: db.store().clone(),
        bus,
        keyring,
    };
    let app = App::build(config, deps).await.unwrap();
    let (grpc_addr, http_addr) = (app.local_addr(), app.http_addr());
    let shutdown = Shutdown::new();
    tokio::spawn(app.run(shutdown.clone()));

    let tenant = db.store().tenants().create("bench").await.unwrap().id;
    let token = lockstep_crypto::generate_token("lst_").unwrap();
    let token = token.expose().to_owned();
    db.store()
        .api_tokens()
        .create(
            tenant,
            "bench",
            &lockstep_crypto::hash_token(&token),
            Role::Admin,
        )
        .await
        .unwrap();
    let channel = tonic::transport::Channel::from_shared(format!("http://{grpc_addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let integration = IntegrationServiceClient::new(channel.clone())
        .create_integration(req(
            &token,
            pb::CreateIntegrationRequest {
                vendor: "servicenow".into(),
                name: "sn".into(),
                base_url: "https://127.0.0.1:1".into(),
                credentials: Some(pb::Credentials {
                    kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                        username: "u".into(),
                        password: "p".into(),
                    })),
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let integration_id = uuid::Uuid::parse_str(&integration.id).unwrap();
    seed(&db, tenant.as_uuid(), integration_id).await;

    let mut grpc = WorkbenchServiceClient::new(channel);
    let http = reqwest::Client::new();
    let pages = [
        ("first page", pb::WorkbenchFilter::default(), String::new()),
        (
            "breached + critical + \"openssl\"",
            pb::WorkbenchFilter {
                severities: vec!["critical".into()],
                text: "openssl".into(),
                sla_breached: Some(true),
                ..Default::default()
            },
            "&sla_breached=true&severity=critical&q=openssl".to_owned(),
        ),
    ];
    println!("Tickets page, {LINKS} live links in one tenant, 200 rows a page, {ROUNDS} rounds:");
    for (name, filter, query) in pages {
        let request = pb::ListLinkedTicketsRequest {
            filter: Some(filter),
            page_size: 200,
            page_token: String::new(),
        };
        let url = format!("http://{http_addr}/v1/tickets?page_size=200{query}");
        // Warm up both paths (connections, plans, caches).
        for _ in 0..10 {
            grpc.list_linked_tickets(req(&token, request.clone()))
                .await
                .unwrap();
            http.get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        }
        let store_filter = lockstep_api::workbench::filter_of(request.filter.as_ref()).unwrap();
        let plan = db
            .store()
            .workbench()
            .explain(
                tenant,
                &store_filter,
                lockstep_store::PageRequest::first(200),
            )
            .await
            .unwrap();
        let page = grpc
            .list_linked_tickets(req(&token, request.clone()))
            .await
            .unwrap();
        let page = page.into_inner();
        let grpc_bytes = page.encoded_len();
        let rows = page.rows.len();
        let (mut g, mut h, mut http_bytes) = (Vec::new(), Vec::new(), 0);
        for _ in 0..ROUNDS {
            let t = Instant::now();
            grpc.list_linked_tickets(req(&token, request.clone()))
                .await
                .unwrap();
            g.push(t.elapsed());
            let t = Instant::now();
            let body = http
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            h.push(t.elapsed());
            http_bytes = body.len();
        }
        println!("{name}: {rows} rows");
        println!("  plan: {}", plan_summary(&plan));
        if std::env::var_os("BENCH_SHOW_PLAN").is_some() {
            plan.iter().for_each(|l| println!("    {l}"));
        }
        report("  gRPC  ListLinkedTickets", g, grpc_bytes);
        report("  HTTP  GET /v1/tickets (JSON)", h, http_bytes);
    }
    shutdown.trigger();
}
