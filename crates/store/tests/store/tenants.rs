use lockstep_domain::TenantId;
use lockstep_store::{Role, StoreError};
use lockstep_testkit::TestDb;

use crate::helpers::fixture;

fn hash(byte: u8) -> [u8; 32] {
    [byte; 32]
}

#[tokio::test]
async fn tenants_are_created_and_read_back() {
    let db = TestDb::new().await;
    let created = db.store().tenants().create("  Acme Corp ").await.unwrap();
    assert_eq!(created.name, "Acme Corp");
    assert_eq!(db.store().tenants().get(created.id).await.unwrap(), created);

    let missing = TenantId::new();
    let err = db.store().tenants().get(missing).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert_eq!(err.to_string(), format!("tenant {missing} not found"));

    let err = db.store().tenants().create("   ").await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    assert!(
        err.to_string().contains("name must be 1 to 200 characters"),
        "{err}"
    );
}

#[tokio::test]
async fn a_nul_character_in_any_text_is_invalid_input_not_an_internal_error() {
    let fx = fixture().await;
    let err = fx.store().tenants().create("Ac\0me").await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("NUL character"), "{err}");
    let err = fx
        .store()
        .api_tokens()
        .create(fx.tenant, "bot\0", &hash(7), Role::Viewer)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    // The connection that saw the error is still usable.
    assert!(fx.store().tenants().get(fx.tenant).await.is_ok());
}

#[tokio::test]
async fn a_token_authenticates_until_it_is_revoked() {
    let fx = fixture().await;
    let tokens = || fx.store().api_tokens();
    let token = tokens()
        .create(fx.tenant, "ci-bot", &hash(1), Role::Analyst)
        .await
        .unwrap();
    assert_eq!(token.last_used_at, None);

    let identity = tokens()
        .find_by_hash(&hash(1))
        .await
        .unwrap()
        .expect("token is found");
    assert_eq!(
        (identity.token_id, identity.tenant_id, identity.role),
        (token.id, fx.tenant, Role::Analyst)
    );
    assert_eq!(identity.name, "ci-bot");
    let used = tokens().list(fx.tenant).await.unwrap().remove(0);
    assert!(
        used.last_used_at.is_some(),
        "authentication records the use"
    );

    assert_eq!(
        tokens().find_by_hash(&hash(2)).await.unwrap(),
        None,
        "unknown hash"
    );

    let revoked = tokens().revoke(fx.tenant, token.id).await.unwrap();
    let revoked_at = revoked.revoked_at.expect("revocation time");
    assert_eq!(
        tokens().find_by_hash(&hash(1)).await.unwrap(),
        None,
        "revoked tokens do not authenticate"
    );
    let again = tokens().revoke(fx.tenant, token.id).await.unwrap();
    assert_eq!(
        again.revoked_at,
        Some(revoked_at),
        "revoking twice keeps the first time"
    );
}

#[tokio::test]
async fn token_names_are_unique_among_usable_tokens_and_hashes_are_checked() {
    let fx = fixture().await;
    let tokens = || fx.store().api_tokens();
    let first = tokens()
        .create(fx.tenant, "deploy", &hash(1), Role::Admin)
        .await
        .unwrap();

    let err = tokens()
        .create(fx.tenant, "DEPLOY", &hash(2), Role::Viewer)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "an active API token with this name already exists"
    );

    let err = tokens()
        .create(fx.tenant, "other", &hash(1), Role::Viewer)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "this API token is already registered");

    let err = tokens()
        .create(fx.tenant, "short", &[1, 2, 3], Role::Viewer)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("32-byte SHA-256"), "{err}");

    tokens().revoke(fx.tenant, first.id).await.unwrap();
    tokens()
        .create(fx.tenant, "deploy", &hash(3), Role::Admin)
        .await
        .expect("a revoked token frees its name");
    assert_eq!(tokens().list(fx.tenant).await.unwrap().len(), 2);

    let err = tokens()
        .create(TenantId::new(), "x", &hash(4), Role::Admin)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}
