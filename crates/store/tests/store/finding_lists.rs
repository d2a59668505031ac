//! Reading findings back: keyset pages, filters and bulk reads.

use std::collections::HashSet;

use lockstep_domain::{FindingId, FindingStatus, Severity};
use lockstep_store::{FindingFilter, MAX_PAGE_SIZE, NewFinding, PageRequest};

use crate::helpers::{fixture, new_finding};

#[tokio::test]
async fn keyset_pagination_visits_every_row_exactly_once() {
    let fx = fixture().await;
    // Three imports, so rows share created_at within an import and differ across imports.
    let mut expected = HashSet::new();
    for batch in 0..3 {
        let rows: Vec<_> = (0..83)
            .map(|i| new_finding(&format!("b{batch}-{i}")))
            .collect();
        let outcome = fx
            .store()
            .findings()
            .import(fx.tenant, &rows)
            .await
            .unwrap();
        expected.extend(outcome.rows.iter().map(|r| r.id));
    }
    crate::helpers::findings(fx.store(), fx.other, 5).await;

    let mut seen = Vec::new();
    let mut page = PageRequest::first(17);
    loop {
        let result = fx
            .store()
            .findings()
            .list(fx.tenant, FindingFilter::default(), page)
            .await
            .unwrap();
        assert!(result.items.len() <= 17);
        seen.extend(result.items.iter().map(|f| (f.created_at, f.id)));
        match result.next {
            Some(cursor) => page = PageRequest::after(17, cursor),
            None => break,
        }
    }
    assert_eq!(seen.len(), 249, "every row once, no other tenant's rows");
    assert_eq!(
        seen.iter().map(|(_, id)| *id).collect::<HashSet<_>>(),
        expected
    );
    assert!(
        seen.windows(2)
            .all(|w| (w[0].0, w[0].1.as_uuid()) > (w[1].0, w[1].1.as_uuid())),
        "newest first"
    );

    let capped = fx
        .store()
        .findings()
        .list(
            fx.tenant,
            FindingFilter::default(),
            PageRequest::first(10_000),
        )
        .await
        .unwrap();
    assert_eq!(capped.items.len(), MAX_PAGE_SIZE as usize);
    assert!(capped.next.is_some());
}

#[tokio::test]
async fn lists_filter_and_bulk_reads_skip_unknown_ids() {
    let fx = fixture().await;
    let ids = crate::helpers::findings(fx.store(), fx.tenant, 6).await;
    fx.store()
        .findings()
        .set_status(fx.tenant, ids[0], FindingStatus::Closed, None)
        .await
        .unwrap();
    fx.store()
        .findings()
        .import(
            fx.tenant,
            &[NewFinding {
                severity: Severity::Low,
                ..new_finding("low")
            }],
        )
        .await
        .unwrap();

    let closed = FindingFilter {
        status: Some(FindingStatus::Closed),
        ..Default::default()
    };
    let page = fx
        .store()
        .findings()
        .list(fx.tenant, closed, PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![ids[0]]
    );
    let low = FindingFilter {
        severity: Some(Severity::Low),
        ..Default::default()
    };
    let page = fx
        .store()
        .findings()
        .list(fx.tenant, low, PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.next, None);

    let wanted = [ids[1], ids[2], FindingId::new()];
    let found: HashSet<_> = fx
        .store()
        .findings()
        .by_ids(fx.tenant, &wanted)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(found, HashSet::from([ids[1], ids[2]]));
    assert!(
        fx.store()
            .findings()
            .by_ids(fx.tenant, &[])
            .await
            .unwrap()
            .is_empty()
    );
}
