//! Tenant isolation of every TicketService RPC: tenant A's token cannot read, preview, ticket or
//! check tenant B's findings or use B's integration — not even by slipping B's finding ids into
//! a bulk request.

use lockstep_proto::v1 as pb;
use tonic::Code;

use crate::support::{Env, code, req, spec};

#[tokio::test]
async fn every_ticket_rpc_is_scoped_to_the_callers_tenant() {
    let env = Env::start().await;
    let a_sn = env.integration(&env.a.admin, "a-sn").await;
    let b_sn = env.integration(&env.b.admin, "b-sn").await;
    let a_ids = env.import(&env.a.analyst, "A", 2).await;
    let b_ids = env.import(&env.b.analyst, "B", 2).await;
    let a = &env.a.admin;

    // B's integration is not A's to use, in any RPC.
    let preview = pb::PreviewTicketsRequest {
        spec: Some(spec(&b_sn)),
        finding_ids: a_ids.clone(),
    };
    assert_eq!(
        code(env.tickets().preview_tickets(req(a, preview)).await),
        Code::NotFound
    );
    let create = pb::CreateTicketRequest {
        request_id: String::new(),
        finding_id: a_ids[0].clone(),
        spec: Some(spec(&b_sn)),
    };
    assert_eq!(
        code(env.tickets().create_ticket(req(a, create)).await),
        Code::NotFound
    );
    let bulk = pb::BulkCreateTicketsRequest {
        request_id: String::new(),
        finding_ids: a_ids.clone(),
        spec: Some(spec(&b_sn)),
    };
    assert_eq!(
        code(env.tickets().bulk_create_tickets(req(a, bulk)).await),
        Code::NotFound
    );

    // B's findings are invisible: preview shows nothing of them, create refuses them.
    let preview = pb::PreviewTicketsRequest {
        spec: Some(spec(&a_sn)),
        finding_ids: vec![b_ids[0].clone()],
    };
    let out = env
        .tickets()
        .preview_tickets(req(a, preview))
        .await
        .unwrap()
        .into_inner();
    assert!(
        out.previews[0].fields.is_empty() && out.previews[0].error.contains("not found"),
        "{out:?}"
    );
    let create = pb::CreateTicketRequest {
        request_id: String::new(),
        finding_id: b_ids[0].clone(),
        spec: Some(spec(&a_sn)),
    };
    assert_eq!(
        code(env.tickets().create_ticket(req(a, create)).await),
        Code::NotFound
    );

    // B's ids slipped into A's bulk request: A's are ticketed, B's are NOT_FOUND and never sent.
    let mixed = vec![
        a_ids[0].clone(),
        b_ids[0].clone(),
        a_ids[1].clone(),
        b_ids[1].clone(),
    ];
    let bulk = pb::BulkCreateTicketsRequest {
        request_id: String::new(),
        finding_ids: mixed.clone(),
        spec: Some(spec(&a_sn)),
    };
    let out = env
        .tickets()
        .bulk_create_tickets(req(a, bulk))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((out.created, out.failed), (2, 2));
    assert_eq!(out.results[1].error_code, "NOT_FOUND");
    assert_eq!(out.results[3].error_code, "NOT_FOUND");
    for b in &b_ids {
        assert_eq!(
            env.incidents_for(b).await,
            0,
            "no ticket was made for B's finding"
        );
    }

    // B tickets its own finding; A's check sees nothing of it.
    env.tickets()
        .create_ticket(req(
            &env.b.analyst,
            pb::CreateTicketRequest {
                request_id: String::new(),
                finding_id: b_ids[0].clone(),
                spec: Some(spec(&b_sn)),
            },
        ))
        .await
        .unwrap();
    let check = pb::CheckTicketLinksRequest {
        finding_ids: mixed,
        integration_id: String::new(),
    };
    let out = env
        .tickets()
        .check_ticket_links(req(a, check))
        .await
        .unwrap()
        .into_inner();
    assert!(
        out.findings[1].not_found && out.findings[1].links.is_empty() && !out.findings[1].linked
    );
    assert!(out.findings[0].linked);
    // And B still sees its own link.
    let check = pb::CheckTicketLinksRequest {
        finding_ids: vec![b_ids[0].clone()],
        integration_id: b_sn.id.clone(),
    };
    let out = env
        .tickets()
        .check_ticket_links(req(&env.b.viewer, check))
        .await
        .unwrap()
        .into_inner();
    assert!(out.findings[0].linked);
}
