//! Tenant isolation, RPC by RPC: tenant A's admin token cannot see or touch anything of tenant B.
//! Another tenant's ids behave exactly like ids that do not exist (NOT_FOUND), and lists never
//! show another tenant's rows.

use lockstep_proto::v1 as pb;
use tonic::Code;

use crate::support::{Env, basic, code, req};

#[tokio::test]
async fn every_api_rpc_is_scoped_to_the_callers_tenant() {
    let env = Env::start().await;
    let b_integration = env.integration(&env.b.admin, "b-sn").await;
    let b_finding = env.import(&env.b.analyst, "B", 1).await.remove(0);
    let b_preset = env
        .presets()
        .create_preset(req(
            &env.b.admin,
            pb::CreatePresetRequest {
                request_id: String::new(),
                name: "b-preset".into(),
                fields: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let a = &env.a.admin;
    let bi = || b_integration.id.clone();

    // IntegrationService
    assert_eq!(
        code(
            env.integrations()
                .get_integration(req(a, pb::GetIntegrationRequest { id: bi() }))
                .await
        ),
        Code::NotFound
    );
    let listed = env
        .integrations()
        .list_integrations(req(a, pb::ListIntegrationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.integrations.is_empty());
    let update = pb::UpdateIntegrationRequest {
        id: bi(),
        settings: None,
        active: false,
        update_mask: vec![],
    };
    assert_eq!(
        code(env.integrations().update_integration(req(a, update)).await),
        Code::NotFound
    );
    assert_eq!(
        code(
            env.integrations()
                .test_connection(req(a, pb::TestConnectionRequest { id: bi() }))
                .await
        ),
        Code::NotFound
    );
    let rotate = pb::RotateCredentialsRequest {
        id: bi(),
        credentials: Some(basic("x", "y")),
    };
    assert_eq!(
        code(env.integrations().rotate_credentials(req(a, rotate)).await),
        Code::NotFound
    );
    assert_eq!(
        code(
            env.integrations()
                .delete_integration(req(a, pb::DeleteIntegrationRequest { id: bi() }))
                .await
        ),
        Code::NotFound
    );
    // A's create with B's name is fine: names are per tenant.
    env.integration(a, "b-sn").await;

    // MappingService
    assert_eq!(
        code(
            env.mapping()
                .get_mapping_rules(req(
                    a,
                    pb::GetMappingRulesRequest {
                        integration_id: bi()
                    }
                ))
                .await
        ),
        Code::NotFound
    );
    let rules = lockstep_domain::MappingRules::defaults(lockstep_domain::Vendor::ServiceNow);
    let put = pb::UpdateMappingRulesRequest {
        integration_id: bi(),
        rules_json: serde_json::to_string(&rules).unwrap(),
        skip_instance_validation: true,
    };
    assert_eq!(
        code(env.mapping().update_mapping_rules(req(a, put)).await),
        Code::NotFound
    );

    // PresetService
    for key in [b_preset.id.clone(), "b-preset".to_owned()] {
        assert_eq!(
            code(
                env.presets()
                    .get_preset(req(a, pb::GetPresetRequest { id: key.clone() }))
                    .await
            ),
            Code::NotFound
        );
        let update = pb::UpdatePresetRequest {
            id: key.clone(),
            name: "mine".into(),
            fields: None,
        };
        assert_eq!(
            code(env.presets().update_preset(req(a, update)).await),
            Code::NotFound
        );
        assert_eq!(
            code(
                env.presets()
                    .delete_preset(req(a, pb::DeletePresetRequest { id: key }))
                    .await
            ),
            Code::NotFound
        );
    }
    assert!(
        env.presets()
            .list_presets(req(a, pb::ListPresetsRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .presets
            .is_empty()
    );

    // FindingService
    let bf = || b_finding.id.clone();
    assert_eq!(
        code(
            env.findings()
                .get_finding(req(a, pb::GetFindingRequest { id: bf() }))
                .await
        ),
        Code::NotFound
    );
    let activity = pb::ListFindingActivityRequest {
        finding_id: bf(),
        ..Default::default()
    };
    assert_eq!(
        code(env.findings().list_finding_activity(req(a, activity)).await),
        Code::NotFound
    );
    let set = pb::SetFindingStatusRequest {
        id: bf(),
        status: "closed".into(),
        ..Default::default()
    };
    assert_eq!(
        code(env.findings().set_finding_status(req(a, set)).await),
        Code::NotFound
    );
    assert!(
        env.findings()
            .list_findings(req(a, pb::ListFindingsRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .findings
            .is_empty()
    );
    // Importing B's scanner key into A makes A's own finding; B's is untouched.
    let mine = env.import(a, "B", 1).await.remove(0);
    assert_ne!(mine.id, b_finding.id);
    assert!(mine.created);

    // B's data is as it was.
    let b_view = env
        .integrations()
        .get_integration(req(&env.b.viewer, pb::GetIntegrationRequest { id: bi() }))
        .await
        .unwrap()
        .into_inner();
    assert!(b_view.active);
    let b_get = env
        .findings()
        .get_finding(req(&env.b.viewer, pb::GetFindingRequest { id: bf() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b_get.status, "open");
    env.presets()
        .get_preset(req(&env.b.viewer, pb::GetPresetRequest { id: b_preset.id }))
        .await
        .unwrap();
}
