use std::time::Duration;

use lockstep_domain::IntegrationId;
use lockstep_store::StoreError;
use time::OffsetDateTime;

use crate::helpers::{at, fixture, integration};

const TTL: Duration = Duration::from_secs(120);

#[tokio::test]
async fn a_new_integration_is_due_at_once_and_leased_to_one_poller() {
    let fx = fixture().await;
    let id = integration(fx.store(), fx.tenant, "Prod").await.id;
    let polls = || fx.store().poll_state();

    let state = polls().get(fx.tenant, id).await.unwrap();
    assert_eq!(
        (
            state.watermark,
            state.lease_owner.as_deref(),
            state.consecutive_failures
        ),
        (None, None, 0)
    );
    let due: Vec<_> = polls()
        .list_due_integrations_across_tenants(10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(due, [id]);

    let claimed = polls()
        .claim_lease(fx.tenant, id, "poller-a", TTL)
        .await
        .unwrap()
        .expect("free lease");
    assert_eq!(claimed.lease_owner.as_deref(), Some("poller-a"));
    assert!(
        polls()
            .claim_lease(fx.tenant, id, "poller-b", TTL)
            .await
            .unwrap()
            .is_none(),
        "held by a"
    );
    assert!(
        polls()
            .claim_lease(fx.tenant, id, "poller-a", TTL)
            .await
            .unwrap()
            .is_some(),
        "renewed by its owner"
    );
    assert!(
        polls()
            .list_due_integrations_across_tenants(10)
            .await
            .unwrap()
            .is_empty(),
        "leased: not due"
    );

    let next = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    assert!(
        !polls()
            .record_success(fx.tenant, id, "poller-b", Some(at(10)), next)
            .await
            .unwrap(),
        "not the owner"
    );
    assert!(
        polls()
            .record_success(fx.tenant, id, "poller-a", Some(at(10)), next)
            .await
            .unwrap()
    );
    let state = polls().get(fx.tenant, id).await.unwrap();
    assert_eq!((state.watermark, state.lease_owner), (Some(at(10)), None));
    assert!(state.last_success_at.is_some());
    assert!(
        polls()
            .list_due_integrations_across_tenants(10)
            .await
            .unwrap()
            .is_empty(),
        "next poll is in 5 minutes"
    );

    polls().request_poll_now(fx.tenant, id).await.unwrap();
    assert_eq!(
        polls()
            .list_due_integrations_across_tenants(10)
            .await
            .unwrap()
            .len(),
        1,
        "re-sync makes it due"
    );
}

#[tokio::test]
async fn the_watermark_never_moves_back_and_failures_are_counted() {
    let fx = fixture().await;
    let id = integration(fx.store(), fx.tenant, "Prod").await.id;
    let polls = || fx.store().poll_state();
    let now = OffsetDateTime::now_utc();

    polls()
        .claim_lease(fx.tenant, id, "p", TTL)
        .await
        .unwrap()
        .unwrap();
    polls()
        .record_success(fx.tenant, id, "p", Some(at(100)), now)
        .await
        .unwrap();
    polls()
        .claim_lease(fx.tenant, id, "p", TTL)
        .await
        .unwrap()
        .unwrap();
    polls()
        .record_success(fx.tenant, id, "p", Some(at(50)), now)
        .await
        .unwrap();
    assert_eq!(
        polls().get(fx.tenant, id).await.unwrap().watermark,
        Some(at(100))
    );
    polls()
        .claim_lease(fx.tenant, id, "p", TTL)
        .await
        .unwrap()
        .unwrap();
    polls()
        .record_success(fx.tenant, id, "p", None, now)
        .await
        .unwrap();
    assert_eq!(
        polls().get(fx.tenant, id).await.unwrap().watermark,
        Some(at(100))
    );

    for n in 1..=2 {
        polls()
            .claim_lease(fx.tenant, id, "p", TTL)
            .await
            .unwrap()
            .unwrap();
        assert!(
            polls()
                .record_failure(fx.tenant, id, "p", "401 Unauthorized", now)
                .await
                .unwrap()
        );
        let state = polls().get(fx.tenant, id).await.unwrap();
        assert_eq!(
            (state.consecutive_failures, state.last_error.as_deref()),
            (n, Some("401 Unauthorized"))
        );
    }
    polls()
        .claim_lease(fx.tenant, id, "p", TTL)
        .await
        .unwrap()
        .unwrap();
    polls()
        .record_success(fx.tenant, id, "p", None, now)
        .await
        .unwrap();
    let state = polls().get(fx.tenant, id).await.unwrap();
    assert_eq!(
        (state.consecutive_failures, state.last_error),
        (0, None),
        "success clears the error"
    );
}

#[tokio::test]
async fn an_expired_lease_can_be_taken_over_and_inactive_integrations_are_skipped() {
    let fx = fixture().await;
    let id = integration(fx.store(), fx.tenant, "Prod").await.id;
    let polls = || fx.store().poll_state();
    polls()
        .claim_lease(fx.tenant, id, "crashed", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    let taken = polls()
        .claim_lease(fx.tenant, id, "healthy", TTL)
        .await
        .unwrap()
        .expect("expired lease");
    assert_eq!(taken.lease_owner.as_deref(), Some("healthy"));
    let now = OffsetDateTime::now_utc();
    assert!(
        !polls()
            .record_success(fx.tenant, id, "crashed", Some(at(1)), now)
            .await
            .unwrap()
    );

    polls()
        .record_success(fx.tenant, id, "healthy", None, now)
        .await
        .unwrap();
    fx.store()
        .integrations()
        .set_active(fx.tenant, id, false)
        .await
        .unwrap();
    assert!(
        polls()
            .list_due_integrations_across_tenants(10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        polls()
            .claim_lease(fx.tenant, id, "p", TTL)
            .await
            .unwrap()
            .is_none()
    );

    let missing = IntegrationId::new();
    assert!(matches!(
        polls().claim_lease(fx.tenant, missing, "p", TTL).await,
        Err(StoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn the_scheduler_sees_due_integrations_of_every_tenant() {
    let fx = fixture().await;
    let mine = integration(fx.store(), fx.tenant, "Prod").await;
    let theirs = integration(fx.store(), fx.other, "Prod").await;
    let due = fx
        .store()
        .poll_state()
        .list_due_integrations_across_tenants(10)
        .await
        .unwrap();
    let mut seen: Vec<_> = due.iter().map(|i| (i.tenant_id, i.id)).collect();
    seen.sort();
    let mut expected = vec![(mine.tenant_id, mine.id), (theirs.tenant_id, theirs.id)];
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(
        fx.store()
            .poll_state()
            .list_due_integrations_across_tenants(1)
            .await
            .unwrap()
            .len(),
        1,
        "limit"
    );
}
