//! Jira Cloud through the real services: issues created by ticket-writer in the Jira emulator, a
//! person transitions them, and the change arrives by signed admin webhook (ingest-webhook →
//! JetStream → sync-applier) or, when webhooks are lost, by the poller's `search/jql` feed.
//! Outbound and creation stories are in `jira/outbound.rs`, refused deliveries in
//! `jira/refusals.rs`, the re-sync of one ticket (`SyncService.ResyncTicket`) in
//! `jira/resync.rs`; the world (services, integrations through the api) in `jira/world.rs`.

mod outbound;
mod refusals;
mod resync;
mod setup;
mod world;

use std::time::Duration;

use lockstep_domain::{FindingStatus, IntegrationId, SyncChannel};
use lockstep_itsm_sim::control::{DeliveryBehaviour, JiraLimitKind, JiraRateLimit, jira_seed};
use lockstep_store::PageRequest;
use serde_json::json;

use world::{HOOK_SECRET, JiraWorld};

/// What "within one poll cycle" allows: the 1 s interval plus scheduling and a slow CI.
const ONE_CYCLE: Duration = Duration::from_secs(5);

/// The default workflow's transition ids (global): To Do 11, In Progress 21, Done 31.
const IN_PROGRESS: &str = "21";
const DONE: &str = "31";

async fn transition(world: &JiraWorld, key: &str, id: &str) {
    let done = world
        .sim
        .control()
        .jira_transition(jira_seed::PRIYA, key, id, json!({}))
        .await
        .unwrap();
    assert_eq!(done.status, 204, "{done:?}");
}

async fn last_channel(world: &JiraWorld, finding: lockstep_domain::FindingId) -> SyncChannel {
    world
        .store()
        .activity()
        .list_for_finding(world.tenant, finding, PageRequest::first(10))
        .await
        .unwrap()
        .items[0]
        .channel
}

/// Waits until the poller has completed a poll of `integration`.
async fn polled(world: &JiraWorld, integration: IntegrationId) {
    let store = world.store().clone();
    let tenant = world.tenant;
    world
        .eventually("a completed poll", || {
            let store = store.clone();
            async move {
                matches!(store.poll_state().get(tenant, integration).await,
                    Ok(s) if s.last_success_at.is_some())
            }
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_transition_to_done_by_webhook_sends_the_finding_to_re_test_or_closes_it() {
    let world = JiraWorld::start().await.unwrap();
    let review = world.integration("lockstep", "OPS", false).await.unwrap();
    let close = world.integration("priya", "OPS", true).await.unwrap();
    world
        .register_webhook(review, "OPS", Some(HOOK_SECRET))
        .await
        .unwrap();
    world
        .register_webhook(close, "OPS", Some(HOOK_SECRET))
        .await
        .unwrap();
    let ids = world.import("JW", 2).await.unwrap();
    let first = world.ticket(ids[0], review, "OPS").await.unwrap();
    let second = world.ticket(ids[1], close, "OPS").await.unwrap();

    transition(&world, &first, DONE).await;
    transition(&world, &second, DONE).await;
    world.wait_for(ids[0], FindingStatus::ReTest).await.unwrap();
    world.wait_for(ids[1], FindingStatus::Closed).await.unwrap();
    assert_eq!(last_channel(&world, ids[0]).await, SyncChannel::Webhook);
    let feed = world
        .store()
        .activity()
        .list_for_finding(world.tenant, ids[0], PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(feed.items[0].actor, "Priya Patel", "{:?}", feed.items);
    world.stop().await;
}

#[tokio::test]
async fn with_every_webhook_dropped_the_poller_brings_the_change_within_one_cycle() {
    let world = JiraWorld::start().await.unwrap();
    let integration = world.integration("lockstep", "OPS", false).await.unwrap();
    world
        .sim
        .control()
        .set_delivery_behaviour(&DeliveryBehaviour {
            drop_rate: 1.0,
            ..Default::default()
        })
        .await
        .unwrap();
    world
        .register_webhook(integration, "OPS", Some(HOOK_SECRET))
        .await
        .unwrap();
    let finding = world.import("JP", 1).await.unwrap()[0];
    let key = world.ticket(finding, integration, "OPS").await.unwrap();
    world.poll_every_second(integration).await.unwrap();
    world.start_poller().await.unwrap();
    polled(&world, integration).await;
    assert_eq!(world.status(finding).await.unwrap(), FindingStatus::Open);

    transition(&world, &key, IN_PROGRESS).await;
    let took = world
        .wait_for(finding, FindingStatus::InProgress)
        .await
        .unwrap();
    assert!(took <= ONE_CYCLE, "took {took:?}");
    assert_eq!(last_channel(&world, finding).await, SyncChannel::Poll);
    world.stop().await;
}

#[tokio::test]
async fn api_users_west_and_east_of_utc_miss_nothing_at_the_watermark() {
    let world = JiraWorld::start().await.unwrap();
    // lockstep@ is America/New_York (UTC−5), priya@ Asia/Kolkata (UTC+5:30).
    let west = world.integration("lockstep", "OPS", false).await.unwrap();
    let east = world.integration("priya", "OPS", false).await.unwrap();
    let ids = world.import("TZ", 2).await.unwrap();
    let keys = [
        world.ticket(ids[0], west, "OPS").await.unwrap(),
        world.ticket(ids[1], east, "OPS").await.unwrap(),
    ];
    for integration in [west, east] {
        world.poll_every_second(integration).await.unwrap();
    }
    world.start_poller().await.unwrap();
    polled(&world, west).await;
    polled(&world, east).await;
    // Changes right after the watermark (the issues' creation) are read by both.
    for key in &keys {
        transition(&world, key, IN_PROGRESS).await;
    }
    for finding in &ids {
        let took = world
            .wait_for(*finding, FindingStatus::InProgress)
            .await
            .unwrap();
        assert!(took <= ONE_CYCLE, "took {took:?}");
        assert_eq!(last_channel(&world, *finding).await, SyncChannel::Poll);
    }
    world.stop().await;
}

#[tokio::test]
async fn a_429_storm_on_one_integration_does_not_delay_another() {
    let world = JiraWorld::start().await.unwrap();
    let stormy = world.integration("lockstep", "OPS", false).await.unwrap();
    let calm = world.integration("priya", "OPS", false).await.unwrap();
    let ids = world.import("RL", 2).await.unwrap();
    world.ticket(ids[0], stormy, "OPS").await.unwrap();
    let calm_key = world.ticket(ids[1], calm, "OPS").await.unwrap();
    // From now on every call of the lockstep account is answered 429 (Retry-After 30 s).
    world
        .sim
        .control()
        .set_jira_rate_limits(&[JiraRateLimit {
            kind: JiraLimitKind::Burst,
            account_id: Some(jira_seed::LOCKSTEP.into()),
            limit: 0,
            window_secs: 60,
            retry_after_secs: Some(30),
        }])
        .await
        .unwrap();
    for integration in [stormy, calm] {
        world.poll_every_second(integration).await.unwrap();
    }
    world.start_poller().await.unwrap();
    polled(&world, calm).await;
    transition(&world, &calm_key, IN_PROGRESS).await;
    let took = world
        .wait_for(ids[1], FindingStatus::InProgress)
        .await
        .unwrap();
    assert!(took <= ONE_CYCLE, "the calm integration took {took:?}");
    let state = world
        .store()
        .poll_state()
        .get(world.tenant, stormy)
        .await
        .unwrap();
    assert!(
        state.last_success_at.is_none(),
        "the stormy integration never polled: {state:?}"
    );
    let limited = world
        .sim
        .control()
        .requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.status == Some(429))
        .count();
    assert!(limited > 0, "the storm was answered 429");
    world.stop().await;
}
