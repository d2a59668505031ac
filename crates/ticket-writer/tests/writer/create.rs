//! Previews, single and bulk creation, write-back, and the link check.

use futures::StreamExt;
use lockstep_proto::v1 as pb;
use prost::Message;
use tonic::Code;

use crate::support::{Env, code, req, spec};

#[tokio::test]
async fn a_preview_shows_the_exact_ticket_and_sends_nothing() {
    let env = Env::start().await;
    let integration = env.integration(&env.a.admin, "sn").await;
    let ids = env.import(&env.a.analyst, "PV", 2).await;
    let mut s = spec(&integration);
    s.fields = Some(pb::FieldValues {
        assignee: "beth.anglin".into(),
        ..Default::default()
    });
    s.labels = vec!["pci".into()];
    let preview = env
        .tickets()
        .preview_tickets(req(
            &env.a.viewer,
            pb::PreviewTicketsRequest {
                spec: Some(s),
                finding_ids: ids.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let first = &preview.previews[0];
    let field = |name: &str| {
        first
            .fields
            .iter()
            .find(|f| f.field == name)
            .unwrap_or_else(|| panic!("{name}: {first:?}"))
    };
    assert_eq!(
        (
            field("impact").value.as_str(),
            field("impact").source.as_str()
        ),
        ("1 - High", "mapping")
    );
    assert_eq!(field("priority").value, "1 - Critical");
    assert_eq!(
        (
            field("assignee").value.as_str(),
            field("assignee").source.as_str()
        ),
        ("beth.anglin", "request")
    );
    assert_eq!(field("summary").value, "[LOCKSTEP] PV-000 - Finding 0");
    assert_eq!(field("labels").value, "pci");
    assert_eq!(
        preview.previews[1]
            .fields
            .iter()
            .find(|f| f.field == "priority")
            .unwrap()
            .value,
        "2 - High"
    );
    assert_eq!(env.incident_posts().await, 0, "a preview sends nothing");
    assert!(first.existing.is_none());
}

#[tokio::test]
async fn a_ticket_is_created_written_back_and_never_duplicated() {
    let env = Env::start().await;
    let integration = env.integration(&env.a.admin, "sn-prod").await;
    let id = env.import(&env.a.analyst, "C", 1).await.remove(0);
    let mut created_events = env
        .nats
        .client()
        .subscribe(env.bus.subjects().ticket_created(env.a.id))
        .await
        .unwrap();
    let mut s = spec(&integration);
    s.reporter = "abel.tuter".into();
    let create = pb::CreateTicketRequest {
        request_id: String::new(),
        finding_id: id.clone(),
        spec: Some(s),
    };
    assert_eq!(
        code(
            env.tickets()
                .create_ticket(req(&env.a.viewer, create.clone()))
                .await
        ),
        Code::PermissionDenied
    );
    let first = env
        .tickets()
        .create_ticket(req(&env.a.analyst, create.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.outcome, pb::TicketOutcome::Created as i32);
    let link = first.link.clone().unwrap();
    assert!(link.key.starts_with("INC"), "{link:?}");
    assert_eq!(
        (
            link.state.as_str(),
            link.vendor.as_str(),
            link.integration_name.as_str()
        ),
        ("live", "servicenow", "sn-prod")
    );
    assert_eq!(link.integration_id, integration.id);
    assert!(
        link.url.starts_with(env.sim.base_url()) && link.url.contains(&link.external_id),
        "{}",
        link.url
    );
    assert_eq!(link.base_url, integration.base_url);

    let event = tokio::time::timeout(std::time::Duration::from_secs(5), created_events.next())
        .await
        .unwrap()
        .unwrap();
    let event = pb::TicketCreated::decode(event.payload).unwrap();
    assert_eq!(
        (event.finding_id.as_str(), event.ticket.unwrap().key),
        (id.as_str(), link.key.clone())
    );

    // The repeat returns the same ticket; nothing new reaches the vendor.
    let posts = env.incident_posts().await;
    let again = env
        .tickets()
        .create_ticket(req(&env.a.analyst, create))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.outcome, pb::TicketOutcome::AlreadyLinked as i32);
    assert_eq!(again.link.unwrap().key, link.key);
    assert_eq!(env.incident_posts().await, posts);
    assert_eq!(env.incidents_for(&id).await, 1);
    let record = env
        .sim
        .control()
        .record("incident", &link.key)
        .await
        .unwrap();
    assert_eq!(record["impact"], "1", "critical → impact 1: {record:?}");

    // The finding shows its ticket, and the activity feed says so.
    let finding = env
        .findings()
        .get_finding(req(&env.a.viewer, pb::GetFindingRequest { id: id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(finding.tickets[0].key, link.key);
    let feed = env
        .findings()
        .list_finding_activity(req(
            &env.a.viewer,
            pb::ListFindingActivityRequest {
                finding_id: id,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(feed.entries[0].kind, "ticket_created");
    assert!(feed.entries[0].message.contains(&link.key));
}

#[tokio::test]
async fn subtasks_go_under_their_parent_and_bad_modes_are_refused_before_any_call() {
    let env = Env::start().await;
    let integration = env.integration(&env.a.admin, "sn").await;
    let ids = env.import(&env.a.analyst, "M", 2).await;
    let parent = env
        .tickets()
        .create_ticket(req(
            &env.a.analyst,
            pb::CreateTicketRequest {
                request_id: String::new(),
                finding_id: ids[0].clone(),
                spec: Some(spec(&integration)),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let parent_key = parent.link.unwrap().key;
    let mut s = spec(&integration);
    s.mode = "subtask".into();
    s.related_ticket = parent_key.clone();
    let child = env
        .tickets()
        .create_ticket(req(
            &env.a.analyst,
            pb::CreateTicketRequest {
                request_id: String::new(),
                finding_id: ids[1].clone(),
                spec: Some(s.clone()),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let child = env
        .sim
        .control()
        .record("incident", &child.link.unwrap().key)
        .await
        .unwrap();
    assert!(
        child
            .get("parent_incident")
            .is_some_and(|v| !v.is_null() && v != ""),
        "{child:?}"
    );

    let posts = env.incident_posts().await;
    s.related_ticket.clear();
    let err = env
        .tickets()
        .create_ticket(req(
            &env.a.analyst,
            pb::CreateTicketRequest {
                request_id: String::new(),
                finding_id: ids[1].clone(),
                spec: Some(s.clone()),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("parent ticket"), "{}", err.message());
    s.mode = "child".into();
    assert_eq!(
        code(
            env.tickets()
                .create_ticket(req(
                    &env.a.analyst,
                    pb::CreateTicketRequest {
                        request_id: String::new(),
                        finding_id: ids[1].clone(),
                        spec: Some(s)
                    }
                ))
                .await
        ),
        Code::InvalidArgument
    );
    assert_eq!(env.incident_posts().await, posts);
}

#[tokio::test]
async fn bulk_creation_is_capped_and_reports_each_finding() {
    let env = Env::start().await;
    let integration = env.integration(&env.a.admin, "sn").await;
    let too_many: Vec<String> = (0..501).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let err = env
        .tickets()
        .bulk_create_tickets(req(
            &env.a.analyst,
            pb::BulkCreateTicketsRequest {
                request_id: String::new(),
                finding_ids: too_many,
                spec: Some(spec(&integration)),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("at most 500"), "{}", err.message());
    assert_eq!(
        env.incident_posts().await,
        0,
        "rejected before any vendor call"
    );

    let ids = env.import(&env.a.analyst, "BK", 6).await;
    // One finding is already ticketed; one id does not exist.
    env.tickets()
        .create_ticket(req(
            &env.a.analyst,
            pb::CreateTicketRequest {
                request_id: String::new(),
                finding_id: ids[0].clone(),
                spec: Some(spec(&integration)),
            },
        ))
        .await
        .unwrap();
    let missing = uuid::Uuid::now_v7().to_string();
    let mut all = ids.clone();
    all.insert(3, missing.clone());
    let out = env
        .tickets()
        .bulk_create_tickets(req(
            &env.a.analyst,
            pb::BulkCreateTicketsRequest {
                request_id: String::new(),
                finding_ids: all.clone(),
                spec: Some(spec(&integration)),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((out.created, out.already_linked, out.failed), (5, 1, 1));
    let order: Vec<&str> = out.results.iter().map(|r| r.finding_id.as_str()).collect();
    assert_eq!(
        order,
        all.iter().map(String::as_str).collect::<Vec<_>>(),
        "results follow the request order"
    );
    assert_eq!(out.results[3].error_code, "NOT_FOUND");
    for id in &ids {
        assert_eq!(env.incidents_for(id).await, 1, "one ticket per finding");
    }
    let check = env
        .tickets()
        .check_ticket_links(req(
            &env.a.viewer,
            pb::CheckTicketLinksRequest {
                finding_ids: all,
                integration_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(check.findings.iter().filter(|f| f.linked).count(), 6);
    assert!(check.findings[3].not_found && !check.findings[3].linked);
}

#[tokio::test]
async fn a_vendor_refusal_fails_one_finding_and_frees_it_for_a_retry() {
    let env = Env::start().await;
    let integration = env.integration(&env.a.admin, "sn").await;
    let ids = env.import(&env.a.analyst, "RF", 1).await;
    env.sim
        .control()
        .set_faults(&[lockstep_itsm_sim::control::FaultRule {
            method: Some("POST".into()),
            path_prefix: "/api/now/table/incident".into(),
            error_rate: 1.0,
            error: lockstep_itsm_sim::control::InjectedError::TooManyRequests {
                retry_after_secs: 1,
            },
            times: Some(10),
            ..Default::default()
        }])
        .await
        .unwrap();
    let create = pb::CreateTicketRequest {
        request_id: String::new(),
        finding_id: ids[0].clone(),
        spec: Some(spec(&integration)),
    };
    let err = env
        .tickets()
        .create_ticket(req(&env.a.analyst, create.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{}", err.message());
    env.sim.control().clear_faults().await.unwrap();
    let ok = env
        .tickets()
        .create_ticket(req(&env.a.analyst, create))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.outcome, pb::TicketOutcome::Created as i32);
    assert_eq!(env.incidents_for(&ids[0]).await, 1);
}

#[tokio::test]
async fn the_table_is_read_by_the_vendors_own_container_rules() {
    let env = Env::start().await;
    let integration = env.integration(&env.a.admin, "sn").await;
    let ids = env.import(&env.a.analyst, "TB", 1).await;
    let request = |table: &str| {
        let mut s = spec(&integration);
        s.table = table.into();
        req(
            &env.a.viewer,
            pb::PreviewTicketsRequest {
                spec: Some(s),
                finding_ids: ids.clone(),
            },
        )
    };
    let ok = env
        .tickets()
        .preview_tickets(request(" INCIDENT "))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.previews.len(), 1);
    let err = env
        .tickets()
        .preview_tickets(request("problem"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().starts_with("spec.table: ")
            && err
                .message()
                .contains("is not a ServiceNow table Lockstep writes"),
        "{}",
        err.message()
    );
}
