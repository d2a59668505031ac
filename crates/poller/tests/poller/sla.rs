//! The SLA sweep at more than a handful of tickets: task_sla is read for many tickets a request,
//! what the vendor says lands on every link (due time and breached, as the connector judges them),
//! a sweep that finds nothing new writes nothing, and each integration's poll writes only its own
//! tenant's links.

use std::time::Duration;

use lockstep_domain::{IntegrationId, Severity, TenantId};
use lockstep_poller::PollerSettings;
use lockstep_store::TicketLinkRecord;
use time::OffsetDateTime;

use crate::support::{Env, Sim, fast_settings};

/// More tickets than one task_sla request covers (the connector asks for 40 a request).
const TICKETS: usize = 45;

async fn task_sla_reads(sim: &Sim) -> usize {
    sim.sim
        .control()
        .requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/now/table/task_sla"))
        .count()
}

fn slas_updated(cycle: &lockstep_poller::CycleReport, t: TenantId, i: IntegrationId) -> usize {
    let report = cycle.report(t, i).expect("polled");
    report
        .outcome
        .as_ref()
        .expect("poll succeeded")
        .slas_updated
}

/// Each link's stored SLA equals what the connector reads for its ticket right now.
async fn assert_links_hold_vendor_slas(env: &Env, sim: &Sim, links: &[TicketLinkRecord]) {
    let ids: Vec<&str> = links
        .iter()
        .map(|l| l.external_id.as_ref().unwrap().as_str())
        .collect();
    let vendor = sim
        .client(links[0].integration_id)
        .read_slas(&ids, OffsetDateTime::now_utc())
        .await
        .unwrap();
    for link in links {
        let stored = env
            .store()
            .links()
            .get(link.tenant_id, link.id)
            .await
            .unwrap();
        let sla = &vendor[link.external_id.as_ref().unwrap().as_str()];
        assert_eq!(
            (stored.sla_due_at, stored.sla_breached),
            (sla.due, sla.breached),
            "{:?}",
            stored.ticket_key
        );
    }
}

#[tokio::test]
async fn the_sla_sweep_reads_many_tickets_a_request_and_stores_what_the_vendor_says() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 300).await;
    // One ticket opened ten days ago: every SLA the emulator defines (5 days at most) is
    // breached by now. The rest are fresh.
    sim.sim.state().clock.advance(-10 * 86_400);
    let mut links = vec![env.linked_ticket(&sim, &integration, "CVE-OLD").await];
    sim.sim.state().clock.advance(10 * 86_400);
    for n in 1..TICKETS {
        links.push(
            env.linked_ticket(&sim, &integration, &format!("CVE-{n}"))
                .await,
        );
    }
    // A second tenant on the same instance, polled in the same cycle.
    let other = env.store().tenants().create("Globex").await.unwrap().id;
    let other_integration = env.integration_of(other, &sim, "theirs", 300).await;
    let other_link = env
        .linked_ticket_of(other, &sim, &other_integration, "CVE-X", Severity::Low)
        .await;

    let poller = env.poller_with(
        &sim,
        "replica-1",
        PollerSettings {
            sla_sweep_interval: Duration::ZERO,
            ..fast_settings()
        },
    );
    let before = task_sla_reads(&sim).await;
    let first = poller.run_due_once().await.unwrap();
    assert_eq!(first.failed(), 0, "{first:?}");
    let reads = task_sla_reads(&sim).await - before;
    assert!(
        (1..=TICKETS.div_ceil(40) + 1).contains(&reads),
        "{reads} task_sla requests for {} tickets: batched, not one a ticket",
        TICKETS + 1
    );
    // Every link got its SLA, and each poll counted only its own integration's links.
    assert_eq!(slas_updated(&first, env.tenant, integration.id), TICKETS);
    assert_eq!(slas_updated(&first, other, other_integration.id), 1);
    assert_links_hold_vendor_slas(&env, &sim, &links).await;
    assert_links_hold_vendor_slas(&env, &sim, std::slice::from_ref(&other_link)).await;
    let old = env
        .store()
        .links()
        .get(env.tenant, links[0].id)
        .await
        .unwrap();
    assert!(old.sla_breached, "the ten-day-old ticket is breached");
    let fresh = env
        .store()
        .links()
        .get(env.tenant, links[1].id)
        .await
        .unwrap();
    assert!(!fresh.sla_breached && fresh.sla_due_at > Some(OffsetDateTime::now_utc()));

    // The next sweep reads again but finds nothing new: no link is rewritten.
    for (t, i) in [(env.tenant, integration.id), (other, other_integration.id)] {
        env.store()
            .poll_state()
            .request_poll_now(t, i)
            .await
            .unwrap();
    }
    let second = poller.run_due_once().await.unwrap();
    assert_eq!(slas_updated(&second, env.tenant, integration.id), 0);
    assert_eq!(slas_updated(&second, other, other_integration.id), 0);
    assert!(
        task_sla_reads(&sim).await > before + reads,
        "the sweep read again"
    );
    let again = env
        .store()
        .links()
        .get(env.tenant, links[1].id)
        .await
        .unwrap();
    assert_eq!(again.updated_at, fresh.updated_at, "not rewritten");
}
