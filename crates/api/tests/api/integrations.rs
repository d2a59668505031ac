//! Integrations, mapping rules and presets against the emulator.

use lockstep_proto::v1 as pb;
use tonic::Code;

use crate::support::{Env, basic, code, create_integration, req};

#[tokio::test]
async fn an_integration_keeps_its_credentials_sealed_and_tests_its_connection() {
    let env = Env::start().await;
    let created = env.integration(&env.a.admin, "servicenow-prod").await;
    assert!(created.credentials_set);
    assert_eq!(created.auth_kind, "basic");
    assert_eq!(created.credentials_fingerprint.len(), 16);
    assert!(
        !format!("{created:?}").contains("lockstep.integration\""),
        "the password is never returned"
    );
    // Sealed at rest: the stored bytes do not hold the password.
    let id = lockstep_domain::IntegrationId::parse(&created.id).unwrap();
    let row = env.store().integrations().get(env.a.id, id).await.unwrap();
    let stored = String::from_utf8_lossy(&row.sealed_credentials.to_bytes()).into_owned();
    assert!(!stored.contains("lockstep.integration"));

    let report = env
        .integrations()
        .test_connection(req(
            &env.a.admin,
            pb::TestConnectionRequest {
                id: created.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(report.ok, "{report:#?}");
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.id == "authenticated" && c.status == "pass"),
        "{report:#?}"
    );

    // Rotating to wrong credentials: the fingerprint changes and the test names the problem.
    let rotated = env
        .integrations()
        .rotate_credentials(req(
            &env.a.admin,
            pb::RotateCredentialsRequest {
                id: created.id.clone(),
                credentials: Some(basic("lockstep.integration", "wrong")),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(
        rotated.credentials_fingerprint,
        created.credentials_fingerprint
    );
    let report = env
        .integrations()
        .test_connection(req(
            &env.a.admin,
            pb::TestConnectionRequest {
                id: created.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!report.ok);
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.problem == "authentication_failed"),
        "{report:#?}"
    );
}

#[tokio::test]
async fn creates_with_a_request_id_are_idempotent_and_names_are_checked() {
    let env = Env::start().await;
    let mut create = create_integration(env.sim.base_url(), "sn");
    create.request_id = "2b1c9f7e-1111-4a5b-9c1d-000000000001".into();
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
    assert_eq!(first.id, again.id);
    create.request_id.clear();
    assert_ne!(
        code(
            env.integrations()
                .create_integration(req(&env.a.admin, create.clone()))
                .await
        ),
        Code::Ok
    );
    create.name = " ".into();
    let err = env
        .integrations()
        .create_integration(req(&env.a.admin, create.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    create.name = "other".into();
    create.base_url = "not a url".into();
    assert_eq!(
        code(
            env.integrations()
                .create_integration(req(&env.a.admin, create))
                .await
        ),
        Code::InvalidArgument
    );

    let listed = env
        .integrations()
        .list_integrations(req(&env.a.viewer, pb::ListIntegrationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.integrations.len(), 1);
    let updated = env
        .integrations()
        .update_integration(req(
            &env.a.admin,
            pb::UpdateIntegrationRequest {
                id: first.id.clone(),
                settings: Some(pb::IntegrationSettings {
                    default_table: "change_request".into(),
                    ..Default::default()
                }),
                active: false,
                update_mask: vec!["settings".into(), "active".into()],
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.settings.unwrap().default_table, "change_request");
    assert!(!updated.active);
    env.integrations()
        .delete_integration(req(
            &env.a.admin,
            pb::DeleteIntegrationRequest {
                id: first.id.clone(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        code(
            env.integrations()
                .get_integration(req(
                    &env.a.admin,
                    pb::GetIntegrationRequest { id: first.id }
                ))
                .await
        ),
        Code::NotFound
    );
}

#[tokio::test]
async fn mapping_rules_are_checked_against_the_instance_choices() {
    let env = Env::start().await;
    // An account that can read sys_choice, so the lists are complete.
    let mut create = create_integration(env.sim.base_url(), "sn");
    create.credentials = Some(basic("admin", "admin"));
    let integration = env
        .integrations()
        .create_integration(req(&env.a.admin, create))
        .await
        .unwrap()
        .into_inner();
    let get = || pb::GetMappingRulesRequest {
        integration_id: integration.id.clone(),
    };
    let defaults = env
        .mapping()
        .get_mapping_rules(req(&env.a.viewer, get()))
        .await
        .unwrap()
        .into_inner();
    assert!(defaults.is_default);
    let critical = defaults
        .severity
        .iter()
        .find(|s| s.kind == "incident" && s.severity == "critical")
        .unwrap();
    assert_eq!(critical.priority, "1 - Critical");

    let mut doc: serde_json::Value = serde_json::from_str(&defaults.rules_json).unwrap();
    doc["incident"]["severity"]["critical"]["category"] = "no-such-category".into();
    let update = |rules: &serde_json::Value| pb::UpdateMappingRulesRequest {
        integration_id: integration.id.clone(),
        rules_json: rules.to_string(),
        skip_instance_validation: false,
    };
    let err = env
        .mapping()
        .update_mapping_rules(req(&env.a.admin, update(&doc)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());
    assert!(
        err.message().contains("no-such-category"),
        "{}",
        err.message()
    );

    doc["incident"]["severity"]["critical"]["category"] = "software".into();
    doc["incident"]["severity"]["low"]["impact"] = 2.into();
    let saved = env
        .mapping()
        .update_mapping_rules(req(&env.a.admin, update(&doc)))
        .await
        .unwrap()
        .into_inner();
    assert!(!saved.is_default);
    assert!(
        saved.instance_warnings.is_empty(),
        "{:?}",
        saved.instance_warnings
    );
    let low = saved
        .severity
        .iter()
        .find(|s| s.kind == "incident" && s.severity == "low")
        .unwrap();
    assert_eq!(low.impact, "2 - Medium");
    assert_eq!(
        code(
            env.mapping()
                .update_mapping_rules(req(&env.a.analyst, update(&doc)))
                .await
        ),
        Code::PermissionDenied
    );
    let bad = pb::UpdateMappingRulesRequest {
        rules_json: "{\"vendor\": \"servicenow\"}".into(),
        ..update(&doc)
    };
    assert_eq!(
        code(
            env.mapping()
                .update_mapping_rules(req(&env.a.admin, bad))
                .await
        ),
        Code::InvalidArgument
    );
}

#[tokio::test]
async fn presets_are_created_read_updated_and_deleted() {
    let env = Env::start().await;
    let fields = pb::FieldValues {
        assignment_group: "Network".into(),
        urgency: "1".into(),
        ..Default::default()
    };
    let create = pb::CreatePresetRequest {
        request_id: "p-1".into(),
        name: "Network team".into(),
        fields: Some(fields.clone()),
    };
    let made = env
        .presets()
        .create_preset(req(&env.a.analyst, create.clone()))
        .await
        .unwrap()
        .into_inner();
    let again = env
        .presets()
        .create_preset(req(&env.a.analyst, create))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(made.id, again.id, "request_id makes the create idempotent");
    assert_eq!(made.fields.as_ref().unwrap().urgency, "1");
    let by_name = env
        .presets()
        .get_preset(req(
            &env.a.viewer,
            pb::GetPresetRequest {
                id: "network TEAM".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_name.id, made.id);
    let bad = pb::CreatePresetRequest {
        request_id: String::new(),
        name: "bad".into(),
        fields: Some(pb::FieldValues {
            impact: "9".into(),
            ..Default::default()
        }),
    };
    assert_eq!(
        code(env.presets().create_preset(req(&env.a.analyst, bad)).await),
        Code::InvalidArgument
    );
    let updated = env
        .presets()
        .update_preset(req(
            &env.a.analyst,
            pb::UpdatePresetRequest {
                id: made.id.clone(),
                name: String::new(),
                fields: Some(pb::FieldValues {
                    assignee: "beth.anglin".into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            updated.name.as_str(),
            updated.fields.unwrap().assignee.as_str()
        ),
        ("Network team", "beth.anglin")
    );
    assert_eq!(
        code(
            env.presets()
                .delete_preset(req(
                    &env.a.viewer,
                    pb::DeletePresetRequest {
                        id: made.id.clone()
                    }
                ))
                .await
        ),
        Code::PermissionDenied
    );
    env.presets()
        .delete_preset(req(&env.a.analyst, pb::DeletePresetRequest { id: made.id }))
        .await
        .unwrap();
    let list = env
        .presets()
        .list_presets(req(&env.a.viewer, pb::ListPresetsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(list.presets.is_empty());
}

#[tokio::test]
async fn a_webhook_secret_rotates_with_overlap_until_the_old_one_is_retired() {
    use lockstep_crypto::{Aad, Purpose};

    let env = Env::start().await;
    let created = env.integration(&env.a.admin, "sn-rotation").await;
    let id = lockstep_domain::IntegrationId::parse(&created.id).unwrap();
    let rotate = |token: &str, secret: &str| {
        req(
            token,
            pb::RotateWebhookSecretRequest {
                id: created.id.clone(),
                webhook_secret: secret.into(),
                generate: false,
            },
        )
    };
    assert_eq!(
        code(
            env.integrations()
                .rotate_webhook_secret(rotate(&env.a.analyst, "x"))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        code(
            env.integrations()
                .rotate_webhook_secret(rotate(&env.a.admin, " "))
                .await
        ),
        Code::InvalidArgument
    );
    assert_eq!(
        code(
            env.integrations()
                .rotate_webhook_secret(rotate(&env.b.admin, "x"))
                .await
        ),
        Code::NotFound,
        "another tenant's integration does not exist for b"
    );
    // Twice: the first secret and the second are both kept while the third is current.
    for secret in ["first-secret", "second-secret", "third-secret"] {
        env.integrations()
            .rotate_webhook_secret(rotate(&env.a.admin, secret))
            .await
            .unwrap();
    }
    let opened = |sealed: &lockstep_crypto::Sealed| {
        let aad = Aad::new(env.a.id, id, Purpose::WebhookSecret);
        let raw = crate::support::keyring().open(sealed, &aad).unwrap();
        String::from_utf8(raw.expose().to_vec()).unwrap()
    };
    let target = env
        .store()
        .integrations()
        .find_for_webhook_delivery(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        opened(target.sealed_webhook_secret.as_ref().unwrap()),
        "third-secret"
    );
    let previous: Vec<String> = target.previous_webhook_secrets.iter().map(opened).collect();
    assert_eq!(previous, ["second-secret", "first-secret"], "newest first");

    let retired = env
        .integrations()
        .retire_webhook_secrets(req(
            &env.a.admin,
            pb::RetireWebhookSecretsRequest {
                id: created.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((retired.retired, retired.previous_secrets), (2, 0));
    assert!(retired.integration.unwrap().webhook_secret_set);
    let target = env
        .store()
        .integrations()
        .find_for_webhook_delivery(id)
        .await
        .unwrap()
        .unwrap();
    assert!(target.previous_webhook_secrets.is_empty());
    assert_eq!(
        opened(target.sealed_webhook_secret.as_ref().unwrap()),
        "third-secret"
    );
}

#[tokio::test]
async fn credentials_the_vendor_cannot_use_are_refused_before_anything_is_stored() {
    let env = Env::start().await;
    let refresh_token = pb::Credentials {
        kind: Some(pb::credentials::Kind::Oauth2RefreshToken(
            pb::OAuthRefreshToken {
                client_id: "app".into(),
                client_secret: "secret".into(),
                refresh_token: "r-1".into(),
                token_url: String::new(),
            },
        )),
    };
    let mut create = create_integration(env.sim.base_url(), "sn-refresh");
    create.credentials = Some(refresh_token.clone());
    let refused = env
        .integrations()
        .create_integration(req(&env.a.admin, create))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("basic, oauth2_password")
            && refused.message().contains("not oauth2_refresh_token"),
        "{}",
        refused.message()
    );
    let listed = env
        .integrations()
        .list_integrations(req(&env.a.admin, pb::ListIntegrationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.integrations.is_empty(), "nothing was created");

    let created = env.integration(&env.a.admin, "sn").await;
    let rotate = env
        .integrations()
        .rotate_credentials(req(
            &env.a.admin,
            pb::RotateCredentialsRequest {
                id: created.id.clone(),
                credentials: Some(refresh_token),
            },
        ))
        .await;
    assert_eq!(code(rotate), Code::InvalidArgument);
    let unchanged = env
        .integrations()
        .get_integration(req(
            &env.a.admin,
            pb::GetIntegrationRequest {
                id: created.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged.auth_kind, "basic");
    assert_eq!(
        unchanged.credentials_fingerprint,
        created.credentials_fingerprint
    );
}
