//! Writes that belong together commit together: a failure between them leaves neither. The
//! failure is injected with a trigger in the test's own database, so the second write of each
//! pair fails for real, after the first has run.

use lockstep_proto::v1 as pb;
use tonic::Code;

use crate::support::{Env, req};

/// Makes every statement matching `when` on `table` fail.
async fn fail_writes(env: &Env, table: &str, timing: &str, when: &str) {
    sqlx::query(
        "CREATE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'injected failure'; END $$",
    )
    .execute(env.db.pool())
    .await
    .unwrap();
    sqlx::query(&format!(
        "CREATE TRIGGER injected_failure {timing} ON {table} FOR EACH ROW {when}
         EXECUTE FUNCTION injected_failure()"
    ))
    .execute(env.db.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_status_change_whose_activity_row_fails_changes_nothing() {
    let env = Env::start().await;
    let finding = env.import(&env.a.analyst, "TX", 1).await.remove(0);
    fail_writes(&env, "activity", "BEFORE INSERT", "").await;
    let err = env
        .findings()
        .set_finding_status(req(
            &env.a.analyst,
            pb::SetFindingStatusRequest {
                id: finding.id.clone(),
                status: "risk_accepted".into(),
                note: "accepted by the CISO".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{}", err.message());
    let got = env
        .findings()
        .get_finding(req(
            &env.a.viewer,
            pb::GetFindingRequest {
                id: finding.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got.status, "open",
        "the status rolled back with the activity row"
    );
}

#[tokio::test]
async fn settings_and_active_change_together_or_not_at_all() {
    let env = Env::start().await;
    let integration = env.integration(&env.a.admin, "sn").await;
    fail_writes(
        &env,
        "integrations",
        "BEFORE UPDATE",
        "WHEN (OLD.active IS DISTINCT FROM NEW.active)",
    )
    .await;
    let err = env
        .integrations()
        .update_integration(req(
            &env.a.admin,
            pb::UpdateIntegrationRequest {
                id: integration.id.clone(),
                settings: Some(pb::IntegrationSettings {
                    default_table: "change_request".into(),
                    poll_interval_secs: 600,
                    ..Default::default()
                }),
                active: false,
                update_mask: vec!["settings".into(), "active".into()],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{}", err.message());
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
    assert!(got.active);
    assert_eq!(
        got.settings, integration.settings,
        "the settings rolled back with `active`"
    );
}
