//! Cross-service stories: a person acts on the ServiceNow emulator; its signed webhook goes through
//! ingest-webhook, JetStream and sync-applier into PostgreSQL; when the webhook is lost, the
//! poller brings the change instead (`poll`). Jira Cloud end to end, both directions, in `jira`;
//! ServiceDesk Plus end to end through every service in `sdp`; one trace across every hop in
//! `traces`.

mod hardening;
mod jira;
mod poll;
mod sdp;
mod traces;

use std::time::Duration;

use lockstep_domain::{FindingStatus, SyncChannel};
use lockstep_itsm_sim::control::{DeliveryBehaviour, DeliveryOutcome};
use lockstep_store::PageRequest;
use lockstep_stories::{InboundLoop, SECRET};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_servicenow_resolve_sends_the_finding_to_re_test_with_one_activity_row() {
    let world = InboundLoop::start(false).await.unwrap();
    let (finding, number) = world.ticketed_finding("story-1").await.unwrap();
    world
        .sign_webhooks(SECRET, DeliveryBehaviour::default())
        .await
        .unwrap();
    world
        .sim
        .control()
        .resolve_incident(
            &number,
            "beth.anglin",
            "Solution provided",
            "patched OpenSSL",
        )
        .await
        .unwrap();
    world
        .wait_for(finding, FindingStatus::ReTest, WAIT)
        .await
        .unwrap();
    let feed = world
        .store()
        .activity()
        .list_for_finding(world.tenant, finding, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(feed.items.len(), 1, "{:?}", feed.items);
    assert_eq!(feed.items[0].channel, SyncChannel::Webhook);
    assert_eq!(feed.items[0].actor, "beth.anglin");
    world.stop().await;
}

#[tokio::test]
async fn with_auto_close_on_the_resolve_closes_the_finding() {
    let world = InboundLoop::start(true).await.unwrap();
    let (finding, number) = world.ticketed_finding("story-2").await.unwrap();
    world
        .sign_webhooks(SECRET, DeliveryBehaviour::default())
        .await
        .unwrap();
    world
        .sim
        .control()
        .resolve_incident(&number, "beth.anglin", "Solution provided", "fixed")
        .await
        .unwrap();
    world
        .wait_for(finding, FindingStatus::Closed, WAIT)
        .await
        .unwrap();
    world.stop().await;
}

#[tokio::test]
async fn the_emulators_duplicated_deliveries_are_applied_once_each() {
    let world = InboundLoop::start(false).await.unwrap();
    let (finding, number) = world.ticketed_finding("story-3").await.unwrap();
    let behaviour = DeliveryBehaviour {
        duplicate_rate: 1.0,
        ..Default::default()
    };
    world.sign_webhooks(SECRET, behaviour).await.unwrap();
    let c = world.sim.control();
    c.start_incident(&number, "abel.tuter").await.unwrap();
    world
        .wait_for(finding, FindingStatus::InProgress, WAIT)
        .await
        .unwrap();
    c.advance_clock(2).await.unwrap();
    c.resolve_incident(&number, "beth.anglin", "Solution provided", "fixed")
        .await
        .unwrap();
    world
        .wait_for(finding, FindingStatus::ReTest, WAIT)
        .await
        .unwrap();
    let deliveries = c.wait_for_deliveries(4, WAIT).await.unwrap();
    assert!(
        deliveries
            .iter()
            .all(|d| d.outcome == DeliveryOutcome::Delivered),
        "{deliveries:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let feed = world
        .store()
        .activity()
        .list_for_finding(world.tenant, finding, PageRequest::first(10))
        .await
        .unwrap();
    let kinds: Vec<_> = feed
        .items
        .iter()
        .map(|a| (a.to_status, a.actor.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (Some(FindingStatus::ReTest), "beth.anglin"),
            (Some(FindingStatus::InProgress), "abel.tuter")
        ],
        "each change once, newest first"
    );
    world.stop().await;
}

#[tokio::test]
async fn a_delivery_signed_with_the_wrong_secret_is_refused_and_changes_nothing() {
    let world = InboundLoop::start(false).await.unwrap();
    let (finding, number) = world.ticketed_finding("story-4").await.unwrap();
    world
        .sign_webhooks("whsec_bm90IHRoZSBzZWNyZXQ=", DeliveryBehaviour::default())
        .await
        .unwrap();
    world
        .sim
        .control()
        .resolve_incident(&number, "beth.anglin", "Solution provided", "x")
        .await
        .unwrap();
    let deliveries = world
        .sim
        .control()
        .wait_for_deliveries(1, WAIT)
        .await
        .unwrap();
    assert_eq!(deliveries[0].status, Some(401));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(world.status(finding).await.unwrap(), FindingStatus::Open);
    let stream = world
        .bus
        .jetstream()
        .get_stream(world.bus.subjects().stream_name())
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .messages;
    assert_eq!(stream, 0, "nothing was published");
    world.stop().await;
}
