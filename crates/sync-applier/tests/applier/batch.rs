//! The set-based batch (`batch::apply_batch`) decides and writes exactly what applying the same
//! events one by one (`apply::apply_one`) in one transaction does.

use lockstep_domain::FindingId;
use lockstep_sync_applier::apply::{Applied, Receiver, apply_one};
use lockstep_sync_applier::batch::apply_batch;
use lockstep_sync_applier::decode::Inbound;

use crate::support::*;

/// (incident, state, seconds after t0, sys_mod_count), in the order the worker sorts a batch:
/// by ticket, then version.
const BATCH: &[(usize, &str, i64, u32)] = &[
    (0, "6", 10, 3),  // resolved: open -> re_test
    (0, "6", 10, 3),  // the same event again within the batch: a duplicate
    (0, "2", 20, 4),  // in progress, on the state the first one left
    (0, "2", 20, 4),  // its duplicate
    (1, "6", 10, 3),  // resolved
    (2, "1", -60, 0), // older than the link's version: stale
    (2, "3", 10, 3),  // on hold: open -> in_progress
    (2, "2", 10, 4),  // in progress: the ticket's state only
    (2, "2", 10, 5),  // the same state again, newer: nothing to tell
    (3, "6", 10, 3),  // already applied before the batch: a duplicate that re-publishes
    (4, "42", 10, 3), // a state no inbound rule covers
    (5, "2", 10, 3),  // in progress
    (5, "7", 30, 5),  // closed
    (99, "6", 10, 3), // a ticket Lockstep never linked
];
const BEFORE: (usize, &str, i64, u32) = (3, "6", 10, 3);

fn receiver() -> Receiver<'static> {
    Receiver::new("sync-applier", time::OffsetDateTime::now_utc())
}

fn inbound(w: &World, (i, state, secs, m): (usize, &str, i64, u32)) -> Inbound {
    w.inbound(&w.webhook(i, state, secs, m, "beth.anglin"))
}

/// A world with six linked findings and `BEFORE` applied and committed.
async fn world() -> (World, Vec<FindingId>) {
    let w = World::new(false).await;
    let findings = w.linked_findings(6).await;
    let mut tx = w.store().begin().await.unwrap();
    apply_one(&mut tx, &receiver(), &inbound(&w, BEFORE))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (w, findings)
}

/// What the results and the database say, without ids and times that differ between worlds.
async fn observe(w: &World, findings: &[FindingId], results: &[Applied]) -> Vec<String> {
    let integration = w.integration.to_string();
    let mut seen: Vec<String> = results
        .iter()
        .map(|r| {
            let change = r.change().map(|c| {
                (
                    c.event_id.replace(&integration, "I"),
                    c.from_status.clone(),
                    c.to_status.clone(),
                    c.channel.clone(),
                )
            });
            format!("{} {change:?}", r.outcome())
        })
        .collect();
    for (n, f) in findings.iter().enumerate() {
        let finding = w.store().findings().get(w.tenant, *f).await.unwrap();
        let link = w
            .store()
            .links()
            .find_active_by_external_id(w.tenant, w.integration, &sys_id(n))
            .await
            .unwrap()
            .unwrap();
        let snap = link.vendor_snapshot.map(|s| {
            (
                s.state,
                (s.version.updated_at() - w.t0).whole_seconds(),
                s.version.sequence(),
            )
        });
        let feed = w
            .store()
            .activity()
            .list_for_finding(w.tenant, *f, lockstep_store::PageRequest::first(50))
            .await
            .unwrap();
        let feed: Vec<_> = feed
            .items
            .iter()
            .map(|a| {
                (
                    a.kind.to_string(),
                    a.from_status,
                    a.to_status,
                    a.actor.clone(),
                    a.channel,
                    a.details["event_id"]
                        .as_str()
                        .unwrap()
                        .replace(&integration, "I"),
                )
            })
            .collect();
        seen.push(format!(
            "finding {n}: {} local {}; link {snap:?} via {:?}; feed {feed:?}",
            finding.status, finding.local.status, link.last_sync_channel
        ));
    }
    seen.push(format!(
        "inbox rows: {}",
        w.count("SELECT count(*) FROM inbox").await
    ));
    seen
}

#[tokio::test]
async fn a_set_based_batch_matches_applying_its_events_one_by_one() {
    let (one_by_one, f1) = world().await;
    let events: Vec<Inbound> = BATCH.iter().map(|e| inbound(&one_by_one, *e)).collect();
    let mut tx = one_by_one.store().begin().await.unwrap();
    let mut expected = Vec::new();
    for ev in &events {
        expected.push(apply_one(&mut tx, &receiver(), ev).await.unwrap());
    }
    tx.commit().await.unwrap();

    let (batched, f2) = world().await;
    let events: Vec<Inbound> = BATCH.iter().map(|e| inbound(&batched, *e)).collect();
    let refs: Vec<&Inbound> = events.iter().collect();
    let mut tx = batched.store().begin().await.unwrap();
    let got = apply_batch(&mut tx, &receiver(), &refs).await.unwrap();
    tx.commit().await.unwrap();

    let expected = observe(&one_by_one, &f1, &expected).await;
    let got = observe(&batched, &f2, &got).await;
    assert_eq!(got, expected);
    // The scenario covers what it claims to.
    let outcomes: Vec<&str> = got.iter().map(|s| s.split(' ').next().unwrap()).collect();
    for outcome in ["applied", "duplicate", "stale", "ignored"] {
        assert!(outcomes.contains(&outcome), "{outcome} in {got:#?}");
    }
    assert!(
        got.iter().any(|s| s.contains("ticket_state_changed")),
        "{got:#?}"
    );
    assert!(
        got[1].contains("Some") && got[9].contains("Some"),
        "duplicates re-publish: {got:#?}"
    );
}

#[tokio::test]
async fn a_batch_with_an_event_that_can_never_apply_fails_as_a_whole() {
    let (w, _) = world().await;
    let mut ev = inbound(&w, (0, "6", 10, 3));
    ev.integration = lockstep_domain::IntegrationId::new();
    let good = inbound(&w, (1, "6", 10, 3));
    let mut tx = w.store().begin().await.unwrap();
    let err = apply_batch(&mut tx, &receiver(), &[&good, &ev])
        .await
        .unwrap_err();
    assert!(
        matches!(err, lockstep_sync_applier::apply::Failure::Permanent(_)),
        "{err}"
    );
}
