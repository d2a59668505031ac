//! `make bench`: the Tickets workbench over 100,000 live ticket links in one tenant. Server time
//! of the first page and of a filtered page (SLA breached + severity + text) at p50/p99, through
//! the HTTP JSON API and through gRPC in the same run, the bytes of each page, and the executed
//! plan (rows per scan, shared buffers touched).
//!
//! Then 300,000 more links that match none of the filtered page's filters are added between the
//! first ones, and everything is measured again: the filtered page's time and buffers must stay
//! about the same (printed as large / small ratios), because its cost follows the page and the
//! rows its indexed filters match, not the tenant's total.

use std::time::{Duration, Instant};

use lockstep_api::config::DEFAULTS;
use lockstep_api::{App, Config, Deps};
use lockstep_bus::Bus;
use lockstep_domain::{Severity, TenantId};
use lockstep_platform::Shutdown;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::integration_service_client::IntegrationServiceClient;
use lockstep_proto::v1::workbench_service_client::WorkbenchServiceClient;
use lockstep_store::{Role, WorkbenchFilter};
use lockstep_testkit::{TestDb, TestNats};
use prost::Message as _;

const LINKS: i64 = 100_000;
/// Rows added for the second phase, matching none of the filtered page's filters.
const EXTRA: i64 = 300_000;
const ROUNDS: usize = 200;

fn req<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

/// The base rows: finding `g` has severity `g % 5`, a title naming one of seven packages
/// (`openssl` for `g % 7 == 0`) and a link breached for one in ten.
const BASE_FINDINGS: &str = "INSERT INTO findings (id, tenant_id, scanner_key, title, severity, asset, first_seen_at,
                           last_seen_at, created_at)
     SELECT gen_random_uuid(), $1, 'bench-' || g,
            'Finding ' || g || ' in ' || (ARRAY['openssl','nginx','log4j','glibc','zlib','curl','sudo'])[1 + g % 7],
            (ARRAY['critical','high','medium','low','info'])[1 + g % 5],
            'host-' || (g % 1000), now(), now(), now() - make_interval(secs => $2 - g)
       FROM generate_series(1, $2) g";

/// Rows that match none of the filtered page's filters (never critical, never openssl, never
/// breached), created between the base rows (three a second over the same span).
const EXTRA_FINDINGS: &str = "INSERT INTO findings (id, tenant_id, scanner_key, title, severity, asset, first_seen_at,
                           last_seen_at, created_at)
     SELECT gen_random_uuid(), $1, 'extra-' || g,
            'Finding ' || g || ' in ' || (ARRAY['nginx','log4j','glibc','zlib','curl','sudo'])[1 + g % 6],
            (ARRAY['high','medium','low','info'])[1 + g % 4],
            'host-' || (g % 1000), now(), now(), now() - make_interval(secs => g / 3.0)
       FROM generate_series(1, $2) g";

/// A live ServiceNow link for each finding whose scanner key starts with `$3`; ticket numbers
/// start after `$4`; breached one in ten when `$5`.
const LINKS_SQL: &str = "INSERT INTO ticket_links (id, tenant_id, finding_id, integration_id, vendor,
                               table_or_project, external_id, ticket_key, state, vendor_state,
                               vendor_updated_at, vendor_sequence, sla_due_at, sla_breached,
                               last_sync_channel, last_synced_at, created_at)
     SELECT gen_random_uuid(), f.tenant_id, f.id, $2, 'servicenow', 'incident', md5(f.scanner_key),
            'INC' || lpad(($4 + substr(f.scanner_key, length($3) + 1)::int)::text, 7, '0'), 'live', '2',
            now(), 1, now() - interval '1 hour', $5 AND abs(hashtext(f.scanner_key)) % 10 = 0,
            'poll', now(), f.created_at
       FROM findings f WHERE f.tenant_id = $1 AND f.scanner_key LIKE $3 || '%'";

/// Inserts `count` findings with `findings_sql` and their live links, then vacuums and analyzes
/// as autovacuum does after a bulk insert (which also moves the trigram index's pending entries
/// into the index proper), and checkpoints.
async fn seed(db: &TestDb, tenant: uuid::Uuid, integration: uuid::Uuid, extra: bool, count: i64) {
    let started = Instant::now();
    let (findings_sql, prefix, first_ticket) = if extra {
        (EXTRA_FINDINGS, "extra-", 2_000_000)
    } else {
        (BASE_FINDINGS, "bench-", 0)
    };
    sqlx::query(findings_sql)
        .bind(tenant)
        .bind(count)
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query(LINKS_SQL)
        .bind(tenant)
        .bind(integration)
        .bind(prefix)
        .bind(first_ticket)
        .bind(!extra)
        .execute(db.pool())
        .await
        .unwrap();
    for table in ["findings", "ticket_links"] {
        sqlx::query(&format!("VACUUM ANALYZE {table}"))
            .execute(db.pool())
            .await
            .unwrap();
    }
    // Write the load's dirty pages out now, so its checkpoint does not run during the measurement
    // (a steady-state server would have long finished it).
    sqlx::query("CHECKPOINT").execute(db.pool()).await.unwrap();
    let what = if extra { "non-matching " } else { "" };
    println!(
        "seeded {count} {what}findings and live links in {:.1?}",
        started.elapsed()
    );
}

/// The live links the filtered page's filters match, all pages together.
async fn matching(db: &TestDb, tenant: uuid::Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM ticket_links l JOIN findings f ON f.tenant_id = l.tenant_id AND f.id = l.finding_id
          WHERE l.tenant_id = $1 AND l.state = 'live' AND l.sla_breached AND f.severity = 'critical'
            AND (f.title ILIKE '%openssl%' OR f.scanner_key ILIKE '%openssl%' OR f.asset ILIKE '%openssl%'
                 OR f.cve ILIKE '%openssl%' OR l.ticket_key ILIKE '%openssl%' OR l.external_id ILIKE '%openssl%')",
    )
    .bind(tenant)
    .fetch_one(db.pool())
    .await
    .unwrap()
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

fn report(name: &str, mut times: Vec<Duration>, bytes: usize) -> Timing {
    times.sort();
    let t = Timing {
        p50: pct(&times, 0.5),
        p99: pct(&times, 0.99),
    };
    println!(
        "{name:<34} p50 {:>8.2?}  p99 {:>8.2?}  {bytes:>7} bytes/page",
        t.p50, t.p99
    );
    t
}

/// Shared buffers hit and read by the whole plan: the first `Buffers:` line is the top node's,
/// which counts its children's.
fn plan_buffers(plan: &[String]) -> u64 {
    let Some(line) = plan.iter().find(|l| l.trim_start().starts_with("Buffers:")) else {
        return 0;
    };
    ["hit=", "read="]
        .iter()
        .filter_map(|key| {
            let at = line.find(key)? + key.len();
            line[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
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
    seed(&db, tenant.as_uuid(), integration_id, false, LINKS).await;

    let mut bench = Bench {
        db: &db,
        tenant,
        token,
        grpc: WorkbenchServiceClient::new(channel),
        http: reqwest::Client::new(),
        http_addr,
        one_filter_buffers: Vec::new(),
    };
    let small = bench.phase(LINKS).await;
    // The same matching rows among four times the total: the filtered page must cost the same.
    seed(&db, tenant.as_uuid(), integration_id, true, EXTRA).await;
    let large = bench.phase(LINKS + EXTRA).await;
    println!(
        "Filtered page at {} vs {} total rows (matching rows held constant), large / small:",
        LINKS + EXTRA,
        LINKS
    );
    for (name, a, b) in [
        ("gRPC", &small[1].grpc, &large[1].grpc),
        ("HTTP", &small[1].http, &large[1].http),
    ] {
        println!(
            "  {name}  p50 x{:.2}  p99 x{:.2}",
            b.p50.as_secs_f64() / a.p50.as_secs_f64(),
            b.p99.as_secs_f64() / a.p99.as_secs_f64()
        );
    }
    println!(
        "  buffers x{:.2} ({} -> {}), first page buffers x{:.2} ({} -> {})",
        large[1].buffers as f64 / small[1].buffers as f64,
        small[1].buffers,
        large[1].buffers,
        large[0].buffers as f64 / small[0].buffers as f64,
        small[0].buffers,
        large[0].buffers
    );
    // Each indexed filter alone, executed once per phase: buffers, small -> large.
    for (_, name) in one_filters() {
        let at = |total| {
            let mut all = bench.one_filter_buffers.iter();
            all.find(|(n, t, _)| *n == name && *t == total).unwrap().2
        };
        let (a, b) = (at(LINKS), at(LINKS + EXTRA));
        println!(
            "  {name:<28} buffers {a:>6} -> {b:>6}  x{:.2}",
            b as f64 / a as f64
        );
    }
    shutdown.trigger();
}

/// One indexed filter at a time, with its name.
fn one_filters() -> Vec<(WorkbenchFilter, &'static str)> {
    vec![
        (
            WorkbenchFilter {
                sla_breached: Some(true),
                ..Default::default()
            },
            "breached",
        ),
        (
            WorkbenchFilter {
                severities: vec![Severity::Critical],
                ..Default::default()
            },
            "critical",
        ),
        (
            WorkbenchFilter {
                severities: vec![Severity::Critical, Severity::High],
                sla_breached: Some(true),
                ..Default::default()
            },
            "breached + critical or high",
        ),
        (
            WorkbenchFilter {
                text: Some("openssl".into()),
                ..Default::default()
            },
            "text \"openssl\"",
        ),
        (
            WorkbenchFilter {
                text: Some("bench-4242".into()),
                ..Default::default()
            },
            "text \"bench-4242\" (11 rows)",
        ),
    ]
}

struct Timing {
    p50: Duration,
    p99: Duration,
}

/// One page's figures in one phase.
struct Measured {
    grpc: Timing,
    http: Timing,
    /// Shared buffers the executed plan touched (hit + read), from EXPLAIN (ANALYZE, BUFFERS).
    buffers: u64,
}

struct Bench<'a> {
    db: &'a TestDb,
    tenant: TenantId,
    token: String,
    grpc: WorkbenchServiceClient<tonic::transport::Channel>,
    http: reqwest::Client,
    http_addr: std::net::SocketAddr,
    /// Buffers of each one-filter page: (name, total rows, buffers).
    one_filter_buffers: Vec<(&'static str, i64, u64)>,
}

impl Bench<'_> {
    /// The first page and the filtered page over the rows seeded so far (`total` of them).
    async fn phase(&mut self, total: i64) -> Vec<Measured> {
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
        let matching = matching(self.db, self.tenant.as_uuid()).await;
        println!(
            "Tickets page, {total} live links in one tenant ({matching} match the filtered page), \
             200 rows a page, {ROUNDS} rounds:"
        );
        let mut out = Vec::new();
        for (name, filter, query) in pages {
            out.push(self.page(name, filter, &query).await);
        }
        for (filter, name) in one_filters() {
            let plan = self.explain(&filter).await;
            let buffers = plan_buffers(&plan);
            println!("{name}: {buffers} buffers; plan: {}", plan_summary(&plan));
            self.one_filter_buffers.push((name, total, buffers));
        }
        out
    }

    async fn explain(&self, filter: &WorkbenchFilter) -> Vec<String> {
        self.db
            .store()
            .workbench()
            .explain(self.tenant, filter, lockstep_store::PageRequest::first(200))
            .await
            .unwrap()
    }

    async fn page(&mut self, name: &str, filter: pb::WorkbenchFilter, query: &str) -> Measured {
        let request = pb::ListLinkedTicketsRequest {
            filter: Some(filter),
            page_size: 200,
            page_token: String::new(),
        };
        let url = format!("http://{}/v1/tickets?page_size=200{query}", self.http_addr);
        // Warm up both paths (connections, plans, caches).
        for _ in 0..10 {
            self.grpc_page(&request).await;
            self.http_page(&url).await;
        }
        let store_filter = lockstep_api::workbench::filter_of(request.filter.as_ref()).unwrap();
        let plan = self.explain(&store_filter).await;
        let page = self.grpc_page(&request).await;
        let (grpc_bytes, rows) = (page.encoded_len(), page.rows.len());
        let (mut g, mut h, mut http_bytes) = (Vec::new(), Vec::new(), 0);
        for _ in 0..ROUNDS {
            let t = Instant::now();
            self.grpc_page(&request).await;
            g.push(t.elapsed());
            let t = Instant::now();
            http_bytes = self.http_page(&url).await;
            h.push(t.elapsed());
        }
        let buffers = plan_buffers(&plan);
        println!("{name}: {rows} rows, {buffers} buffers");
        println!("  plan: {}", plan_summary(&plan));
        if std::env::var_os("BENCH_SHOW_PLAN").is_some() {
            plan.iter().for_each(|l| println!("    {l}"));
        }
        Measured {
            grpc: report("  gRPC  ListLinkedTickets", g, grpc_bytes),
            http: report("  HTTP  GET /v1/tickets (JSON)", h, http_bytes),
            buffers,
        }
    }

    async fn grpc_page(
        &mut self,
        request: &pb::ListLinkedTicketsRequest,
    ) -> pb::ListLinkedTicketsResponse {
        self.grpc
            .list_linked_tickets(req(&self.token, request.clone()))
            .await
            .unwrap()
            .into_inner()
    }

    /// The body's length.
    async fn http_page(&self, url: &str) -> usize {
        self.http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len()
    }
}
