//! The outbound status push: analyst changes move the ticket; vendor changes are never echoed.

use lockstep_proto::v1 as pb;

use crate::support::{Env, eventually, req, spec};

async fn ticketed(env: &Env, prefix: &str) -> (String, String) {
    let integration = env.integration(&env.a.admin, &format!("sn-{prefix}")).await;
    let id = env.import(&env.a.analyst, prefix, 1).await.remove(0);
    let created = env
        .tickets()
        .create_ticket(req(
            &env.a.analyst,
            pb::CreateTicketRequest {
                request_id: String::new(),
                finding_id: id.clone(),
                spec: Some(spec(&integration)),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    (id, created.link.unwrap().key)
}

#[tokio::test]
async fn a_closed_finding_resolves_its_incident_with_the_close_code_and_a_work_note() {
    let env = Env::start().await;
    let (id, key) = ticketed(&env, "PUSH").await;
    env.findings()
        .set_finding_status(req(
            &env.a.analyst,
            pb::SetFindingStatusRequest {
                id: id.clone(),
                status: "closed".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let sim = env.sim.control();
    eventually("the incident to be resolved", || async {
        sim.record("incident", &key).await.unwrap()["state"] == "6"
    })
    .await;
    let record = sim.record("incident", &key).await.unwrap();
    assert_eq!(record["close_code"], "Solution provided", "{record:?}");
    assert!(
        record["close_notes"].as_str().unwrap().contains("PUSH-000"),
        "{record:?}"
    );
    let store_finding = lockstep_domain::FindingId::parse(&id).unwrap();
    let tenant = env.a.id;
    eventually("the push to be recorded", || async {
        let feed = env
            .store()
            .activity()
            .list_for_finding(
                tenant,
                store_finding,
                lockstep_store::PageRequest::first(20),
            )
            .await
            .unwrap();
        feed.items
            .iter()
            .any(|a| a.kind == lockstep_domain::ActivityKind::TicketUpdated)
    })
    .await;
    let finding = env
        .findings()
        .get_finding(req(&env.a.viewer, pb::GetFindingRequest { id }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        finding.tickets[0].vendor_state, "6",
        "the link holds the state we set"
    );
}

#[tokio::test]
async fn vendor_caused_changes_are_never_pushed_back() {
    let env = Env::start().await;
    let (id, key) = ticketed(&env, "ECHO").await;
    let tenant = env.a.id;
    let finding = lockstep_domain::FindingId::parse(&id).unwrap();
    // The vendor moved the finding (as the sync-applier would) and announced it.
    let change = env
        .store()
        .findings()
        .set_status_from_vendor(
            tenant,
            finding,
            lockstep_domain::FindingStatus::Closed,
            None,
        )
        .await
        .unwrap();
    let event = pb::FindingChanged {
        event_id: "vendor-change-1".into(),
        tenant_id: tenant.to_string(),
        finding_id: id.clone(),
        from_status: change.previous.as_str().into(),
        to_status: "closed".into(),
        origin: pb::ChangeOrigin::Vendor as i32,
        channel: "webhook".into(),
        integration_id: String::new(),
        changed_at: None,
        traceparent: String::new(),
    };
    env.bus
        .publish(
            &env.bus.subjects().finding_changed(tenant),
            &lockstep_bus::finding_changes(tenant, vec![event]),
        )
        .await
        .unwrap();
    // A later analyst event for another finding proves the consumer has passed ours.
    let (other, other_key) = ticketed(&env, "LATER").await;
    env.findings()
        .set_finding_status(req(
            &env.a.analyst,
            pb::SetFindingStatusRequest {
                id: other,
                status: "false_positive".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let sim = env.sim.control();
    eventually("the later push", || async {
        sim.record("incident", &other_key).await.unwrap()["state"] == "6"
    })
    .await;
    let record = sim.record("incident", &key).await.unwrap();
    assert_eq!(
        record["state"], "1",
        "the vendor-caused close was not echoed: {record:?}"
    );
}
