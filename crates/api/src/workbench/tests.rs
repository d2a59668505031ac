//! The service against a real database: filters from the request, page tokens bound to their
//! filter, 200 rows at most, every row once, tenants apart, and authentication.

use lockstep_domain::{
    ExternalId, IntegrationId, ScannerKey, Severity, SyncChannel, TenantId, TicketKey,
    TicketTarget, Vendor,
};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::workbench_service_server::WorkbenchService;
use lockstep_store::{
    AuthKind, IntegrationSettings, LiveTicket, NewFinding, NewIntegration, Role, Store,
};
use lockstep_testkit::TestDb;
use time::OffsetDateTime;
use tonic::{Code, Request};

use super::*;

async fn integration(store: &Store, tenant: TenantId, name: &str) -> IntegrationId {
    let id = IntegrationId::new();
    store
        .integrations()
        .create(
            tenant,
            &NewIntegration {
                id,
                vendor: Vendor::ServiceNow,
                name: name.into(),
                base_url: "https://acme.service-now.com".into(),
                auth_kind: AuthKind::Basic,
                sealed_credentials: lockstep_crypto::Sealed {
                    key_id: "k".into(),
                    nonce: [1; 12],
                    ciphertext: vec![1; 40],
                },
                sealed_webhook_secret: None,
                settings: IntegrationSettings::default(),
            },
        )
        .await
        .unwrap();
    id
}

async fn linked(
    store: &Store,
    tenant: TenantId,
    integration: IntegrationId,
    n: u32,
    severity: Severity,
) {
    let finding = store
        .findings()
        .import(
            tenant,
            &[NewFinding {
                scanner_key: ScannerKey::parse(&format!("k-{integration}-{n}")).unwrap(),
                title: format!("Finding {n}"),
                description: String::new(),
                severity,
                asset: None,
                cve: None,
                cwe: None,
                scanner: "nessus".into(),
                seen_at: OffsetDateTime::now_utc(),
            }],
        )
        .await
        .unwrap()
        .rows[0]
        .id;
    let target = TicketTarget::parse(Vendor::ServiceNow, "incident").unwrap();
    let pending = store
        .links()
        .insert_pending(tenant, finding, integration, &target)
        .await
        .unwrap();
    store
        .links()
        .mark_live(
            tenant,
            pending.id,
            &LiveTicket {
                external_id: ExternalId::parse(&format!("{n:032x}")).unwrap(),
                ticket_key: TicketKey::parse(Vendor::ServiceNow, &format!("INC{n:07}")).unwrap(),
                url: None,
                snapshot: None,
                channel: SyncChannel::Api,
            },
        )
        .await
        .unwrap();
}

async fn token(store: &Store, tenant: TenantId, role: Role) -> String {
    let token = format!("lst_{}", uuid::Uuid::new_v4().simple());
    store
        .api_tokens()
        .create(tenant, "t", &lockstep_crypto::hash_token(&token), role)
        .await
        .unwrap();
    token
}

fn authed(req: pb::ListLinkedTicketsRequest, token: &str) -> Request<pb::ListLinkedTicketsRequest> {
    let mut r = Request::new(req);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

#[tokio::test]
async fn lists_filter_and_page_within_the_callers_tenant() {
    let db = TestDb::new().await;
    let store = db.store();
    let tenant = store.tenants().create("Acme").await.unwrap().id;
    let other = store.tenants().create("Globex").await.unwrap().id;
    let sn = integration(store, tenant, "sn").await;
    for n in 0..205 {
        let severity = if n % 5 == 0 {
            Severity::Critical
        } else {
            Severity::Low
        };
        linked(store, tenant, sn, n, severity).await;
    }
    let theirs = integration(store, other, "theirs").await;
    linked(store, other, theirs, 999, Severity::Critical).await;
    let registry = lockstep_connectors::Registry::builtin();
    let api = WorkbenchApi {
        store: store.clone(),
        registry: registry.clone(),
        auth: Authenticator::new(store.clone()),
    };
    let viewer = token(store, tenant, Role::Viewer).await;

    // Pages of at most 200 rows, each row once.
    let mut seen = std::collections::HashSet::new();
    let mut req = pb::ListLinkedTicketsRequest {
        page_size: 1000,
        ..Default::default()
    };
    let mut pages = 0;
    loop {
        let page = api
            .list_linked_tickets(authed(req.clone(), &viewer))
            .await
            .unwrap()
            .into_inner();
        assert!(page.rows.len() <= 200);
        pages += 1;
        for r in &page.rows {
            assert!(seen.insert(r.link_id.clone()), "row twice");
            assert_eq!(r.integration_id, sn.to_string());
            // Links without a stored URL get the one deep link their connector's spec builds.
            let ticket = lockstep_domain::TicketRef::parse(
                Vendor::ServiceNow,
                &r.table_or_project,
                &r.external_id,
                &r.ticket_key,
            )
            .unwrap();
            let expected = registry
                .spec(Vendor::ServiceNow)
                .unwrap()
                .deep_link("https://acme.service-now.com", &ticket)
                .unwrap();
            assert!(expected.starts_with("https://acme.service-now.com/"));
            assert_eq!(r.deep_link, expected);
            assert_eq!(r.last_sync_channel, "api");
        }
        if page.next_page_token.is_empty() {
            break;
        }
        req.page_token = page.next_page_token;
    }
    assert_eq!((pages, seen.len()), (2, 205));

    // Filters from the request.
    let critical = pb::ListLinkedTicketsRequest {
        filter: Some(pb::WorkbenchFilter {
            severities: vec!["critical".into()],
            integration_ids: vec![sn.to_string()],
            ..Default::default()
        }),
        page_size: 10,
        ..Default::default()
    };
    let page = api
        .list_linked_tickets(authed(critical.clone(), &viewer))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.rows.len(), 10);
    assert!(page.rows.iter().all(|r| r.severity == "critical"));
    // A token is bound to its filter.
    let mut replay = critical.clone();
    replay.filter.as_mut().unwrap().severities = vec!["low".into()];
    replay.page_token = page.next_page_token.clone();
    let err = api
        .list_linked_tickets(authed(replay, &viewer))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // Bad values name the field.
    let bad = pb::ListLinkedTicketsRequest {
        filter: Some(pb::WorkbenchFilter {
            finding_statuses: vec!["done".into()],
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = api
        .list_linked_tickets(authed(bad, &viewer))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("finding_statuses"),
        "{}",
        err.message()
    );

    // The other tenant sees only its own row, even naming our integration.
    let outsider = token(store, other, Role::Admin).await;
    let theirs_page = api
        .list_linked_tickets(authed(pb::ListLinkedTicketsRequest::default(), &outsider))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(theirs_page.rows.len(), 1);
    assert_eq!(theirs_page.rows[0].ticket_key, "INC0000999");
    let probing = api
        .list_linked_tickets(authed(critical, &outsider))
        .await
        .unwrap()
        .into_inner();
    assert!(probing.rows.is_empty());

    // No token, no rows.
    let err = api
        .list_linked_tickets(Request::new(pb::ListLinkedTicketsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}
