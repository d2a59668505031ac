use std::collections::HashSet;

use lockstep_domain::{FindingId, FindingStatus, Severity};
use lockstep_store::{FindingFilter, NewFinding, PageRequest, StoreError};
use time::macros::datetime;

use crate::helpers::{fixture, new_finding};

#[tokio::test]
async fn import_creates_then_updates_and_never_resets_status() {
    let fx = fixture().await;
    let findings = || fx.store().findings();
    let first = findings()
        .import(fx.tenant, &[new_finding("a"), new_finding("b")])
        .await
        .unwrap();
    assert_eq!((first.created, first.updated), (2, 0));
    assert!(first.rows.iter().all(|r| r.created));
    let a = first
        .rows
        .iter()
        .find(|r| r.scanner_key.as_str() == "a")
        .unwrap()
        .id;

    findings()
        .set_status(fx.tenant, a, FindingStatus::InProgress, None)
        .await
        .unwrap();

    let rescan = NewFinding {
        title: "OpenSSL 3.0.1 is vulnerable".to_owned(),
        severity: Severity::Critical,
        seen_at: datetime!(2026-11-20 08:00 UTC),
        ..new_finding("a")
    };
    let earlier = NewFinding {
        seen_at: datetime!(2026-10-01 08:00 UTC),
        ..new_finding("b")
    };
    let second = findings()
        .import(fx.tenant, &[rescan, earlier, new_finding("c")])
        .await
        .unwrap();
    assert_eq!((second.created, second.updated), (1, 2));
    assert_eq!(
        second
            .rows
            .iter()
            .find(|r| r.scanner_key.as_str() == "a")
            .unwrap()
            .id,
        a,
        "same row, same id"
    );

    let a = findings().get(fx.tenant, a).await.unwrap();
    assert_eq!(
        a.status,
        FindingStatus::InProgress,
        "a re-import never resets the status"
    );
    assert_eq!(a.title, "OpenSSL 3.0.1 is vulnerable");
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.first_seen_at, datetime!(2026-11-01 08:00 UTC));
    assert_eq!(a.last_seen_at, datetime!(2026-11-20 08:00 UTC));

    let b_id = second
        .rows
        .iter()
        .find(|r| r.scanner_key.as_str() == "b")
        .unwrap()
        .id;
    let b = findings().get(fx.tenant, b_id).await.unwrap();
    assert_eq!(
        b.first_seen_at,
        datetime!(2026-10-01 08:00 UTC),
        "first seen moves back"
    );
    assert_eq!(
        b.last_seen_at,
        datetime!(2026-11-01 08:00 UTC),
        "last seen never moves back"
    );
    assert_eq!(b.status, FindingStatus::Open);
}

#[tokio::test]
async fn a_key_repeated_in_one_import_counts_once_and_the_last_wins() {
    let fx = fixture().await;
    let batch = [
        new_finding("dup"),
        NewFinding {
            title: "second".to_owned(),
            ..new_finding("dup")
        },
    ];
    let outcome = fx
        .store()
        .findings()
        .import(fx.tenant, &batch)
        .await
        .unwrap();
    assert_eq!(
        (outcome.created, outcome.updated, outcome.rows.len()),
        (1, 0, 1)
    );
    let stored = fx
        .store()
        .findings()
        .get(fx.tenant, outcome.rows[0].id)
        .await
        .unwrap();
    assert_eq!(stored.title, "second");

    let empty = fx.store().findings().import(fx.tenant, &[]).await.unwrap();
    assert_eq!((empty.created, empty.updated), (0, 0));
}

#[tokio::test]
async fn every_domain_severity_and_status_is_accepted_by_the_schema() {
    let fx = fixture().await;
    let batch: Vec<_> = Severity::ALL
        .iter()
        .map(|s| NewFinding {
            severity: *s,
            ..new_finding(s.as_str())
        })
        .collect();
    let outcome = fx
        .store()
        .findings()
        .import(fx.tenant, &batch)
        .await
        .unwrap();
    let id = outcome.rows[0].id;
    for status in FindingStatus::ALL {
        let change = fx
            .store()
            .findings()
            .set_status(fx.tenant, id, *status, None)
            .await
            .unwrap();
        assert_eq!(change.finding.status, *status);
    }
    let stored: HashSet<_> = fx
        .store()
        .findings()
        .list(fx.tenant, FindingFilter::default(), PageRequest::first(50))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|f| f.severity)
        .collect();
    assert_eq!(stored.len(), Severity::ALL.len());
}

#[tokio::test]
async fn bad_input_is_reported_as_invalid() {
    let fx = fixture().await;
    let err = fx
        .store()
        .findings()
        .import(
            fx.tenant,
            &[NewFinding {
                title: " ".to_owned(),
                ..new_finding("x")
            }],
        )
        .await;
    assert!(matches!(err, Err(StoreError::Invalid { .. })), "{err:?}");
    let err = fx
        .store()
        .findings()
        .import(lockstep_domain::TenantId::new(), &[new_finding("x")])
        .await
        .unwrap_err();
    assert_eq!(err.to_string().split(' ').next(), Some("tenant"), "{err}");
}

#[tokio::test]
async fn set_status_compares_and_sets() {
    let fx = fixture().await;
    let id = crate::helpers::finding(fx.store(), fx.tenant, "k").await.id;
    let findings = || fx.store().findings();

    let change = findings()
        .set_status(
            fx.tenant,
            id,
            FindingStatus::ReTest,
            Some(FindingStatus::Open),
        )
        .await
        .unwrap();
    assert_eq!(change.previous, FindingStatus::Open);
    assert_eq!(change.finding.status, FindingStatus::ReTest);
    assert!(change.changed());

    let err = findings()
        .set_status(
            fx.tenant,
            id,
            FindingStatus::Closed,
            Some(FindingStatus::Open),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!("finding {id} is re_test, not open; its status was not changed")
    );
    assert_eq!(
        findings().get(fx.tenant, id).await.unwrap().status,
        FindingStatus::ReTest
    );

    let same = findings()
        .set_status_from_vendor(fx.tenant, id, FindingStatus::ReTest, None)
        .await
        .unwrap();
    assert!(!same.changed());
    assert_eq!(
        same.finding.updated_at, change.finding.updated_at,
        "a no-op does not touch updated_at"
    );

    let missing = FindingId::new();
    let err = findings()
        .set_status(fx.tenant, missing, FindingStatus::Closed, None)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), format!("finding {missing} not found"));
}

#[tokio::test]
async fn only_our_own_changes_move_the_local_status() {
    let fx = fixture().await;
    let imported = crate::helpers::finding(fx.store(), fx.tenant, "k").await;
    assert_eq!(
        (imported.status, imported.local.status),
        (FindingStatus::Open, FindingStatus::Open)
    );
    let findings = || fx.store().findings();

    let analyst = findings()
        .set_status(fx.tenant, imported.id, FindingStatus::InProgress, None)
        .await
        .unwrap();
    assert_eq!(analyst.finding.local.status, FindingStatus::InProgress);
    assert!(analyst.finding.local.set_at >= imported.local.set_at);

    let vendor = findings()
        .set_status_from_vendor(
            fx.tenant,
            imported.id,
            FindingStatus::ReTest,
            Some(FindingStatus::InProgress),
        )
        .await
        .unwrap();
    assert_eq!(vendor.finding.status, FindingStatus::ReTest);
    assert_eq!(
        vendor.finding.local, analyst.finding.local,
        "the vendor never moves the local status"
    );

    findings()
        .import(fx.tenant, &[new_finding("k")])
        .await
        .unwrap();
    let after_rescan = findings().get(fx.tenant, imported.id).await.unwrap();
    assert_eq!(
        (after_rescan.status, after_rescan.local),
        (FindingStatus::ReTest, analyst.finding.local)
    );

    let reaffirmed = findings()
        .set_status(fx.tenant, imported.id, FindingStatus::ReTest, None)
        .await
        .unwrap();
    assert_eq!(reaffirmed.finding.local.status, FindingStatus::ReTest);
    assert!(
        reaffirmed.finding.local.set_at >= analyst.finding.local.set_at,
        "re-setting our status re-dates it"
    );

    let domain = reaffirmed.finding.to_finding();
    assert_eq!(
        (domain.id, domain.status, domain.scanner_key.as_str()),
        (imported.id, FindingStatus::ReTest, "k")
    );
    assert_eq!(
        domain.cve.as_ref().map(|c| c.as_str()),
        Some("CVE-2026-0001")
    );
}

#[tokio::test]
async fn concurrent_compare_and_set_lets_exactly_one_win() {
    let fx = fixture().await;
    let id = crate::helpers::finding(fx.store(), fx.tenant, "race")
        .await
        .id;
    let attempts = [
        FindingStatus::Closed,
        FindingStatus::RiskAccepted,
        FindingStatus::FalsePositive,
        FindingStatus::ReTest,
    ];
    let results = futures::future::join_all(attempts.iter().map(|to| {
        let store = fx.store().clone();
        let tenant = fx.tenant;
        let to = *to;
        tokio::spawn(async move {
            store
                .findings()
                .set_status(tenant, id, to, Some(FindingStatus::Open))
                .await
        })
    }))
    .await;
    let wins: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap())
        .filter_map(Result::ok)
        .collect();
    assert_eq!(wins.len(), 1, "exactly one transition from open succeeds");
    let stored = fx.store().findings().get(fx.tenant, id).await.unwrap();
    assert_eq!(stored.status, wins[0].finding.status);
}
