//! ServiceDesk Plus against its emulator (on-premises portal, loopback):
//!
//! 1. Bulk creation of 500 findings' requests with 50 ms injected on every create. SDP has no bulk
//!    endpoint, so `create_many` is a bounded parallel loop (8 in flight, the executor's
//!    per-integration limit set to 8): printed beside the serial bound (500 × 50 ms) and 500 × one
//!    create measured in the same run.
//! 2. A poll cycle's vendor requests against the number of changed requests, with 1,000 requests
//!    on the portal: it must follow the changes, not the total; the full listing of the portal,
//!    measured in the same run, is the baseline.
//!
//! Run: `cargo bench -p lockstep-connectors --bench sdp` (no database or NATS needed).

mod common;
use std::time::{Duration, Instant};

use lockstep_connectors::http::AllowList;
use lockstep_connectors::sdp::auth::Auth;
use lockstep_connectors::sdp::{PortalUrl, SdpClient, SdpConfig};
use lockstep_connectors::{Connector, HttpConfig, HttpExecutor, TicketCreate};
use lockstep_crypto::SecretString;
use lockstep_domain::{IntegrationId, TicketTarget};
use lockstep_itsm_sim::control::FaultRule;
use lockstep_itsm_sim::{SimConfig, SimServer};
use time::OffsetDateTime;

const FINDINGS: usize = 500;
const LATENCY_MS: u64 = 50;
const CONCURRENCY: usize = 8;
const PORTAL_SIZE: usize = 1000;
const KEY: &str = "A1B2C3D4-0000-4000-8000-0000000LOCK";

fn create(i: usize) -> TicketCreate {
    common::create(i, &TicketTarget::ManageEngine)
}

#[tokio::main]
async fn main() {
    lockstep_connectors::install_crypto_provider();
    let sim = SimServer::start(SimConfig::default())
        .await
        .expect("emulator");
    let exec = HttpExecutor::new(HttpConfig {
        allow_private_networks: AllowList::loopback(),
        max_concurrency_per_integration: CONCURRENCY,
        ..HttpConfig::default()
    })
    .expect("executor");
    let portal = PortalUrl::parse(sim.base_url()).expect("portal");
    let config = SdpConfig {
        bulk_concurrency: CONCURRENCY,
        ..SdpConfig::new(IntegrationId::new(), portal)
    };
    let client = SdpClient::new(exec, config, Auth::Key(SecretString::new(KEY)));
    client.instance().await.expect("metadata");
    let control = sim.control();
    control
        .set_faults(&[FaultRule {
            method: Some("POST".into()),
            path_prefix: "/api/v3/requests".into(),
            latency_ms: LATENCY_MS,
            ..FaultRule::default()
        }])
        .await
        .expect("faults");

    let started = Instant::now();
    Connector::create(&client, &create(FINDINGS))
        .await
        .expect("one create");
    let single = started.elapsed();
    let creates: Vec<TicketCreate> = (0..FINDINGS).map(create).collect();
    let started = Instant::now();
    let results = client.create_many(&creates).await;
    let bulk = started.elapsed();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let serial = Duration::from_millis(LATENCY_MS) * FINDINGS as u32;
    println!(
        "bulk creation of {FINDINGS} requests, {LATENCY_MS} ms injected per create, {CONCURRENCY} in flight:"
    );
    println!("  created            {ok}/{FINDINGS}");
    println!("  wall time          {:.2} s", bulk.as_secs_f64());
    println!(
        "  serial bound       {:.2} s ({FINDINGS} × {LATENCY_MS} ms): {:.1}x faster",
        serial.as_secs_f64(),
        serial.as_secs_f64() / bulk.as_secs_f64()
    );
    println!(
        "  {FINDINGS} × one create {:.2} s (one measured: {:.1} ms): {:.1}x faster",
        single.as_secs_f64() * FINDINGS as f64,
        single.as_secs_f64() * 1000.0,
        single.as_secs_f64() * FINDINGS as f64 / bulk.as_secs_f64()
    );

    control.clear_faults().await.expect("faults");
    let more: Vec<TicketCreate> = (FINDINGS + 1..PORTAL_SIZE).map(create).collect();
    let made = client.create_many(&more).await;
    assert!(made.iter().all(Result::is_ok), "the portal fills");
    let full = client
        .changes_since(OffsetDateTime::UNIX_EPOCH, Duration::ZERO)
        .await
        .expect("full listing");
    println!(
        "\npoll cycle on a portal of {} requests (baseline: the full listing took {} requests):",
        full.observations.len(),
        full.pages
    );
    println!("  changed  feed requests  observations");
    let ids: Vec<String> = full
        .observations
        .iter()
        .map(|o| o.ticket.external_id().as_str().to_owned())
        .collect();
    let mut watermark = full.next_watermark;
    for (round, changed) in [1usize, 10, 100, 250].into_iter().enumerate() {
        let status = if round % 2 == 0 { "On Hold" } else { "Open" };
        for id in ids.iter().skip(round * 250).take(changed) {
            control
                .sdp_set_status("itdesk", "ravi@itdesk.example.com", id, status)
                .await
                .expect("change");
        }
        let batch = client
            .changes_since(watermark + time::Duration::milliseconds(1), Duration::ZERO)
            .await
            .expect("feed");
        println!(
            "  {changed:>7}  {:>13}  {:>12}",
            batch.pages,
            batch.observations.len()
        );
        watermark = batch.next_watermark;
    }
    sim.shutdown().await;
}
