//! The sync-applier's set-based batch statements (`tx.inbound_batch()`).

use lockstep_domain::{ActivityKind, FindingStatus, SyncChannel};
use lockstep_store::{
    BatchWrites, Claimed, InboxClaim, LinkAdvance, NewActivity, StoreError, VendorStatusChange,
};
use serde_json::json;

use crate::helpers::{fixture, live_link, snapshot};

fn entry(finding: lockstep_domain::FindingId, event_id: &str) -> NewActivity {
    NewActivity {
        finding_id: finding,
        channel: SyncChannel::Webhook,
        actor: "beth.anglin".into(),
        kind: ActivityKind::StatusChanged,
        from_status: Some(FindingStatus::Open),
        to_status: Some(FindingStatus::ReTest),
        message: "resolved".into(),
        details: json!({ "event_id": event_id }),
    }
}

#[tokio::test]
async fn claims_tell_new_events_from_duplicates_and_unlinked_tickets() {
    let fx = fixture().await;
    let a = live_link(fx.store(), fx.tenant, "sys-a").await;
    let b = live_link(fx.store(), fx.tenant, "sys-b").await;
    let (t, i) = (fx.tenant, a.integration_id);
    assert!(
        fx.store()
            .inbox()
            .insert_if_absent(t, "sync-applier", "old")
            .await
            .unwrap()
    );
    let claim = |external_id, event_id| InboxClaim {
        tenant: t,
        integration: i,
        external_id,
        event_id,
    };
    let events = [
        claim("sys-a", "e1"),
        claim("sys-a", "old"),
        claim("sys-b", "e2"),
        claim("sys-b", "e2"),
        claim("sys-none", "e3"),
    ];
    let mut tx = fx.store().begin().await.unwrap();
    let claimed = tx
        .inbound_batch()
        .claim("sync-applier", &events)
        .await
        .unwrap();
    assert_eq!(
        claimed,
        vec![
            Claimed::New {
                finding: a.finding_id
            },
            Claimed::Duplicate {
                finding: a.finding_id
            },
            Claimed::New {
                finding: b.finding_id
            },
            Claimed::Duplicate {
                finding: b.finding_id
            },
            Claimed::Unlinked,
        ]
    );
    // Another tenant's claim of the same ticket finds no link.
    let other = [InboxClaim {
        tenant: fx.other,
        ..claim("sys-a", "e9")
    }];
    assert_eq!(
        tx.inbound_batch()
            .claim("sync-applier", &other)
            .await
            .unwrap(),
        vec![Claimed::Unlinked]
    );
    tx.commit().await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(fx.store().pool())
        .await
        .unwrap();
    assert_eq!(rows, 3, "old, e1, e2: unlinked events leave no inbox row");
}

#[tokio::test]
async fn a_batch_reads_locked_state_and_writes_it_with_guards() {
    let fx = fixture().await;
    let a = live_link(fx.store(), fx.tenant, "sys-a").await;
    let (t, i) = (fx.tenant, a.integration_id);

    let mut tx = fx.store().begin().await.unwrap();
    let integrations = tx.inbound_batch().integrations(&[(t, i)]).await.unwrap();
    assert_eq!(integrations[&(t, i)].0.id, i);
    let (record, rules) = &integrations[&(t, i)];
    assert_eq!(
        *rules,
        lockstep_domain::MappingRules::defaults(record.vendor),
        "no stored rules: the vendor's defaults"
    );
    let locked = tx
        .inbound_batch()
        .lock_live_links(&[(t, i, "sys-a"), (t, i, "sys-none")])
        .await
        .unwrap();
    assert_eq!(locked.len(), 1);
    let held = &locked[&(t, i, "sys-a".to_owned())];
    assert_eq!(held.link.id, a.id);
    assert_eq!(held.finding_status, FindingStatus::Open);

    let writes = BatchWrites {
        links: vec![LinkAdvance {
            tenant: t,
            link: a.id,
            snapshot: snapshot("6", 10, 3),
            channel: SyncChannel::Webhook,
            replaces: None,
        }],
        findings: vec![VendorStatusChange {
            tenant: t,
            finding: a.finding_id,
            expected: FindingStatus::Open,
            to: FindingStatus::ReTest,
        }],
        activity: vec![
            (t, entry(a.finding_id, "e1")),
            (t, entry(a.finding_id, "e2")),
        ],
    };
    let rows = tx.inbound_batch().write(&writes).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].id.as_uuid() < rows[1].id.as_uuid(), "in order");
    assert_eq!(rows[1].details["event_id"], "e2");
    let found = tx
        .inbound_batch()
        .activity_for_events(&[(t, a.finding_id, "e2"), (t, a.finding_id, "nope")])
        .await
        .unwrap();
    // The records `write` returns are built from what it sent; they must equal the stored rows.
    assert_eq!(found[0].as_ref(), Some(&rows[1]));
    assert!(found[1].is_none());
    tx.commit().await.unwrap();

    let link = fx.store().links().get(t, a.id).await.unwrap();
    assert_eq!(link.vendor_snapshot, Some(snapshot("6", 10, 3)));
    assert_eq!(link.last_sync_channel, Some(SyncChannel::Webhook));
    let finding = fx.store().findings().get(t, a.finding_id).await.unwrap();
    assert_eq!(finding.status, FindingStatus::ReTest);
    assert_eq!(
        finding.local.status,
        FindingStatus::Open,
        "the vendor never moves the local status"
    );

    // The same writes again: the link's guard and the finding's expectation both fail.
    let mut tx = fx.store().begin().await.unwrap();
    let err = tx.inbound_batch().write(&writes).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    drop(tx);
    let only_findings = BatchWrites {
        findings: writes.findings.clone(),
        ..Default::default()
    };
    let mut tx = fx.store().begin().await.unwrap();
    let err = tx.inbound_batch().write(&only_findings).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
}

#[tokio::test]
async fn other_tenants_rows_are_out_of_reach() {
    let fx = fixture().await;
    let a = live_link(fx.store(), fx.tenant, "sys-a").await;
    let i = a.integration_id;
    let mut tx = fx.store().begin().await.unwrap();
    assert!(
        tx.inbound_batch()
            .integrations(&[(fx.other, i)])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        tx.inbound_batch()
            .lock_live_links(&[(fx.other, i, "sys-a")])
            .await
            .unwrap()
            .is_empty()
    );
    let err = tx
        .inbound_batch()
        .write(&BatchWrites {
            activity: vec![(fx.other, entry(a.finding_id, "e1"))],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}
