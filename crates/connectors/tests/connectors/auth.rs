//! Basic, OAuth (password + refresh, client credentials), API keys, renewal before expiry and
//! once on a 401, and credential rotation without a restart.

use std::time::Duration;

use lockstep_connectors::servicenow::{CredentialsHandle, ServiceNowCredentials};
use lockstep_connectors::{AuthFailure, ConnectorError, ErrorClass};
use lockstep_crypto::SecretString;
use lockstep_domain::{FindingId, ServiceNowTable, Severity};
use lockstep_itsm_sim::control::{ApiKey, UserSeed};
use serde_json::json;

use crate::support::{Env, basic, new_ticket, str_of};

fn oauth(user: &str, password: &str) -> ServiceNowCredentials {
    ServiceNowCredentials::OAuthPassword {
        client_id: "lockstep".into(),
        client_secret: SecretString::new("lockstep-secret"),
        username: user.into(),
        password: SecretString::new(password),
    }
}

fn reason(e: &ConnectorError) -> Option<AuthFailure> {
    match e {
        ConnectorError::Auth { reason, .. } => Some(*reason),
        _ => None,
    }
}

async fn read(
    client: &lockstep_connectors::servicenow::ServiceNowClient,
) -> Result<(), ConnectorError> {
    client
        .find_by_correlation(ServiceNowTable::Incident, FindingId::new())
        .await
        .map(drop)
}

async fn seed_user(env: &Env, user: &str, password: &str) {
    let seed = UserSeed {
        user_name: user.into(),
        password: Some(password.into()),
        roles: vec!["itil".into()],
        ..UserSeed::default()
    };
    env.sim.control().seed_users(&[seed]).await.unwrap();
}

#[tokio::test]
async fn basic_auth_and_its_failures() {
    let env = Env::start().await;
    read(&env.integration())
        .await
        .expect("seeded integration user");

    let wrong = env.client(ServiceNowCredentials::Basic {
        username: "lockstep.integration".into(),
        password: SecretString::new("nope"),
    });
    let err = read(&wrong).await.unwrap_err();
    assert_eq!(reason(&err), Some(AuthFailure::BadCredentials));
    assert_eq!(err.class(), ErrorClass::Unauthenticated);
    let text = err.to_string();
    assert!(
        text.contains("User Not Authenticated") && text.contains("snc_basic_auth_api_access"),
        "{text}"
    );
    assert!(!text.contains("nope"), "no secret in messages");

    // The Basic-auth gate lets only holders of the role or web-service-only users through.
    env.sim
        .control()
        .patch_settings(json!({"basic_auth_gate": true}))
        .await
        .unwrap();
    let gated = read(&env.client(basic("beth.anglin"))).await.unwrap_err();
    assert_eq!(reason(&gated), Some(AuthFailure::BadCredentials));
    read(&env.integration())
        .await
        .expect("the integration user holds snc_basic_auth_api_access");
}

#[tokio::test]
async fn oauth_tokens_are_renewed_through_the_refresh_token_before_they_expire() {
    let env = Env::start().await;
    seed_user(&env, "oauth.user", "first-password").await;
    env.sim
        .control()
        .set_token_lifespans(3, 3600)
        .await
        .unwrap();
    let client = env.client(oauth("oauth.user", "first-password"));
    read(&client).await.unwrap();
    read(&client).await.unwrap();
    assert_eq!(
        env.requests("/oauth_token.do").await.len(),
        1,
        "the token is cached"
    );

    // The password changes: only the refresh token can still renew the access token.
    seed_user(&env, "oauth.user", "second-password").await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    read(&client)
        .await
        .expect("renewed through the refresh token");
    let tokens: Vec<_> = env
        .requests("/oauth_token.do")
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(tokens, vec![Some(200), Some(200)]);
    let table: Vec<_> = env
        .requests("/api/now/table")
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert!(
        table.iter().all(|s| *s == Some(200)),
        "renewed before expiry, never refused: {table:?}"
    );
}

#[tokio::test]
async fn a_401_renews_the_token_once_and_retries() {
    let env = Env::start().await;
    let client = env.client(oauth("beth.anglin", "beth.anglin"));
    read(&client).await.unwrap();
    // The instance's clock moves past the token's life; our cache still believes in it.
    env.sim.control().advance_clock(1801).await.unwrap();
    read(&client).await.expect("renewed after the 401");
    let table: Vec<_> = env
        .requests("/api/now/table")
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(table, vec![Some(200), Some(401), Some(200)]);
    assert_eq!(
        env.requests("/oauth_token.do").await.len(),
        2,
        "password grant, then refresh grant"
    );
}

#[tokio::test]
async fn an_expired_refresh_token_falls_back_to_the_original_grant() {
    let env = Env::start().await;
    env.sim
        .control()
        .set_token_lifespans(1800, 1800)
        .await
        .unwrap();
    let client = env.client(oauth("beth.anglin", "beth.anglin"));
    read(&client).await.unwrap();
    env.sim.control().advance_clock(1801).await.unwrap();
    read(&client).await.expect("a new password grant");
    let tokens: Vec<_> = env
        .requests("/oauth_token.do")
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(
        tokens,
        vec![Some(200), Some(401), Some(200)],
        "password, refused refresh, password"
    );
}

#[tokio::test]
async fn a_revoked_session_is_reported_as_token_expired_or_revoked() {
    let env = Env::start().await;
    seed_user(&env, "oauth.user", "pw").await;
    let client = env.client(oauth("oauth.user", "pw"));
    read(&client).await.unwrap();
    // The account is deactivated: tokens stop working and cannot be renewed.
    let gone = UserSeed {
        user_name: "oauth.user".into(),
        password: Some("pw".into()),
        active: false,
        ..UserSeed::default()
    };
    env.sim.control().seed_users(&[gone]).await.unwrap();
    let err = read(&client).await.unwrap_err();
    assert_eq!(
        reason(&err),
        Some(AuthFailure::TokenExpiredOrRevoked),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("accepted earlier") || err.to_string().contains("Manage Tokens"),
        "{err}"
    );
    let tokens: Vec<_> = env
        .requests("/oauth_token.do")
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(
        tokens,
        vec![Some(200), Some(401), Some(401)],
        "password, refused refresh, refused password"
    );
}

#[tokio::test]
async fn oauth_client_errors_name_the_application_registry() {
    let env = Env::start().await;
    let client = env.client(ServiceNowCredentials::OAuthPassword {
        client_id: "lockstep".into(),
        client_secret: SecretString::new("wrong"),
        username: "beth.anglin".into(),
        password: SecretString::new("beth.anglin"),
    });
    let err = read(&client).await.unwrap_err();
    assert_eq!(reason(&err), Some(AuthFailure::OAuthRejected));
    assert!(err.to_string().contains("Application Registry"), "{err}");
    assert!(err.to_string().contains("access_denied"), "{err}");
}

#[tokio::test]
async fn client_credentials_work_once_the_instance_allows_them() {
    let env = Env::start().await;
    let creds = ServiceNowCredentials::OAuthClientCredentials {
        client_id: "lockstep".into(),
        client_secret: SecretString::new("lockstep-secret"),
    };
    let err = read(&env.client(creds.clone())).await.unwrap_err();
    assert_eq!(reason(&err), Some(AuthFailure::OAuthRejected));
    assert!(
        err.to_string()
            .contains("glide.oauth.inbound.client.credential.grant_type.enabled"),
        "{err}"
    );

    env.sim
        .control()
        .patch_settings(json!({"client_credentials_enabled": true}))
        .await
        .unwrap();
    let client = env.client(creds);
    let created = client
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "CC-1",
            Severity::Low,
        ))
        .await
        .unwrap();
    let rec = env
        .sim
        .control()
        .record("incident", created.ticket.key().as_str())
        .await
        .unwrap();
    assert_eq!(
        str_of(&rec, "sys_created_by"),
        "lockstep.integration",
        "acts as the OAuth application user"
    );
}

#[tokio::test]
async fn api_keys_wrong_and_revoked() {
    let env = Env::start().await;
    let good = env.client(ServiceNowCredentials::ApiKey {
        key: SecretString::new("now_lockstep_integration_key"),
    });
    read(&good).await.expect("seeded key");

    let wrong = env.client(ServiceNowCredentials::ApiKey {
        key: SecretString::new("now_wrong"),
    });
    let err = read(&wrong).await.unwrap_err();
    assert_eq!(
        reason(&err),
        Some(AuthFailure::ApiKeyRejected),
        "never accepted: wrong key or no API key support"
    );
    assert!(
        err.to_string().contains("com.glide.tokenbased_auth"),
        "{err}"
    );

    // The key that worked is revoked (expired): now it is "expired or revoked".
    let revoked = ApiKey {
        key: "now_lockstep_integration_key".into(),
        user_name: "lockstep.integration".into(),
        expires_at: Some(1),
    };
    env.sim.control().add_api_keys(&[revoked]).await.unwrap();
    let err = read(&good).await.unwrap_err();
    assert_eq!(
        reason(&err),
        Some(AuthFailure::TokenExpiredOrRevoked),
        "{err:?}"
    );
}

#[tokio::test]
async fn rotated_credentials_are_used_by_the_next_request() {
    let env = Env::start().await;
    let client = env.client(ServiceNowCredentials::Basic {
        username: "lockstep.integration".into(),
        password: SecretString::new("old"),
    });
    assert!(read(&client).await.is_err());
    let handle: CredentialsHandle = client.credentials().clone();
    handle.rotate(basic("lockstep.integration")).unwrap();
    read(&client)
        .await
        .expect("the same client uses the new password");

    // From Basic to OAuth and between OAuth users: the cached token of the old user is dropped.
    handle.rotate(oauth("beth.anglin", "beth.anglin")).unwrap();
    let a = client
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "ROT-1",
            Severity::Low,
        ))
        .await
        .unwrap();
    handle.rotate(oauth("abel.tuter", "abel.tuter")).unwrap();
    let b = client
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "ROT-2",
            Severity::Low,
        ))
        .await
        .unwrap();
    assert_eq!(a.observation.actor.as_deref(), Some("beth.anglin"));
    assert_eq!(b.observation.actor.as_deref(), Some("abel.tuter"));

    let empty = ServiceNowCredentials::Basic {
        username: "x".into(),
        password: SecretString::new(""),
    };
    assert!(matches!(
        handle.rotate(empty),
        Err(ConnectorError::InvalidConfig { .. })
    ));
    assert!(matches!(
        CredentialsHandle::new(ServiceNowCredentials::ApiKey {
            key: SecretString::new(" ")
        }),
        Err(ConnectorError::InvalidConfig { .. })
    ));
}
