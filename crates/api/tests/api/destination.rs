//! Production mode without an allow-list: integrations cannot aim at the server's own networks,
//! neither when they are saved nor when they connect.

use lockstep_connectors::http::AllowList;
use lockstep_connectors::servicenow::ServiceNowCredentials;
use lockstep_crypto::SecretString;
use lockstep_domain::{IntegrationId, Vendor};
use lockstep_platform::config::Mode;
use lockstep_proto::v1 as pb;
use lockstep_store::{AuthKind, NewIntegration};
use tonic::Code;

use crate::support::{Env, create_integration, keyring, req};

/// The api as production runs it by default: no vendor address is allowed beyond public ones.
async fn production() -> Env {
    Env::start_with(|config| {
        assert_eq!(config.mode, Mode::Production);
        config.vendor_http.allow_private_networks = AllowList::default();
    })
    .await
}

#[tokio::test]
async fn integrations_aimed_at_loopback_private_or_metadata_addresses_are_refused() {
    let env = production().await;
    for base_url in [
        env.sim.base_url().to_owned(),
        "https://10.0.0.5/".to_owned(),
        "https://169.254.169.254/".to_owned(),
        "https://[::ffff:127.0.0.1]:8443/".to_owned(),
        "https://localhost:9443/".to_owned(),
    ] {
        let err = env
            .integrations()
            .create_integration(req(&env.a.admin, create_integration(&base_url, "internal")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{base_url}: {err:?}");
        assert!(
            err.message().contains("allow_private_networks"),
            "{base_url}: {}",
            err.message()
        );
    }
    let listed = env
        .integrations()
        .list_integrations(req(&env.a.admin, pb::ListIntegrationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.integrations.is_empty(), "nothing was saved");
}

/// An integration stored before (or around) the check: every connection is refused all the same,
/// the connection test says so without probing, and it cannot be activated.
#[tokio::test]
async fn a_stored_private_integration_is_refused_on_connection_and_on_activation() {
    let env = production().await;
    let id = IntegrationId::new();
    let credentials = ServiceNowCredentials::Basic {
        username: "lockstep.integration".into(),
        password: SecretString::new("lockstep.integration"),
    };
    let sealed =
        lockstep_service_kit::vendor::seal_credentials(&keyring(), env.a.id, id, &credentials)
            .unwrap();
    let new = NewIntegration {
        id,
        vendor: Vendor::ServiceNow,
        name: "stored-before".into(),
        base_url: env.sim.base_url().to_owned(),
        auth_kind: AuthKind::Basic,
        sealed_credentials: sealed,
        sealed_webhook_secret: None,
        settings: Default::default(),
    };
    env.store()
        .integrations()
        .create(env.a.id, &new)
        .await
        .unwrap();

    let report = env
        .integrations()
        .test_connection(req(
            &env.a.admin,
            pb::TestConnectionRequest { id: id.to_string() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!report.ok);
    let reachable = &report.checks[0];
    assert_eq!(reachable.problem, "destination_refused", "{report:#?}");
    assert!(
        !reachable.detail.contains("HTTP "),
        "no status: {report:#?}"
    );
    let seen: Vec<_> = env
        .sim
        .control()
        .requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| !r.path.starts_with("/_sim"))
        .collect();
    assert!(seen.is_empty(), "the emulator saw {seen:?}");

    env.store()
        .integrations()
        .set_active(env.a.id, id, false)
        .await
        .unwrap();
    let err = env
        .integrations()
        .update_integration(req(
            &env.a.admin,
            pb::UpdateIntegrationRequest {
                id: id.to_string(),
                active: true,
                update_mask: vec!["active".into()],
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let row = env.store().integrations().get(env.a.id, id).await.unwrap();
    assert!(!row.active, "still inactive");
}
