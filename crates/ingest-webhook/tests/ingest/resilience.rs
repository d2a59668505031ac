//! Against a private nats-server that the test freezes, kills and restarts.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lockstep_bus::Bus;
use lockstep_domain::Vendor;
use lockstep_store::IntegrationSettings;
use lockstep_testkit::TestDb;

use crate::nats_server::NatsServer;
use crate::support::*;

/// A private nats-server (for the test to freeze, kill or restart), a database with one
/// ServiceNow integration, and ingest-webhook in production mode with the `env` settings.
async fn with_private_nats(
    env: &[(&str, &str)],
) -> (
    NatsServer,
    TestDb,
    Bus,
    lockstep_domain::IntegrationId,
    Running,
) {
    let server = NatsServer::start(false).await;
    let db = TestDb::new().await;
    let bus = Bus::connect(&server.url(), "lockstep").await.unwrap();
    let (_, id) = integration(
        db.store(),
        Vendor::ServiceNow,
        IntegrationSettings::default(),
    )
    .await;
    let app = start(config(&db, "production", env), db.store(), &bus).await;
    (server, db, bus, id, app)
}

#[tokio::test]
async fn a_nats_restart_while_webhooks_arrive_loses_no_acknowledged_delivery() {
    let (mut server, _db, bus, id, app) =
        with_private_nats(&[("LOCKSTEP_INGEST__PUBLISH_TIMEOUT", "2s")]).await;
    let url = Arc::new(app.url(id));

    const N: usize = 300;
    let acked = Arc::new(parking_lot::Mutex::new(HashSet::new()));
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Deliveries that got an answer other than 202 at least once, and were sent again.
    let retried = Arc::new(parking_lot::Mutex::new(HashSet::new()));
    let sender = {
        let (url, acked, refused, retried) =
            (url.clone(), acked.clone(), refused.clone(), retried.clone());
        tokio::spawn(async move {
            let client = http();
            // Like a vendor: every delivery is retried until it gets a 2xx.
            futures::stream::iter(0..N)
                .for_each_concurrent(8, |n| {
                    let (client, url, acked, refused, retried) = (
                        client.clone(),
                        url.clone(),
                        acked.clone(),
                        refused.clone(),
                        retried.clone(),
                    );
                    async move {
                        let id = format!("d{n}");
                        loop {
                            let resp =
                                signed(client.post(url.as_str()), SECRET, &id, now(), &body(n))
                                    .send()
                                    .await;
                            match resp {
                                Ok(r) if r.status() == 202 => {
                                    acked.lock().insert(id);
                                    return;
                                }
                                _ => {
                                    retried.lock().insert(id.clone());
                                    refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                }
                            }
                        }
                    }
                })
                .await;
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().len() < N / 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries are not being accepted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before_restart: HashSet<String> = acked.lock().clone();
    server.kill_and_restart().await;
    tokio::time::timeout(Duration::from_secs(120), sender)
        .await
        .expect("all delivered")
        .unwrap();

    let stored: Vec<String> = stored_deliveries(&bus, "probe")
        .await
        .into_iter()
        .map(|s| s.delivery.delivery_id)
        .collect();
    let unique: HashSet<&String> = stored.iter().collect();
    for id in &before_restart {
        assert!(
            unique.contains(id),
            "{id} was acknowledged before the restart and is gone"
        );
    }
    assert_eq!(unique.len(), N, "every acknowledged delivery is stored");
    // A group whose acknowledgement was lost in the restart is answered 503 although it may be
    // stored; its deliveries come back in other groups, which JetStream cannot recognise. Only
    // such retried deliveries may be stored twice; the applier's inbox applies each once.
    let mut seen = HashSet::new();
    let twice: HashSet<&String> = stored.iter().filter(|id| !seen.insert(*id)).collect();
    let retried = retried.lock().clone();
    for id in &twice {
        assert!(
            retried.contains(*id),
            "{id} is stored twice but was never refused"
        );
    }
    tracing::info!(
        refused = refused.load(std::sync::atomic::Ordering::Relaxed),
        "answered non-2xx during the restart"
    );
    app.stop().await;
}

#[tokio::test]
async fn past_the_in_flight_limit_the_answer_is_429_and_shutdown_drains_in_flight_deliveries() {
    let (server, _db, bus, id, app) = with_private_nats(&[
        ("LOCKSTEP_INGEST__MAX_IN_FLIGHT", "1"),
        ("LOCKSTEP_INGEST__PUBLISH_TIMEOUT", "20s"),
    ])
    .await;
    // Warm the secret cache so the frozen server is the only thing a delivery waits for.
    let warm = signed(http().post(app.url(id)), SECRET, "warm", now(), &body(0))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 202);

    server.freeze();
    let first =
        tokio::spawn(signed(http().post(app.url(id)), SECRET, "held", now(), &body(1)).send());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let second = signed(http().post(app.url(id)), SECRET, "over", now(), &body(2))
        .send()
        .await
        .unwrap();
    assert_eq!(
        second.status(),
        429,
        "a full receiver refuses instead of queueing"
    );
    assert_eq!(second.headers()["retry-after"], "5");

    app.shutdown.trigger();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !app.task.is_finished(),
        "shutdown waits for the delivery in flight"
    );
    server.thaw();
    let first = first.await.unwrap().unwrap();
    assert_eq!(
        first.status(),
        202,
        "the in-flight delivery finished and was acknowledged"
    );
    tokio::time::timeout(Duration::from_secs(10), app.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    let ids: HashSet<String> = stored_deliveries(&bus, "probe")
        .await
        .into_iter()
        .map(|s| s.delivery.delivery_id)
        .collect();
    assert_eq!(ids, HashSet::from(["warm".to_owned(), "held".to_owned()]));
}

#[tokio::test]
async fn deliveries_arriving_while_a_publish_is_in_flight_share_the_next_message() {
    let (server, _db, bus, id, app) = with_private_nats(&[
        ("LOCKSTEP_INGEST__PUBLISHES_IN_FLIGHT", "1"),
        ("LOCKSTEP_INGEST__PUBLISH_TIMEOUT", "20s"),
    ])
    .await;
    let post = |name: &str, n: usize| {
        signed(http().post(app.url(id)), SECRET, name, now(), &body(n)).send()
    };
    assert_eq!(post("warm", 0).await.unwrap().status(), 202);

    // The server stops answering. The first delivery's publish stays in flight; five more arrive
    // meanwhile and wait behind it in the integration's lane.
    server.freeze();
    let held = tokio::spawn(post("held", 1));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let queued: Vec<_> = (0..5)
        .map(|n| tokio::spawn(post(&format!("queued-{n}"), 2 + n)))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !held.is_finished() && queued.iter().all(|q| !q.is_finished()),
        "nothing is answered before JetStream acknowledges it"
    );
    server.thaw();
    assert_eq!(held.await.unwrap().unwrap().status(), 202);
    for q in queued {
        assert_eq!(q.await.unwrap().unwrap().status(), 202);
    }

    let stored = stored_deliveries(&bus, "probe").await;
    let mut groups: Vec<(&str, usize)> = stored
        .iter()
        .map(|s| (s.delivery.delivery_id.as_str(), s.group))
        .collect();
    // Within a group, deliveries keep the order they reached the lane in, which concurrent
    // requests do not fix.
    groups[2..].sort_unstable();
    // Deliveries that reach an idle lane together go out together, so the order of arrival
    // decides the grouping; a second is plenty for `held` to be alone on any machine we run on.
    assert_eq!(
        groups,
        [
            ("warm", 1),
            ("held", 1),
            ("queued-0", 5),
            ("queued-1", 5),
            ("queued-2", 5),
            ("queued-3", 5),
            ("queued-4", 5)
        ],
        "the five that waited went out as one message"
    );
    assert_eq!(
        stored[1].message_id.as_deref(),
        Some(stored[1].delivery.event_id.as_str()),
        "a delivery stored alone keeps its own id"
    );
    assert!(
        stored[2]
            .message_id
            .as_deref()
            .is_some_and(|m| m.starts_with("whb:")),
        "a group's message id is its digest"
    );
    app.stop().await;
}
