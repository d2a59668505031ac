use lockstep_domain::{ActivityKind, FindingStatus, SyncChannel, TenantId, TicketLinkId};
use lockstep_store::{NewActivity, PageRequest, Store, StoreError};
use serde_json::json;

use crate::helpers::{finding, fixture, incident, integration, live_link, snapshot};

/// What the sync-applier does with one observation, in one transaction. Returns whether it
/// changed anything.
async fn apply_observation(
    store: &Store,
    tenant: TenantId,
    event_id: &str,
    link: TicketLinkId,
    secs: i64,
) -> Result<bool, StoreError> {
    let event_id = event_id.to_owned();
    store
        .in_tx(async |tx| {
            if !tx
                .inbox()
                .insert_if_absent(tenant, "sync-applier", &event_id)
                .await?
            {
                return Ok(false);
            }
            let snap = snapshot("6", secs, 0);
            if !tx
                .links()
                .apply_vendor_state(tenant, link, &snap, SyncChannel::Webhook)
                .await?
            {
                return Ok(false);
            }
            let finding = tx.links().get(tenant, link).await?.finding_id;
            let current = tx.findings().get(tenant, finding).await?.status;
            let change = tx
                .findings()
                .set_status_from_vendor(tenant, finding, FindingStatus::ReTest, Some(current))
                .await?;
            let entry = NewActivity {
                finding_id: finding,
                channel: SyncChannel::Webhook,
                actor: "jane.doe".to_owned(),
                kind: ActivityKind::StatusChanged,
                from_status: Some(change.previous),
                to_status: Some(change.finding.status),
                message: "Resolved in ServiceNow".to_owned(),
                details: json!({"event_id": event_id}),
            };
            tx.activity().append(tenant, &entry).await?;
            Ok(true)
        })
        .await
}

#[tokio::test]
async fn the_apply_path_commits_once_and_a_redelivery_changes_nothing() {
    let fx = fixture().await;
    let link = live_link(fx.store(), fx.tenant, "sys1").await;

    // Spawned, because services run it on a multi-threaded runtime: the in_tx future is Send.
    let store = fx.store().clone();
    let tenant = fx.tenant;
    let first =
        tokio::spawn(async move { apply_observation(&store, tenant, "evt-1", link.id, 10).await });
    assert!(first.await.unwrap().unwrap());
    assert!(
        !apply_observation(fx.store(), fx.tenant, "evt-1", link.id, 10)
            .await
            .unwrap(),
        "redelivery"
    );
    assert!(
        !apply_observation(fx.store(), fx.tenant, "evt-2", link.id, 5)
            .await
            .unwrap(),
        "older observation"
    );

    let finding = fx
        .store()
        .findings()
        .get(fx.tenant, link.finding_id)
        .await
        .unwrap();
    assert_eq!(finding.status, FindingStatus::ReTest);
    let feed = fx
        .store()
        .activity()
        .list_for_finding(fx.tenant, link.finding_id, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(feed.items.len(), 1, "one applied change, one activity row");
    assert_eq!(feed.items[0].from_status, Some(FindingStatus::Open));
}

#[tokio::test]
async fn an_error_rolls_back_every_step() {
    let fx = fixture().await;
    let f = finding(fx.store(), fx.tenant, "f").await.id;
    let tenant = fx.tenant;

    #[derive(Debug)]
    enum AppError {
        Store(#[allow(dead_code)] StoreError),
        Refused,
    }
    impl From<StoreError> for AppError {
        fn from(err: StoreError) -> Self {
            AppError::Store(err)
        }
    }

    let result: Result<(), AppError> = fx
        .store()
        .in_tx(async |tx| {
            tx.inbox().insert_if_absent(tenant, "c", "evt").await?;
            tx.findings()
                .set_status(tenant, f, FindingStatus::Closed, None)
                .await?;
            Err(AppError::Refused)
        })
        .await;
    assert!(matches!(result, Err(AppError::Refused)));
    assert_eq!(
        fx.store().findings().get(tenant, f).await.unwrap().status,
        FindingStatus::Open
    );
    assert!(
        fx.store()
            .inbox()
            .insert_if_absent(tenant, "c", "evt")
            .await
            .unwrap(),
        "inbox row rolled back"
    );

    let mut tx = fx.store().begin().await.unwrap();
    tx.findings()
        .set_status(tenant, f, FindingStatus::Closed, None)
        .await
        .unwrap();
    drop(tx);
    assert_eq!(
        fx.store().findings().get(tenant, f).await.unwrap().status,
        FindingStatus::Open,
        "dropped = rolled back"
    );

    let mut tx = fx.store().begin().await.unwrap();
    tx.findings()
        .set_status(tenant, f, FindingStatus::Closed, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        fx.store().findings().get(tenant, f).await.unwrap().status,
        FindingStatus::Closed
    );
}

#[tokio::test]
async fn an_already_linked_refusal_leaves_the_transaction_usable() {
    let fx = fixture().await;
    let link = live_link(fx.store(), fx.tenant, "sys1").await;
    let other = finding(fx.store(), fx.tenant, "other").await.id;
    let second_integration = integration(fx.store(), fx.tenant, "Second").await.id;

    let mut tx = fx.store().begin().await.unwrap();
    let refused = tx
        .links()
        .insert_pending(fx.tenant, link.finding_id, link.integration_id, &incident())
        .await;
    assert!(matches!(refused, Err(StoreError::AlreadyLinked { .. })));
    let pending = tx
        .links()
        .insert_pending(fx.tenant, other, link.integration_id, &incident())
        .await
        .unwrap();
    tx.links()
        .insert_pending(fx.tenant, link.finding_id, second_integration, &incident())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        fx.store()
            .links()
            .get(fx.tenant, pending.id)
            .await
            .unwrap()
            .id,
        pending.id
    );
}
