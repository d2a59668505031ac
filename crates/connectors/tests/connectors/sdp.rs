//! The ServiceDesk Plus connector against the SDP emulator: creation from a draft with the
//! mapping's priority, the pre-create checks (mandatory template fields, unknown priority), the
//! correlation search that repairs a lost answer, errors inside an HTTP 200, link mode, the
//! connection test and the mapping check.

use lockstep_connectors::sdp::auth::Auth;
use lockstep_connectors::sdp::{PortalUrl, SdpClient, SdpConfig};
use lockstep_connectors::{CheckStatus, Connector, ConnectorError, ErrorClass, TicketCreate};
use lockstep_crypto::SecretString;
use lockstep_domain::{
    BySeverity, FieldValues, IntegrationId, Label, LevelNames, MappingRules, Severity, TicketDraft,
    TicketKey, TicketMode, TicketTarget, Vendor,
};
use lockstep_itsm_sim::control::{FaultRule, InjectedError};
use serde_json::Value;

use crate::support::{Env, finding};

pub const LOCKSTEP_KEY: &str = "A1B2C3D4-0000-4000-8000-0000000LOCK";
pub const VIEWER_KEY: &str = "A1B2C3D4-0000-4000-8000-0000000VIEW";
pub const EXPIRED_KEY: &str = "A1B2C3D4-0000-4000-8000-0000000EXPD";

/// A client of the on-premises portal (`/api/v3/`) with `key`.
pub fn onprem(env: &Env, key: &str) -> SdpClient {
    onprem_at(env, env.sim.base_url(), key)
}

pub fn onprem_at(env: &Env, url: &str, key: &str) -> SdpClient {
    let portal = PortalUrl::parse(url).expect("portal URL");
    SdpClient::new(
        env.exec.clone(),
        SdpConfig::new(IntegrationId::new(), portal),
        Auth::Key(SecretString::new(key)),
    )
}

/// A request for a finding with the default SDP mapping (critical/high → High, ...).
pub fn create_for(key: &str, severity: Severity, rules: &MappingRules) -> TicketCreate {
    let f = finding(key, &format!("Finding {key}"), severity);
    let draft = TicketDraft::build(
        &f,
        &TicketTarget::ManageEngine,
        rules,
        &FieldValues::default(),
        &FieldValues::default(),
    )
    .expect("draft");
    TicketCreate {
        finding_id: draft.finding_id,
        draft,
        reference_label: format!("Lockstep {key}"),
        reporter: None,
        mode: TicketMode::Standalone,
        labels: vec!["lockstep".into()],
    }
}

pub fn default_create(key: &str, severity: Severity) -> TicketCreate {
    create_for(key, severity, &MappingRules::defaults(Vendor::ManageEngine))
}

/// The emulator's requests (as the admin sees them), full.
pub async fn request(env: &Env, id: &str) -> Value {
    let r = env
        .sim
        .control()
        .sdp_act(&lockstep_itsm_sim::sdp::control::SdpAct {
            portal: "itdesk".into(),
            email_id: "admin@itdesk.example.com".into(),
            method: "GET".into(),
            path: format!("requests/{id}"),
            input_data: None,
        })
        .await
        .expect("act");
    r.body.expect("body")["request"].clone()
}

/// POSTs sent to the create endpoint (whatever the answer).
pub async fn posts(env: &Env) -> usize {
    env.requests("/api/v3/requests")
        .await
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/api/v3/requests")
        .count()
}

/// Requests that exist on the on-premises portal (as the admin lists them).
pub async fn request_count(env: &Env) -> usize {
    let r = env
        .sim
        .control()
        .sdp_act(&lockstep_itsm_sim::sdp::control::SdpAct {
            portal: "itdesk".into(),
            email_id: "admin@itdesk.example.com".into(),
            method: "GET".into(),
            path: "requests".into(),
            input_data: Some(serde_json::json!({"list_info": {"row_count": 100}})),
        })
        .await
        .expect("act");
    r.body.expect("body")["requests"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn a_request_is_created_with_the_mapped_priority_and_found_by_correlation() {
    let env = Env::start().await;
    let client = onprem(&env, LOCKSTEP_KEY);
    let create = default_create("NES-1", Severity::Critical);
    let created = Connector::create(&client, &create).await.unwrap();
    assert!(!created.recovered);
    assert_eq!(created.observation.vendor_state, "Open");
    assert_eq!(
        created.observation.vendor_state_category.as_deref(),
        Some("in_progress")
    );
    assert_eq!(created.observation.fields.priority.as_deref(), Some("High"));
    let id = created.ticket.external_id().as_str().to_owned();
    assert_eq!(
        created.url.as_str(),
        format!(
            "{}/WorkOrder.do?woMode=viewWO&woID={id}",
            env.sim.base_url()
        )
    );
    let stored = request(&env, &id).await;
    assert_eq!(stored["subject"], "[LOCKSTEP] NES-1 - Finding NES-1");
    let description = stored["description"].as_str().unwrap();
    assert!(
        description.contains(&format!("lockstep:{}", create.finding_id)),
        "{description}"
    );
    assert!(description.contains("Labels: lockstep"), "{description}");

    let found = client
        .find_by_correlation(&TicketTarget::ManageEngine, create.finding_id)
        .await
        .unwrap()
        .expect("found by its marker");
    assert_eq!(found.ticket, created.ticket);
    let other = default_create("NES-2", Severity::Low);
    assert!(
        client
            .find_by_correlation(&TicketTarget::ManageEngine, other.finding_id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn mandatory_template_fields_the_mapping_does_not_fill_fail_before_any_create() {
    let env = Env::start().await;
    env.sim
        .control()
        .set_sdp_template_mandatory("itdesk", "Default Request", &["impact", "udf_sline_301"])
        .await
        .unwrap();
    let client = onprem(&env, LOCKSTEP_KEY);
    let err = Connector::create(&client, &default_create("NES-3", Severity::High))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::FailedPrecondition, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("impact") && text.contains("udf_sline_301 (Finding ID)"),
        "{text}"
    );
    assert!(text.contains("nothing was created"), "{text}");
    assert_eq!(posts(&env).await, 0, "no create was sent");

    let report = Connector::test_connection(&client).await;
    let check = report
        .checks
        .iter()
        .find(|c| c.id == "mandatory_fields")
        .unwrap();
    assert_eq!(check.status, CheckStatus::Fail, "{check:?}");
    assert!(check.detail.contains("impact"), "{check:?}");
}

#[tokio::test]
async fn an_unknown_priority_is_refused_before_any_create_and_by_the_mapping_check() {
    let env = Env::start().await;
    let client = onprem(&env, LOCKSTEP_KEY);
    let mut rules = MappingRules::defaults(Vendor::ManageEngine);
    if let MappingRules::ManageEngine { request } = &mut rules {
        request.severity = BySeverity {
            critical: LevelNames::priority(Label::parse("Urgent").unwrap()),
            ..BySeverity::manageengine_default()
        };
    }
    let err = Connector::create(&client, &create_for("NES-4", Severity::Critical, &rules))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidArgument, "{err}");
    assert!(
        err.to_string().contains("Low, Normal, Medium, High"),
        "{err}"
    );
    assert_eq!(posts(&env).await, 0);

    let check = client.check_mapping(&rules).await.unwrap();
    assert_eq!(check.problems.len(), 1, "{check:?}");
    assert!(check.problems[0].contains("\"Urgent\""), "{check:?}");
    let defaults = MappingRules::defaults(Vendor::ManageEngine);
    assert_eq!(
        client.check_mapping(&defaults).await.unwrap(),
        Default::default()
    );
}

#[tokio::test]
async fn a_lost_create_answer_is_repaired_by_the_correlation_search() {
    let env = Env::start().await;
    let client = onprem(&env, LOCKSTEP_KEY);
    let create = default_create("NES-5", Severity::High);
    let first = Connector::create(&client, &create).await.unwrap();
    // The retry of that create (say after a crash) meets a 502; the request exists already.
    env.sim
        .control()
        .set_faults(&[FaultRule {
            method: Some("POST".into()),
            path_prefix: "/api/v3/requests".into(),
            error_rate: 1.0,
            error: InjectedError::Status { status: 502 },
            ..FaultRule::default()
        }])
        .await
        .unwrap();
    let again = Connector::create(&client, &create).await.unwrap();
    assert!(again.recovered);
    assert_eq!(again.ticket, first.ticket);
    env.sim.control().clear_faults().await.unwrap();
    let found = client.find_or_create(&create).await.unwrap();
    assert!(found.recovered && found.ticket == first.ticket);
    assert_eq!(request_count(&env).await, 1);
}

#[tokio::test]
async fn an_error_inside_an_http_200_is_an_error() {
    let env = Env::start().await;
    let client = onprem(&env, LOCKSTEP_KEY);
    // Warm the metadata so the injected error meets the create itself.
    client.instance().await.unwrap();
    env.sim.control().sdp_errors_in_200(1, 4004).await.unwrap();
    let err = Connector::create(&client, &default_create("NES-6", Severity::High))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("inside an HTTP 200"), "{err}");
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(request_count(&env).await, 0);
    // A refusal inside a 200 keeps its own class.
    env.sim.control().sdp_errors_in_200(1, 4002).await.unwrap();
    let err = client
        .changes_since(time::OffsetDateTime::now_utc(), std::time::Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::PermissionDenied, "{err}");
}

#[tokio::test]
async fn link_mode_links_the_related_request_and_subtasks_are_refused() {
    let env = Env::start().await;
    let client = onprem(&env, LOCKSTEP_KEY);
    let first = Connector::create(&client, &default_create("NES-8", Severity::High))
        .await
        .unwrap();
    let mut linked = default_create("NES-9", Severity::High);
    linked.mode = TicketMode::Link {
        related: first.ticket.key().clone(),
    };
    let second = Connector::create(&client, &linked).await.unwrap();
    let stored = env
        .sim
        .control()
        .sdp_act(&lockstep_itsm_sim::sdp::control::SdpAct {
            portal: "itdesk".into(),
            email_id: "admin@itdesk.example.com".into(),
            method: "GET".into(),
            path: format!("requests/{}/link_requests", second.ticket.external_id()),
            input_data: None,
        })
        .await
        .unwrap();
    let links = &stored.body.unwrap()["link_requests"];
    assert_eq!(
        links[0]["linked_request"]["id"],
        first.ticket.external_id().as_str()
    );
    let mut sub = default_create("NES-10", Severity::High);
    sub.mode = TicketMode::Subtask {
        parent: TicketKey::parse(Vendor::ManageEngine, "1").unwrap(),
    };
    let err = Connector::create(&client, &sub).await.unwrap_err();
    assert!(matches!(err, ConnectorError::InvalidConfig { .. }), "{err}");
}

#[tokio::test]
async fn the_connection_test_names_each_failure_with_its_remedy() {
    let env = Env::start().await;
    let ok = Connector::test_connection(&onprem(&env, LOCKSTEP_KEY)).await;
    assert!(ok.ok(), "{ok:?}");

    let cases = [
        (
            onprem(&env, "not-a-key"),
            "authentication",
            "authentication_failed",
            "API key",
        ),
        (
            onprem(&env, EXPIRED_KEY),
            "authentication",
            "authentication_failed",
            "expiry",
        ),
        (
            onprem(&env, VIEWER_KEY),
            "write_permission",
            "permission_denied",
            "SDAdmin",
        ),
        (
            onprem_at(
                &env,
                &format!("{}/app/nope", env.sim.base_url()),
                LOCKSTEP_KEY,
            ),
            "authentication",
            "wrong_url",
            "portal",
        ),
    ];
    for (client, id, problem, remedy) in cases {
        let report = Connector::test_connection(&client).await;
        assert!(!report.ok(), "{report:?}");
        let check = report.checks.iter().find(|c| c.id == id).unwrap();
        assert_eq!(check.status, CheckStatus::Fail, "{check:?}");
        assert_eq!(check.problem, Some(problem), "{check:?}");
        assert!(
            check.remedy.as_deref().unwrap().contains(remedy),
            "{check:?}"
        );
    }
}

pub const CLIENT_ID: &str = "1000.LOCKSTEPSDP";
pub const CLIENT_SECRET: &str = "lockstep-sdp-secret";
pub const REFRESH_TOKEN: &str = "1000.refresh.lockstep";

/// The Cloud portal `secops` through the spec, as the services build it: Zoho refresh token with
/// the emulator's token endpoint.
pub fn cloud(env: &Env, refresh_token: &str) -> std::sync::Arc<dyn Connector> {
    use lockstep_connectors::{ConnectorSetup, Credentials, VendorSpec};
    lockstep_connectors::sdp::ServiceDeskPlusSpec
        .connect(ConnectorSetup {
            integration: IntegrationId::new(),
            base_url: format!("{}/app/secops", env.sim.base_url()),
            credentials: Credentials::OAuthRefreshToken {
                client_id: CLIENT_ID.into(),
                client_secret: SecretString::new(CLIENT_SECRET),
                refresh_token: SecretString::new(refresh_token),
                token_url: Some(format!("{}/oauth/v2/token", env.sim.base_url())),
            },
            exec: env.exec.clone(),
            default_container: None,
            credentials_sink: None,
        })
        .expect("connector")
}

async fn token_calls(env: &Env) -> usize {
    env.requests("/oauth/v2/token").await.len()
}

#[tokio::test]
async fn cloud_requests_use_a_zoho_token_renewed_once_when_it_expires() {
    let env = Env::start().await;
    let client = cloud(&env, REFRESH_TOKEN);
    let create = default_create("C-1", Severity::High);
    let created = client.create(&create).await.unwrap();
    let id = created.ticket.external_id().as_str();
    assert_eq!(id.len(), 18, "Cloud ids are 18 digits: {id}");
    assert_ne!(
        id,
        created.ticket.key().as_str(),
        "display ids differ on Cloud"
    );
    assert!(
        created
            .url
            .as_str()
            .ends_with(&format!("/app/secops/ui/requests/{id}/details"))
    );
    assert_eq!(token_calls(&env).await, 1);
    // The access token expires (the emulator's clock moves past its hour); the next call is
    // refused once, the token renewed, the call repeated.
    env.sim.control().advance_clock(3700).await.unwrap();
    let found = client
        .find_by_correlation(&TicketTarget::ManageEngine, create.finding_id)
        .await
        .unwrap();
    assert_eq!(found.map(|o| o.ticket), Some(created.ticket.clone()));
    assert_eq!(token_calls(&env).await, 2);
    let refused: Vec<_> = env
        .requests("/app/secops/api/v3/requests")
        .await
        .into_iter()
        .filter(|(_, _, s)| *s == Some(401))
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
}

#[tokio::test]
async fn a_refused_refresh_token_is_an_authentication_failure_with_the_zoho_remedy() {
    let env = Env::start().await;
    let report = cloud(&env, "1000.refresh.revoked").test_connection().await;
    let check = report
        .checks
        .iter()
        .find(|c| c.id == "authentication")
        .unwrap();
    assert_eq!(check.status, CheckStatus::Fail, "{check:?}");
    assert_eq!(check.problem, Some("authentication_failed"));
    assert!(
        check
            .remedy
            .as_deref()
            .unwrap()
            .contains("Zoho API console"),
        "{check:?}"
    );
    assert!(cloud(&env, REFRESH_TOKEN).test_connection().await.ok());
}

#[tokio::test]
async fn a_bulk_run_reads_the_instance_metadata_once_and_reports_each_finding() {
    let env = Env::start().await;
    let client = onprem(&env, LOCKSTEP_KEY);
    let mut creates: Vec<TicketCreate> = (0..6)
        .map(|i| default_create(&format!("B-{i}"), Severity::Medium))
        .collect();
    creates[3].mode = TicketMode::Subtask {
        parent: TicketKey::parse(Vendor::ManageEngine, "1").unwrap(),
    };
    let results = client.create_many(&creates).await;
    assert_eq!(results.len(), 6);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.is_err(), i == 3, "{i}: {r:?}");
    }
    assert_eq!(request_count(&env).await, 5);
    let metainfo = env.requests("/api/v3/requests/_metainfo").await.len();
    assert_eq!(metainfo, 1, "one metadata read for the whole run");
}
