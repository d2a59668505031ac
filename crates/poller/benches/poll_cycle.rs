//! One poll cycle over many integrations, each its own ServiceNow emulator holding many linked
//! tickets, against real PostgreSQL and NATS: vendor requests made and cycle time, for
//!
//! - baseline: a full read of every integration's Lockstep tickets (what a poller without a
//!   watermark pays every cycle);
//! - cycle 1: the first cycle after start (nothing changed; includes the SLA sweep of every open
//!   linked ticket, which a replica runs once per `sla_sweep_interval`);
//! - cycle 2: a steady cycle with 0 % changed;
//! - cycle 3: a steady cycle with 1 % of the tickets changed since the watermark.
//!
//! Each is printed, then as a multiple of the baseline measured in the same run. "SLAs changed"
//! counts links whose stored due time or breach changed (an SLA read that finds the stored values
//! writes nothing).
//!
//! Run with `cargo bench -p lockstep-poller --bench poll_cycle`. Size: LOCKSTEP_BENCH_INTEGRATIONS
//! (default 100) × LOCKSTEP_BENCH_TICKETS (default 1000). The 1,000 × 1,000 (one million
//! emulator records and links, about 8 GB of emulator memory) runs with
//! LOCKSTEP_BENCH_INTEGRATIONS=1000; it takes minutes to seed, so the default is a tenth of it.
//! Seeding goes straight into the emulators' state and into PostgreSQL with one bulk statement per
//! table and integration; the poller runs with 32 concurrent polls and a pool of 10 connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lockstep_bus::{Bus, StreamSettings};
use lockstep_connectors::Credentials as ServiceNowCredentials;
use lockstep_connectors::http::AllowList;
use lockstep_connectors::servicenow::{
    CredentialsHandle, InstanceUrl, ServiceNowClient, ServiceNowConfig,
};
use lockstep_connectors::{HttpConfig, HttpExecutor};
use lockstep_crypto::{Keyring, SecretString};
use lockstep_domain::{IntegrationId, ServiceNowTable, TenantId, Vendor, VendorVersion};
use lockstep_itsm_sim::control::{ActOp, ActRequest};
use lockstep_itsm_sim::servicenow::control::act_now;
use lockstep_itsm_sim::{SimConfig, SimHandle, SimServer};
use lockstep_poller::{CycleReport, Poller, PollerSettings};
use lockstep_service_kit::vendor::seal_credentials;
use lockstep_store::{AuthKind, IntegrationSettings, NewIntegration, Store};
use lockstep_testkit::{TestDb, TestNats};
use serde_json::{Map, Value, json};
use uuid::Uuid;

const USER: &str = "lockstep.integration";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

struct Instance {
    sim: SimHandle,
    integration: IntegrationId,
    sys_ids: Vec<String>,
}

/// Seeds `tickets` Lockstep incidents directly into the emulator's state (two hours in the past,
/// so they are history by the time the poller starts) and the matching findings and live links
/// in PostgreSQL with bulk statements.
async fn seed(
    store: &Store,
    keyring: &Keyring,
    tenant: TenantId,
    n: usize,
    tickets: usize,
) -> Instance {
    let sim = SimServer::start(SimConfig::default())
        .await
        .expect("emulator");
    let sn = sim.state().servicenow.clone();
    sim.state().clock.advance(-7200);
    let integration = IntegrationId::new();
    let (
        mut finding_ids,
        mut keys,
        mut link_ids,
        mut sys_ids,
        mut numbers,
        mut states,
        mut ats,
        mut seqs,
    ) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    for t in 0..tickets {
        let finding = Uuid::now_v7();
        let rec = act_now(
            &sn,
            &ActRequest {
                user: "admin".into(),
                table: "incident".into(),
                op: ActOp::Insert,
                record: None,
                fields: fields(json!({
                    "short_description": format!("Finding {n}-{t}"),
                    "correlation_id": format!("lockstep:{finding}"),
                    "impact": "2", "urgency": "2",
                })),
            },
        )
        .expect("insert");
        let rec = &rec["result"];
        let s = |f: &str| {
            rec.get(f)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let version =
            VendorVersion::servicenow(&s("sys_updated_on"), &s("sys_mod_count")).expect("version");
        finding_ids.push(finding);
        keys.push(format!("bench-{n}-{t}"));
        link_ids.push(Uuid::now_v7());
        sys_ids.push(s("sys_id"));
        numbers.push(s("number"));
        states.push(s("state"));
        ats.push(version.updated_at());
        seqs.push(version.sequence());
    }
    sim.state().clock.advance(7200);
    let creds = ServiceNowCredentials::Basic {
        username: USER.into(),
        password: SecretString::new(USER),
    };
    store
        .integrations()
        .create(
            tenant,
            &NewIntegration {
                id: integration,
                vendor: Vendor::ServiceNow,
                name: format!("sn-{n}"),
                base_url: sim.base_url().to_owned(),
                auth_kind: AuthKind::Basic,
                sealed_credentials: seal_credentials(keyring, tenant, integration, &creds)
                    .expect("seal"),
                sealed_webhook_secret: None,
                settings: IntegrationSettings::default(),
            },
        )
        .await
        .expect("integration");
    sqlx_bulk(
        store,
        tenant,
        integration,
        &finding_ids,
        &keys,
        &link_ids,
        &sys_ids,
        &numbers,
        &states,
        &ats,
        &seqs,
    )
    .await;
    Instance {
        sim,
        integration,
        sys_ids,
    }
}

#[allow(clippy::too_many_arguments)]
async fn sqlx_bulk(
    store: &Store,
    tenant: TenantId,
    integration: IntegrationId,
    finding_ids: &[Uuid],
    keys: &[String],
    link_ids: &[Uuid],
    sys_ids: &[String],
    numbers: &[String],
    states: &[String],
    ats: &[time::OffsetDateTime],
    seqs: &[i64],
) {
    let pool = store.pool();
    sqlx::query(
        "INSERT INTO findings (id, tenant_id, scanner_key, title, severity, first_seen_at, last_seen_at)
         SELECT f, $1, k, 'Bench finding ' || k, 'high', now(), now() FROM unnest($2::uuid[], $3::text[]) AS x(f, k)",
    )
    .bind(tenant.as_uuid())
    .bind(finding_ids)
    .bind(keys)
    .execute(pool)
    .await
    .expect("findings");
    sqlx::query(
        "INSERT INTO ticket_links (id, tenant_id, finding_id, integration_id, vendor, table_or_project, external_id,
                                   ticket_key, state, vendor_state, vendor_updated_at, vendor_sequence,
                                   last_sync_channel, last_synced_at)
         SELECT l, $1, f, $2, 'servicenow', 'incident', s, k, 'live', st, at, seq, 'api', now()
           FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::int8[])
             AS x(l, f, s, k, st, at, seq)",
    )
    .bind(tenant.as_uuid())
    .bind(integration.as_uuid())
    .bind(link_ids)
    .bind(finding_ids)
    .bind(sys_ids)
    .bind(numbers)
    .bind(states)
    .bind(ats)
    .bind(seqs)
    .execute(pool)
    .await
    .expect("links");
}

fn requests(instances: &[Instance]) -> usize {
    instances
        .iter()
        .map(|i| i.sim.state().requests.list().len())
        .sum()
}

fn clear(instances: &[Instance]) {
    for i in instances {
        i.sim.state().requests.clear();
    }
}

/// One measured pass: what it cost and what it found.
struct Figure {
    name: &'static str,
    took: Duration,
    requests: usize,
    read: usize,
    changed: usize,
    slas: usize,
}

impl Figure {
    fn cycle(name: &'static str, c: &CycleReport, requests: usize) -> Self {
        Figure {
            name,
            took: c.took,
            requests,
            read: c.tickets_read(),
            changed: c.tickets_changed(),
            slas: c
                .reports
                .iter()
                .filter_map(|r| r.outcome.as_ref().ok())
                .map(|s| s.slas_updated)
                .sum(),
        }
    }

    fn print(&self) {
        println!(
            "{:<40} {:>9.3} s {:>9} vendor requests {:>9} tickets read {:>7} changed {:>9} SLAs changed",
            self.name,
            self.took.as_secs_f64(),
            self.requests,
            self.read,
            self.changed,
            self.slas
        );
    }

    /// Time and requests as multiples of the baseline measured in the same run.
    fn print_ratio(&self, base: &Figure) {
        #[allow(clippy::cast_precision_loss)] // request counts are far below 2^52
        let requests = self.requests as f64 / base.requests.max(1) as f64;
        println!(
            "{:<40} {:>8.3}× time {:>8.4}× requests of the full read",
            self.name,
            self.took.as_secs_f64() / base.took.as_secs_f64(),
            requests
        );
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let integrations = env_usize("LOCKSTEP_BENCH_INTEGRATIONS", 100);
    let tickets = env_usize("LOCKSTEP_BENCH_TICKETS", 1000);
    let changed_per = (tickets / 100).max(1);
    println!(
        "poll_cycle: {integrations} integrations × {tickets} linked tickets, {changed_per} changed per integration in cycle 3"
    );
    let db = TestDb::new().await;
    let nats = TestNats::new().await;
    // The poller's configured pool size (`database.max_connections` in its defaults), not the
    // test database's small pool.
    let store = Store::connect(db.url(), 10).await.expect("store");
    let bus = Bus::from_client(nats.client().clone(), nats.prefix()).expect("bus");
    bus.ensure_stream(&StreamSettings::default())
        .await
        .expect("stream");
    let keyring = Arc::new(Keyring::new("k1", &[7u8; 32]).expect("keyring"));
    let tenant = store.tenants().create("Bench").await.expect("tenant").id;

    let started = Instant::now();
    let mut instances = Vec::with_capacity(integrations);
    for n in 0..integrations {
        instances.push(seed(&store, &keyring, tenant, n, tickets).await);
        if (n + 1) % 100 == 0 {
            println!(
                "seeded {} integrations in {:.1} s",
                n + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    // A database that has been running has planner statistics; freshly bulk-loaded tables may not
    // have them yet (autovacuum analyzes on its own schedule).
    sqlx::query("ANALYZE findings, ticket_links, integrations, poll_state")
        .execute(store.pool())
        .await
        .expect("analyze");
    println!("seeded in {:.1} s", started.elapsed().as_secs_f64());

    // The emulators listen on loopback, which only an explicit allow-list reaches.
    let exec = HttpExecutor::new(HttpConfig {
        allow_private_networks: AllowList::loopback(),
        ..HttpConfig::default()
    })
    .expect("executor");
    // Baseline: every integration's Lockstep tickets read in full.
    clear(&instances);
    let t = Instant::now();
    let full = futures::future::join_all(instances.iter().map(|i| {
        let client = ServiceNowClient::new(
            exec.clone(),
            ServiceNowConfig::new(
                i.integration,
                InstanceUrl::parse(i.sim.base_url()).expect("url"),
            ),
            CredentialsHandle::new(ServiceNowCredentials::Basic {
                username: USER.into(),
                password: SecretString::new(USER),
            })
            .expect("creds"),
        );
        async move {
            client
                .changes_since(
                    time::OffsetDateTime::UNIX_EPOCH,
                    Duration::ZERO,
                    &[ServiceNowTable::Incident],
                )
                .await
                .expect("full read")
                .observations
                .len()
        }
    }))
    .await;
    let base = Figure {
        name: "baseline: full read of every ticket",
        took: t.elapsed(),
        requests: requests(&instances),
        read: full.iter().sum(),
        changed: 0,
        slas: 0,
    };
    base.print();

    let settings = PollerSettings {
        max_concurrent_polls: 32,
        ..PollerSettings::default()
    };
    let poller = Poller::new(
        store.clone(),
        bus.clone(),
        lockstep_connectors::Connectors::new(
            lockstep_connectors::Registry::builtin(),
            keyring.clone(),
            exec.clone(),
        ),
        settings,
        "bench",
    );
    let make_due = || async {
        sqlx::query("UPDATE poll_state SET next_due_at = now()")
            .execute(store.pool())
            .await
            .expect("due");
    };

    clear(&instances);
    let c1 = poller.run_due_once().await.expect("cycle 1");
    assert_eq!(
        c1.failed(),
        0,
        "{:?}",
        c1.reports.iter().find(|r| r.outcome.is_err())
    );
    let c1 = Figure::cycle(
        "cycle 1: first after start (SLA sweep)",
        &c1,
        requests(&instances),
    );
    c1.print();
    assert_eq!(c1.slas, integrations * tickets, "every link got its SLA");

    make_due().await;
    clear(&instances);
    let c2 = poller.run_due_once().await.expect("cycle 2");
    assert_eq!(c2.failed(), 0);
    let c2 = Figure::cycle("cycle 2: steady, 0% changed", &c2, requests(&instances));
    c2.print();

    for i in &instances {
        let sn = i.sim.state().servicenow.clone();
        for sys_id in i.sys_ids.iter().take(changed_per) {
            act_now(
                &sn,
                &ActRequest {
                    user: "admin".into(),
                    table: "incident".into(),
                    op: ActOp::Update,
                    record: Some(sys_id.clone()),
                    fields: fields(json!({"state": "2"})),
                },
            )
            .expect("update");
        }
    }
    make_due().await;
    clear(&instances);
    let c3 = poller.run_due_once().await.expect("cycle 3");
    assert_eq!(c3.failed(), 0);
    let c3 = Figure::cycle("cycle 3: steady, 1% changed", &c3, requests(&instances));
    c3.print();
    assert_eq!(c3.changed, integrations * changed_per, "every change found");

    println!("against the full read of the same run:");
    for f in [&c1, &c2, &c3] {
        f.print_ratio(&base);
    }
    println!(
        "tickets changed in cycle 3: {} of {} ({} integrations); vendor requests follow the changes, not the tickets",
        c3.changed,
        integrations * tickets,
        integrations
    );
}
