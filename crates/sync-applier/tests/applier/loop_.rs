use std::time::Duration;

use lockstep_domain::{FindingStatus, SyncChannel};
use lockstep_proto::v1;
use lockstep_store::PageRequest;
use lockstep_sync_applier::apply::{Receiver, apply_one};
use prost::Message as _;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(20);

async fn status(w: &World, f: lockstep_domain::FindingId) -> FindingStatus {
    w.store().findings().get(w.tenant, f).await.unwrap().status
}

async fn changes(w: &World) -> Vec<v1::FindingChanged> {
    w.messages("fc-probe", w.bus.subjects().all_finding_changes())
        .await
        .iter()
        .flat_map(|d| v1::FindingChanges::decode(d.payload()).unwrap().changes)
        .collect()
}

#[tokio::test]
async fn a_resolve_sends_the_finding_to_re_test_once_with_one_activity_row() {
    let w = World::new(false).await;
    let f = w.linked_findings(1).await[0];
    let stop = w.start_applier().await;
    let event = w.webhook(0, "6", 10, 3, "beth.anglin");
    w.publish_webhook(&event).await;
    // The same delivery again under another NATS id: only the inbox can stop it now.
    let subject = w.bus.subjects().webhook(w.tenant, w.integration);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", "another-id");
    w.bus
        .jetstream()
        .publish_with_headers(subject, headers, event.encode_to_vec().into())
        .await
        .unwrap()
        .await
        .unwrap();

    assert!(
        eventually(WAIT, || async {
            w.count("SELECT count(*) FROM inbox").await == 1
                && w.count("SELECT count(*) FROM activity").await == 1
        })
        .await
    );
    assert_eq!(status(&w, f).await, FindingStatus::ReTest);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let feed = w
        .store()
        .activity()
        .list_for_finding(w.tenant, f, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(feed.items.len(), 1, "applied once");
    let row = &feed.items[0];
    assert_eq!(row.channel, SyncChannel::Webhook);
    assert_eq!(row.actor, "beth.anglin");
    assert_eq!(
        (row.from_status, row.to_status),
        (Some(FindingStatus::Open), Some(FindingStatus::ReTest))
    );
    assert!(
        row.message.contains("beth.anglin") && row.message.contains("webhook"),
        "{}",
        row.message
    );
    let link = w
        .store()
        .links()
        .find_active(w.tenant, f, w.integration)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.vendor_snapshot.unwrap().state, "6");
    assert_eq!(link.last_sync_channel, Some(SyncChannel::Webhook));

    let published = changes(&w).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].event_id, format!("fc:{}", event.event_id));
    assert_eq!(published[0].origin, v1::ChangeOrigin::Vendor as i32);
    assert_eq!(
        (
            published[0].from_status.as_str(),
            published[0].to_status.as_str()
        ),
        ("open", "re_test")
    );
    assert_eq!(published[0].finding_id, f.to_string());

    let metrics = lockstep_platform::metrics::render().unwrap();
    for series in [
        r#"lockstep_events_total{consumer="sync-applier",outcome="applied"}"#,
        r#"lockstep_events_total{consumer="sync-applier",outcome="duplicate"}"#,
        r#"lockstep_sync_lag_seconds_bucket{channel="webhook""#,
    ] {
        assert!(metrics.contains(series), "{series} missing:\n{metrics}");
    }
    stop.trigger();
}

#[tokio::test]
async fn with_auto_close_a_resolve_closes_the_finding() {
    let w = World::new(true).await;
    let f = w.linked_findings(1).await[0];
    let stop = w.start_applier().await;
    w.publish_webhook(&w.webhook(0, "6", 10, 3, "beth.anglin"))
        .await;
    assert!(
        eventually(WAIT, || async {
            status(&w, f).await == FindingStatus::Closed
        })
        .await
    );
    stop.trigger();
}

#[tokio::test]
async fn newer_then_older_keeps_the_newer_state_and_poll_events_apply_too() {
    let w = World::new(false).await;
    let ids = w.linked_findings(2).await;
    // Incident 0: reopened at +20s (mod 5) arrives before its resolve at +10s (mod 4).
    w.publish_webhook(&w.webhook(0, "2", 20, 5, "abel.tuter"))
        .await;
    w.publish_webhook(&w.webhook(0, "6", 10, 4, "beth.anglin"))
        .await;
    // Incident 1 through the poller's channel.
    let decoded = w.inbound(&w.webhook(1, "6", 10, 2, "beth.anglin"));
    let observed = v1::TicketObserved {
        event_id: format!("poll:{}:{}", w.integration, 1),
        tenant_id: w.tenant.to_string(),
        integration_id: w.integration.to_string(),
        observation: Some(v1::TicketObservation::from(&decoded.observation)),
        channel: String::new(),
    };
    w.bus
        .publish(
            &w.bus.subjects().observed(w.tenant, w.integration),
            &observed,
        )
        .await
        .unwrap();

    let stop = w.start_applier().await;
    assert!(
        eventually(WAIT, || async {
            status(&w, ids[1]).await == FindingStatus::ReTest
        })
        .await
    );
    assert!(
        eventually(WAIT, || async {
            w.count("SELECT count(*) FROM inbox").await == 3
        })
        .await
    );
    assert_eq!(
        status(&w, ids[0]).await,
        FindingStatus::InProgress,
        "the older resolve was stale"
    );
    let link = w
        .store()
        .links()
        .find_active(w.tenant, ids[0], w.integration)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.vendor_snapshot.unwrap().version.sequence(), 5);
    let poll_row = &w
        .store()
        .activity()
        .list_for_finding(w.tenant, ids[1], PageRequest::first(5))
        .await
        .unwrap()
        .items[0];
    assert_eq!(poll_row.channel, SyncChannel::Poll);
    stop.trigger();
}

#[tokio::test]
async fn events_that_can_never_apply_are_dead_lettered_without_blocking_the_rest() {
    let w = World::new(false).await;
    let f = w.linked_findings(1).await[0];
    let mut garbage = w.webhook(0, "6", 10, 1, "x");
    garbage.event_id = "garbage".into();
    garbage.body = b"{not json".to_vec();
    w.publish_webhook(&garbage).await;
    let mut foreign = w.webhook(0, "6", 10, 2, "x");
    foreign.event_id = "foreign".into();
    foreign.integration_id = lockstep_domain::IntegrationId::new().to_string();
    w.publish_webhook(&foreign).await;
    w.bus
        .jetstream()
        .publish(
            w.bus.subjects().webhook(w.tenant, w.integration),
            "\u{1}\u{2}junk".into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    w.publish_webhook(&w.webhook(0, "6", 10, 3, "beth.anglin"))
        .await;

    let stop = w.start_applier().await;
    assert!(
        eventually(WAIT, || async {
            status(&w, f).await == FindingStatus::ReTest
        })
        .await
    );
    let dead = w
        .messages("dl-probe", w.bus.subjects().dead_letter("sync-applier"))
        .await;
    assert_eq!(dead.len(), 3);
    for d in &dead {
        assert!(
            d.headers()
                .unwrap()
                .get("Lockstep-Dead-Letter-Reason")
                .is_some()
        );
    }
    stop.trigger();
}

#[tokio::test]
async fn a_change_committed_but_never_published_is_published_when_the_event_comes_back() {
    let w = World::new(false).await;
    let f = w.linked_findings(1).await[0];
    let event = w.webhook(0, "6", 10, 3, "beth.anglin");
    // A previous applier committed this event and crashed before publishing or acking.
    let inbound = w.inbound(&event);
    let mut tx = w.store().begin().await.unwrap();
    apply_one(
        &mut tx,
        &Receiver::new("sync-applier", time::OffsetDateTime::now_utc()),
        &inbound,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(status(&w, f).await, FindingStatus::ReTest);
    assert!(changes(&w).await.is_empty());

    w.publish_webhook(&event).await;
    let stop = w.start_applier().await;
    assert!(
        eventually(WAIT, || async { changes(&w).await.len() == 1 }).await,
        "re-published"
    );
    assert_eq!(
        changes(&w).await[0].event_id,
        format!("fc:{}", event.event_id)
    );
    assert_eq!(
        w.count("SELECT count(*) FROM activity").await,
        1,
        "and not applied twice"
    );
    stop.trigger();
}

#[tokio::test]
async fn a_group_applies_each_delivery_once_and_dead_letters_only_its_bad_one() {
    let w = World::new(false).await;
    let ids = w.linked_findings(3).await;
    let mut garbage = w.webhook(1, "6", 10, 2, "x");
    garbage.event_id = format!("wh:{}:garbage", w.integration);
    garbage.body = b"{not json".to_vec();
    w.publish_group(vec![
        w.webhook(0, "6", 10, 3, "beth.anglin"),
        garbage,
        w.webhook(2, "6", 10, 3, "beth.anglin"),
        // The same delivery again inside the group (a vendor retry that landed beside it).
        w.webhook(0, "6", 10, 3, "beth.anglin"),
    ])
    .await;
    let stop = w.start_applier().await;
    assert!(
        eventually(WAIT, || async {
            status(&w, ids[0]).await == FindingStatus::ReTest
                && status(&w, ids[2]).await == FindingStatus::ReTest
        })
        .await
    );
    // The message is settled (acked) once its events are: nothing waits for redelivery.
    let stream = w
        .bus
        .jetstream()
        .get_stream(w.bus.subjects().stream_name())
        .await
        .unwrap();
    assert!(
        eventually(WAIT, || async {
            let stream = stream.clone();
            let info = stream.consumer_info("sync-applier").await.unwrap();
            info.num_ack_pending == 0 && info.num_pending == 0
        })
        .await,
        "the group message was acknowledged"
    );
    assert_eq!(status(&w, ids[1]).await, FindingStatus::Open);
    assert_eq!(w.count("SELECT count(*) FROM inbox").await, 2);
    assert_eq!(w.count("SELECT count(*) FROM activity").await, 2);
    let published = changes(&w).await;
    assert_eq!(published.len(), 2, "one change per applied delivery");

    let dead = w
        .messages("dl-probe", w.bus.subjects().dead_letter("sync-applier"))
        .await;
    assert_eq!(dead.len(), 1, "only the bad delivery is dead-lettered");
    let headers = dead[0].headers().unwrap();
    assert_eq!(
        headers.get("Lockstep-Event").map(|v| v.as_str()),
        Some("webhook_received")
    );
    assert!(headers.get("Lockstep-Dead-Letter-Reason").is_some());
    let copy = v1::WebhookReceived::decode(dead[0].payload()).unwrap();
    assert_eq!(copy.event_id, format!("wh:{}:garbage", w.integration));
    assert_eq!(copy.body, b"{not json");
    stop.trigger();
}

#[tokio::test]
async fn a_fetch_with_many_changes_announces_them_in_messages_of_bounded_size() {
    let w = World::new(false).await;
    let ids = w.linked_findings(8).await;
    w.publish_group(
        (0..8)
            .map(|i| w.webhook(i, "6", 10, 3, "beth.anglin"))
            .collect(),
    )
    .await;
    let stop = w
        .start_applier_with(&[("LOCKSTEP_APPLIER__MAX_CHANGES_PER_MESSAGE", "3")])
        .await;
    assert!(
        eventually(WAIT, || async {
            w.count("SELECT count(*) FROM activity").await == 8
        })
        .await
    );
    let announced = || async {
        w.messages("fc-probe", w.bus.subjects().all_finding_changes())
            .await
            .iter()
            .map(|m| v1::FindingChanges::decode(m.payload()).unwrap().changes)
            .collect::<Vec<_>>()
    };
    assert!(
        eventually(WAIT, || async {
            announced().await.iter().map(Vec::len).sum::<usize>() == 8
        })
        .await,
        "every change is announced"
    );
    let messages = announced().await;
    let sizes: Vec<usize> = messages.iter().map(Vec::len).collect();
    let mut announced: Vec<String> = messages
        .into_iter()
        .flatten()
        .map(|c| c.finding_id)
        .collect();
    assert!(sizes.iter().all(|n| *n <= 3), "{sizes:?}");
    announced.sort_unstable();
    let mut expected: Vec<String> = ids.iter().map(|f| f.to_string()).collect();
    expected.sort_unstable();
    assert_eq!(announced, expected, "each change once");
    for f in ids {
        assert_eq!(status(&w, f).await, FindingStatus::ReTest);
    }
    stop.trigger();
}
