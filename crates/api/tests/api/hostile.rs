//! Hostile and careless input at the edge: NUL characters, huge keys, huge tokens and page
//! tokens. Each is refused with the code the caller can act on and a message of bounded size,
//! and nothing is written.

use lockstep_proto::v1 as pb;
use tonic::Code;

use crate::support::{Env, req};

/// What an import of `doc` (Lockstep JSON) answers.
async fn import(
    env: &Env,
    doc: serde_json::Value,
) -> Result<pb::ImportFindingsResponse, tonic::Status> {
    env.findings()
        .import_findings(req(
            &env.a.analyst,
            pb::ImportFindingsRequest {
                format: pb::ImportFormat::Json as i32,
                content: doc.to_string().into_bytes(),
                scanner: "nessus".into(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn finding_count(env: &Env) -> usize {
    env.findings()
        .list_findings(req(
            &env.a.viewer,
            pb::ListFindingsRequest {
                page_size: 200,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .findings
        .len()
}

#[tokio::test]
async fn a_nul_in_a_title_is_invalid_argument_naming_the_finding() {
    let env = Env::start().await;
    let doc = serde_json::json!([
        {"key": "GOOD-1", "title": "fine", "severity": "low"},
        {"key": "NUL-1", "title": "Open\u{0}SSL", "severity": "high"}
    ]);
    let err = import(&env, doc).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    assert!(
        err.message()
            .contains("findings[1] (key \"NUL-1\"): title must be text without NUL"),
        "{}",
        err.message()
    );
    assert_eq!(finding_count(&env).await, 0, "nothing was imported");

    // A NUL where the api has no rule of its own (a status note) is still the caller's error.
    let ok = import(
        &env,
        serde_json::json!([{"key": "A", "title": "t", "severity": "low"}]),
    )
    .await
    .unwrap();
    let err = env
        .findings()
        .set_finding_status(req(
            &env.a.analyst,
            pb::SetFindingStatusRequest {
                id: ok.findings[0].id.clone(),
                status: "risk_accepted".into(),
                note: "see\u{0}ticket".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
}

#[tokio::test]
async fn a_100k_character_key_is_refused_with_a_bounded_message() {
    let env = Env::start().await;
    let key = "K".repeat(100_000);
    let doc = serde_json::json!([{"key": key, "title": "t", "severity": "low"}]);
    let err = import(&env, doc).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    assert!(
        err.message().contains("scanner key must be"),
        "{}",
        err.message()
    );
    assert!(
        err.message().len() < 1_000,
        "the key is echoed as an excerpt, not in full: {} bytes",
        err.message().len()
    );

    // Twenty problems of long values: the message as a whole is bounded too.
    let items: Vec<_> = (0..20)
        .map(|i| serde_json::json!({"key": format!("{i}{}", "é".repeat(5_000)), "title": "t", "severity": "low"}))
        .collect();
    let err = import(&env, serde_json::Value::Array(items))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().len() <= lockstep_service_kit::status::MAX_MESSAGE_BYTES);
    assert_eq!(finding_count(&env).await, 0);
}

#[tokio::test]
async fn huge_tokens_and_page_tokens_get_clear_bounded_answers() {
    let env = Env::start().await;
    let token = format!("lst_{}", "x".repeat(10_000));
    let err = env
        .findings()
        .list_findings(req(&token, pb::ListFindingsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{}", err.message());
    assert!(
        err.message().contains("10004 characters long"),
        "{}",
        err.message()
    );

    // A page token is echoed by the handler; the server layer bounds what reaches the client.
    let err = env
        .integrations()
        .list_integrations(req(
            &env.a.viewer,
            pb::ListIntegrationsRequest {
                page_size: 10,
                page_token: "p".repeat(20_000),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    assert!(err.message().len() <= lockstep_service_kit::status::MAX_MESSAGE_BYTES);
}

#[tokio::test]
async fn a_request_id_repeated_with_other_content_is_a_conflict() {
    let env = Env::start().await;
    let mut create = crate::support::create_integration(env.sim.base_url(), "sn");
    create.request_id = "7d0c0e52-0000-4000-8000-00000000beef".into();
    let first = env
        .integrations()
        .create_integration(req(&env.a.admin, create.clone()))
        .await
        .unwrap()
        .into_inner();
    let again = env
        .integrations()
        .create_integration(req(&env.a.admin, create.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.id, again.id, "the same request returns the original");

    let mut renamed = create.clone();
    renamed.name = "sn-other".into();
    let mut repassworded = create.clone();
    repassworded.credentials = Some(crate::support::basic("lockstep.integration", "another"));
    for changed in [renamed, repassworded] {
        let err = env
            .integrations()
            .create_integration(req(&env.a.admin, changed))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::AlreadyExists, "{}", err.message());
        assert!(
            err.message().contains(&create.request_id) && err.message().contains(&first.id),
            "{}",
            err.message()
        );
    }
    let listed = env
        .integrations()
        .list_integrations(req(&env.a.viewer, pb::ListIntegrationsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .integrations;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "sn");
}

#[tokio::test]
async fn a_bad_mapping_rule_names_its_json_path() {
    let env = Env::start().await;
    let integration = env.integration(&env.a.admin, "sn").await;
    let defaults = env
        .mapping()
        .get_mapping_rules(req(
            &env.a.viewer,
            pb::GetMappingRulesRequest {
                integration_id: integration.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut doc: serde_json::Value = serde_json::from_str(&defaults.rules_json).unwrap();
    doc["incident"]["severity"]["low"]["impact"] = 9.into();
    let err = env
        .mapping()
        .update_mapping_rules(req(
            &env.a.admin,
            pb::UpdateMappingRulesRequest {
                integration_id: integration.id.clone(),
                rules_json: serde_json::to_string_pretty(&doc).unwrap(),
                skip_instance_validation: true,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    assert!(
        err.message().contains("at incident.severity.low.impact"),
        "{}",
        err.message()
    );
}
