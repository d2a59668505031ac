//! Creating incidents and change requests, finding them by correlation id, moving them with
//! close code and notes, work notes, and the vendor's refusals (ACL, data policy, not found).

use lockstep_connectors::servicenow::{NewTicket, StateChange};
use lockstep_connectors::{ConnectorError, ErrorClass};
use lockstep_domain::{
    FieldValues, FindingId, Impact, Label, MappingRules, ServiceNowFields, ServiceNowTable,
    Severity, Template, TicketDraft, TicketRef, TicketTarget, Urgency, Vendor,
};
use lockstep_itsm_sim::control::{FaultRule, InjectedError};

use crate::support::{Env, basic, finding, new_ticket, str_of};

const ABEL: &str = "62826bf03710200044e0bfc8bcbe5df1";

fn resolve(code: Option<&str>) -> StateChange {
    StateChange {
        state: "6".into(),
        close_code: code.map(str::to_owned),
        close_notes: Some("Fixed by Lockstep: the rescan is clean.".into()),
        work_note: None,
    }
}

#[tokio::test]
async fn an_incident_is_created_from_a_draft_with_every_field() {
    let env = Env::start().await;
    let group = env
        .sim
        .control()
        .records("sys_user_group", "name=Security Operations")
        .await
        .unwrap();
    let group_id = str_of(&group[0], "sys_id").to_owned();

    let f = finding("NES-19506", "OpenSSL buffer overflow", Severity::Critical);
    let request = FieldValues {
        category: Some(Label::parse("software").unwrap()),
        assignment_group: Some(Label::parse(&group_id).unwrap()),
        assignee: Some(Label::parse(ABEL).unwrap()),
        ..FieldValues::default()
    };
    let draft = TicketDraft::build(
        &f,
        &TicketTarget::ServiceNow(ServiceNowTable::Incident),
        &MappingRules::defaults(Vendor::ServiceNow),
        &FieldValues::default(),
        &request,
    )
    .unwrap();
    let mut ticket = NewTicket::from_draft(&draft).unwrap();
    ticket.caller = Some(ABEL.into());
    ticket.correlation_display = "Lockstep NES-19506".into();

    let created = env.integration().create_ticket(&ticket).await.unwrap();
    assert!(!created.recovered);
    let key = created.ticket.key().as_str().to_owned();
    assert!(key.starts_with("INC"), "{key}");
    assert_eq!(created.observation.vendor_state, "1");
    assert_eq!(
        created.observation.vendor_state_label.as_deref(),
        Some("New")
    );
    assert_eq!(
        created.observation.fields.priority.as_deref(),
        Some("1 - Critical")
    );
    assert_eq!(
        created.observation.fields.assignment_group.as_deref(),
        Some("Security Operations")
    );
    assert_eq!(
        created.observation.fields.assignee.as_deref(),
        Some("Abel Tuter")
    );
    assert!(created.url.as_str().ends_with(&format!(
        "/incident.do?sys_id={}",
        created.ticket.external_id()
    )));

    let rec = env.sim.control().record("incident", &key).await.unwrap();
    assert_eq!(
        str_of(&rec, "short_description"),
        "[LOCKSTEP] NES-19506 - OpenSSL buffer overflow"
    );
    assert!(
        str_of(&rec, "description").contains("Severity: critical"),
        "{}",
        str_of(&rec, "description")
    );
    assert_eq!(str_of(&rec, "correlation_id"), format!("lockstep:{}", f.id));
    assert_eq!(str_of(&rec, "correlation_display"), "Lockstep NES-19506");
    assert_eq!(
        (
            str_of(&rec, "impact"),
            str_of(&rec, "urgency"),
            str_of(&rec, "priority")
        ),
        ("1", "1", "1")
    );
    assert_eq!(str_of(&rec, "category"), "software");
    assert_eq!(str_of(&rec, "assignment_group"), group_id);
    assert_eq!(str_of(&rec, "assigned_to"), ABEL);
    assert_eq!(str_of(&rec, "caller_id"), ABEL);
    assert_eq!(str_of(&rec, "sys_created_by"), "lockstep.integration");
}

#[tokio::test]
async fn the_summary_template_is_configurable() {
    let env = Env::start().await;
    let f = finding("K-7", "Weak TLS", Severity::Medium);
    let fields = ServiceNowFields {
        impact: Impact::Medium,
        urgency: Urgency::Low,
        category: None,
    };
    let template = Template::parse("SEC {key}: {title} ({severity})").unwrap();
    let ticket =
        NewTicket::for_finding(ServiceNowTable::Incident, &f, &fields, Some(&template)).unwrap();
    let created = env.integration().create_ticket(&ticket).await.unwrap();
    let rec = env
        .sim
        .control()
        .record("incident", created.ticket.key().as_str())
        .await
        .unwrap();
    assert_eq!(
        str_of(&rec, "short_description"),
        "SEC K-7: Weak TLS (medium)"
    );
    assert_eq!(str_of(&rec, "priority"), "4");
}

#[tokio::test]
async fn tickets_are_found_by_correlation_id() {
    let env = Env::start().await;
    let client = env.integration();
    let ticket = new_ticket(ServiceNowTable::Incident, "K-1", Severity::High);
    let created = client.create_ticket(&ticket).await.unwrap();
    let found = client
        .find_by_correlation(ServiceNowTable::Incident, ticket.finding_id)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.ticket, created.ticket);
    assert_eq!(found.version, created.observation.version);
    assert!(
        client
            .find_by_correlation(ServiceNowTable::Incident, FindingId::new())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        client
            .find_by_correlation(ServiceNowTable::ChangeRequest, ticket.finding_id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_lost_create_answer_is_repaired_by_lookup_not_by_a_second_ticket() {
    let env = Env::start().await;
    let client = env.integration();
    let ticket = new_ticket(ServiceNowTable::Incident, "K-2", Severity::High);
    let first = client.create_ticket(&ticket).await.unwrap();
    // The retry of that create (say after a crash) meets a 502; the ticket exists already.
    let rule = FaultRule {
        method: Some("POST".into()),
        path_prefix: "/api/now/table/incident".into(),
        error_rate: 1.0,
        error: InjectedError::Status { status: 502 },
        ..FaultRule::default()
    };
    env.sim.control().set_faults(&[rule]).await.unwrap();
    let again = client.create_ticket(&ticket).await.unwrap();
    assert!(again.recovered);
    assert_eq!(again.ticket, first.ticket);
    let found = client.find_or_create_ticket(&ticket).await.unwrap();
    assert!(found.recovered && found.ticket == first.ticket);
    let correlation = format!("correlation_id=lockstep:{}", ticket.finding_id);
    assert_eq!(env.count("incident", &correlation).await, 1);
}

#[tokio::test]
async fn resolving_needs_a_valid_close_code() {
    let env = Env::start().await;
    let client = env.integration();
    let created = client
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "K-3",
            Severity::High,
        ))
        .await
        .unwrap();
    let ticket = &created.ticket;

    let err = client
        .update_state(ticket, &resolve(None))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::DataPolicy { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::FailedPrecondition);
    assert!(err.to_string().contains("Resolution code"), "{err}");
    // A close code of an older release is dropped by the instance and then reported as missing.
    let err = client
        .update_state(ticket, &resolve(Some("Solved (Permanently)")))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::DataPolicy { .. }), "{err:?}");

    let mut change = resolve(Some("Solution provided"));
    change.work_note = Some("Resolved because the rescan found nothing.".into());
    let obs = client.update_state(ticket, &change).await.unwrap();
    assert_eq!(obs.vendor_state, "6");
    assert_eq!(obs.vendor_state_label.as_deref(), Some("Resolved"));
    assert_eq!(obs.resolution.as_deref(), Some("Solution provided"));
    assert!(obs.version > created.observation.version);
    let rec = env
        .sim
        .control()
        .record("incident", ticket.key().as_str())
        .await
        .unwrap();
    assert_eq!(
        str_of(&rec, "close_notes"),
        "Fixed by Lockstep: the rescan is clean."
    );
    assert_eq!(
        str_of(&rec, "resolved_by"),
        "8f2c4e1a9b3d4c5e6f708192a3b4c5d6"
    );
    assert_eq!(client.get_ticket(ticket).await.unwrap().vendor_state, "6");
}

#[tokio::test]
async fn work_notes_are_journal_entries() {
    let env = Env::start().await;
    let client = env.integration();
    let created = client
        .create_ticket(&new_ticket(ServiceNowTable::Incident, "K-4", Severity::Low))
        .await
        .unwrap();
    client
        .add_work_note(&created.ticket, "Rescan scheduled for tonight.")
        .await
        .unwrap();
    let query = format!(
        "element_id={}^element=work_notes",
        created.ticket.external_id()
    );
    let notes = env
        .sim
        .control()
        .records("sys_journal_field", &query)
        .await
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(str_of(&notes[0], "value"), "Rescan scheduled for tonight.");
    assert!(matches!(
        client.add_work_note(&created.ticket, "  ").await,
        Err(ConnectorError::InvalidConfig { .. })
    ));
}

#[tokio::test]
async fn change_requests_are_created_and_closed() {
    let env = Env::start().await;
    let client = env.integration();
    let mut ticket = new_ticket(ServiceNowTable::ChangeRequest, "K-5", Severity::High);
    ticket.extra.insert("type".into(), "normal".into());
    let created = client.create_ticket(&ticket).await.unwrap();
    assert!(created.ticket.key().as_str().starts_with("CHG"));
    assert_eq!(created.observation.vendor_state, "-5");
    let closed = client
        .update_state(
            &created.ticket,
            &StateChange {
                state: "3".into(),
                close_code: Some("successful".into()),
                close_notes: Some("Patched".into()),
                work_note: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(closed.vendor_state, "3");
    assert_eq!(closed.resolution.as_deref(), Some("successful"));
    let rec = env
        .sim
        .control()
        .record("change_request", created.ticket.key().as_str())
        .await
        .unwrap();
    assert_eq!(str_of(&rec, "type"), "normal");
    assert_eq!(str_of(&rec, "active"), "false");
}

#[tokio::test]
async fn acl_refusals_and_missing_records_are_classified() {
    let env = Env::start().await;
    let reader = env.client(basic("incident.reader"));
    let err = reader
        .create_ticket(&new_ticket(ServiceNowTable::Incident, "K-6", Severity::Low))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Permission { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::PermissionDenied);
    let text = err.to_string();
    assert!(
        text.contains("ACL Exception Insert Failed") && text.contains("create records"),
        "{text}"
    );

    let created = env
        .integration()
        .create_ticket(&new_ticket(ServiceNowTable::Incident, "K-8", Severity::Low))
        .await
        .unwrap();
    let err = reader
        .update_state(&created.ticket, &resolve(Some("Solution provided")))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("ACL Exception Update Failed"),
        "{err}"
    );

    let ghost = TicketRef::parse(
        Vendor::ServiceNow,
        "incident",
        "00000000000000000000000000000001",
        "INC0099999",
    )
    .unwrap();
    let err = env.integration().get_ticket(&ghost).await.unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::NotFound);
}
