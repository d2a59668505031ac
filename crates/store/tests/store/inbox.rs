use lockstep_testkit::TestDb;

use crate::helpers::fixture;

#[tokio::test]
async fn an_event_id_is_accepted_once_per_consumer() {
    let fx = fixture().await;
    let inbox = || fx.store().inbox();
    assert!(
        inbox()
            .insert_if_absent(fx.tenant, "sync-applier", "int1:evt1")
            .await
            .unwrap()
    );
    assert!(
        !inbox()
            .insert_if_absent(fx.tenant, "sync-applier", "int1:evt1")
            .await
            .unwrap(),
        "redelivery"
    );
    assert!(
        inbox()
            .insert_if_absent(fx.tenant, "ticket-writer", "int1:evt1")
            .await
            .unwrap(),
        "other consumer"
    );
    assert!(
        inbox()
            .insert_if_absent(fx.tenant, "sync-applier", "int1:evt2")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn concurrent_deliveries_of_one_event_are_accepted_exactly_once() {
    let fx = fixture().await;
    let deliveries = (0..10).map(|_| {
        let store = fx.store().clone();
        let tenant = fx.tenant;
        tokio::spawn(async move {
            store
                .inbox()
                .insert_if_absent(tenant, "sync-applier", "evt")
                .await
                .unwrap()
        })
    });
    let accepted = futures::future::join_all(deliveries)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn pruning_forgets_only_old_ids() {
    let db = TestDb::new().await;
    let tenant = db.store().tenants().create("Acme").await.unwrap().id;
    db.store()
        .inbox()
        .insert_if_absent(tenant, "c", "old")
        .await
        .unwrap();
    sqlx::query(
        "UPDATE inbox SET processed_at = now() - interval '40 days' WHERE event_id = 'old'",
    )
    .execute(db.pool())
    .await
    .unwrap();
    db.store()
        .inbox()
        .insert_if_absent(tenant, "c", "new")
        .await
        .unwrap();

    let cutoff = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    assert_eq!(
        db.store()
            .inbox()
            .prune_processed_before(cutoff)
            .await
            .unwrap(),
        1
    );
    assert!(
        db.store()
            .inbox()
            .insert_if_absent(tenant, "c", "old")
            .await
            .unwrap(),
        "forgotten"
    );
    assert!(
        !db.store()
            .inbox()
            .insert_if_absent(tenant, "c", "new")
            .await
            .unwrap(),
        "kept"
    );
}
