//! The inbound segment of `make demo`: a ServiceNow-side resolve reaching the finding as `re_test`,
//! then (with auto-close on) as `closed`. Uses PostgreSQL and NATS from DATABASE_URL / NATS_URL
//! or `.run/env`, a fresh database and a private subject prefix; runs the emulator and both
//! services in this process.
//!
//!     cargo run -p lockstep-stories --example demo-inbound

use std::time::Duration;

use lockstep_domain::FindingStatus;
use lockstep_itsm_sim::control::DeliveryBehaviour;
use lockstep_store::PageRequest;
use lockstep_stories::{InboundLoop, SECRET};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    for auto_close in [false, true] {
        let world = InboundLoop::start(auto_close).await?;
        println!("\n== inbound loop, auto_close_on_resolve = {auto_close} ==");
        println!("ServiceNow emulator: {}", world.sim.base_url());
        println!("ingest-webhook:      {}", world.webhook_url);
        let (finding, number) = world
            .ticketed_finding(&format!("demo-{auto_close}"))
            .await?;
        println!(
            "finding {finding} is linked to {number}; status {}",
            world.status(finding).await?
        );
        world
            .sign_webhooks(SECRET, DeliveryBehaviour::default())
            .await?;
        println!("beth.anglin resolves {number} in ServiceNow ...");
        world
            .sim
            .control()
            .resolve_incident(
                &number,
                "beth.anglin",
                "Solution provided",
                "patched OpenSSL",
            )
            .await?;
        let want = if auto_close {
            FindingStatus::Closed
        } else {
            FindingStatus::ReTest
        };
        world
            .wait_for(finding, want, Duration::from_secs(20))
            .await?;
        println!("finding {finding} is now {}", world.status(finding).await?);
        for row in world
            .store()
            .activity()
            .list_for_finding(world.tenant, finding, PageRequest::first(5))
            .await?
            .items
        {
            println!(
                "  activity: [{}] {} — {}",
                row.channel, row.actor, row.message
            );
        }
        world.stop().await;
    }
    Ok(())
}
