//! The Tickets workbench query: filters combine, paging visits every row exactly once while rows
//! change, and another tenant sees nothing.

use std::collections::HashSet;

use lockstep_domain::{
    ExternalId, FindingStatus, IntegrationId, ScannerKey, Severity, SyncChannel, TenantId,
    TicketKey, TicketLinkId, Vendor,
};
use lockstep_store::{LiveTicket, PageRequest, Store, WorkbenchFilter, WorkbenchRow};

use crate::helpers::{fixture, incident, integration, new_finding, snapshot};

/// A live link of a new finding: `n` picks the sys_id and key, `severity` and `state` the rest.
async fn linked(
    store: &Store,
    tenant: TenantId,
    integration: IntegrationId,
    n: u32,
    severity: Severity,
    title: &str,
    vendor_state: &str,
) -> TicketLinkId {
    let mut finding = new_finding(&format!("scan-{n}"));
    finding.severity = severity;
    finding.title = title.to_owned();
    finding.scanner_key = ScannerKey::parse(&format!("scan-{integration}-{n}")).unwrap();
    let id = store
        .findings()
        .import(tenant, &[finding])
        .await
        .unwrap()
        .rows[0]
        .id;
    let pending = store
        .links()
        .insert_pending(tenant, id, integration, &incident())
        .await
        .unwrap();
    let live = store
        .links()
        .mark_live(
            tenant,
            pending.id,
            &LiveTicket {
                external_id: ExternalId::parse(&format!("{n:032x}")).unwrap(),
                ticket_key: TicketKey::parse(Vendor::ServiceNow, &format!("INC{:07}", n)).unwrap(),
                url: None,
                snapshot: Some(snapshot(vendor_state, 0, 0)),
                channel: SyncChannel::Api,
            },
        )
        .await
        .unwrap();
    live.id
}

async fn all(store: &Store, tenant: TenantId, filter: &WorkbenchFilter) -> Vec<WorkbenchRow> {
    let mut rows = Vec::new();
    let mut page = PageRequest::first(200);
    loop {
        let got = store.workbench().list(tenant, filter, page).await.unwrap();
        rows.extend(got.items);
        match got.next {
            Some(next) => page = PageRequest::after(200, next),
            None => return rows,
        }
    }
}

fn keys(rows: &[WorkbenchRow]) -> Vec<String> {
    let mut k: Vec<_> = rows
        .iter()
        .map(|r| r.ticket_key.as_str().to_owned())
        .collect();
    k.sort();
    k
}

#[tokio::test]
async fn filters_combine_with_and_and_values_with_or() {
    let fx = fixture().await;
    let store = fx.store();
    let sn1 = integration(store, fx.tenant, "sn-1").await.id;
    let sn2 = integration(store, fx.tenant, "sn-2").await.id;
    let l1 = linked(
        store,
        fx.tenant,
        sn1,
        1,
        Severity::Critical,
        "OpenSSL heartbleed",
        "1",
    )
    .await;
    linked(store, fx.tenant, sn1, 2, Severity::High, "Log4Shell", "2").await;
    linked(
        store,
        fx.tenant,
        sn2,
        3,
        Severity::Critical,
        "Log4Shell again",
        "6",
    )
    .await;
    let l4 = linked(
        store,
        fx.tenant,
        sn2,
        4,
        Severity::Low,
        "Weak cipher 100%_off",
        "2",
    )
    .await;
    store
        .links()
        .update_sla(fx.tenant, l1, None, true)
        .await
        .unwrap();
    store
        .links()
        .update_sla(fx.tenant, l4, None, true)
        .await
        .unwrap();
    // A pending link is not a ticket yet; it is not listed.
    let f = store
        .findings()
        .import(fx.tenant, &[new_finding("pending")])
        .await
        .unwrap()
        .rows[0]
        .id;
    store
        .links()
        .insert_pending(fx.tenant, f, sn1, &incident())
        .await
        .unwrap();

    let by = |f: WorkbenchFilter| async move { keys(&all(store, fx.tenant, &f).await) };
    assert_eq!(by(WorkbenchFilter::default()).await.len(), 4);
    assert_eq!(
        by(WorkbenchFilter {
            integrations: vec![sn2],
            ..Default::default()
        })
        .await,
        ["INC0000003", "INC0000004"]
    );
    assert_eq!(
        by(WorkbenchFilter {
            integrations: vec![sn1, sn2],
            severities: vec![Severity::Critical],
            ..Default::default()
        })
        .await,
        ["INC0000001", "INC0000003"]
    );
    assert_eq!(
        by(WorkbenchFilter {
            severities: vec![Severity::Critical, Severity::Low],
            sla_breached: Some(true),
            ..Default::default()
        })
        .await,
        ["INC0000001", "INC0000004"]
    );
    assert_eq!(
        by(WorkbenchFilter {
            sla_breached: Some(false),
            ..Default::default()
        })
        .await,
        ["INC0000002", "INC0000003"]
    );
    assert_eq!(
        by(WorkbenchFilter {
            vendor_states: vec!["2".into()],
            integrations: vec![sn1],
            ..Default::default()
        })
        .await,
        ["INC0000002"]
    );
    assert_eq!(
        by(WorkbenchFilter {
            text: Some("log4shell".into()),
            ..Default::default()
        })
        .await,
        ["INC0000002", "INC0000003"]
    );
    assert_eq!(
        by(WorkbenchFilter {
            text: Some("inc0000004".into()),
            ..Default::default()
        })
        .await,
        ["INC0000004"]
    );
    // % and _ are literal, not wildcards.
    assert_eq!(
        by(WorkbenchFilter {
            text: Some("100%_".into()),
            ..Default::default()
        })
        .await,
        ["INC0000004"]
    );
    assert!(
        by(WorkbenchFilter {
            text: Some("%".into()),
            severities: vec![Severity::High],
            ..Default::default()
        })
        .await
        .is_empty()
    );
    // Finding status.
    let row3 = all(
        store,
        fx.tenant,
        &WorkbenchFilter {
            integrations: vec![sn2],
            severities: vec![Severity::Critical],
            ..Default::default()
        },
    )
    .await;
    store
        .findings()
        .set_status_from_vendor(fx.tenant, row3[0].finding_id, FindingStatus::ReTest, None)
        .await
        .unwrap();
    assert_eq!(
        by(WorkbenchFilter {
            statuses: vec![FindingStatus::ReTest],
            ..Default::default()
        })
        .await,
        ["INC0000003"]
    );
    assert_eq!(
        by(WorkbenchFilter {
            statuses: vec![FindingStatus::Open, FindingStatus::ReTest],
            severities: vec![Severity::Critical],
            ..Default::default()
        })
        .await,
        ["INC0000001", "INC0000003"]
    );

    // Rows carry what the workbench shows: deep link, ids, SLA, last sync.
    let row = &all(
        store,
        fx.tenant,
        &WorkbenchFilter {
            text: Some("heartbleed".into()),
            ..Default::default()
        },
    )
    .await[0];
    assert_eq!(row.link_id, l1);
    assert!(row.sla_breached);
    assert_eq!(row.last_sync_channel, Some(SyncChannel::Api));
    assert!(row.last_synced_at.is_some());
    assert_eq!(row.integration_name, "sn-1");
    // No URL stored for this link: the row carries what the vendor's spec builds the deep link
    // from (the api does it, with the connector's one shape).
    assert_eq!(row.url, None);
    assert_eq!(
        row.base_url.trim_end_matches('/'),
        "https://acme.service-now.com"
    );
    assert_eq!(row.external_id.as_str(), format!("{:032x}", 1));
}

#[tokio::test]
async fn paging_visits_every_row_exactly_once_while_rows_change() {
    let fx = fixture().await;
    let store = fx.store();
    let sn = integration(store, fx.tenant, "sn").await.id;
    let mut ids = Vec::new();
    for n in 0..25 {
        ids.push(
            linked(
                store,
                fx.tenant,
                sn,
                n,
                Severity::High,
                &format!("F{n}"),
                "1",
            )
            .await,
        );
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::first(7);
    let mut pages = 0;
    loop {
        let got = store
            .workbench()
            .list(fx.tenant, &WorkbenchFilter::default(), page)
            .await
            .unwrap();
        assert!(got.items.len() <= 7);
        seen.extend(got.items.iter().map(|r| r.link_id));
        pages += 1;
        // Between pages: every row's sync state and SLA change, and new links appear.
        for id in &ids {
            store
                .links()
                .apply_vendor_state(
                    fx.tenant,
                    *id,
                    &snapshot("2", pages, pages),
                    SyncChannel::Poll,
                )
                .await
                .unwrap();
            store
                .links()
                .update_sla(fx.tenant, *id, None, pages % 2 == 0)
                .await
                .unwrap();
        }
        linked(
            store,
            fx.tenant,
            sn,
            100 + pages as u32,
            Severity::Low,
            "new",
            "1",
        )
        .await;
        match got.next {
            Some(next) => page = PageRequest::after(7, next),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a row was visited twice");
    assert_eq!(
        unique,
        ids.iter().collect::<HashSet<_>>(),
        "every row present at the start was visited"
    );
    // The page size is capped at 200.
    let big = store
        .workbench()
        .list(
            fx.tenant,
            &WorkbenchFilter::default(),
            PageRequest::first(10_000),
        )
        .await
        .unwrap();
    assert_eq!(big.items.len(), 29);
}

#[tokio::test]
async fn another_tenant_sees_nothing_of_the_first() {
    let fx = fixture().await;
    let store = fx.store();
    let sn = integration(store, fx.tenant, "sn").await.id;
    linked(
        store,
        fx.tenant,
        sn,
        1,
        Severity::Critical,
        "Secret finding",
        "1",
    )
    .await;
    let theirs = integration(store, fx.other, "their sn").await.id;
    linked(
        store,
        fx.other,
        theirs,
        2,
        Severity::Low,
        "Their finding",
        "1",
    )
    .await;

    let mine = all(store, fx.tenant, &WorkbenchFilter::default()).await;
    assert_eq!(keys(&mine), ["INC0000001"]);
    let other = all(store, fx.other, &WorkbenchFilter::default()).await;
    assert_eq!(keys(&other), ["INC0000002"]);
    // Naming the first tenant's integration or its text does not reach across.
    for filter in [
        WorkbenchFilter {
            integrations: vec![sn],
            ..Default::default()
        },
        WorkbenchFilter {
            text: Some("Secret".into()),
            ..Default::default()
        },
    ] {
        assert!(all(store, fx.other, &filter).await.is_empty());
    }
}
