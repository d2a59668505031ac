//! The inbound benchmark (`scripts/bench-inbound.sh`, called by `make bench`). For each JetStream
//! fsync setting (`sync_interval: always`, then the default) it starts its own loopback nats-server
//! and reports, each beside its baseline measured in the same run:
//!
//! 1. signed webhooks/s through ingest-webhook vs raw JetStream acked publishes, same concurrency;
//! 2. events/s applied into PostgreSQL by sync-applier vs raw JetStream pull + ack;
//! 3. (always only) p50/p99 webhook response time and webhook→committed latency at a fixed
//!    offered load. "Committed" is observed as the `finding.changed` event the applier publishes
//!    right after its commit, so it slightly overstates the commit latency.
//!
//! `BENCH_SYNC=always` or `BENCH_SYNC=default` runs one setting only. Bounded: `BENCH_EVENTS`
//! (default 20,000) events per throughput figure, `BENCH_SECONDS` (default 4)
//! seconds of fixed load at `BENCH_RATE` (default 1000) events/s, `BENCH_CONCURRENCY` (default 32).

mod ceilings;
mod deliveries;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use lockstep_bus::{Bus, ConsumerSettings, StreamSettings};
use lockstep_crypto::webhook::WebhookSecret;
use lockstep_crypto::{Aad, Keyring, Purpose};
use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{
    ExternalId, IntegrationId, ScannerKey, Severity, SyncChannel, TenantId, TicketKey,
    TicketTarget, Vendor, VendorVersion,
};
use lockstep_platform::Shutdown;
use lockstep_proto::v1;
use lockstep_store::{AuthKind, IntegrationSettings, LiveTicket, NewFinding, NewIntegration};
use lockstep_stories::nats_server::NatsServer;
use lockstep_testkit::{CpuTimes, TestDb};

use crate::ceilings::{closed_loop, postgres_floor, start_http_floor};
use crate::deliveries::{body, later_events, poster, sys_id};
use prost::Message as _;
use time::OffsetDateTime;

const SECRET: &str = "bench-secret";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Setup {
    db: TestDb,
    tenant: TenantId,
    integration: IntegrationId,
    t0: OffsetDateTime,
    keyring: Arc<Keyring>,
    /// finding id → ticket index
    index: HashMap<String, usize>,
}

async fn setup(links: usize) -> anyhow::Result<Setup> {
    let db = TestDb::try_new().await?;
    let store = db.store().clone();
    let keyring = Arc::new(Keyring::new("bench", &[9u8; 32])?);
    let tenant = store.tenants().create("Bench").await?.id;
    let integration = IntegrationId::new();
    let seal = |p, b: &[u8]| keyring.seal(b, &Aad::new(tenant, integration, p));
    store
        .integrations()
        .create(
            tenant,
            &NewIntegration {
                id: integration,
                vendor: Vendor::ServiceNow,
                name: "bench".into(),
                base_url: "https://bench.service-now.com".into(),
                auth_kind: AuthKind::Basic,
                sealed_credentials: seal(Purpose::Credentials, b"{}")?,
                sealed_webhook_secret: Some(seal(Purpose::WebhookSecret, SECRET.as_bytes())?),
                settings: IntegrationSettings::default(),
            },
        )
        .await?;
    let t0 = (OffsetDateTime::now_utc() + time::Duration::minutes(1)).replace_nanosecond(0)?;
    let mut ids = Vec::new();
    let all: Vec<NewFinding> = (0..links)
        .map(|i| NewFinding {
            scanner_key: ScannerKey::parse(&format!("bench-{i}")).unwrap(),
            title: format!("Finding {i}"),
            description: "bench".into(),
            severity: Severity::High,
            asset: None,
            cve: None,
            cwe: None,
            scanner: "bench".into(),
            seen_at: OffsetDateTime::now_utc(),
        })
        .collect();
    for chunk in all.chunks(500) {
        ids.extend(
            store
                .findings()
                .import(tenant, chunk)
                .await?
                .rows
                .iter()
                .map(|r| r.id),
        );
    }
    let index = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.to_string(), i))
        .collect();
    let target = TicketTarget::parse(Vendor::ServiceNow, "incident")?;
    futures::stream::iter(ids.into_iter().enumerate())
        .map(|(i, finding)| {
            let (store, target) = (store.clone(), target.clone());
            async move {
                let link = store
                    .links()
                    .insert_pending(tenant, finding, integration, &target)
                    .await?;
                store
                    .links()
                    .mark_live(
                        tenant,
                        link.id,
                        &LiveTicket {
                            external_id: ExternalId::parse(&sys_id(i))?,
                            ticket_key: TicketKey::parse(
                                Vendor::ServiceNow,
                                &format!("INC{:07}", i + 1),
                            )?,
                            url: None,
                            snapshot: Some(VendorSnapshot {
                                version: VendorVersion::new(t0 - time::Duration::seconds(30), 0),
                                state: "1".into(),
                            }),
                            channel: SyncChannel::Api,
                        },
                    )
                    .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<()>>>()?;
    // Production tables carry planner statistics (autovacuum keeps them); a table bulk-loaded a
    // second ago has none, and the applier's set-based lookups then scan instead of probing the
    // unique (tenant, integration, external id) index.
    sqlx::query("ANALYZE").execute(store.pool()).await?;
    Ok(Setup {
        db,
        tenant,
        integration,
        t0,
        keyring,
        index,
    })
}

/// One environment for both services; each loads it with `load_shared_with_env` and ignores the
/// other's keys.
fn env(db: &TestDb, prefix: &str, nats: &str) -> Vec<(String, String)> {
    [
        ("LOCKSTEP_DATABASE__URL", db.url()),
        ("LOCKSTEP_NATS__URL", nats),
        ("LOCKSTEP_NATS__SUBJECT_PREFIX", prefix),
        ("LOCKSTEP_HTTP__LISTEN", "127.0.0.1:0"),
        ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0"),
        ("LOCKSTEP_INGEST__MAX_IN_FLIGHT", "1024"),
        ("LOCKSTEP_APPLIER__FETCH_WAIT", "100ms"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    // Settings given to the benchmark (e.g. LOCKSTEP_APPLIER__WORKERS=2) override these.
    .chain(std::env::vars().filter(|(k, _)| k.starts_with("LOCKSTEP_") && k.contains("__")))
    .collect()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn run(always: bool) -> anyhow::Result<()> {
    let n = setting("BENCH_EVENTS", 20_000);
    let c = setting("BENCH_CONCURRENCY", 32);
    let rate = setting("BENCH_RATE", 1000);
    let seconds = setting("BENCH_SECONDS", 4);
    let fixed = if always { rate * seconds } else { 0 };
    let server = NatsServer::start(always).await;
    let s = setup(n + fixed).await?;
    let label = if always { "always" } else { "default (2 min)" };
    println!("\n== JetStream sync_interval: {label}; {n} events, concurrency {c} ==");

    // 1a. Raw acked publishes of the same events.
    let phase = CpuTimes::now();
    let raw = Bus::connect(&server.url(), "raw").await?;
    raw.ensure_stream(&StreamSettings::default()).await?;
    let subject = raw.subjects().webhook(s.tenant, s.integration);
    let (t0, tenant, integration) = (s.t0, s.tenant, s.integration);
    let raw_pub = closed_loop(n, c, {
        let (raw, subject) = (raw.clone(), subject.clone());
        move |i| {
            let (raw, subject) = (raw.clone(), subject.clone());
            async move {
                let event = v1::WebhookReceived {
                    event_id: format!("raw:{i}"),
                    tenant_id: tenant.to_string(),
                    integration_id: integration.to_string(),
                    vendor: "servicenow".into(),
                    body: body(t0, i),
                    content_type: "application/json".into(),
                    delivery_id: format!("{i}"),
                    received_at: Some(lockstep_proto::to_timestamp(OffsetDateTime::now_utc())),
                    traceparent: String::new(),
                };
                raw.publish(&subject, &event).await.expect("raw publish");
            }
        }
    })
    .await;

    // 1b. Signed webhooks through ingest-webhook.
    let bus = Bus::connect(&server.url(), "lockstep").await?;
    let stop = Shutdown::new();
    let ingest_config = lockstep_platform::config::load_shared_with_env(
        lockstep_ingest_webhook::config::DEFAULTS,
        None,
        env(&s.db, "lockstep", &server.url()),
    )?
    .value;
    let ingest = lockstep_ingest_webhook::App::build(
        ingest_config,
        lockstep_ingest_webhook::Deps {
            store: s.db.store().clone(),
            bus: bus.clone(),
            keyring: s.keyring.clone(),
        },
    )
    .await?;
    let url = format!(
        "http://{}/v1/webhooks/{}",
        ingest.local_addr(),
        s.integration
    );
    tokio::spawn(ingest.run(stop.clone()));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(c * 2)
        .build()?;
    let key = Arc::new(WebhookSecret::parse(SECRET)?);
    let post = poster(http.clone(), url, key.clone(), t0);
    let refused = Arc::new(AtomicUsize::new(0));
    let ingest_rate = closed_loop(n, c, {
        let (post, refused) = (post.clone(), refused.clone());
        move |i| {
            let (post, refused) = (post.clone(), refused.clone());
            async move {
                if post(i).await != 202 {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    })
    .await;
    println!(
        "signed webhooks/s via ingest-webhook: {ingest_rate:>8.0}   raw JetStream acked publishes/s: {raw_pub:>8.0}   ratio {:.2} (target >= 0.8){}{}",
        ingest_rate / raw_pub,
        match refused.load(Ordering::Relaxed) {
            0 => String::new(),
            r => format!("   [{r} not 202]"),
        },
        phase.map(CpuTimes::since).unwrap_or_default()
    );
    // 1c. The HTTP floor: the same client and requests against an endpoint that does nothing.
    let phase = CpuTimes::now();
    let floor = poster(
        http.clone(),
        start_http_floor(&integration.to_string(), stop.clone()).await?,
        key.clone(),
        t0,
    );
    let http_floor = closed_loop(n, c, move |i| {
        let floor = floor.clone();
        async move {
            assert_eq!(floor(i).await, 202, "the HTTP floor endpoint answers 202");
        }
    })
    .await;
    println!(
        "  ceiling: HTTP floor, an endpoint that does nothing: {http_floor:>8.0}/s = {:.2} of raw publishes; ingest-webhook = {:.2} of the floor{}",
        http_floor / raw_pub,
        ingest_rate / http_floor,
        phase.map(CpuTimes::since).unwrap_or_default()
    );
    let phase = CpuTimes::now();

    // 2a. Raw pull + ack of the raw stream.
    let consumer_settings = ConsumerSettings {
        max_ack_pending: 20_000,
        ..Default::default()
    };
    let consumer = raw
        .consumer(
            "raw-bench",
            vec![raw.subjects().all_webhooks()],
            &consumer_settings,
        )
        .await?;
    let started = Instant::now();
    let mut got = 0;
    while got < n {
        let batch = consumer.fetch(256, Duration::from_millis(500)).await?;
        got += batch.len();
        futures::future::join_all(batch.iter().map(|d| d.ack())).await;
    }
    let pull_rate = n as f64 / started.elapsed().as_secs_f64();

    // 2b. The applier over the n webhook events ingest-webhook stored.
    let applier_config: lockstep_sync_applier::Config =
        lockstep_platform::config::load_shared_with_env(
            lockstep_sync_applier::config::DEFAULTS,
            None,
            env(&s.db, "lockstep", &server.url()),
        )?
        .value;
    let applier_settings = applier_config.applier.clone();
    // Commits are counted from the changes the applier publishes after each commit: polling
    // `count(*)` on the inbox would itself take PostgreSQL time from the applier being measured.
    let mut committed = bus
        .client()
        .subscribe(bus.subjects().all_finding_changes())
        .await?;
    let started = Instant::now();
    let applier = lockstep_sync_applier::App::build(
        applier_config,
        lockstep_sync_applier::Deps {
            store: s.db.store().clone(),
            bus: bus.clone(),
        },
    )
    .await?;
    tokio::spawn(applier.run(stop.clone()));
    let mut seen = 0;
    while seen < n {
        let message = tokio::time::timeout(Duration::from_secs(60), committed.next())
            .await
            .map_err(|_| anyhow::anyhow!("only {seen} of {n} events committed"))?
            .ok_or_else(|| anyhow::anyhow!("subscription ended"))?;
        seen += v1::FindingChanges::decode(message.payload)?.changes.len();
    }
    drop(committed); // Phase 3 has its own subscription.
    let apply_rate = n as f64 / started.elapsed().as_secs_f64();
    println!(
        "events/s applied into PostgreSQL:     {apply_rate:>8.0}   raw JetStream pull + ack/s:      {pull_rate:>8.0}   ratio {:.2} (target >= 0.8){}",
        apply_rate / pull_rate,
        phase.map(CpuTimes::since).unwrap_or_default()
    );
    // 2c. The PostgreSQL floor: the applier's statements alone, on the next change of every ticket.
    let phase = CpuTimes::now();
    let pg_floor = postgres_floor(
        s.db.store(),
        later_events(s.tenant, s.integration, s.t0, n)?,
        applier_settings.workers,
        applier_settings.max_events_per_transaction,
    )
    .await?;
    println!(
        "  ceiling: PostgreSQL floor, the applier's statements without JetStream: {pg_floor:>8.0}/s = {:.2} of raw pull + ack; sync-applier = {:.2} of the floor{}",
        pg_floor / pull_rate,
        apply_rate / pg_floor,
        phase.map(CpuTimes::since).unwrap_or_default()
    );

    // 3. Fixed offered load.
    if fixed > 0 {
        let phase = CpuTimes::now();
        let mut changed = bus
            .client()
            .subscribe(bus.subjects().all_finding_changes())
            .await?;
        // Arrival times are taken as the messages arrive, while the load is still being offered.
        let arrivals = tokio::spawn(async move {
            let mut seen: Vec<(String, Instant)> = Vec::with_capacity(fixed);
            let deadline = Instant::now() + Duration::from_secs(seconds as u64 + 30);
            while seen.len() < fixed && Instant::now() < deadline {
                let Ok(Some(msg)) =
                    tokio::time::timeout(Duration::from_secs(5), changed.next()).await
                else {
                    continue;
                };
                let at = Instant::now();
                if let Ok(message) = v1::FindingChanges::decode(msg.payload) {
                    seen.extend(message.changes.into_iter().map(|c| (c.finding_id, at)));
                }
            }
            seen
        });
        let sent: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
        let mut ticker = tokio::time::interval(Duration::from_secs(1) / rate as u32);
        let mut tasks = Vec::with_capacity(fixed);
        for k in 0..fixed {
            ticker.tick().await;
            let (post, sent) = (post.clone(), sent.clone());
            tasks.push(tokio::spawn(async move {
                let i = n + k;
                let at = Instant::now();
                sent.lock().unwrap().insert(i, at);
                let status = post(i).await;
                (status, at.elapsed().as_secs_f64() * 1000.0)
            }));
        }
        let mut responses = Vec::new();
        let mut not_accepted = 0;
        for t in tasks {
            let (status, ms) = t.await?;
            if status == 202 {
                responses.push(ms)
            } else {
                not_accepted += 1
            }
        }
        let sent = sent.lock().unwrap().clone();
        let mut committed: Vec<f64> = arrivals
            .await?
            .into_iter()
            .filter_map(|(finding, at)| {
                let sent_at = sent.get(s.index.get(&finding)?)?;
                Some(at.duration_since(*sent_at).as_secs_f64() * 1000.0)
            })
            .collect();
        responses.sort_by(f64::total_cmp);
        committed.sort_by(f64::total_cmp);
        println!(
            "at {rate}/s offered for {seconds}s: response p50 {:.1} ms, p99 {:.1} ms (target p99 < 50 ms); webhook->committed p50 {:.1} ms, p99 {:.1} ms (target p99 < 1000 ms); {} of {fixed} accepted, {} commits observed{}",
            pct(&responses, 0.5),
            pct(&responses, 0.99),
            pct(&committed, 0.5),
            pct(&committed, 0.99),
            fixed - not_accepted,
            committed.len(),
            phase.map(CpuTimes::since).unwrap_or_default()
        );
    }
    stop.trigger();
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(server);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    lockstep_platform::install_crypto_provider();
    // BENCH_SYNC=always|default runs one of the two settings (default: both).
    let which = std::env::var("BENCH_SYNC").unwrap_or_default();
    if which != "default" {
        run(true).await?;
    }
    if which != "always" {
        run(false).await?;
    }
    Ok(())
}
