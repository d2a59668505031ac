//! The poller's claim with SKIP LOCKED, its re-sync claim, its reads of link versions and open
//! tickets, the SLA bookkeeping, and the re-sync-all cooldown.

use std::time::Duration;

use lockstep_domain::{FindingStatus, SyncChannel};

use crate::helpers::{fixture, integration, live_link, snapshot, version};

#[tokio::test]
async fn concurrent_claims_never_hand_out_an_integration_twice() {
    let fx = fixture().await;
    let store = fx.store();
    for n in 0..20 {
        integration(
            store,
            if n % 2 == 0 { fx.tenant } else { fx.other },
            &format!("sn-{n}"),
        )
        .await;
    }
    let ttl = Duration::from_secs(60);
    let claims = futures::future::join_all((0..6).map(|r| {
        let store = store.clone();
        async move {
            store
                .poll_state()
                .claim_due_across_tenants(&format!("replica-{r}"), ttl, 5)
                .await
                .unwrap()
        }
    }))
    .await;
    let mut ids: Vec<_> = claims.iter().flatten().map(|c| c.integration.id).collect();
    assert_eq!(ids.len(), 20, "every due integration claimed once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "no integration claimed twice");
    assert!(claims.iter().all(|c| c.len() <= 5));
    // All are leased now: nothing left to claim.
    let again = store
        .poll_state()
        .claim_due_across_tenants("late", ttl, 50)
        .await
        .unwrap();
    assert!(again.is_empty());

    // A finished poll is not due: claiming again right after finds nothing (no second poll
    // in the same cycle), even though the lease is free.
    let first = &claims.iter().flatten().next().unwrap();
    let owner = store
        .poll_state()
        .get(first.integration.tenant_id, first.integration.id)
        .await
        .unwrap()
        .lease_owner
        .unwrap();
    let next = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    assert!(
        store
            .poll_state()
            .record_success(
                first.integration.tenant_id,
                first.integration.id,
                &owner,
                None,
                next
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .poll_state()
            .claim_due_across_tenants("late", ttl, 50)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn claim_now_ignores_the_schedule_but_not_another_owners_lease() {
    let fx = fixture().await;
    let store = fx.store();
    let sn = integration(store, fx.tenant, "sn").await;
    let ttl = Duration::from_secs(60);
    let held = store
        .poll_state()
        .claim_now(fx.tenant, sn.id, "a", ttl)
        .await
        .unwrap();
    assert_eq!(held.unwrap().integration.id, sn.id);
    assert!(
        store
            .poll_state()
            .claim_now(fx.tenant, sn.id, "b", ttl)
            .await
            .unwrap()
            .is_none()
    );
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    store
        .poll_state()
        .record_success(
            fx.tenant,
            sn.id,
            "a",
            Some(version(5, 0).updated_at()),
            later,
        )
        .await
        .unwrap();
    // Not due, still claimable on demand, with the stored watermark.
    let c = store
        .poll_state()
        .claim_now(fx.tenant, sn.id, "b", ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.watermark, Some(version(5, 0).updated_at()));
    // Another tenant's integration does not exist for the caller.
    assert!(
        store
            .poll_state()
            .claim_now(fx.other, sn.id, "b", ttl)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn link_versions_open_tickets_and_sla_bookkeeping() {
    let fx = fixture().await;
    let store = fx.store();
    let a = live_link(store, fx.tenant, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").await;
    let b = live_link(store, fx.tenant, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb").await;
    let i = a.integration_id;
    assert_eq!(
        store.links().active_containers(fx.tenant, i).await.unwrap(),
        ["incident"]
    );
    store
        .links()
        .apply_vendor_state(fx.tenant, b.id, &snapshot("2", 10, 3), SyncChannel::Webhook)
        .await
        .unwrap();
    let v = store
        .links()
        .live_versions(
            fx.tenant,
            i,
            &[
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                "cccccccccccccccccccccccccccccccc",
            ],
        )
        .await
        .unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(
        v["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"].version,
        Some(version(10, 3))
    );
    assert_eq!(v["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"].link_id, a.id);
    // Other tenants see none of it.
    assert!(
        store
            .links()
            .live_versions(fx.other, i, &["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"])
            .await
            .unwrap()
            .is_empty()
    );

    // Open tickets: a closed finding's ticket no longer counts.
    store
        .findings()
        .set_status(fx.tenant, a.finding_id, FindingStatus::Closed, None)
        .await
        .unwrap();
    let open = store
        .links()
        .list_open_live(fx.tenant, i, None, 10)
        .await
        .unwrap();
    assert_eq!(open.iter().map(|l| l.id).collect::<Vec<_>>(), [b.id]);
    assert!(
        store
            .links()
            .list_open_live(fx.tenant, i, Some(b.id), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Passed due times become breached locally.
    let past = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let future = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    store
        .links()
        .update_sla(fx.tenant, a.id, Some(future), false)
        .await
        .unwrap();
    store
        .links()
        .update_sla(fx.tenant, b.id, Some(past), false)
        .await
        .unwrap();
    assert_eq!(
        store
            .links()
            .mark_overdue_slas_breached(fx.tenant, i)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .links()
            .mark_overdue_slas_breached(fx.tenant, i)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .links()
            .count_sla_breached(fx.tenant, i)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.links().count_sla_breached(fx.other, i).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn failing_integrations_are_counted() {
    let fx = fixture().await;
    let store = fx.store();
    let sn = integration(store, fx.tenant, "sn").await;
    integration(store, fx.other, "ok").await;
    assert_eq!(
        store
            .poll_state()
            .count_failing_across_tenants()
            .await
            .unwrap(),
        0
    );
    store
        .poll_state()
        .claim_now(fx.tenant, sn.id, "a", Duration::from_secs(60))
        .await
        .unwrap();
    store
        .poll_state()
        .record_failure(
            fx.tenant,
            sn.id,
            "a",
            "HTTP 500",
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .poll_state()
            .count_failing_across_tenants()
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn resync_all_cooldown_is_per_caller_and_reports_the_remaining_delay() {
    let fx = fixture().await;
    let store = fx.store();
    let cooldown = Duration::from_secs(60);
    assert!(
        store
            .resync_cooldowns()
            .try_start(fx.tenant, "token-1", cooldown)
            .await
            .unwrap()
            .is_ok()
    );
    let remaining = store
        .resync_cooldowns()
        .try_start(fx.tenant, "token-1", cooldown)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        remaining > Duration::from_secs(55) && remaining <= cooldown,
        "{remaining:?}"
    );
    assert!(
        store
            .resync_cooldowns()
            .try_start(fx.tenant, "token-2", cooldown)
            .await
            .unwrap()
            .is_ok()
    );
    assert!(
        store
            .resync_cooldowns()
            .try_start(fx.other, "token-1", cooldown)
            .await
            .unwrap()
            .is_ok()
    );
    // Once the cooldown has passed, the caller may start again.
    let short = Duration::from_millis(200);
    assert!(
        store
            .resync_cooldowns()
            .try_start(fx.tenant, "token-3", short)
            .await
            .unwrap()
            .is_ok()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        store
            .resync_cooldowns()
            .try_start(fx.tenant, "token-3", short)
            .await
            .unwrap()
            .is_ok()
    );
    // Concurrent starts of one caller: exactly one goes ahead.
    let results = futures::future::join_all((0..5).map(|_| {
        let store = store.clone();
        async move {
            store
                .resync_cooldowns()
                .try_start(fx.tenant, "token-4", cooldown)
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
}
