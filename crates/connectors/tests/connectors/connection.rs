//! The connection test: structured checks with the troubleshooting classes, and no residue.

use lockstep_connectors::http::AllowList;
use lockstep_connectors::servicenow::{
    CheckId, CheckStatus, ConnectionReport, CredentialsHandle, InstanceUrl, Problem,
    ServiceNowClient, ServiceNowConfig, ServiceNowCredentials,
};
use lockstep_connectors::{HttpConfig, HttpExecutor};
use lockstep_crypto::SecretString;
use lockstep_domain::{IntegrationId, ServiceNowTable, Severity};
use lockstep_itsm_sim::control::{ApiKey, FaultRule, InjectedError};
use serde_json::json;

use crate::support::{Env, basic, canned, http_response, new_ticket, plain_exec, str_of};

fn status(report: &ConnectionReport, id: CheckId) -> CheckStatus {
    report
        .check(id)
        .unwrap_or_else(|| panic!("{id:?} missing"))
        .status
}

fn problem(report: &ConnectionReport, id: CheckId) -> Option<Problem> {
    report.check(id).and_then(|c| c.problem)
}

/// An instance with one incident (with its SLA) and one change request.
async fn with_data() -> Env {
    let env = Env::start().await;
    env.admin()
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "D-1",
            Severity::High,
        ))
        .await
        .unwrap();
    env.admin()
        .create_ticket(&new_ticket(
            ServiceNowTable::ChangeRequest,
            "D-2",
            Severity::High,
        ))
        .await
        .unwrap();
    env
}

async fn fingerprint(env: &Env) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for table in [
        "incident",
        "change_request",
        "sys_journal_field",
        "task_sla",
    ] {
        for rec in env
            .sim
            .control()
            .records(table, "ORDERBYsys_id")
            .await
            .unwrap()
        {
            // task_sla rows are touched by the emulator's SLA job; only their existence counts.
            let state = if table == "task_sla" {
                String::new()
            } else {
                format!(
                    "{}:{}",
                    str_of(&rec, "sys_mod_count"),
                    str_of(&rec, "sys_updated_on")
                )
            };
            out.push((
                str_of(&rec, "sys_id").to_owned(),
                format!("{table}:{state}"),
            ));
        }
    }
    out
}

#[tokio::test]
async fn the_integration_account_passes_and_nothing_is_left_behind() {
    let env = with_data().await;
    let before = fingerprint(&env).await;
    let report = env.integration().test_connection().await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.user_name.as_deref(), Some("lockstep.integration"));
    for id in [
        CheckId::Reachable,
        CheckId::Authenticated,
        CheckId::IncidentRead,
        CheckId::IncidentWrite,
        CheckId::ChangeRequestRead,
        CheckId::ChangeRequestWrite,
        CheckId::TaskSlaRead,
    ] {
        assert_eq!(
            status(&report, id),
            CheckStatus::Pass,
            "{id:?}: {report:#?}"
        );
    }
    let write = &report.check(CheckId::IncidentWrite).unwrap().detail;
    assert!(
        write.contains("data policy refused") && write.contains("unchanged"),
        "{write}"
    );
    let change = &report.check(CheckId::ChangeRequestWrite).unwrap().detail;
    assert!(change.contains("role itil"), "{change}");
    // Label-only sys_choice: the display-value fallback works, with a warning.
    let choices = report.check(CheckId::SysChoiceRead).unwrap();
    assert_eq!(choices.status, CheckStatus::Warn, "{choices:#?}");
    assert!(
        choices.detail.contains("display values"),
        "{}",
        choices.detail
    );
    assert_eq!(
        fingerprint(&env).await,
        before,
        "no record created, changed or journaled"
    );

    let admin = env.admin().test_connection().await;
    assert_eq!(
        status(&admin, CheckId::SysChoiceRead),
        CheckStatus::Pass,
        "{admin:#?}"
    );
    assert_eq!(fingerprint(&env).await, before);
}

#[tokio::test]
async fn wrong_credentials_stop_the_test_with_authentication_failed() {
    let env = with_data().await;
    let client = env.client(ServiceNowCredentials::Basic {
        username: "lockstep.integration".into(),
        password: SecretString::new("bad"),
    });
    let report = client.test_connection().await;
    assert!(!report.ok());
    assert_eq!(status(&report, CheckId::Reachable), CheckStatus::Pass);
    assert_eq!(
        problem(&report, CheckId::Authenticated),
        Some(Problem::AuthenticationFailed)
    );
    assert!(
        report
            .check(CheckId::Authenticated)
            .unwrap()
            .remedy
            .as_deref()
            .unwrap()
            .contains("snc_basic_auth_api_access")
    );
    assert_eq!(status(&report, CheckId::IncidentRead), CheckStatus::Skipped);
    assert_eq!(report.problems(), vec![Problem::AuthenticationFailed]);
}

#[tokio::test]
async fn missing_roles_are_insufficient_permissions_per_table() {
    let env = with_data().await;
    let report = env.client(basic("incident.reader")).test_connection().await;
    assert_eq!(status(&report, CheckId::IncidentRead), CheckStatus::Pass);
    assert_eq!(
        problem(&report, CheckId::IncidentWrite),
        Some(Problem::InsufficientPermissions)
    );
    let write = report.check(CheckId::IncidentWrite).unwrap();
    assert!(write.detail.contains("ACL Exception"), "{write:#?}");
    assert!(
        write.remedy.as_deref().unwrap().contains("role"),
        "{write:#?}"
    );
    let change = report.check(CheckId::ChangeRequestRead).unwrap();
    assert_eq!(
        change.problem,
        Some(Problem::InsufficientPermissions),
        "{change:#?}"
    );
    assert!(change.detail.contains("hide"), "{}", change.detail);

    let report = env.client(basic("no.roles")).test_connection().await;
    assert_eq!(
        problem(&report, CheckId::IncidentRead),
        Some(Problem::InsufficientPermissions)
    );
    assert!(
        report
            .problems()
            .contains(&Problem::InsufficientPermissions)
    );
}

#[tokio::test]
async fn api_key_problems_are_told_apart_by_history() {
    let env = with_data().await;
    let wrong = env.client(ServiceNowCredentials::ApiKey {
        key: SecretString::new("now_unknown"),
    });
    let report = wrong.test_connection().await;
    assert_eq!(
        problem(&report, CheckId::Authenticated),
        Some(Problem::ApiKeyPluginMissing)
    );
    assert!(
        report
            .check(CheckId::Authenticated)
            .unwrap()
            .remedy
            .as_deref()
            .unwrap()
            .contains("com.glide.tokenbased_auth")
    );

    let key = env.client(ServiceNowCredentials::ApiKey {
        key: SecretString::new("now_lockstep_integration_key"),
    });
    assert!(key.test_connection().await.ok());
    let revoked = ApiKey {
        key: "now_lockstep_integration_key".into(),
        user_name: "lockstep.integration".into(),
        expires_at: Some(1),
    };
    env.sim.control().add_api_keys(&[revoked]).await.unwrap();
    let report = key.test_connection().await;
    assert_eq!(
        problem(&report, CheckId::Authenticated),
        Some(Problem::TokenExpiredOrRevoked),
        "{report:#?}"
    );
}

#[tokio::test]
async fn oauth_is_tested_through_its_token() {
    let env = with_data().await;
    let client = env.client(ServiceNowCredentials::OAuthPassword {
        client_id: "lockstep".into(),
        client_secret: SecretString::new("lockstep-secret"),
        username: "beth.anglin".into(),
        password: SecretString::new("beth.anglin"),
    });
    let report = client.test_connection().await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.user_name.as_deref(), Some("beth.anglin"));
    let bad = env.client(ServiceNowCredentials::OAuthPassword {
        client_id: "nope".into(),
        client_secret: SecretString::new("x"),
        username: "beth.anglin".into(),
        password: SecretString::new("beth.anglin"),
    });
    assert_eq!(
        problem(&bad.test_connection().await, CheckId::Authenticated),
        Some(Problem::AuthenticationFailed)
    );
}

fn client_for(url: &str, exec: HttpExecutor) -> ServiceNowClient {
    let config = ServiceNowConfig::new(IntegrationId::new(), InstanceUrl::parse(url).unwrap());
    ServiceNowClient::new(exec, config, CredentialsHandle::new(basic("x")).unwrap())
}

#[tokio::test]
async fn wrong_urls_are_named() {
    // Nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let report = client_for(&format!("http://127.0.0.1:{port}"), plain_exec())
        .test_connection()
        .await;
    assert_eq!(
        problem(&report, CheckId::Reachable),
        Some(Problem::WrongUrl),
        "{report:#?}"
    );
    assert_eq!(
        status(&report, CheckId::Authenticated),
        CheckStatus::Skipped
    );

    // Something answers, but not ServiceNow.
    let site = canned(vec![http_response(
        "200 OK",
        "text/html",
        &[],
        "<html><body>Welcome</body></html>",
    )])
    .await;
    let report = client_for(&site.url, plain_exec()).test_connection().await;
    assert_eq!(
        problem(&report, CheckId::Reachable),
        Some(Problem::WrongUrl),
        "{report:#?}"
    );

    // A login page redirect.
    let sso = canned(vec![http_response(
        "302 Found",
        "text/html",
        &[("Location", "https://sso.example.com/login")],
        "",
    )])
    .await;
    let report = client_for(&sso.url, plain_exec()).test_connection().await;
    let check = report.check(CheckId::Reachable).unwrap();
    assert_eq!(check.problem, Some(Problem::WrongUrl));
    assert!(check.detail.contains("sso.example.com"), "{check:#?}");
}

#[tokio::test]
async fn an_untrusted_certificate_and_a_hibernating_instance() {
    let env = with_data().await;
    let untrusting = HttpExecutor::new(HttpConfig {
        allow_private_networks: AllowList::loopback(),
        ..HttpConfig::default()
    })
    .unwrap();
    let report = client_for(env.sim.base_url(), untrusting)
        .test_connection()
        .await;
    let check = report.check(CheckId::Reachable).unwrap();
    assert_eq!(check.problem, Some(Problem::WrongUrl), "{check:#?}");
    assert!(
        check.detail.to_ascii_lowercase().contains("certificate"),
        "{check:#?}"
    );

    let rule = FaultRule {
        path_prefix: "/api/now".into(),
        error_rate: 1.0,
        error: InjectedError::Hibernating,
        ..FaultRule::default()
    };
    env.sim.control().set_faults(&[rule]).await.unwrap();
    let report = env.integration().test_connection().await;
    assert_eq!(
        problem(&report, CheckId::Reachable),
        Some(Problem::InstanceUnavailable),
        "{report:#?}"
    );
    env.sim.control().clear_faults().await.unwrap();
    env.sim
        .control()
        .patch_settings(json!({"basic_auth_gate": false}))
        .await
        .unwrap();
    assert!(env.integration().test_connection().await.ok());
}
