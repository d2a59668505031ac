//! The safety net: a change whose webhook was dropped arrives through the poller within one
//! cycle, as an observation on `observed.<tenant>.<integration>` with a stable id; SLAs land on
//! the link.

use std::time::Duration;

use lockstep_itsm_sim::control::{DeliveryBehaviour, WebhookTargetSpec};
use lockstep_platform::Shutdown;

use crate::support::{Env, Sim, state_of};

#[tokio::test]
async fn a_change_whose_webhook_was_dropped_arrives_within_one_cycle() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    // Every webhook the instance sends is lost.
    let control = sim.sim.control();
    control
        .add_webhook_target(&WebhookTargetSpec {
            url: "http://127.0.0.1:9/v1/webhooks/lost".into(),
            ..WebhookTargetSpec::default()
        })
        .await
        .unwrap();
    control
        .set_delivery_behaviour(&DeliveryBehaviour {
            drop_rate: 1.0,
            ..DeliveryBehaviour::default()
        })
        .await
        .unwrap();
    let integration = env.integration(&sim, "ServiceNow prod", 1).await;
    let link = env.linked_ticket(&sim, &integration, "CVE-A").await;
    let key = link.ticket_key.clone().unwrap();
    let poller = env.poller(&sim, "replica-1");

    // The first cycle reads the ticket as ticket-writer left it: nothing is news.
    let first = poller.run_due_once().await.unwrap();
    assert_eq!(first.polled(), 1, "{first:?}");
    assert_eq!(first.tickets_changed(), 0);
    assert!(env.observed().await.is_empty());

    // A person resolves the incident in ServiceNow; the webhook never arrives.
    control
        .resolve_incident(key.as_str(), "beth.anglin", "Solution provided", "Patched")
        .await
        .unwrap();
    assert!(
        control
            .deliveries()
            .await
            .unwrap()
            .iter()
            .all(|d| d.outcome != lockstep_itsm_sim::control::DeliveryOutcome::Delivered)
    );

    // The scheduler picks it up within one interval (1 s here).
    let shutdown = Shutdown::new();
    let running = tokio::spawn({
        let (poller, shutdown) = (poller.clone(), shutdown.clone());
        async move { poller.run(shutdown).await }
    });
    let mut observed = Vec::new();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        observed = env.observed().await;
        if !observed.is_empty() {
            break;
        }
    }
    shutdown.trigger();
    running.await.unwrap();

    assert_eq!(observed.len(), 1, "{observed:?}");
    let (subject, msg_id, event) = &observed[0];
    println!(
        "{key} resolved in ServiceNow; webhook dropped; the poller published state {} on {subject} (event {msg_id})",
        state_of(event).1
    );
    assert_eq!(
        subject,
        &env.bus.subjects().observed(env.tenant, integration.id)
    );
    assert_eq!(
        state_of(event),
        (
            link.external_id.clone().unwrap().as_str().to_owned(),
            "6".to_owned()
        )
    );
    assert_eq!(
        msg_id, &event.event_id,
        "Nats-Msg-Id is the stable event id"
    );
    assert!(event.event_id.starts_with("poll-"));
    assert_eq!(event.tenant_id, env.tenant.to_string());
    // The observation carries the SLA the poller read with it.
    let fields = event.observation.as_ref().unwrap().fields.as_ref().unwrap();
    assert!(fields.sla_due.is_some() || fields.sla_breached.is_some());

    // The watermark moved to the change; the poll is recorded as a success.
    let state = env
        .store()
        .poll_state()
        .get(env.tenant, integration.id)
        .await
        .unwrap();
    assert!(state.watermark.is_some());
    assert!(state.last_error.is_none());
    assert!(state.lease_owner.is_none(), "the lease is released");
}

#[tokio::test]
async fn sla_due_times_are_stored_on_the_links_and_passed_due_times_mark_breach() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 300).await;
    let link = env.linked_ticket(&sim, &integration, "CVE-S").await;
    assert!(link.sla_due_at.is_none());

    // The first poll of a replica sweeps every open linked ticket's SLA.
    let poller = env.poller(&sim, "replica-1");
    let cycle = poller.run_due_once().await.unwrap();
    let success = cycle.reports[0].outcome.as_ref().unwrap();
    assert_eq!(success.slas_updated, 1);
    let link = env.store().links().get(env.tenant, link.id).await.unwrap();
    let due = link.sla_due_at.expect("the sweep stored the due time");
    assert!(due > time::OffsetDateTime::now_utc());
    assert!(!link.sla_breached);

    // A due time in the past (as if time went by) is marked breached on the next poll without
    // asking the vendor.
    let past = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    env.store()
        .links()
        .update_sla(env.tenant, link.id, Some(past), false)
        .await
        .unwrap();
    env.store()
        .poll_state()
        .request_poll_now(env.tenant, integration.id)
        .await
        .unwrap();
    poller.run_due_once().await.unwrap();
    let link = env.store().links().get(env.tenant, link.id).await.unwrap();
    assert!(link.sla_breached);
    assert_eq!(
        env.store()
            .links()
            .count_sla_breached(env.tenant, integration.id)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn an_integration_without_links_costs_no_vendor_call() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "empty", 300).await;
    let cycle = env.poller(&sim, "r").run_due_once().await.unwrap();
    assert_eq!(cycle.polled(), 1);
    assert!(cycle.reports[0].outcome.is_ok());
    assert!(sim.feed_requests().await.is_empty());
    let state = env
        .store()
        .poll_state()
        .get(env.tenant, integration.id)
        .await
        .unwrap();
    assert!(state.next_due_at > time::OffsetDateTime::now_utc() + time::Duration::seconds(200));
}
