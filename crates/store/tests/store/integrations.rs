use lockstep_domain::{IntegrationId, Vendor};
use lockstep_store::{AuthKind, IntegrationSettings, NewIntegration, StoreError, TicketLinkState};

use crate::helpers::{fixture, integration, live_link, new_integration, sealed};

#[tokio::test]
async fn an_integration_round_trips_with_sealed_secrets_and_default_settings() {
    let fx = fixture().await;
    let new = NewIntegration {
        vendor: Vendor::Jira,
        auth_kind: AuthKind::ApiKey,
        ..new_integration("Jira cloud")
    };
    let created = fx
        .store()
        .integrations()
        .create(fx.tenant, &new)
        .await
        .unwrap();
    assert_eq!(
        created.id, new.id,
        "the caller's id is kept (the sealing AAD is bound to it)"
    );
    assert_eq!(
        (created.vendor, created.auth_kind),
        (Vendor::Jira, AuthKind::ApiKey)
    );
    assert_eq!(created.sealed_credentials, sealed(1));
    assert_eq!(created.sealed_webhook_secret, Some(sealed(2)));
    assert_eq!(created.settings, IntegrationSettings::default());
    assert_eq!(created.settings.poll_interval_secs, 300);
    assert!(created.active);
    assert_eq!(
        fx.store()
            .integrations()
            .get(fx.tenant, created.id)
            .await
            .unwrap(),
        created
    );

    let bytes: Vec<u8> =
        sqlx::query_scalar("SELECT sealed_credentials FROM integrations WHERE id = $1")
            .bind(created.id.as_uuid())
            .fetch_one(fx.db.pool())
            .await
            .unwrap();
    assert_eq!(bytes, sealed(1).to_bytes(), "stored as Sealed::to_bytes()");
    assert!(
        !format!("{created:?}").contains(&format!("{:?}", sealed(1).ciphertext)),
        "Debug redacts secrets"
    );
}

#[tokio::test]
async fn names_are_unique_per_tenant_ignoring_case() {
    let fx = fixture().await;
    integration(fx.store(), fx.tenant, "Prod").await;
    let err = fx
        .store()
        .integrations()
        .create(fx.tenant, &new_integration("PROD"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "an integration with this name already exists"
    );
    fx.store()
        .integrations()
        .create(fx.other, &new_integration("Prod"))
        .await
        .expect("another tenant may use it");

    let bad_url = NewIntegration {
        base_url: "acme.service-now.com".to_owned(),
        ..new_integration("x")
    };
    let err = fx
        .store()
        .integrations()
        .create(fx.tenant, &bad_url)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid input: base URL must start with http:// or https://"
    );

    let names: Vec<_> = fx
        .store()
        .integrations()
        .list(fx.tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["Prod"]);
}

#[tokio::test]
async fn settings_credentials_secret_and_activity_are_updated_in_place() {
    let fx = fixture().await;
    let id = integration(fx.store(), fx.tenant, "Prod").await.id;
    let integrations = || fx.store().integrations();

    let settings = IntegrationSettings {
        auto_close_on_resolve: true,
        default_table_or_project: Some("change_request".to_owned()),
        poll_interval_secs: 60,
        allow_unsigned: false,
    };
    assert_eq!(
        integrations()
            .update_settings(fx.tenant, id, &settings)
            .await
            .unwrap()
            .settings,
        settings
    );

    let before = integrations().get(fx.tenant, id).await.unwrap();
    let rotated = integrations()
        .rotate_credentials(fx.tenant, id, AuthKind::OAuth2ClientCredentials, &sealed(9))
        .await
        .unwrap();
    assert_eq!(rotated.sealed_credentials, sealed(9));
    assert_eq!(rotated.auth_kind, AuthKind::OAuth2ClientCredentials);
    assert!(rotated.credentials_rotated_at > before.credentials_rotated_at);
    // A token the connector rotated itself replaces the sealed bytes but is no admin rotation.
    integrations()
        .store_rotated_credentials(fx.tenant, id, &sealed(11))
        .await
        .unwrap();
    let refreshed = integrations().get(fx.tenant, id).await.unwrap();
    assert_eq!(refreshed.sealed_credentials, sealed(11));
    assert_eq!(
        refreshed.credentials_rotated_at,
        rotated.credentials_rotated_at
    );

    assert_eq!(
        integrations()
            .set_webhook_secret(fx.tenant, id, None)
            .await
            .unwrap()
            .sealed_webhook_secret,
        None
    );
    let with_secret = integrations()
        .set_webhook_secret(fx.tenant, id, Some(&sealed(5)))
        .await
        .unwrap();
    assert_eq!(with_secret.sealed_webhook_secret, Some(sealed(5)));

    assert!(
        !integrations()
            .set_active(fx.tenant, id, false)
            .await
            .unwrap()
            .active
    );
    assert!(
        integrations()
            .set_active(fx.tenant, id, true)
            .await
            .unwrap()
            .active
    );

    let missing = IntegrationId::new();
    let err = integrations()
        .update_settings(fx.tenant, missing, &settings)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), format!("integration {missing} not found"));
}

#[tokio::test]
async fn delete_is_soft_wipes_secrets_ends_links_and_frees_the_name() {
    let fx = fixture().await;
    let link = live_link(fx.store(), fx.tenant, "sys1").await;
    let id = link.integration_id;

    fx.store()
        .integrations()
        .delete(fx.tenant, id)
        .await
        .unwrap();

    let err = fx
        .store()
        .integrations()
        .get(fx.tenant, id)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }));
    assert!(
        fx.store()
            .integrations()
            .list(fx.tenant)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        fx.store().integrations().delete(fx.tenant, id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        fx.store()
            .integrations()
            .rotate_credentials(fx.tenant, id, AuthKind::Basic, &sealed(3))
            .await,
        Err(StoreError::NotFound { .. })
    ));

    let (credentials, secret): (Vec<u8>, Option<Vec<u8>>) = sqlx::query_as(
        "SELECT sealed_credentials, sealed_webhook_secret FROM integrations WHERE id = $1",
    )
    .bind(id.as_uuid())
    .fetch_one(fx.db.pool())
    .await
    .unwrap();
    assert!(
        credentials.is_empty() && secret.is_none(),
        "secrets are wiped, the row stays"
    );

    let link = fx.store().links().get(fx.tenant, link.id).await.unwrap();
    assert_eq!(
        link.state,
        TicketLinkState::Unlinked,
        "its live links end, as history"
    );
    assert!(matches!(
        fx.store().poll_state().get(fx.tenant, id).await,
        Err(StoreError::NotFound { .. })
    ));

    integration(fx.store(), fx.tenant, "ServiceNow prod").await;
}

#[tokio::test]
async fn unreadable_stored_settings_are_reported_as_corrupt() {
    let fx = fixture().await;
    let id = integration(fx.store(), fx.tenant, "Prod").await.id;
    sqlx::query(
        r#"UPDATE integrations SET settings = '{"poll_interval_secs": "often"}' WHERE id = $1"#,
    )
    .bind(id.as_uuid())
    .execute(fx.db.pool())
    .await
    .unwrap();
    let err = fx
        .store()
        .integrations()
        .get(fx.tenant, id)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("column settings"), "{err}");
}

#[tokio::test]
async fn a_webhook_delivery_finds_its_target_without_a_tenant_but_never_a_deleted_one() {
    let fx = fixture().await;
    let record = integration(fx.store(), fx.tenant, "Prod").await;
    let integrations = || fx.store().integrations();

    let target = integrations()
        .find_for_webhook_delivery(record.id)
        .await
        .unwrap()
        .expect("the integration is found by id alone");
    assert_eq!(target.tenant_id, fx.tenant, "the tenant comes from the row");
    assert_eq!(target.vendor, record.vendor);
    assert!(target.active && !target.allow_unsigned);
    assert_eq!(target.sealed_webhook_secret, record.sealed_webhook_secret);

    let mut settings = record.settings.clone();
    settings.allow_unsigned = true;
    integrations()
        .update_settings(fx.tenant, record.id, &settings)
        .await
        .unwrap();
    integrations()
        .set_active(fx.tenant, record.id, false)
        .await
        .unwrap();
    let target = integrations()
        .find_for_webhook_delivery(record.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!target.active && target.allow_unsigned);

    integrations().delete(fx.tenant, record.id).await.unwrap();
    assert_eq!(
        integrations()
            .find_for_webhook_delivery(record.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        integrations()
            .find_for_webhook_delivery(IntegrationId::new())
            .await
            .unwrap(),
        None
    );
}
