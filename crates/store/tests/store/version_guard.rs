//! What the vendor side writes on a link: snapshots behind the version guard, and SLA.

use lockstep_domain::{SyncChannel, TicketLinkId};
use lockstep_store::{LiveTicket, StoreError};

use crate::helpers::{
    at, finding, fixture, incident, integration, live_link, live_ticket, snapshot,
};

#[tokio::test]
async fn the_version_guard_applies_only_newer_snapshots() {
    let fx = fixture().await;
    let link = live_link(fx.store(), fx.tenant, "sys1").await; // holds version (0 s, 0)
    let apply = |state: &str, secs, sequence| {
        let store = fx.store().clone();
        let snap = snapshot(state, secs, sequence);
        async move {
            store
                .links()
                .apply_vendor_state(fx.tenant, link.id, &snap, SyncChannel::Webhook)
                .await
                .unwrap()
        }
    };

    assert!(apply("2", 10, 1).await, "newer time");
    assert!(
        !apply("stale", 10, 1).await,
        "an equal version changes nothing"
    );
    assert!(
        !apply("stale", 5, 9).await,
        "an older time loses whatever the sequence"
    );
    assert!(!apply("stale", 10, 0).await, "same time, lower sequence");
    assert!(apply("3", 10, 2).await, "same time, higher sequence");

    let stored = fx.store().links().get(fx.tenant, link.id).await.unwrap();
    assert_eq!(stored.vendor_snapshot, Some(snapshot("3", 10, 2)));
    assert_eq!(stored.last_sync_channel, Some(SyncChannel::Webhook));

    let missing = TicketLinkId::new();
    let err = fx
        .store()
        .links()
        .apply_vendor_state(fx.tenant, missing, &snapshot("x", 99, 0), SyncChannel::Poll)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }));
}

#[tokio::test]
async fn racing_snapshots_leave_the_newest_version() {
    let fx = fixture().await;
    let link = live_link(fx.store(), fx.tenant, "sys1").await;
    let mut order: Vec<i64> = (1..=24).collect();
    order.reverse();
    order.rotate_left(7);
    let tasks = order.into_iter().map(|n| {
        let store = fx.store().clone();
        let tenant = fx.tenant;
        tokio::spawn(async move {
            let snap = snapshot(&format!("s{n}"), n, n);
            store
                .links()
                .apply_vendor_state(tenant, link.id, &snap, SyncChannel::Poll)
                .await
                .unwrap()
        })
    });
    let applied = futures::future::join_all(tasks)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert!(applied >= 1);
    let stored = fx.store().links().get(fx.tenant, link.id).await.unwrap();
    assert_eq!(stored.vendor_snapshot, Some(snapshot("s24", 24, 24)));
}

#[tokio::test]
async fn pending_links_ignore_snapshots_and_are_listed_for_repair() {
    let fx = fixture().await;
    let finding = finding(fx.store(), fx.tenant, "f").await.id;
    let integration = integration(fx.store(), fx.tenant, "Prod").await.id;
    let pending = fx
        .store()
        .links()
        .insert_pending(fx.tenant, finding, integration, &incident())
        .await
        .unwrap();
    let applied = fx
        .store()
        .links()
        .apply_vendor_state(
            fx.tenant,
            pending.id,
            &snapshot("1", 1, 0),
            SyncChannel::Poll,
        )
        .await;
    assert!(!applied.unwrap());

    let far_future = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let repair = fx
        .store()
        .links()
        .list_pending_before(fx.tenant, far_future, 10)
        .await
        .unwrap();
    assert_eq!(
        repair.iter().map(|l| l.id).collect::<Vec<_>>(),
        [pending.id]
    );
    let past = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    assert!(
        fx.store()
            .links()
            .list_pending_before(fx.tenant, past, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_write_back_without_a_snapshot_accepts_the_first_observation_whatever_its_age() {
    let fx = fixture().await;
    let finding = finding(fx.store(), fx.tenant, "f").await.id;
    let integration = integration(fx.store(), fx.tenant, "Prod").await.id;
    let pending = fx
        .store()
        .links()
        .insert_pending(fx.tenant, finding, integration, &incident())
        .await
        .unwrap();
    let ticket = LiveTicket {
        snapshot: None,
        ..live_ticket("10042")
    };
    let live = fx
        .store()
        .links()
        .mark_live(fx.tenant, pending.id, &ticket)
        .await
        .unwrap();
    assert_eq!(live.vendor_snapshot, None);
    let applied = fx
        .store()
        .links()
        .apply_vendor_state(
            fx.tenant,
            live.id,
            &snapshot("1", -100, 0),
            SyncChannel::Poll,
        )
        .await;
    assert!(applied.unwrap());
}

#[tokio::test]
async fn sla_is_recorded_on_the_link() {
    let fx = fixture().await;
    let link = live_link(fx.store(), fx.tenant, "sys1").await;
    let updated = fx
        .store()
        .links()
        .update_sla(fx.tenant, link.id, Some(at(3600)), true)
        .await
        .unwrap();
    assert_eq!(
        (updated.sla_due_at, updated.sla_breached),
        (Some(at(3600)), true)
    );
    let cleared = fx
        .store()
        .links()
        .update_sla(fx.tenant, link.id, None, false)
        .await
        .unwrap();
    assert_eq!((cleared.sla_due_at, cleared.sla_breached), (None, false));
}

#[tokio::test]
async fn a_repair_replaces_exactly_the_version_it_names_and_a_reset_forgets_it() {
    let fx = fixture().await;
    let link = live_link(fx.store(), fx.tenant, "sys1").await;
    let links = || fx.store().links();
    // A version from the future (2099): the "newer than" guard refuses anything real after it.
    let future = snapshot("6", 2_300_000_000, 9);
    assert!(
        links()
            .apply_vendor_state(fx.tenant, link.id, &future, SyncChannel::Webhook)
            .await
            .unwrap()
    );
    let real = snapshot("2", 60, 1);
    assert!(
        !links()
            .apply_vendor_state(fx.tenant, link.id, &real, SyncChannel::Poll)
            .await
            .unwrap()
    );
    // A repair naming another version than the one held changes nothing.
    assert!(
        !links()
            .repair_vendor_state(fx.tenant, link.id, &real, real.version, SyncChannel::Poll)
            .await
            .unwrap()
    );
    assert!(
        links()
            .repair_vendor_state(fx.tenant, link.id, &real, future.version, SyncChannel::Poll)
            .await
            .unwrap()
    );
    let stored = links().get(fx.tenant, link.id).await.unwrap();
    assert_eq!(stored.vendor_snapshot, Some(real.clone()));
    assert_eq!(stored.last_sync_channel, Some(SyncChannel::Poll));

    let mut tx = fx.store().begin().await.unwrap();
    let before = tx
        .links()
        .reset_vendor_version(fx.tenant, link.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(before.vendor_snapshot, Some(real));
    assert_eq!(
        links()
            .get(fx.tenant, link.id)
            .await
            .unwrap()
            .vendor_snapshot,
        None
    );
    // After a reset any version applies.
    assert!(
        links()
            .apply_vendor_state(
                fx.tenant,
                link.id,
                &snapshot("1", 1, 0),
                SyncChannel::Webhook
            )
            .await
            .unwrap()
    );
    let err = links()
        .reset_vendor_version(fx.tenant, TicketLinkId::new())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }));
}
