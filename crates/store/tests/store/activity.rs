use std::collections::HashSet;

use lockstep_domain::{ActivityKind, FindingId, FindingStatus, SyncChannel, TenantId};
use lockstep_store::{NewActivity, PageRequest, StoreError};
use serde_json::json;

use crate::helpers::{finding, fixture};

pub fn entry(finding_id: FindingId, n: usize) -> NewActivity {
    NewActivity {
        finding_id,
        channel: SyncChannel::Webhook,
        actor: "jane.doe".to_owned(),
        kind: ActivityKind::StatusChanged,
        from_status: Some(FindingStatus::Open),
        to_status: Some(FindingStatus::ReTest),
        message: format!("change {n}"),
        details: json!({"vendor_state": "6", "n": n}),
    }
}

#[tokio::test]
async fn entries_are_appended_and_paged_newest_first() {
    let fx = fixture().await;
    let f = finding(fx.store(), fx.tenant, "f").await.id;
    let other_finding = finding(fx.store(), fx.tenant, "g").await.id;
    let mut appended = Vec::new();
    for n in 0..23 {
        appended.push(
            fx.store()
                .activity()
                .append(fx.tenant, &entry(f, n))
                .await
                .unwrap(),
        );
    }
    fx.store()
        .activity()
        .append(fx.tenant, &entry(other_finding, 99))
        .await
        .unwrap();
    let first = &appended[0];
    assert_eq!(
        (first.actor.as_str(), first.channel, first.to_status),
        (
            "jane.doe",
            SyncChannel::Webhook,
            Some(FindingStatus::ReTest)
        )
    );
    assert_eq!(first.details, json!({"vendor_state": "6", "n": 0}));

    let mut seen = Vec::new();
    let mut page = PageRequest::first(5);
    loop {
        let result = fx
            .store()
            .activity()
            .list_for_finding(fx.tenant, f, page)
            .await
            .unwrap();
        seen.extend(result.items.iter().map(|a| a.message.clone()));
        match result.next {
            Some(cursor) => page = PageRequest::after(5, cursor),
            None => break,
        }
    }
    let expected: Vec<_> = (0..23).rev().map(|n| format!("change {n}")).collect();
    assert_eq!(
        seen, expected,
        "every entry once, newest first, only this finding's"
    );
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 23);
}

#[tokio::test]
async fn the_feed_is_append_only_and_checks_its_input() {
    let fx = fixture().await;
    let f = finding(fx.store(), fx.tenant, "f").await.id;
    let row = fx
        .store()
        .activity()
        .append(fx.tenant, &entry(f, 1))
        .await
        .unwrap();

    let rewrite = sqlx::query("UPDATE activity SET message = 'rewritten' WHERE id = $1")
        .bind(row.id.as_uuid())
        .execute(fx.db.pool())
        .await
        .unwrap_err();
    assert!(rewrite.to_string().contains("append-only"), "{rewrite}");

    // Kinds are an enum in code; the schema still refuses anything but a slug.
    let err = append_kind(&fx, fx.tenant, f, "Status Changed!")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("lowercase slug"), "{err}");

    let missing = FindingId::new();
    let err = fx
        .store()
        .activity()
        .append(fx.tenant, &entry(missing, 3))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn an_entry_is_found_by_the_event_that_wrote_it_within_its_tenant() {
    let fx = fixture().await;
    let f = finding(fx.store(), fx.tenant, "f").await.id;
    let mut written = entry(f, 1);
    written.details = json!({"event_id": "wh:abc:1"});
    let appended = fx
        .store()
        .activity()
        .append(fx.tenant, &written)
        .await
        .unwrap();
    fx.store()
        .activity()
        .append(fx.tenant, &entry(f, 2))
        .await
        .unwrap();

    let found = fx
        .store()
        .activity()
        .find_by_event(fx.tenant, f, "wh:abc:1")
        .await
        .unwrap();
    assert_eq!(found, Some(appended));
    for (tenant, event) in [(fx.tenant, "wh:abc:2"), (fx.other, "wh:abc:1")] {
        assert_eq!(
            fx.store()
                .activity()
                .find_by_event(tenant, f, event)
                .await
                .unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn an_activity_kind_is_a_lowercase_slug_of_at_most_64_characters() {
    let fx = fixture().await;
    let f = finding(fx.store(), fx.tenant, "f").await.id;
    let longest = format!("a{}", "b".repeat(63));
    let too_long = format!("a{}", "b".repeat(64));
    let accepted = [
        "status_changed",
        "ticket.created",
        "x",
        "a1_b2.c3",
        longest.as_str(),
    ];
    let refused = [
        "",
        "Status",
        "1status",
        "_status",
        ".status",
        "status changed",
        "status-changed",
        "statüs",
        "éclair",
        too_long.as_str(),
    ];
    for kind in accepted.iter().chain(&refused) {
        let result = append_kind(&fx, fx.tenant, f, kind).await;
        assert_eq!(
            result.is_ok(),
            accepted.contains(kind),
            "{kind:?}: {result:?}"
        );
        if let Err(err) = result {
            assert!(
                err.to_string().contains("lowercase slug"),
                "{kind:?}: {err}"
            );
        }
    }
}

/// Appends a row of any `kind` straight to the table (the store's API only takes an
/// `ActivityKind`), with the store's error on refusal: what the schema itself accepts.
async fn append_kind(
    fx: &crate::helpers::Fixture,
    tenant: TenantId,
    finding: FindingId,
    kind: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO activity (id, tenant_id, finding_id, channel, actor, kind, message, details)
         VALUES ($1, $2, $3, 'webhook', 'jane.doe', $4, 'change', '{}'::jsonb)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(tenant.as_uuid())
    .bind(finding.as_uuid())
    .bind(kind)
    .execute(fx.db.pool())
    .await
    .map(|_| ())
    .map_err(StoreError::from)
}
