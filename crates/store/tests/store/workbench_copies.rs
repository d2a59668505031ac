//! The link's copies of its finding's severity and searchable text (what the workbench's filter
//! indexes walk) stay exact through re-imports and status changes, and every filter combination
//! lists the rows the column-by-column definition of the filters gives.

use lockstep_domain::{
    Cve, ExternalId, FindingId, FindingStatus, IntegrationId, Severity, SyncChannel, TenantId,
    TicketKey, TicketLinkId, Vendor,
};
use lockstep_store::{LiveTicket, NewFinding, PageRequest, Store, WorkbenchFilter, WorkbenchRow};
use sqlx::PgPool;

use crate::helpers::{fixture, incident, integration, new_finding, snapshot};

const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];
const WORDS: [&str; 4] = ["OpenSSL", "nginx", "log4j", "zlib"];

/// Finding `n` as the scanner reports it in import `round` (later rounds change severity, title,
/// asset and CVE of some findings).
fn scanned(n: usize, round: usize) -> NewFinding {
    let mut f = new_finding(&format!("scan-{n}"));
    let shift = if n.is_multiple_of(3) { round } else { 0 };
    f.severity = SEVERITIES[(n + shift) % SEVERITIES.len()];
    f.title = format!("{} issue {n}", WORDS[(n + shift) % WORDS.len()]);
    f.asset = (!n.is_multiple_of(4)).then(|| format!("host-{}", (n + shift) % 5));
    f.cve = (n.is_multiple_of(2))
        .then(|| Cve::parse(&format!("CVE-2026-{:04}", 1000 + n + shift)).unwrap());
    f
}

/// Imports round `round` of `count` findings; returns their ids in order.
async fn import(store: &Store, tenant: TenantId, count: usize, round: usize) -> Vec<FindingId> {
    let batch: Vec<_> = (0..count).map(|n| scanned(n, round)).collect();
    let out = store.findings().import(tenant, &batch).await.unwrap();
    // The outcome's rows come in no particular order.
    (0..count)
        .map(|n| {
            let key = batch[n].scanner_key.as_str();
            out.rows
                .iter()
                .find(|r| r.scanner_key.as_str() == key)
                .unwrap()
                .id
        })
        .collect()
}

async fn link(
    store: &Store,
    tenant: TenantId,
    integration: IntegrationId,
    finding: FindingId,
    n: usize,
) -> TicketLinkId {
    let pending = store
        .links()
        .insert_pending(tenant, finding, integration, &incident())
        .await
        .unwrap();
    let ticket = LiveTicket {
        external_id: ExternalId::parse(&format!("{n:032x}")).unwrap(),
        ticket_key: TicketKey::parse(Vendor::ServiceNow, &format!("INC{n:07}")).unwrap(),
        url: None,
        snapshot: Some(snapshot(["1", "2", "6"][n % 3], 0, 0)),
        channel: SyncChannel::Api,
    };
    let live = store
        .links()
        .mark_live(tenant, pending.id, &ticket)
        .await
        .unwrap();
    if n % 4 == 1 {
        store
            .links()
            .update_sla(tenant, live.id, None, true)
            .await
            .unwrap();
    }
    live.id
}

/// Links whose copies differ from what their finding says now.
async fn stale_copies(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM ticket_links l
           JOIN findings f ON f.tenant_id = l.tenant_id AND f.id = l.finding_id
          WHERE l.severity <> f.severity
             OR l.search <> ticket_link_search_text(f.title, f.scanner_key, f.asset, f.cve,
                                                    l.ticket_key, l.external_id)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn all(store: &Store, tenant: TenantId, filter: &WorkbenchFilter) -> Vec<WorkbenchRow> {
    let mut rows = Vec::new();
    let mut page = PageRequest::first(7);
    loop {
        let got = store.workbench().list(tenant, filter, page).await.unwrap();
        rows.extend(got.items);
        match got.next {
            Some(next) => page = PageRequest::after(7, next),
            None => return rows,
        }
    }
}

/// The filters as defined column by column on the finding and the link (what the query did
/// before the copies existed), applied to the unfiltered rows. `cve` is the finding's CVE, which
/// the row does not carry.
fn expected(
    rows: &[WorkbenchRow],
    cve: impl Fn(FindingId) -> Option<String>,
    f: &WorkbenchFilter,
) -> Vec<TicketLinkId> {
    let contains = |hay: &str, needle: &str| hay.to_lowercase().contains(&needle.to_lowercase());
    rows.iter()
        .filter(|r| f.severities.is_empty() || f.severities.contains(&r.severity))
        .filter(|r| f.statuses.is_empty() || f.statuses.contains(&r.finding_status))
        .filter(|r| f.integrations.is_empty() || f.integrations.contains(&r.integration_id))
        .filter(|r| f.sla_breached.is_none_or(|b| r.sla_breached == b))
        .filter(|r| {
            f.text.as_deref().is_none_or(|t| {
                [
                    Some(r.finding_title.clone()),
                    Some(r.scanner_key.clone()),
                    r.asset.clone(),
                    cve(r.finding_id),
                    Some(r.ticket_key.as_str().to_owned()),
                    Some(r.external_id.as_str().to_owned()),
                ]
                .into_iter()
                .flatten()
                .any(|c| contains(&c, t))
            })
        })
        .map(|r| r.link_id)
        .collect()
}

/// Every combination of severity, breach, text, status and integration filters lists exactly the
/// rows (in page order) the column-by-column definition gives.
async fn check_every_filter(
    store: &Store,
    tenant: TenantId,
    integrations: &[IntegrationId],
    round: usize,
    ids: &[FindingId],
) {
    let everything = all(store, tenant, &WorkbenchFilter::default()).await;
    let cve = |id: FindingId| {
        let n = ids.iter().position(|f| *f == id).unwrap();
        scanned(n, round).cve.map(|c| c.as_str().to_owned())
    };
    let severity_sets = [
        vec![],
        vec![Severity::Critical],
        vec![Severity::High, Severity::Low],
    ];
    let texts = [
        None,
        Some("openssl"),
        Some("INC00000"),
        Some("cve-2026-10"),
        Some("HOST-3"),
        Some("absent"),
    ];
    let status_sets = [vec![], vec![FindingStatus::ReTest]];
    let integration_sets = [vec![], vec![integrations[1]]];
    let mut nonempty = 0;
    for severities in &severity_sets {
        for sla_breached in [None, Some(true), Some(false)] {
            for text in texts {
                for statuses in &status_sets {
                    for chosen in &integration_sets {
                        let filter = WorkbenchFilter {
                            severities: severities.clone(),
                            sla_breached,
                            text: text.map(str::to_owned),
                            statuses: statuses.clone(),
                            integrations: chosen.clone(),
                            ..Default::default()
                        };
                        let want = expected(&everything, cve, &filter);
                        let got: Vec<_> = all(store, tenant, &filter)
                            .await
                            .iter()
                            .map(|r| r.link_id)
                            .collect();
                        assert_eq!(got, want, "round {round}, {filter:?}");
                        nonempty += usize::from(!want.is_empty());
                    }
                }
            }
        }
    }
    // The combinations are not all vacuous.
    assert!(nonempty > 40, "only {nonempty} combinations list any row");
}

#[tokio::test]
async fn copies_stay_exact_and_filters_list_the_same_rows() {
    let fx = fixture().await;
    let store = fx.store();
    let sn = [
        integration(store, fx.tenant, "sn-1").await.id,
        integration(store, fx.tenant, "sn-2").await.id,
    ];
    const COUNT: usize = 40;
    let ids = import(store, fx.tenant, COUNT, 0).await;
    for (n, id) in ids.iter().enumerate() {
        link(store, fx.tenant, sn[n % 2], *id, n).await;
    }
    assert_eq!(stale_copies(fx.db.pool()).await, 0);
    check_every_filter(store, fx.tenant, &sn, 0, &ids).await;

    // A re-import changes severity, title, asset and CVE of every third finding.
    let again = import(store, fx.tenant, COUNT, 1).await;
    assert_eq!(again, ids, "the same findings, updated");
    assert_eq!(
        (scanned(3, 0).severity, scanned(3, 1).severity),
        (Severity::Low, Severity::Info),
        "scan-3 moved"
    );
    assert_eq!(stale_copies(fx.db.pool()).await, 0);
    let scan3 = ids[3];
    let with = |severity: Severity, text: &str| {
        let filter = WorkbenchFilter {
            text: Some(text.to_owned()),
            severities: vec![severity],
            ..Default::default()
        };
        async move {
            let rows = all(store, fx.tenant, &filter).await;
            rows.iter().any(|r| r.finding_id == scan3)
        }
    };
    assert!(with(Severity::Info, "openssl issue 3").await);
    assert!(!with(Severity::Low, "issue 3").await, "no longer low");
    assert!(!with(Severity::Info, "log4j").await, "no longer log4j");

    // Status changes, analyst's and vendor's, touch neither copy and filter on the finding.
    for (n, id) in ids.iter().enumerate().filter(|(n, _)| n.is_multiple_of(5)) {
        let store = store.findings();
        if n.is_multiple_of(2) {
            store
                .set_status(fx.tenant, *id, FindingStatus::ReTest, None)
                .await
                .unwrap();
        } else {
            store
                .set_status_from_vendor(fx.tenant, *id, FindingStatus::ReTest, None)
                .await
                .unwrap();
        }
    }
    assert_eq!(stale_copies(fx.db.pool()).await, 0);
    check_every_filter(store, fx.tenant, &sn, 1, &ids).await;
}

#[tokio::test]
async fn copies_cannot_be_written_directly() {
    let fx = fixture().await;
    let store = fx.store();
    let sn = integration(store, fx.tenant, "sn").await.id;
    let ids = import(store, fx.tenant, 1, 0).await;
    link(store, fx.tenant, sn, ids[0], 0).await;
    // A statement writing the copies gets them recomputed from the finding.
    sqlx::query("UPDATE ticket_links SET severity = 'info', search = 'forged'")
        .execute(fx.db.pool())
        .await
        .unwrap();
    assert_eq!(stale_copies(fx.db.pool()).await, 0);
}

#[tokio::test]
async fn a_search_text_containing_the_separator_matches_one_column_at_a_time() {
    let fx = fixture().await;
    let store = fx.store();
    let sn = integration(store, fx.tenant, "sn").await.id;
    let ids = import(store, fx.tenant, 1, 0).await;
    link(store, fx.tenant, sn, ids[0], 0).await;
    // The joined text is "<title>\u{1f}scan-0\u{1f}...": the title's end and the scanner key's
    // start, with the separator between, are in no single column.
    let by = |text: &str| {
        let filter = WorkbenchFilter {
            text: Some(text.to_owned()),
            ..Default::default()
        };
        async move { all(store, fx.tenant, &filter).await.len() }
    };
    assert_eq!(by("issue 0").await, 1);
    assert_eq!(by("scan-0").await, 1);
    assert_eq!(by("issue 0\u{1f}scan").await, 0);
}
