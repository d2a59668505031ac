//! Tokens and roles: no token or an unknown one is UNAUTHENTICATED, a weak role is
//! PERMISSION_DENIED; health and reflection need no token.

use lockstep_proto::v1 as pb;
use tonic::Code;

use crate::support::{Env, code, create_integration, req};

#[tokio::test]
async fn missing_or_unknown_tokens_are_unauthenticated() {
    let env = Env::start().await;
    let list = pb::ListFindingsRequest::default();
    let err = env
        .findings()
        .list_findings(req("", list.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(
        err.message().contains("authorization: Bearer"),
        "{}",
        err.message()
    );
    let err = env
        .findings()
        .list_findings(req("lst_nope", list.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    // A revoked token stops working.
    let tokens = env.store().api_tokens().list(env.a.id).await.unwrap();
    let viewer = tokens.iter().find(|t| t.name == "a-viewer").unwrap();
    assert!(
        env.findings()
            .list_findings(req(&env.a.viewer, list.clone()))
            .await
            .is_ok()
    );
    env.store()
        .api_tokens()
        .revoke(env.a.id, viewer.id)
        .await
        .unwrap();
    assert_eq!(
        code(env.findings().list_findings(req(&env.a.viewer, list)).await),
        Code::Unauthenticated
    );
}

#[tokio::test]
async fn roles_limit_what_a_token_may_do() {
    let env = Env::start().await;
    let create = create_integration(env.sim.base_url(), "sn");
    let err = env
        .integrations()
        .create_integration(req(&env.a.analyst, create.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(err.message().contains("admin role"), "{}", err.message());
    let import = pb::ImportFindingsRequest {
        format: pb::ImportFormat::Json as i32,
        content: br#"[{"key": "k", "title": "t", "severity": "low"}]"#.to_vec(),
        scanner: "s".into(),
    };
    assert_eq!(
        code(
            env.findings()
                .import_findings(req(&env.a.viewer, import.clone()))
                .await
        ),
        Code::PermissionDenied
    );
    assert!(
        env.findings()
            .import_findings(req(&env.a.analyst, import))
            .await
            .is_ok()
    );
    let integration = env.integration(&env.a.admin, "sn").await;
    // Viewers read integrations, but never their credentials.
    let got = env
        .integrations()
        .get_integration(req(
            &env.a.viewer,
            pb::GetIntegrationRequest {
                id: integration.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.name, "sn");
    let rotate = pb::RotateCredentialsRequest {
        id: integration.id,
        credentials: create.credentials,
    };
    assert_eq!(
        code(
            env.integrations()
                .rotate_credentials(req(&env.a.analyst, rotate))
                .await
        ),
        Code::PermissionDenied
    );
}

#[tokio::test]
async fn health_and_reflection_answer_without_a_token() {
    let env = Env::start().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(env.channel.clone());
    for service in [
        "",
        "lockstep.v1.IntegrationService",
        "lockstep.v1.FindingService",
    ] {
        let answer = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            answer.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service:?}"
        );
    }
}

#[tokio::test]
async fn reflection_lists_the_services_in_v1_and_v1alpha() {
    use tonic_reflection::pb::{v1, v1alpha};
    let env = Env::start().await;
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(env.channel.clone());
    let mut answers = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answer.message_response
    else {
        panic!("unexpected answer {answer:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "lockstep.v1.IntegrationService",
        "lockstep.v1.MappingService",
        "lockstep.v1.PresetService",
        "lockstep.v1.FindingService",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(env.channel.clone());
    let mut answers = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    assert!(
        answers.message().await.unwrap().is_some(),
        "v1alpha answers too (old grpcurl, Postman)"
    );
}
