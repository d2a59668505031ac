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
