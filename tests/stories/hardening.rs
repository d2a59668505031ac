//! Issue 14 through both services: a body at exactly the receiver's limit is stored and applied,
//! an unparsable one at the limit is dead-lettered (not retried until lost), and a delivery
//! answered 503 whose publish landed anyway is applied exactly once, retry included.

use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use lockstep_bus::{ConsumerSettings, Event as _};
use lockstep_crypto::webhook::{WebhookSecret, now_unix, sign};
use lockstep_domain::FindingStatus;
use lockstep_ingest_webhook::config::DEFAULT_MAX_BODY_BYTES;
use lockstep_store::PageRequest;
use lockstep_stories::nats_server::NatsServer;
use lockstep_stories::{InboundLoop, SECRET};
use prost::Message as _;

use crate::WAIT;

/// The business rule's body for `record` (its string fields at the top level), padded with a
/// description to exactly `len` bytes when given.
fn body_of(record: &serde_json::Map<String, serde_json::Value>, len: Option<usize>) -> Vec<u8> {
    let mut object: serde_json::Map<String, serde_json::Value> = record
        .iter()
        .filter(|(_, v)| v.is_string())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    object.insert("table".into(), "incident".into());
    object.insert("description".into(), "".into());
    let base = serde_json::to_vec(&object).unwrap().len();
    if let Some(len) = len {
        object.insert("description".into(), "x".repeat(len - base).into());
    }
    serde_json::to_vec(&object).unwrap()
}

async fn deliver(world: &InboundLoop, id: &str, body: &[u8]) -> reqwest::Response {
    let key = WebhookSecret::parse(SECRET).unwrap();
    let ts = now_unix();
    reqwest::Client::new()
        .post(&world.webhook_url)
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sign(&key, id, ts, body).unwrap())
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

/// Waits until the applier's consumer has nothing left to deliver or to settle.
async fn applier_settled(world: &InboundLoop) {
    let stream = world
        .bus
        .jetstream()
        .get_stream(world.bus.subjects().stream_name())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut consumer = stream
            .get_consumer::<pull::Config>("sync-applier")
            .await
            .unwrap();
        let info = consumer.info().await.unwrap();
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the applier never settled: {} pending, {} unacknowledged",
            info.num_pending,
            info.num_ack_pending
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn activity_rows(world: &InboundLoop, finding: lockstep_domain::FindingId) -> usize {
    world
        .store()
        .activity()
        .list_for_finding(world.tenant, finding, PageRequest::first(10))
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn a_body_at_exactly_the_limit_is_stored_and_applied() {
    let world = InboundLoop::start(false).await.unwrap();
    let (finding, number) = world.ticketed_finding("limit-1").await.unwrap();
    let record = world
        .sim
        .control()
        .resolve_incident(&number, "beth.anglin", "Solution provided", "fixed")
        .await
        .unwrap();
    let body = body_of(&record, Some(DEFAULT_MAX_BODY_BYTES));
    assert_eq!(body.len(), DEFAULT_MAX_BODY_BYTES);
    let mut over = body.clone();
    over.push(b' ');
    assert_eq!(deliver(&world, "over", &over).await.status(), 413);
    assert_eq!(deliver(&world, "at-limit", &body).await.status(), 202);
    world
        .wait_for(finding, FindingStatus::ReTest, WAIT)
        .await
        .unwrap();
    applier_settled(&world).await;
    assert_eq!(activity_rows(&world, finding).await, 1);
    world.stop().await;
}

#[tokio::test]
async fn an_unparsable_body_at_the_limit_is_dead_lettered_at_once() {
    let world = InboundLoop::start(false).await.unwrap();
    let body = vec![b'x'; DEFAULT_MAX_BODY_BYTES];
    assert_eq!(deliver(&world, "garbage", &body).await.status(), 202);
    let dead_letters = world
        .bus
        .consumer(
            "dead-letter-probe",
            vec![world.bus.subjects().dead_letter("sync-applier")],
            &ConsumerSettings::default(),
        )
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    let letter = loop {
        let mut got = dead_letters
            .fetch(1, Duration::from_millis(500))
            .await
            .unwrap();
        if let Some(letter) = got.pop() {
            break letter;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no dead letter arrived"
        );
    };
    assert_eq!(
        letter.kind(),
        Some(lockstep_proto::v1::WebhookReceived::KIND)
    );
    let delivery = lockstep_proto::v1::WebhookReceived::decode(letter.payload()).unwrap();
    assert_eq!(delivery.body, body, "the whole body is kept when it fits");
    assert_eq!(delivery.delivery_id, "garbage");
    // Dead-lettered on its first delivery, so the message is settled, not redelivered 20 times.
    applier_settled(&world).await;
    world.stop().await;
}

#[tokio::test]
async fn a_delivery_answered_503_that_landed_anyway_and_its_retry_are_applied_once() {
    let server = NatsServer::start(false).await;
    let world = InboundLoop::start_with(
        false,
        Some(&server),
        &[("LOCKSTEP_INGEST__PUBLISH_TIMEOUT", "1s")],
    )
    .await
    .unwrap();
    let (finding, number) = world.ticketed_finding("n503-1").await.unwrap();
    let record = world
        .sim
        .control()
        .resolve_incident(&number, "beth.anglin", "Solution provided", "fixed")
        .await
        .unwrap();
    let body = body_of(&record, None);
    // Warm the receiver's integration cache (a refused delivery looks the integration up too),
    // so the frozen server is the only thing the delivery below waits for.
    let warm = reqwest::Client::new()
        .post(&world.webhook_url)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 401);

    // JetStream stops answering: the publish is sent but its acknowledgement does not come
    // within publish_timeout, so the vendor is told 503.
    server.freeze();
    let first = deliver(&world, "evt-503", &body).await;
    assert_eq!(first.status(), 503);
    let text = first.text().await.unwrap();
    assert!(
        text.contains("not confirmed stored; retrying is safe and never applies twice"),
        "{text}"
    );
    // The message was on its way: once the server runs again it is stored and applied.
    server.thaw();
    world
        .wait_for(finding, FindingStatus::ReTest, WAIT)
        .await
        .unwrap();
    // The vendor retries, as a 503 asks: accepted, and applied no second time.
    let retry = deliver(&world, "evt-503", &body).await;
    assert_eq!(retry.status(), 202);
    applier_settled(&world).await;
    assert_eq!(
        activity_rows(&world, finding).await,
        1,
        "applied exactly once"
    );
    world.stop().await;
}
