//! Vendor versions from the future (issue 14, defect 1): a signed delivery dated 2099 must not
//! freeze a ticket, a poll repairs a link that already holds such a version, and an operator can
//! reset one.

use std::time::Duration;

use lockstep_domain::transition::VendorSnapshot;
use lockstep_domain::{ActivityKind, FindingId, FindingStatus, SyncChannel, VendorVersion};
use lockstep_store::{ActivityRecord, PageRequest, TicketLinkRecord};
use time::macros::datetime;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(20);

/// Seconds from the world's t0 to 2099-01-01.
fn to_2099(w: &World) -> i64 {
    (datetime!(2099-01-01 00:00 UTC) - w.t0).whole_seconds()
}

async fn status(w: &World, f: FindingId) -> FindingStatus {
    w.store().findings().get(w.tenant, f).await.unwrap().status
}

async fn link(w: &World, f: FindingId) -> TicketLinkRecord {
    w.store()
        .links()
        .find_active(w.tenant, f, w.integration)
        .await
        .unwrap()
        .unwrap()
}

async fn feed(w: &World, f: FindingId) -> Vec<ActivityRecord> {
    w.store()
        .activity()
        .list_for_finding(w.tenant, f, PageRequest::first(20))
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn a_delivery_from_the_future_is_refused_and_a_real_resolve_still_reaches_the_finding() {
    let w = World::new(false).await;
    let f = w.linked_findings(1).await[0];
    let before = link(&w, f).await.vendor_snapshot;
    let stop = w.start_applier().await;

    // Signed with the webhook secret, well-formed, dated 2099: "closed".
    w.publish_webhook(&w.webhook(0, "7", to_2099(&w), 9, "mallory"))
        .await;
    assert!(
        eventually(WAIT, || async {
            feed(&w, f)
                .await
                .iter()
                .any(|a| a.kind == ActivityKind::VendorVersionRefused)
        })
        .await,
        "the refusal is in the finding's activity feed"
    );
    let refused = feed(&w, f).await.remove(0);
    assert!(
        refused.message.contains("2099-01-01"),
        "{}",
        refused.message
    );
    assert_eq!((refused.from_status, refused.to_status), (None, None));
    assert_eq!(status(&w, f).await, FindingStatus::Open);
    assert_eq!(
        link(&w, f).await.vendor_snapshot,
        before,
        "nothing recorded"
    );

    // The real resolve, ten seconds after t0, reaches the finding.
    w.publish_webhook(&w.webhook(0, "6", 10, 3, "beth.anglin"))
        .await;
    assert!(
        eventually(WAIT, || async {
            status(&w, f).await == FindingStatus::ReTest
        })
        .await,
        "the real resolve was not applied"
    );
    stop.trigger();
}

/// Gives the finding's link a version from 2099, as one stored before versions from the future
/// were refused.
async fn freeze(w: &World, f: FindingId) -> VendorVersion {
    let future = VendorVersion::new(datetime!(2099-01-01 00:00 UTC), 9);
    let snapshot = VendorSnapshot {
        version: future,
        state: "2".into(),
    };
    let id = link(w, f).await.id;
    assert!(
        w.store()
            .links()
            .apply_vendor_state(w.tenant, id, &snapshot, SyncChannel::Webhook)
            .await
            .unwrap()
    );
    future
}

#[tokio::test]
async fn a_poll_repairs_a_link_frozen_by_a_version_from_the_future() {
    let w = World::new(false).await;
    let f = w.linked_findings(1).await[0];
    freeze(&w, f).await;
    let stop = w.start_applier().await;

    // A webhook cannot repair it: it may be an old delivery arriving late.
    w.publish_webhook(&w.webhook(0, "6", 10, 3, "beth.anglin"))
        .await;
    assert!(
        eventually(WAIT, || async {
            w.count("SELECT count(*) FROM inbox").await == 1
        })
        .await
    );
    assert_eq!(status(&w, f).await, FindingStatus::Open);

    // The vendor's own current record, read by the poller, replaces the future version.
    let resolved = w.webhook(0, "6", 20, 4, "beth.anglin");
    w.publish_poll(&resolved, "poll:repair").await;
    assert!(
        eventually(WAIT, || async {
            status(&w, f).await == FindingStatus::ReTest
        })
        .await,
        "the poll did not repair the link"
    );
    let held = link(&w, f).await.vendor_snapshot.unwrap().version;
    assert_eq!(held, w.inbound(&resolved).observation.version);
    let row = feed(&w, f).await.remove(0);
    assert_eq!(row.channel, SyncChannel::Poll);
    assert!(row.message.contains("from the future"), "{}", row.message);
    stop.trigger();
}
