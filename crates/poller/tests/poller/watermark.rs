//! The watermark: tickets updated in the watermark's own second are not skipped, a restart
//! resumes from the stored watermark, and it moves only after every observation was acknowledged.

use std::time::Duration;

use lockstep_bus::Bus;
use lockstep_connectors::servicenow::record::format_sn_datetime;
use lockstep_poller::Poller;
use serde_json::json;
use time::OffsetDateTime;

use crate::support::{Env, Sim, fast_settings, state_of};

#[tokio::test]
async fn a_ticket_updated_in_the_same_second_as_the_watermark_is_not_skipped() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 300).await;
    let link = env.linked_ticket(&sim, &integration, "CVE-W").await;
    let key = link.ticket_key.clone().unwrap();
    let mut settings = fast_settings();
    settings.overlap = Duration::ZERO; // only `>=` on the watermark protects the ticket
    let poller = env.poller_with(&sim, "r", settings);
    let control = sim.sim.control();
    let mut proven = false;
    for attempt in 0..5 {
        // Start right after a second boundary, so update, poll and update fit in one second.
        let ms = OffsetDateTime::now_utc().millisecond();
        tokio::time::sleep(Duration::from_millis(u64::from(1000 - ms as u32) + 20)).await;
        control
            .update_as(
                "beth.anglin",
                "incident",
                key.as_str(),
                json!({"state": "2"}),
            )
            .await
            .unwrap();
        env.store()
            .poll_state()
            .request_poll_now(env.tenant, integration.id)
            .await
            .unwrap();
        poller.run_due_once().await.unwrap();
        let watermark = env
            .store()
            .poll_state()
            .get(env.tenant, integration.id)
            .await
            .unwrap()
            .watermark
            .unwrap();
        let before = env.observed().await.len();
        let updated = control
            .update_as(
                "beth.anglin",
                "incident",
                key.as_str(),
                json!({"state": "3", "hold_reason": "1"}),
            )
            .await
            .unwrap();
        if updated.get("sys_updated_on").and_then(|v| v.as_str())
            != Some(&format_sn_datetime(watermark))
        {
            continue; // crossed into the next second; try again
        }
        env.store()
            .poll_state()
            .request_poll_now(env.tenant, integration.id)
            .await
            .unwrap();
        let cycle = poller.run_due_once().await.unwrap();
        assert_eq!(cycle.tickets_changed(), 1, "attempt {attempt}: {cycle:?}");
        let observed = env.observed().await;
        assert_eq!(observed.len(), before + 1);
        assert_eq!(state_of(&observed.last().unwrap().2).1, "3");
        proven = true;
        break;
    }
    assert!(
        proven,
        "could not fit the scenario into one second in 5 attempts"
    );
}

#[tokio::test]
async fn a_restart_resumes_from_the_stored_watermark() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 300).await;
    let link = env.linked_ticket(&sim, &integration, "CVE-R").await;
    let first = env.poller(&sim, "before-restart");
    first.run_due_once().await.unwrap();
    let watermark = env
        .store()
        .poll_state()
        .get(env.tenant, integration.id)
        .await
        .unwrap()
        .watermark
        .expect("a watermark after the first poll");
    drop(first);

    sim.sim
        .control()
        .start_incident(link.ticket_key.as_ref().unwrap().as_str(), "beth.anglin")
        .await
        .unwrap();
    sim.sim.control().clear_requests().await.unwrap();
    env.store()
        .poll_state()
        .request_poll_now(env.tenant, integration.id)
        .await
        .unwrap();
    let restarted = env.poller(&sim, "after-restart");
    let cycle = restarted.run_due_once().await.unwrap();
    assert_eq!(cycle.tickets_changed(), 1);
    let feed = sim.feed_requests().await;
    let since = format_sn_datetime(watermark - fast_settings().overlap);
    assert!(
        feed.iter()
            .any(|q| q.starts_with(&format!("sys_updated_on>={since}^"))),
        "the feed starts at the stored watermark − overlap ({since}): {feed:?}"
    );
}

#[tokio::test]
async fn the_watermark_stays_when_publishing_fails() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 300).await;
    let link = env.linked_ticket(&sim, &integration, "CVE-P").await;
    // A bus whose stream does not exist: every publish fails.
    let broken = Bus::from_client(
        env.nats.client().clone(),
        &format!("{}x", env.nats.prefix()),
    )
    .unwrap();
    let poller = Poller::new(
        env.store().clone(),
        broken,
        lockstep_connectors::Connectors::new(
            lockstep_connectors::Registry::builtin(),
            env.keyring.clone(),
            sim.exec.clone(),
        ),
        fast_settings(),
        "r",
    );
    poller.run_due_once().await.unwrap();
    let before = env
        .store()
        .poll_state()
        .get(env.tenant, integration.id)
        .await
        .unwrap();
    sim.sim
        .control()
        .start_incident(link.ticket_key.as_ref().unwrap().as_str(), "beth.anglin")
        .await
        .unwrap();
    env.store()
        .poll_state()
        .request_poll_now(env.tenant, integration.id)
        .await
        .unwrap();
    let cycle = poller.run_due_once().await.unwrap();
    let err = cycle.reports[0].outcome.as_ref().unwrap_err();
    assert!(err.to_string().contains("publishing"), "{err}");
    let after = env
        .store()
        .poll_state()
        .get(env.tenant, integration.id)
        .await
        .unwrap();
    assert_eq!(
        after.watermark, before.watermark,
        "the watermark did not move"
    );
    assert!(after.last_error.unwrap().contains("publishing"));

    // With the bus back, the next attempt publishes the change the failed one read.
    env.store()
        .poll_state()
        .request_poll_now(env.tenant, integration.id)
        .await
        .unwrap();
    let cycle = env.poller(&sim, "r").run_due_once().await.unwrap();
    assert_eq!(cycle.tickets_changed(), 1, "{cycle:?}");
    assert!(after.watermark.is_none_or(|w| {
        cycle.reports[0]
            .outcome
            .as_ref()
            .unwrap()
            .watermark
            .unwrap()
            >= w
    }));
}
