use std::collections::HashSet;
use std::time::Duration;

use lockstep_bus::{Bus, ConsumerSettings, EventConsumer};
use lockstep_domain::TenantId;
use lockstep_proto::v1;
use lockstep_testkit::TestNats;

use crate::{bus, finding_changed};

const WAIT: Duration = Duration::from_secs(2);

fn quick_redelivery() -> ConsumerSettings {
    ConsumerSettings {
        ack_wait: Duration::from_secs(1),
        ..ConsumerSettings::default()
    }
}

/// Publishes `ids` as finding changes of one tenant.
async fn publish_changes(bus: &Bus, ids: &[&str]) {
    let tenant = TenantId::new();
    for id in ids {
        let subject = bus.subjects().finding_changed(tenant);
        bus.publish(&subject, &finding_changed(id, tenant))
            .await
            .unwrap();
    }
}

/// The durable `writer` consumer over every finding change.
async fn writer(bus: &Bus) -> EventConsumer {
    let filters = vec![bus.subjects().all_finding_changes()];
    bus.consumer("writer", filters, &quick_redelivery())
        .await
        .unwrap()
}

#[tokio::test]
async fn acked_events_are_delivered_once_and_decode_to_what_was_sent() {
    let nats = TestNats::new().await;
    let bus = bus(&nats).await;
    publish_changes(&bus, &["evt-0", "evt-1", "evt-2", "evt-3", "evt-4"]).await;
    let consumer = writer(&bus).await;

    let batch = consumer.fetch(10, WAIT).await.unwrap();
    assert_eq!(batch.len(), 5);
    for (i, delivery) in batch.iter().enumerate() {
        let event: v1::FindingChanges = delivery.decode().unwrap();
        assert_eq!(event.event_id, format!("evt-{i}"));
        assert_eq!(delivery.message_id(), Some(event.event_id.as_str()));
        assert_eq!(delivery.delivered(), 1);
        delivery.ack().await.unwrap();
    }
    // Past the ack wait, nothing comes back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        consumer
            .fetch(10, Duration::from_millis(500))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_nakked_event_comes_back_after_its_delay() {
    let nats = TestNats::new().await;
    let bus = bus(&nats).await;
    publish_changes(&bus, &["evt"]).await;
    let consumer = writer(&bus).await;

    let first = consumer.fetch(1, WAIT).await.unwrap();
    first[0].nak(Duration::from_millis(200)).await.unwrap();
    let again = consumer.fetch(1, WAIT).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].delivered(), 2);
    assert_eq!(again[0].stream_sequence(), first[0].stream_sequence());
    again[0].ack().await.unwrap();
}

#[tokio::test]
async fn an_unacked_event_is_redelivered_after_the_ack_wait() {
    let nats = TestNats::new().await;
    let bus = bus(&nats).await;
    publish_changes(&bus, &["evt"]).await;
    let consumer = writer(&bus).await;

    let first = consumer.fetch(1, WAIT).await.unwrap();
    assert_eq!(first.len(), 1);
    // Simulate a crash: neither ack nor nak.
    drop(first);
    let again = consumer.fetch(1, Duration::from_secs(3)).await.unwrap();
    assert_eq!(again.len(), 1, "the event must come back");
    assert_eq!(again[0].delivered(), 2);
}

#[tokio::test]
async fn dead_lettered_events_are_parked_with_their_reason_and_not_redelivered() {
    let nats = TestNats::new().await;
    let bus = bus(&nats).await;
    publish_changes(&bus, &["poison"]).await;
    let consumer = writer(&bus).await;
    let parked = bus
        .consumer(
            "inspect",
            vec![bus.subjects().dead_letter("writer")],
            &quick_redelivery(),
        )
        .await
        .unwrap();

    let batch = consumer.fetch(1, WAIT).await.unwrap();
    batch[0]
        .dead_letter(&bus, "writer", "unknown integration")
        .await
        .unwrap();

    let dead = parked.fetch(1, WAIT).await.unwrap();
    assert_eq!(dead.len(), 1);
    let headers = dead[0].headers().unwrap();
    assert_eq!(
        headers.get("Lockstep-Dead-Letter-Reason").unwrap().as_str(),
        "unknown integration"
    );
    let event: v1::FindingChanges = dead[0].decode().unwrap();
    assert_eq!(event.event_id, "poison");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        consumer
            .fetch(1, Duration::from_millis(500))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn replicas_bound_to_one_durable_consumer_share_the_events() {
    let nats = TestNats::new().await;
    let bus = bus(&nats).await;
    let ids: Vec<String> = (0..20).map(|i| format!("evt-{i}")).collect();
    publish_changes(&bus, &ids.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let (a, b) = (writer(&bus).await, writer(&bus).await);

    let mut seen = HashSet::new();
    let mut from_a = 0;
    while seen.len() < 20 {
        let (batch_a, batch_b) = tokio::join!(
            a.fetch(3, Duration::from_millis(300)),
            b.fetch(3, Duration::from_millis(300))
        );
        for (delivery, is_a) in batch_a
            .unwrap()
            .into_iter()
            .map(|d| (d, true))
            .chain(batch_b.unwrap().into_iter().map(|d| (d, false)))
        {
            let event: v1::FindingChanges = delivery.decode().unwrap();
            assert!(
                seen.insert(event.event_id),
                "an event reached both replicas"
            );
            from_a += usize::from(is_a);
            delivery.ack().await.unwrap();
        }
    }
    assert!(
        from_a > 0 && from_a < 20,
        "both replicas should get work, a got {from_a}"
    );
}
