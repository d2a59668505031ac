//! Jira Cloud against its emulator (loopback):
//!
//! 1. Bulk creation of 500 findings' issues with 50 ms injected on every create call.
//!    `create_many` sends `/issue/bulk` chunks of 50, 4 chunks in flight: printed beside the serial
//!    bound (500 × 50 ms), the latency bound of 10 serial bulk calls (10 × 50 ms) and 10 × one
//!    measured bulk call of 50 (same run).
//! 2. A poll cycle's `search/jql` requests against the number of changed issues, with 1,000
//!    Lockstep issues in the project: it follows the changes, not the total; the full read of the
//!    project, measured in the same run, is the baseline. The emulator's clock moves 2 minutes
//!    between rounds; the feed's minute-floored watermark re-reads whatever was updated in the
//!    watermark's minute (the first round: the 1,000 issues created in that minute; then the
//!    previous round's changes), which the poller drops by version; the observation column shows it.
//!
//! Run: `cargo bench -p lockstep-connectors --bench jira` (no database or NATS needed).

mod common;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use lockstep_connectors::http::AllowList;
use lockstep_connectors::jira::{JiraAuth, JiraClient, JiraConfig, SiteUrl};
use lockstep_connectors::{Connector, Credentials, HttpConfig, HttpExecutor, TicketCreate};
use lockstep_crypto::SecretString;
use lockstep_domain::{IntegrationId, TicketTarget, Vendor};
use lockstep_itsm_sim::control::{FaultRule, JiraPerm, JiraProject, jira_seed};
use lockstep_itsm_sim::{SimConfig, SimServer};
use serde_json::json;
use time::OffsetDateTime;

const FINDINGS: usize = 500;
const CHUNK: usize = 50;
const LATENCY_MS: u64 = 50;
const CHUNKS_IN_FLIGHT: usize = 4;
const PROJECT_SIZE: usize = 1000;

fn create(i: usize) -> TicketCreate {
    common::create(
        i,
        &TicketTarget::parse(Vendor::Jira, "BENCH").expect("project"),
    )
}

#[tokio::main]
async fn main() {
    lockstep_connectors::install_crypto_provider();
    let sim = SimServer::start(SimConfig::default())
        .await
        .expect("emulator");
    let control = sim.control();
    let all: BTreeSet<JiraPerm> = JiraPerm::ALL.into_iter().collect();
    let grants: BTreeMap<String, BTreeSet<JiraPerm>> = [jira_seed::LOCKSTEP, jira_seed::PRIYA]
        .into_iter()
        .map(|a| (a.to_owned(), all.clone()))
        .collect();
    control
        .add_jira_project(&JiraProject {
            key: "BENCH".into(),
            grants,
            ..JiraProject::default()
        })
        .await
        .expect("project");
    // No burst limit of the emulator's own in the way of the figures.
    control.set_jira_rate_limits(&[]).await.expect("limits");
    let exec = HttpExecutor::new(HttpConfig {
        allow_private_networks: AllowList::loopback(),
        max_concurrency_per_integration: CHUNKS_IN_FLIGHT,
        ..HttpConfig::default()
    })
    .expect("executor");
    let mut config = JiraConfig::new(
        IntegrationId::new(),
        SiteUrl::parse(sim.base_url()).expect("site"),
    );
    config.bulk_concurrency = CHUNKS_IN_FLIGHT;
    let auth = JiraAuth::from_credentials(&Credentials::Basic {
        username: "lockstep@example.com".into(),
        password: SecretString::new("lockstep-token"),
    })
    .expect("auth");
    let client = JiraClient::new(exec, config, auth);
    client
        .create_meta("BENCH", false)
        .await
        .expect("createmeta");
    control
        .set_faults(&[FaultRule {
            method: Some("POST".into()),
            path_prefix: "/rest/api/3/issue".into(),
            latency_ms: LATENCY_MS,
            ..FaultRule::default()
        }])
        .await
        .expect("faults");

    let chunk: Vec<TicketCreate> = (0..CHUNK).map(|i| create(FINDINGS + i)).collect();
    let started = Instant::now();
    assert!(
        client.create_many(&chunk).await.iter().all(Result::is_ok),
        "one bulk call"
    );
    let one_bulk = started.elapsed();
    let creates: Vec<TicketCreate> = (0..FINDINGS).map(create).collect();
    let started = Instant::now();
    let results = client.create_many(&creates).await;
    let bulk = started.elapsed();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let serial = Duration::from_millis(LATENCY_MS) * FINDINGS as u32;
    let calls = FINDINGS.div_ceil(CHUNK);
    let serial_bulk = Duration::from_millis(LATENCY_MS) * calls as u32;
    let bulk_s = bulk.as_secs_f64();
    println!(
        "bulk creation of {FINDINGS} issues, {LATENCY_MS} ms injected per create call, chunks of {CHUNK}, {CHUNKS_IN_FLIGHT} in flight:"
    );
    println!("  created              {ok}/{FINDINGS}");
    println!("  wall time            {bulk_s:.2} s");
    println!(
        "  serial bound         {:.2} s ({FINDINGS} × {LATENCY_MS} ms): {:.1}x faster",
        serial.as_secs_f64(),
        serial.as_secs_f64() / bulk_s
    );
    println!(
        "  {calls} serial bulk calls {:.2} s ({calls} × {LATENCY_MS} ms latency bound): {:.2}x",
        serial_bulk.as_secs_f64(),
        serial_bulk.as_secs_f64() / bulk_s
    );
    println!(
        "  {calls} × one bulk call  {:.2} s (one measured: {:.0} ms, its read-back included): {:.1}x faster",
        one_bulk.as_secs_f64() * calls as f64,
        one_bulk.as_secs_f64() * 1000.0,
        one_bulk.as_secs_f64() * calls as f64 / bulk_s
    );

    control.clear_faults().await.expect("faults");
    let more: Vec<TicketCreate> = (FINDINGS + CHUNK..PROJECT_SIZE).map(create).collect();
    assert!(
        client.create_many(&more).await.iter().all(Result::is_ok),
        "the project fills"
    );
    let target = [TicketTarget::parse(Vendor::Jira, "BENCH").expect("project")];
    let full = client
        .changes_since(OffsetDateTime::UNIX_EPOCH, Duration::ZERO, &target)
        .await
        .expect("full read");
    println!(
        "\npoll cycle on a project of {} Lockstep issues (baseline: the full read took {} requests):",
        full.observations.len(),
        full.pages
    );
    println!("  changed  search/jql requests  observations");
    let keys: Vec<String> = full
        .observations
        .iter()
        .map(|o| o.ticket.key().to_string())
        .collect();
    let mut watermark = full.next_watermark;
    for (round, changed) in [1usize, 10, 100, 250].into_iter().enumerate() {
        control.advance_clock(120).await.expect("clock");
        let transition = if round % 2 == 0 { "21" } else { "11" };
        for key in keys.iter().skip(round * 250).take(changed) {
            control
                .jira_transition(jira_seed::PRIYA, key, transition, json!({}))
                .await
                .expect("change");
        }
        let batch = client
            .changes_since(watermark, Duration::ZERO, &target)
            .await
            .expect("feed");
        println!(
            "  {changed:>7}  {:>19}  {:>12}",
            batch.pages,
            batch.observations.len()
        );
        watermark = batch.next_watermark;
    }
    sim.shutdown().await;
}
