use lockstep_domain::{IntegrationId, MappingRules, Vendor};
use lockstep_store::{NewIntegration, StoreError};

use crate::helpers::{fixture, integration, new_integration};

/// ServiceNow defaults with the incident's inbound rules replaced by the change request's: a valid
/// document that differs from the defaults.
fn customised_servicenow_rules() -> MappingRules {
    let mut json = serde_json::to_value(MappingRules::defaults(Vendor::ServiceNow)).unwrap();
    json["incident"]["inbound"] = json["change_request"]["inbound"].clone();
    let rules: MappingRules = serde_json::from_value(json).unwrap();
    assert_ne!(rules, MappingRules::defaults(Vendor::ServiceNow));
    rules
}

#[tokio::test]
async fn an_integrations_rules_are_one_document_replaced_in_place() {
    let fx = fixture().await;
    let integration = integration(fx.store(), fx.tenant, "Prod").await.id;
    let mapping = || fx.store().mapping_rules();

    assert!(
        mapping()
            .get(fx.tenant, integration)
            .await
            .unwrap()
            .is_none(),
        "none stored: use the defaults"
    );

    let first = mapping()
        .put(
            fx.tenant,
            integration,
            &MappingRules::defaults(Vendor::ServiceNow),
        )
        .await
        .unwrap();
    let second = mapping()
        .put(fx.tenant, integration, &customised_servicenow_rules())
        .await
        .unwrap();
    assert_eq!(second.id, first.id, "the document keeps its id");
    assert!(second.updated_at >= first.updated_at);

    let read = mapping()
        .get(fx.tenant, integration)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.rules, customised_servicenow_rules());
    assert_eq!(read, second);

    assert!(mapping().delete(fx.tenant, integration).await.unwrap());
    assert!(!mapping().delete(fx.tenant, integration).await.unwrap());
    assert!(
        mapping()
            .get(fx.tenant, integration)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn rules_must_fit_a_live_integration_of_their_vendor() {
    let fx = fixture().await;
    let missing = IntegrationId::new();
    let jira_rules = MappingRules::defaults(Vendor::Jira);
    let err = fx
        .store()
        .mapping_rules()
        .put(fx.tenant, missing, &jira_rules)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), format!("integration {missing} not found"));

    let servicenow = integration(fx.store(), fx.tenant, "Prod").await.id;
    let err = fx
        .store()
        .mapping_rules()
        .put(fx.tenant, servicenow, &jira_rules)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    assert!(
        err.to_string().contains("cannot use jira mapping rules"),
        "{err}"
    );

    let jira = NewIntegration {
        vendor: Vendor::Jira,
        ..new_integration("Jira")
    };
    let jira = fx
        .store()
        .integrations()
        .create(fx.tenant, &jira)
        .await
        .unwrap()
        .id;
    fx.store()
        .mapping_rules()
        .put(fx.tenant, jira, &jira_rules)
        .await
        .unwrap();

    fx.store()
        .integrations()
        .delete(fx.tenant, jira)
        .await
        .unwrap();
    let err = fx
        .store()
        .mapping_rules()
        .put(fx.tenant, jira, &jira_rules)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { .. }),
        "a deleted integration takes no new rules"
    );
}

#[tokio::test]
async fn unreadable_stored_rules_are_reported_as_corrupt() {
    let fx = fixture().await;
    let integration = integration(fx.store(), fx.tenant, "Prod").await.id;
    fx.store()
        .mapping_rules()
        .put(
            fx.tenant,
            integration,
            &MappingRules::defaults(Vendor::ServiceNow),
        )
        .await
        .unwrap();
    sqlx::query(
        r#"UPDATE mapping_rules SET rules = '{"vendor": "servicenow"}' WHERE integration_id = $1"#,
    )
    .bind(integration.as_uuid())
    .execute(fx.db.pool())
    .await
    .unwrap();
    let err = fx
        .store()
        .mapping_rules()
        .get(fx.tenant, integration)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

#[tokio::test]
async fn the_effective_rules_are_the_stored_document_or_the_vendor_defaults() {
    let fx = fixture().await;
    let record = integration(fx.store(), fx.tenant, "Prod").await;
    let mapping = || fx.store().mapping_rules();

    let none = mapping().effective(&record).await.unwrap();
    assert_eq!(none.rules, MappingRules::defaults(record.vendor));
    assert_eq!(none.stored, None);

    let stored = mapping()
        .put(fx.tenant, record.id, &customised_servicenow_rules())
        .await
        .unwrap();
    let some = mapping().effective(&record).await.unwrap();
    assert_eq!(some.rules, customised_servicenow_rules());
    assert_eq!(some.stored, Some(stored));
}
