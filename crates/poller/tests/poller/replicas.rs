//! Two replicas share the integrations: each integration is polled exactly once per cycle.

use std::collections::HashMap;

use lockstep_domain::IntegrationId;

use crate::support::{Env, Sim};

#[tokio::test]
async fn two_replicas_poll_each_integration_exactly_once_per_cycle() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let mut integrations = Vec::new();
    for n in 0..8 {
        let i = env.integration(&sim, &format!("sn-{n}"), 300).await;
        env.linked_ticket(&sim, &i, &format!("CVE-{n}")).await;
        integrations.push(i.id);
    }
    let a = env.poller(&sim, "replica-a");
    let b = env.poller(&sim, "replica-b");

    for cycle in 0..3 {
        let (ra, rb) = tokio::join!(a.run_due_once(), b.run_due_once());
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let mut polls: HashMap<IntegrationId, usize> = HashMap::new();
        for r in ra.reports.iter().chain(&rb.reports) {
            assert!(r.outcome.is_ok(), "cycle {cycle}: {r:?}");
            *polls.entry(r.integration).or_default() += 1;
        }
        for id in &integrations {
            assert_eq!(polls.get(id), Some(&1), "cycle {cycle}: {polls:?}");
        }
        assert_eq!(polls.len(), integrations.len());
        // Nothing is due until the next interval: a third replica finds no work.
        let c = env.poller(&sim, "replica-c").run_due_once().await.unwrap();
        assert_eq!(c.polled(), 0, "cycle {cycle}");
        // Next cycle: everything due again.
        for id in &integrations {
            env.store()
                .poll_state()
                .request_poll_now(env.tenant, *id)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_crashed_replicas_lease_is_taken_over_after_it_expires() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let i = env.integration(&sim, "sn", 300).await;
    env.linked_ticket(&sim, &i, "CVE-1").await;
    // Replica A claims, then dies without recording anything.
    let claimed = env
        .store()
        .poll_state()
        .claim_due_across_tenants("dead-replica", std::time::Duration::from_millis(300), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let b = env.poller(&sim, "replica-b");
    assert_eq!(b.run_due_once().await.unwrap().polled(), 0, "lease held");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let cycle = b.run_due_once().await.unwrap();
    assert_eq!(cycle.polled(), 1);
    assert!(cycle.reports[0].outcome.is_ok());
}
