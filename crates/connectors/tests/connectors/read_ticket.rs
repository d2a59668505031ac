//! `Connector::read_ticket`, the one GET a webhook notice and `SyncService.ResyncTicket` read a
//! ticket with, against the emulators: a ticket created through the connector reads back as its
//! create answered; after a person's change in the vendor it reads as the change feed reads the
//! same change (one parser, one observation); a deleted, unknown or hidden ticket is NotFound
//! (the poller answers NOT_FOUND), refused credentials are Unauthenticated and a 403
//! PermissionDenied (FAILED_PRECONDITION: the integration, not the caller, must change).

use std::time::Duration;

use lockstep_connectors::servicenow::ServiceNowCredentials;
use lockstep_connectors::{Connector, ConnectorError, ErrorClass};
use lockstep_crypto::SecretString;
use lockstep_domain::{
    ServiceNowTable, Severity, TicketMode, TicketObservation, TicketRef, Vendor,
};
use lockstep_itsm_sim::control::{ActOp, ActRequest, FaultRule, InjectedError, JiraAct, jira_seed};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::jira_support::{basic as jira_basic, jira, lockstep, ticket};
use crate::support::{Env, new_ticket};

const LONG_AGO: OffsetDateTime = datetime!(2000-01-01 00:00 UTC);

/// The observation without the moment Lockstep read it, the one thing two reads may differ in.
fn read_at_zero(o: &TicketObservation) -> TicketObservation {
    TicketObservation {
        observed_at: OffsetDateTime::UNIX_EPOCH,
        ..o.clone()
    }
}

/// Every later GET of the emulator answers `status`.
async fn answer_gets_with(env: &Env, path_prefix: &str, status: u16) {
    env.sim
        .control()
        .set_faults(&[FaultRule {
            method: Some("GET".into()),
            path_prefix: path_prefix.into(),
            error_rate: 1.0,
            error: InjectedError::Status { status },
            ..FaultRule::default()
        }])
        .await
        .unwrap();
}

fn class_of(result: lockstep_connectors::Result<TicketObservation>) -> ErrorClass {
    result.expect_err("the read must fail").class()
}

#[tokio::test]
async fn a_jira_issue_reads_like_the_feed_before_and_after_a_transition_to_done() {
    let env = Env::start().await;
    let client = lockstep(&env, "OPS");
    let created = client
        .create(&ticket(
            "OPS",
            "R-1",
            Severity::High,
            TicketMode::Standalone,
        ))
        .await
        .unwrap();
    let read = client.read_ticket(&created.ticket).await.unwrap();
    assert_eq!(read_at_zero(&read), read_at_zero(&created.observation));
    assert_eq!(read.vendor_state_category.as_deref(), Some("new"));
    let requests = env.requests("/rest/api/3/issue/").await;
    let get = requests.last().unwrap();
    assert_eq!(
        (get.0.as_str(), get.1.as_str(), get.2),
        (
            "GET",
            format!("/rest/api/3/issue/{}", created.ticket.external_id()).as_str(),
            Some(200)
        ),
        "one GET by the issue id"
    );

    // The emulator keeps whole seconds: the change must be later than the create.
    env.sim.control().advance_clock(2).await.unwrap();
    let done = env
        .sim
        .control()
        .jira_transition(
            jira_seed::PRIYA,
            created.ticket.key().as_str(),
            "31",
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(done.status, 204, "{done:?}");
    let after = client.read_ticket(&created.ticket).await.unwrap();
    assert_eq!(after.ticket, created.ticket);
    assert_eq!(after.vendor_state, "10001");
    assert_eq!(after.vendor_state_label.as_deref(), Some("Done"));
    assert_eq!(after.vendor_state_category.as_deref(), Some("done"));
    assert_eq!(after.resolution.as_deref(), Some("Done"));
    assert!(
        after.version.updated_at() > read.version.updated_at(),
        "{} then {}",
        read.version,
        after.version
    );
    // A GET, like a search, carries no changelog id and no author: the feed's observation of
    // the same change is the same observation.
    let feed = client
        .changes_since(LONG_AGO, Duration::ZERO, &[created.ticket.target().clone()])
        .await
        .unwrap();
    let polled = feed
        .observations
        .iter()
        .find(|o| o.ticket == created.ticket)
        .expect("the feed reads the issue");
    assert_eq!(read_at_zero(&after), read_at_zero(polled));
    assert_eq!(after.actor, None);
}

#[tokio::test]
async fn a_jira_issue_deleted_unknown_or_hidden_is_not_found_and_refused_credentials_are_auth() {
    let env = Env::start().await;
    let client = lockstep(&env, "OPS");
    let created = client
        .create(&ticket("OPS", "R-2", Severity::Low, TicketMode::Standalone))
        .await
        .unwrap();
    let deleted = client
        .create(&ticket("OPS", "R-6", Severity::Low, TicketMode::Standalone))
        .await
        .unwrap();
    let act = env
        .sim
        .control()
        .jira_act(&JiraAct {
            account_id: jira_seed::PRIYA.into(),
            method: "DELETE".into(),
            path: format!("issue/{}", deleted.ticket.key()),
            ..JiraAct::default()
        })
        .await
        .unwrap();
    assert_eq!(act.status, 204, "{act:?}");
    let err = client.read_ticket(&deleted.ticket).await.unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::NotFound);
    let ghost = TicketRef::parse(Vendor::Jira, "OPS", "99999", "OPS-999").unwrap();
    let err = client.read_ticket(&ghost).await.unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound { .. }), "{err:?}");
    // Jira answers 404, not 403, for an issue the account may not browse (reference A9).
    let nobody = jira(&env, &jira_basic("nobody"), Some("OPS"));
    assert_eq!(
        class_of(nobody.read_ticket(&created.ticket).await),
        ErrorClass::NotFound
    );

    let wrong = jira(
        &env,
        &lockstep_connectors::Credentials::Basic {
            username: "lockstep@example.com".into(),
            password: SecretString::new("wrong"),
        },
        Some("OPS"),
    );
    let err = wrong.read_ticket(&created.ticket).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Unauthenticated);

    answer_gets_with(&env, "/rest/api/3/issue/", 403).await;
    let err = client.read_ticket(&created.ticket).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Permission { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::PermissionDenied);
}

#[tokio::test]
async fn a_servicenow_incident_reads_like_the_feed_before_and_after_it_is_resolved() {
    let env = Env::start().await;
    let client = env.integration();
    let created = client
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "R-3",
            Severity::High,
        ))
        .await
        .unwrap();
    let read = client.read_ticket(&created.ticket).await.unwrap();
    assert_eq!(read_at_zero(&read), read_at_zero(&created.observation));
    assert_eq!(read.vendor_state, "1");

    // sys_updated_on keeps whole seconds: the change must be later than the create.
    env.sim.control().advance_clock(2).await.unwrap();
    let key = created.ticket.key().as_str();
    env.sim
        .control()
        .resolve_incident(key, "beth.anglin", "Solution provided", "Patched")
        .await
        .unwrap();
    let after = client.read_ticket(&created.ticket).await.unwrap();
    assert_eq!(after.ticket, created.ticket);
    assert_eq!(after.vendor_state, "6");
    assert_eq!(after.vendor_state_label.as_deref(), Some("Resolved"));
    assert_eq!(after.resolution.as_deref(), Some("Solution provided"));
    assert_eq!(after.actor.as_deref(), Some("beth.anglin"));
    assert!(
        after.version > read.version && after.version.updated_at() > read.version.updated_at(),
        "{} then {}",
        read.version,
        after.version
    );
    let feed = client
        .changes_since(LONG_AGO, Duration::ZERO, &[ServiceNowTable::Incident])
        .await
        .unwrap();
    let polled = feed
        .observations
        .iter()
        .find(|o| o.ticket == created.ticket)
        .expect("the feed reads the incident");
    assert_eq!(read_at_zero(&after), read_at_zero(polled));
}

#[tokio::test]
async fn a_servicenow_incident_deleted_is_not_found_and_refused_credentials_are_auth() {
    let env = Env::start().await;
    let client = env.integration();
    let kept = client
        .create_ticket(&new_ticket(ServiceNowTable::Incident, "R-4", Severity::Low))
        .await
        .unwrap();
    let gone = client
        .create_ticket(&new_ticket(ServiceNowTable::Incident, "R-5", Severity::Low))
        .await
        .unwrap();
    env.sim
        .control()
        .act(&ActRequest {
            user: "admin".into(),
            table: "incident".into(),
            op: ActOp::Delete,
            record: Some(gone.ticket.external_id().as_str().into()),
            ..ActRequest::default()
        })
        .await
        .unwrap();
    let err = client.read_ticket(&gone.ticket).await.unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::NotFound);

    let wrong = env.client(ServiceNowCredentials::Basic {
        username: "lockstep.integration".into(),
        password: SecretString::new("wrong"),
    });
    let err = wrong.read_ticket(&kept.ticket).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Unauthenticated);

    // The emulator does not model the REST API ACL ("User Not Authorized", reference §1.8):
    // its 403 is injected.
    answer_gets_with(&env, "/api/now/table/incident", 403).await;
    assert_eq!(
        class_of(client.read_ticket(&kept.ticket).await),
        ErrorClass::PermissionDenied
    );
}
