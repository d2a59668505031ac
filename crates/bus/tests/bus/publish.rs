use lockstep_bus::StreamSettings;
use lockstep_domain::TenantId;
use lockstep_testkit::TestNats;

use crate::{bus, finding_changed};

#[tokio::test]
async fn the_same_event_id_is_stored_once() {
    let nats = TestNats::new().await;
    let bus = bus(&nats).await;
    let tenant = TenantId::new();
    let subject = bus.subjects().finding_changed(tenant);

    let first = bus
        .publish(&subject, &finding_changed("evt-1", tenant))
        .await
        .unwrap();
    let again = bus
        .publish(&subject, &finding_changed("evt-1", tenant))
        .await
        .unwrap();
    let other = bus
        .publish(&subject, &finding_changed("evt-2", tenant))
        .await
        .unwrap();

    assert!(!first.duplicate);
    assert!(
        again.duplicate,
        "a retry inside the window must be recognised"
    );
    assert_eq!(again.sequence, first.sequence);
    assert!(!other.duplicate);
    assert_eq!(other.sequence, first.sequence + 1);
}

#[tokio::test]
async fn ensure_stream_is_idempotent_and_applies_new_settings() {
    let nats = TestNats::new().await;
    let bus = bus(&nats).await;
    let settings = StreamSettings {
        duplicate_window: std::time::Duration::from_secs(300),
        ..StreamSettings::default()
    };
    bus.ensure_stream(&settings).await.unwrap();
    bus.ensure_stream(&settings).await.unwrap();

    let mut stream = bus
        .jetstream()
        .get_stream(bus.subjects().stream_name())
        .await
        .unwrap();
    let info = stream.info().await.unwrap();
    assert_eq!(info.config.duplicate_window, settings.duplicate_window);
    assert_eq!(info.config.subjects, vec![bus.subjects().all()]);
}

#[tokio::test]
async fn publishing_without_a_stream_fails_instead_of_dropping_the_event() {
    let nats = TestNats::new().await;
    // No ensure_stream: nothing listens on these subjects.
    let bus = lockstep_bus::Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
    let tenant = TenantId::new();
    let err = bus
        .publish(
            &bus.subjects().finding_changed(tenant),
            &finding_changed("evt", tenant),
        )
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn publish_all_pipelines_and_answers_each_event_in_order() {
    let nats = TestNats::new().await;
    let bus = bus(&nats).await;
    let tenant = TenantId::new();
    let subject = bus.subjects().finding_changed(tenant);
    let first = bus
        .publish(&subject, &finding_changed("evt-0", tenant))
        .await
        .unwrap();

    let events: Vec<_> = (0..100)
        .map(|i| finding_changed(&format!("evt-{i}"), tenant))
        .collect();
    let batch: Vec<_> = events.iter().map(|e| (subject.clone(), e)).collect();
    let results = bus.publish_all(&batch).await;
    assert_eq!(results.len(), 100);
    let results: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert!(results[0].duplicate, "evt-0 was stored before");
    assert_eq!(results[0].sequence, first.sequence);
    for (i, published) in results.iter().enumerate().skip(1) {
        assert!(!published.duplicate);
        assert_eq!(
            published.sequence,
            first.sequence + i as u64,
            "stored in the order given"
        );
    }
    assert!(
        bus.publish_all::<lockstep_proto::v1::FindingChanges>(&[])
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn publish_all_without_a_stream_fails_every_event() {
    let nats = TestNats::new().await;
    let bus = lockstep_bus::Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
    let tenant = TenantId::new();
    let events: Vec<_> = (0..3)
        .map(|i| finding_changed(&format!("evt-{i}"), tenant))
        .collect();
    let batch: Vec<_> = events
        .iter()
        .map(|e| (bus.subjects().finding_changed(tenant), e))
        .collect();
    let results = bus.publish_all(&batch).await;
    assert_eq!(results.len(), 3);
    for r in results {
        assert!(r.unwrap_err().is_transient());
    }
}
