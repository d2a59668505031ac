//! A second tenant can neither read, list, update nor link the first tenant's rows. Each probe
//! runs as `other` against rows of `tenant`, and afterwards the rows are checked to be untouched.

use lockstep_domain::{FindingStatus, MappingRules, SyncChannel, Vendor};
use lockstep_store::{AuthKind, FindingFilter, IntegrationSettings, PageRequest, Role, StoreError};
use serde_json::Map;

use crate::activity::entry;
use crate::helpers::{
    Fixture, finding, fixture, incident, integration, live_link, live_ticket, new_finding, sealed,
    snapshot,
};

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn findings_of_another_tenant_are_invisible_and_untouchable() {
    let Fixture { db, tenant, other } = fixture().await;
    let store = db.store();
    let mine = finding(store, tenant, "shared-key").await;

    assert_not_found(store.findings().get(other, mine.id).await, "get");
    assert_not_found(
        store
            .findings()
            .set_status(other, mine.id, FindingStatus::Closed, None)
            .await,
        "set_status",
    );
    assert_not_found(
        store
            .findings()
            .set_status(
                other,
                mine.id,
                FindingStatus::Closed,
                Some(FindingStatus::Open),
            )
            .await,
        "compare-and-set",
    );
    assert!(
        store
            .findings()
            .by_ids(other, &[mine.id])
            .await
            .unwrap()
            .is_empty(),
        "by_ids"
    );
    let page = store
        .findings()
        .list(other, FindingFilter::default(), PageRequest::first(200))
        .await
        .unwrap();
    assert!(page.items.is_empty(), "list");

    // The same scanner key in another tenant is another finding, not an update of ours.
    let theirs = store
        .findings()
        .import(other, &[new_finding("shared-key")])
        .await
        .unwrap();
    assert_eq!(theirs.created, 1);
    assert_ne!(theirs.rows[0].id, mine.id);

    assert_eq!(
        store.findings().get(tenant, mine.id).await.unwrap(),
        mine,
        "untouched"
    );
}

#[tokio::test]
async fn integrations_of_another_tenant_are_invisible_and_untouchable() {
    let Fixture { db, tenant, other } = fixture().await;
    let store = db.store();
    let mine = integration(store, tenant, "Prod").await;
    let i = || store.integrations();

    assert_not_found(i().get(other, mine.id).await, "get");
    assert!(i().list(other).await.unwrap().is_empty(), "list");
    assert_not_found(
        i().update_settings(
            other,
            mine.id,
            &IntegrationSettings {
                allow_unsigned: true,
                ..Default::default()
            },
        )
        .await,
        "update",
    );
    assert_not_found(
        i().rotate_credentials(other, mine.id, AuthKind::ApiKey, &sealed(66))
            .await,
        "rotate",
    );
    assert_not_found(
        i().set_webhook_secret(other, mine.id, None).await,
        "webhook secret",
    );
    assert_not_found(i().set_active(other, mine.id, false).await, "set_active");
    assert_not_found(i().delete(other, mine.id).await, "delete");

    assert_eq!(i().get(tenant, mine.id).await.unwrap(), mine, "untouched");
}

#[tokio::test]
async fn links_cannot_be_made_read_or_changed_across_tenants() {
    let Fixture { db, tenant, other } = fixture().await;
    let store = db.store();
    let link = live_link(store, tenant, "sys1").await;
    let their_finding = finding(store, other, "theirs").await.id;
    let their_integration = integration(store, other, "Theirs").await.id;
    let l = || store.links();

    assert_not_found(
        l().insert_pending(other, link.finding_id, their_integration, &incident())
            .await,
        "our finding",
    );
    assert_not_found(
        l().insert_pending(other, their_finding, link.integration_id, &incident())
            .await,
        "our integration",
    );
    assert_not_found(
        l().insert_pending(other, link.finding_id, link.integration_id, &incident())
            .await,
        "both ours",
    );
    assert_eq!(
        l().find_active(other, link.finding_id, link.integration_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        l().find_active_by_external_id(other, link.integration_id, "sys1")
            .await
            .unwrap(),
        None
    );
    assert!(
        l().list_for_findings(other, &[link.finding_id])
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(l().get(other, link.id).await, "get");
    assert_not_found(
        l().mark_live(other, link.id, &live_ticket("sys2")).await,
        "mark_live",
    );
    assert_not_found(l().mark_failed(other, link.id, "x").await, "mark_failed");
    assert_not_found(l().unlink(other, link.id).await, "unlink");
    assert_not_found(l().update_sla(other, link.id, None, true).await, "sla");
    let newer = snapshot("7", 999, 9);
    assert_not_found(
        l().apply_vendor_state(other, link.id, &newer, SyncChannel::Poll)
            .await,
        "apply_vendor_state",
    );

    assert_eq!(l().get(tenant, link.id).await.unwrap(), link, "untouched");
}

#[tokio::test]
async fn the_schema_itself_refuses_cross_tenant_references() {
    let Fixture { db, tenant, other } = fixture().await;
    let store = db.store();
    let mine = finding(store, tenant, "f").await.id;
    let their_integration = integration(store, other, "Theirs").await.id;
    // Bypassing the store: a link row of `other` pointing at our finding breaks the composite FK.
    let err = sqlx::query(
        "INSERT INTO ticket_links (id, tenant_id, finding_id, integration_id, vendor, table_or_project)
         VALUES (gen_random_uuid(), $1, $2, $3, 'servicenow', 'incident')",
    )
    .bind(other.as_uuid())
    .bind(mine.as_uuid())
    .bind(their_integration.as_uuid())
    .execute(db.pool())
    .await
    .unwrap_err();
    let err = StoreError::from(err);
    assert_eq!(err.to_string(), "finding not found");
}

#[tokio::test]
async fn activity_presets_rules_schedules_and_tokens_stay_with_their_tenant() {
    let Fixture { db, tenant, other } = fixture().await;
    let store = db.store();
    let f = finding(store, tenant, "f").await.id;
    store.activity().append(tenant, &entry(f, 1)).await.unwrap();
    assert_not_found(
        store.activity().append(other, &entry(f, 2)).await,
        "append to our finding",
    );
    let feed = store
        .activity()
        .list_for_finding(other, f, PageRequest::first(50))
        .await
        .unwrap();
    assert!(feed.items.is_empty(), "activity list");

    let preset = store
        .presets()
        .create(tenant, "Net", &Map::new())
        .await
        .unwrap();
    assert_not_found(store.presets().get(other, preset.id).await, "preset get");
    assert_not_found(
        store
            .presets()
            .update(other, preset.id, "Mine now", &Map::new())
            .await,
        "preset update",
    );
    assert_not_found(
        store.presets().delete(other, preset.id).await,
        "preset delete",
    );
    assert!(
        store.presets().list(other).await.unwrap().is_empty(),
        "preset list"
    );
    assert_eq!(
        store.presets().get(tenant, preset.id).await.unwrap(),
        preset
    );

    let integration = integration(store, tenant, "Prod").await.id;
    let rules = MappingRules::defaults(Vendor::ServiceNow);
    store
        .mapping_rules()
        .put(tenant, integration, &rules)
        .await
        .unwrap();
    assert!(
        store
            .mapping_rules()
            .get(other, integration)
            .await
            .unwrap()
            .is_none(),
        "rules get"
    );
    assert_not_found(
        store.mapping_rules().put(other, integration, &rules).await,
        "rules put",
    );
    assert!(
        !store
            .mapping_rules()
            .delete(other, integration)
            .await
            .unwrap(),
        "rules delete"
    );
    let ours = store
        .mapping_rules()
        .get(tenant, integration)
        .await
        .unwrap();
    assert_eq!(ours.unwrap().rules, rules, "untouched");

    assert_not_found(store.poll_state().get(other, integration).await, "poll get");
    assert_not_found(
        store
            .poll_state()
            .claim_lease(other, integration, "p", std::time::Duration::from_secs(60))
            .await,
        "lease",
    );
    assert_not_found(
        store
            .poll_state()
            .request_poll_now(other, integration)
            .await,
        "re-sync",
    );
    let now = time::OffsetDateTime::now_utc();
    assert!(
        !store
            .poll_state()
            .record_failure(other, integration, "p", "x", now)
            .await
            .unwrap()
    );

    let token = store
        .api_tokens()
        .create(tenant, "bot", &[7; 32], Role::Admin)
        .await
        .unwrap();
    assert_not_found(
        store.api_tokens().revoke(other, token.id).await,
        "token revoke",
    );
    assert!(
        store.api_tokens().list(other).await.unwrap().is_empty(),
        "token list"
    );
    assert!(
        store
            .api_tokens()
            .find_by_hash(&[7; 32])
            .await
            .unwrap()
            .is_some(),
        "still usable"
    );
}
