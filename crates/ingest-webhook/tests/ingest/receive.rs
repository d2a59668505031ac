use lockstep_bus::Bus;
use lockstep_domain::{IntegrationId, Vendor};
use lockstep_store::IntegrationSettings;
use lockstep_testkit::{TestDb, TestNats};

use crate::support::*;

async fn setup(
    vendor: Vendor,
    settings: IntegrationSettings,
    mode: &str,
) -> (TestDb, TestNats, Bus, IntegrationId, Running) {
    let db = TestDb::new().await;
    let nats = TestNats::new().await;
    let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
    let (_, id) = integration(db.store(), vendor, settings).await;
    let running = start(config(&db, mode, &[]), db.store(), &bus).await;
    (db, nats, bus, id, running)
}

#[tokio::test]
async fn a_signed_delivery_is_stored_before_202_and_a_retry_is_the_same_event() {
    let (db, _nats, bus, id, app) = setup(
        Vendor::ServiceNow,
        IntegrationSettings::default(),
        "production",
    )
    .await;
    let body = body(1);
    for attempt in 0..2 {
        let resp = signed(http().post(app.url(id)), SECRET, "msg-1", now(), &body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        let json: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(json["duplicate"], attempt == 1, "{json}");
    }
    let stored = stored_deliveries(&bus, "probe").await;
    assert_eq!(stored.len(), 1, "the retry was deduplicated by JetStream");
    let event = &stored[0].delivery;
    assert_eq!(event.event_id, format!("wh:{id}:msg-1"));
    assert_eq!(
        stored[0].message_id.as_deref(),
        Some(event.event_id.as_str()),
        "a delivery stored alone keeps its own id as the message id"
    );
    assert_eq!(event.body, body, "the body travels exactly as received");
    assert_eq!(event.delivery_id, "msg-1");
    assert_eq!(event.vendor, "servicenow");
    assert_eq!(event.integration_id, id.to_string());
    let tenant = db
        .store()
        .integrations()
        .find_for_webhook_delivery(id)
        .await
        .unwrap()
        .unwrap()
        .tenant_id;
    assert_eq!(stored[0].subject, bus.subjects().webhook(tenant, id));
    app.stop().await;
}

#[tokio::test]
async fn a_token_delivery_without_an_id_is_keyed_by_its_body() {
    let (_db, _nats, bus, id, app) = setup(
        Vendor::ServiceNow,
        IntegrationSettings::default(),
        "production",
    )
    .await;
    for _ in 0..2 {
        let resp = http()
            .post(app.url(id))
            .header("x-lockstep-token", SECRET)
            .body(body(2))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
    }
    let stored = stored_deliveries(&bus, "probe").await;
    assert_eq!(stored.len(), 1);
    let event = &stored[0].delivery;
    assert!(
        event.event_id.starts_with(&format!("wh:{id}:sha256-")),
        "{}",
        event.event_id
    );
    app.stop().await;
}

#[tokio::test]
async fn forged_unsigned_expired_and_unknown_deliveries_get_the_same_401_and_nothing_is_published()
{
    let (db, _nats, bus, id, app) = setup(
        Vendor::ServiceNow,
        IntegrationSettings::default(),
        "production",
    )
    .await;
    let b = body(3);
    let url = app.url(id);
    let c = http();
    let attempts = vec![
        (
            "forged",
            signed(c.post(&url), "not-the-secret", "m1", now(), &b),
        ),
        (
            "tampered body",
            signed(c.post(&url), SECRET, "m2", now(), &b).body(body(4)),
        ),
        ("unsigned", c.post(&url).body(b.clone())),
        (
            "expired",
            signed(c.post(&url), SECRET, "m3", now() - 301, &b),
        ),
        (
            "from the future",
            signed(c.post(&url), SECRET, "m4", now() + 301, &b),
        ),
        (
            "wrong token",
            c.post(&url)
                .header("x-lockstep-token", "guess")
                .body(b.clone()),
        ),
        (
            "signature without id",
            c.post(&url)
                .header("webhook-timestamp", now().to_string())
                .header("webhook-signature", "v1,AAAA")
                .body(b.clone()),
        ),
        (
            "unknown integration",
            signed(
                c.post(app.url(IntegrationId::new())),
                SECRET,
                "m6",
                now(),
                &b,
            ),
        ),
        (
            "not an id",
            signed(c.post(app.url("not-a-uuid")), SECRET, "m7", now(), &b),
        ),
    ];
    let mut bodies = Vec::new();
    for (what, req) in attempts {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{what}");
        bodies.push(resp.text().await.unwrap());
    }
    // Deactivated: indistinguishable from unknown.
    let tenant = db
        .store()
        .integrations()
        .find_for_webhook_delivery(id)
        .await
        .unwrap()
        .unwrap()
        .tenant_id;
    db.store()
        .integrations()
        .set_active(tenant, id, false)
        .await
        .unwrap();
    let other = restart_with_fresh_cache(&db, &bus, app).await;
    let resp = signed(c.post(other.url(id)), SECRET, "m8", now(), &b)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "inactive");
    bodies.push(resp.text().await.unwrap());
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert!(
        webhook_messages(&bus, "probe").await.is_empty(),
        "nothing refused was published"
    );

    let metrics = c
        .get(format!("http://{}/metrics", other.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for reason in [
        "bad_signature",
        "missing_credentials",
        "timestamp_out_of_window",
        "bad_token",
        "unknown_integration",
    ] {
        assert!(
            metrics.contains(&format!("reason=\"{reason}\"")),
            "{reason} not counted:\n{metrics}"
        );
    }
    other.stop().await;
}

async fn restart_with_fresh_cache(db: &TestDb, bus: &Bus, app: Running) -> Running {
    app.stop().await;
    start(config(db, "production", &[]), db.store(), bus).await
}

#[tokio::test]
async fn unsigned_deliveries_pass_only_where_allowed_and_outside_production() {
    let allow = IntegrationSettings {
        allow_unsigned: true,
        ..IntegrationSettings::default()
    };
    let (db, _nats, bus, id, prod) = setup(Vendor::ServiceNow, allow.clone(), "production").await;
    let resp = http()
        .post(prod.url(id))
        .body(body(5))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        401,
        "production never accepts unsigned deliveries"
    );
    prod.stop().await;

    let dev = start(config(&db, "development", &[]), db.store(), &bus).await;
    let resp = http().post(dev.url(id)).body(body(5)).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    let forged = signed(http().post(dev.url(id)), "wrong", "m9", now(), &body(6))
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        401,
        "wrong credentials stay wrong even where unsigned is allowed"
    );
    assert_eq!(stored_deliveries(&bus, "probe").await.len(), 1);
    dev.stop().await;
}

#[tokio::test]
async fn jira_deliveries_authenticate_by_hub_signature_or_query_token() {
    let (_db, _nats, bus, id, app) =
        setup(Vendor::Jira, IntegrationSettings::default(), "production").await;
    let b = br#"{"webhookEvent":"jira:issue_updated"}"#.to_vec();
    let key = lockstep_crypto::webhook::WebhookSecret::parse(SECRET).unwrap();
    let c = http();
    let ok = c
        .post(app.url(id))
        .header(
            "x-hub-signature",
            lockstep_crypto::webhook::hub_signature(&key, &b),
        )
        .header("x-atlassian-webhook-identifier", "jira-1")
        .body(b.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 202);
    let ok = c
        .post(format!("{}?token={SECRET}", app.url(id)))
        .body(b"{}".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 202);
    let bad = c
        .post(app.url(id))
        .header("x-hub-signature", "sha256=00")
        .body(b.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let bad = c
        .post(format!("{}?token=nope", app.url(id)))
        .body(b.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let stored = stored_deliveries(&bus, "probe").await;
    assert_eq!(stored.len(), 2);
    let first = &stored[0].delivery;
    assert_eq!(first.event_id, format!("wh:{id}:jira-1"));
    app.stop().await;
}

#[tokio::test]
async fn a_body_at_exactly_the_limit_is_stored_and_one_byte_more_gets_413() {
    let (_db, _nats, bus, id, app) = setup(
        Vendor::ServiceNow,
        IntegrationSettings::default(),
        "production",
    )
    .await;
    let limit = lockstep_ingest_webhook::config::DEFAULT_MAX_BODY_BYTES;
    assert_eq!(limit, 1024 * 1024 - 8 * 1024, "the limit README.md states");
    let over = vec![b'x'; limit + 1];
    let resp = signed(http().post(app.url(id)), SECRET, "big", now(), &over)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert!(webhook_messages(&bus, "probe").await.is_empty());
    let at_limit = vec![b'x'; limit];
    let resp = signed(
        http().post(app.url(id)),
        SECRET,
        "at-limit",
        now(),
        &at_limit,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 202, "{:?}", resp.text().await);
    let stored = stored_deliveries(&bus, "probe-2").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].delivery.body.len(), limit);
    for path in ["healthz", "readyz"] {
        let resp = http()
            .get(format!("http://{}/{path}", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
    }
    let metrics = http()
        .get(format!("http://{}/metrics", app.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("reason=\"body_too_large\""), "{metrics}");
    app.stop().await;
}

#[tokio::test]
async fn without_a_stream_to_store_in_the_answer_is_503_with_retry_after() {
    let (_db, nats, bus, id, app) = setup(
        Vendor::ServiceNow,
        IntegrationSettings::default(),
        "production",
    )
    .await;
    nats.jetstream()
        .delete_stream(bus.subjects().stream_name())
        .await
        .unwrap();
    let resp = signed(http().post(app.url(id)), SECRET, "lost", now(), &body(7))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "5");
    app.stop().await;
}

#[tokio::test]
async fn a_body_limit_that_would_not_fit_nats_refuses_to_start_naming_the_key() {
    let db = TestDb::new().await;
    let nats = TestNats::new().await;
    let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
    let max_payload = bus.client().max_payload().to_string();
    let config = config(
        &db,
        "production",
        &[("LOCKSTEP_INGEST__MAX_BODY_BYTES", max_payload.as_str())],
    );
    let deps = lockstep_ingest_webhook::Deps {
        store: db.store().clone(),
        bus,
        keyring: keyring(),
    };
    let Err(err) = lockstep_ingest_webhook::App::build(config, deps).await else {
        panic!("started with a body limit as large as max_payload");
    };
    let message = err.to_string();
    assert!(message.contains("ingest.max_body_bytes"), "{message}");
    assert!(message.contains("max_payload"), "{message}");
}
