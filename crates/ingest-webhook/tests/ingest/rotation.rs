//! A webhook secret rotated while deliveries signed with the old and the new secret both arrive:
//! both are accepted during the overlap; after the old one is retired it is refused (401, like
//! every refusal) and the new one still passes.

use lockstep_bus::Bus;
use lockstep_crypto::{Aad, Purpose};
use lockstep_domain::Vendor;
use lockstep_store::IntegrationSettings;
use lockstep_testkit::{TestDb, TestNats};

use crate::support::*;

const NEW_SECRET: &str = "n3w-s3cr3t-after-rotation";

async fn restarted(db: &TestDb, bus: &Bus, app: Running) -> Running {
    // A fresh process: no cached target, so the change is seen at once (not after the TTL).
    app.stop().await;
    start(config(db, "production", &[]), db.store(), bus).await
}

#[tokio::test]
async fn a_rotated_secret_overlaps_with_the_old_one_until_the_old_one_is_retired() {
    let db = TestDb::new().await;
    let nats = TestNats::new().await;
    let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
    let (tenant, id) = integration(
        db.store(),
        Vendor::ServiceNow,
        IntegrationSettings::default(),
    )
    .await;
    let app = start(config(&db, "production", &[]), db.store(), &bus).await;
    let status = |app: &Running, secret: &str, msg: &str| {
        let req = signed(http().post(app.url(id)), secret, msg, now(), &body(1));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(&app, SECRET, "before-1").await, 202);
    assert_eq!(
        status(&app, NEW_SECRET, "before-2").await,
        401,
        "not configured yet"
    );

    let sealed = keyring()
        .seal(
            NEW_SECRET.as_bytes(),
            &Aad::new(tenant, id, Purpose::WebhookSecret),
        )
        .unwrap();
    db.store()
        .integrations()
        .rotate_webhook_secret(tenant, id, &sealed)
        .await
        .unwrap();
    assert_eq!(
        db.store()
            .integrations()
            .previous_webhook_secret_count(tenant, id)
            .await
            .unwrap(),
        1
    );
    let app = restarted(&db, &bus, app).await;
    // The overlap: the vendor has not switched everywhere yet; both kinds of delivery arrive.
    assert_eq!(status(&app, SECRET, "overlap-old").await, 202);
    assert_eq!(status(&app, NEW_SECRET, "overlap-new").await, 202);

    let retired = db
        .store()
        .integrations()
        .retire_previous_webhook_secrets(tenant, id)
        .await
        .unwrap();
    assert_eq!(retired, 1);
    let app = restarted(&db, &bus, app).await;
    assert_eq!(status(&app, SECRET, "after-old").await, 401, "retired");
    assert_eq!(status(&app, NEW_SECRET, "after-new").await, 202);

    let stored: Vec<String> = stored_deliveries(&bus, "probe")
        .await
        .into_iter()
        .map(|s| s.delivery.delivery_id)
        .collect();
    assert_eq!(
        stored,
        ["before-1", "overlap-old", "overlap-new", "after-new"],
        "exactly the accepted deliveries were stored, in order"
    );
    app.stop().await;
}
