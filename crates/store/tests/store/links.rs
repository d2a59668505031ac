use lockstep_domain::{FindingId, IntegrationId, SyncChannel, TicketLinkId, TicketTarget, Vendor};
use lockstep_store::{StoreError, TicketLinkState};

use crate::helpers::{finding, fixture, incident, integration, live_link, live_ticket, snapshot};

#[tokio::test]
async fn a_link_goes_from_pending_to_live_and_is_found_both_ways() {
    let fx = fixture().await;
    let finding = finding(fx.store(), fx.tenant, "f").await.id;
    let integration = integration(fx.store(), fx.tenant, "Prod").await.id;
    let links = || fx.store().links();

    let pending = links()
        .insert_pending(fx.tenant, finding, integration, &incident())
        .await
        .unwrap();
    assert_eq!(
        (pending.state, pending.vendor(), &pending.target),
        (TicketLinkState::Pending, Vendor::ServiceNow, &incident())
    );
    assert_eq!(
        (
            pending.external_id.as_ref(),
            pending.vendor_snapshot.as_ref(),
            pending.ticket_ref()
        ),
        (None, None, None)
    );
    assert_eq!(
        links()
            .find_active(fx.tenant, finding, integration)
            .await
            .unwrap(),
        Some(pending.clone())
    );

    let live = links()
        .mark_live(fx.tenant, pending.id, &live_ticket("abc"))
        .await
        .unwrap();
    assert_eq!(live.state, TicketLinkState::Live);
    let ticket = live.ticket_ref().expect("a live link names its ticket");
    assert_eq!(
        (ticket.key().as_str(), ticket.external_id().as_str()),
        ("INC0010001", "abc")
    );
    assert_eq!(live.vendor_snapshot, Some(snapshot("1", 0, 0)));
    assert_eq!(live.last_sync_channel, Some(SyncChannel::Api));
    assert_eq!(
        links()
            .find_active_by_external_id(fx.tenant, integration, "abc")
            .await
            .unwrap(),
        Some(live.clone())
    );
    assert_eq!(
        links()
            .find_active_by_external_id(fx.tenant, integration, "nope")
            .await
            .unwrap(),
        None
    );

    let again = links()
        .mark_live(fx.tenant, pending.id, &live_ticket("abc"))
        .await
        .unwrap();
    assert_eq!(again, live, "a repeated write-back is harmless");
    let err = links()
        .mark_live(fx.tenant, pending.id, &live_ticket("other"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(matches!(
        links().mark_failed(fx.tenant, pending.id, "x").await,
        Err(StoreError::Conflict { .. })
    ));
}

#[tokio::test]
async fn a_second_pending_or_live_link_is_refused_with_the_existing_one() {
    let fx = fixture().await;
    let link = live_link(fx.store(), fx.tenant, "sys1").await;

    let err = fx
        .store()
        .links()
        .insert_pending(fx.tenant, link.finding_id, link.integration_id, &incident())
        .await
        .unwrap_err();
    let StoreError::AlreadyLinked { existing } = &err else {
        panic!("expected AlreadyLinked, got {err}")
    };
    assert_eq!(existing.id, link.id);
    assert_eq!(
        err.to_string(),
        format!(
            "finding {} already has a live ticket link on integration {} (INC0010001)",
            link.finding_id, link.integration_id
        )
    );

    // A different integration is a different link.
    let second = integration(fx.store(), fx.tenant, "Second").await.id;
    fx.store()
        .links()
        .insert_pending(fx.tenant, link.finding_id, second, &incident())
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_creates_for_one_finding_yield_exactly_one_pending_link() {
    let fx = fixture().await;
    let finding = finding(fx.store(), fx.tenant, "f").await.id;
    let integration = integration(fx.store(), fx.tenant, "Prod").await.id;
    let attempts = (0..8).map(|_| {
        let store = fx.store().clone();
        let tenant = fx.tenant;
        tokio::spawn(async move {
            store
                .links()
                .insert_pending(tenant, finding, integration, &incident())
                .await
        })
    });
    let results: Vec<_> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let created: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(created.len(), 1);
    for result in &results {
        if let Err(err) = result {
            assert!(
                matches!(err, StoreError::AlreadyLinked { existing } if existing.id == created[0].id),
                "{err}"
            );
        }
    }
}

#[tokio::test]
async fn failed_and_unlinked_links_free_the_finding_and_the_ticket() {
    let fx = fixture().await;
    let finding = finding(fx.store(), fx.tenant, "f").await.id;
    let integration = integration(fx.store(), fx.tenant, "Prod").await.id;
    let links = || fx.store().links();

    let first = links()
        .insert_pending(fx.tenant, finding, integration, &incident())
        .await
        .unwrap();
    let failed = links()
        .mark_failed(fx.tenant, first.id, "403: insufficient rights on incident")
        .await
        .unwrap();
    assert_eq!(
        (failed.state, failed.failure_reason.as_deref()),
        (
            TicketLinkState::Failed,
            Some("403: insufficient rights on incident")
        )
    );
    assert_eq!(
        links()
            .mark_failed(fx.tenant, first.id, "again")
            .await
            .unwrap()
            .state,
        TicketLinkState::Failed
    );

    let second = links()
        .insert_pending(fx.tenant, finding, integration, &incident())
        .await
        .unwrap();
    links()
        .mark_live(fx.tenant, second.id, &live_ticket("sys9"))
        .await
        .unwrap();
    assert_eq!(
        links().unlink(fx.tenant, second.id).await.unwrap().state,
        TicketLinkState::Unlinked
    );
    assert_eq!(
        links().unlink(fx.tenant, second.id).await.unwrap().state,
        TicketLinkState::Unlinked
    );
    assert!(matches!(
        links().unlink(fx.tenant, first.id).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        links()
            .find_active_by_external_id(fx.tenant, integration, "sys9")
            .await
            .unwrap(),
        None
    );

    let third = links()
        .insert_pending(fx.tenant, finding, integration, &incident())
        .await
        .unwrap();
    links()
        .mark_live(fx.tenant, third.id, &live_ticket("sys9"))
        .await
        .expect("the same ticket can be linked again");

    let history = links()
        .list_for_findings(fx.tenant, &[finding])
        .await
        .unwrap();
    let states: Vec<_> = history.iter().map(|l| l.state).collect();
    assert_eq!(
        states,
        [
            TicketLinkState::Failed,
            TicketLinkState::Unlinked,
            TicketLinkState::Live
        ]
    );
}

#[tokio::test]
async fn one_ticket_cannot_be_actively_linked_to_two_findings() {
    let fx = fixture().await;
    let link = live_link(fx.store(), fx.tenant, "sys1").await;
    let other = finding(fx.store(), fx.tenant, "other").await.id;
    let pending = fx
        .store()
        .links()
        .insert_pending(fx.tenant, other, link.integration_id, &incident())
        .await
        .unwrap();
    let err = fx
        .store()
        .links()
        .mark_live(fx.tenant, pending.id, &live_ticket("sys1"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "this ticket is already linked to another finding of the integration"
    );
}

#[tokio::test]
async fn links_need_an_existing_finding_and_an_integration_of_the_targets_vendor() {
    let fx = fixture().await;
    let finding = finding(fx.store(), fx.tenant, "f").await.id;
    let integration = integration(fx.store(), fx.tenant, "Prod").await.id;
    let (no_finding, no_integration) = (FindingId::new(), IntegrationId::new());
    let err = fx
        .store()
        .links()
        .insert_pending(fx.tenant, no_finding, integration, &incident())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), format!("finding {no_finding} not found"));
    let err = fx
        .store()
        .links()
        .insert_pending(fx.tenant, finding, no_integration, &incident())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("integration {no_integration} not found")
    );

    let jira = TicketTarget::parse(Vendor::Jira, "SEC").unwrap();
    let err = fx
        .store()
        .links()
        .insert_pending(fx.tenant, finding, integration, &jira)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("is a servicenow integration; it cannot create a ticket in jira SEC"),
        "{err}"
    );

    let missing = TicketLinkId::new();
    assert!(matches!(
        fx.store().links().get(fx.tenant, missing).await,
        Err(StoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_stale_pending_link_is_claimed_for_repair_exactly_once() {
    let fx = fixture().await;
    let finding = finding(fx.store(), fx.tenant, "f").await.id;
    let integration = integration(fx.store(), fx.tenant, "Prod").await.id;
    let links = || fx.store().links();
    let pending = links()
        .insert_pending(fx.tenant, finding, integration, &incident())
        .await
        .unwrap();
    let cutoff = || time::OffsetDateTime::now_utc() - time::Duration::minutes(10);
    assert!(
        !links()
            .claim_pending(fx.tenant, pending.id, cutoff())
            .await
            .unwrap(),
        "a fresh pending link may still be in flight"
    );
    sqlx::query("UPDATE ticket_links SET updated_at = now() - interval '1 hour' WHERE id = $1")
        .bind(pending.id.as_uuid())
        .execute(fx.store().pool())
        .await
        .unwrap();
    let other = lockstep_domain::TenantId::new();
    assert!(
        !links()
            .claim_pending(other, pending.id, cutoff())
            .await
            .unwrap()
    );
    let (a, b) = tokio::join!(
        links().claim_pending(fx.tenant, pending.id, cutoff()),
        links().claim_pending(fx.tenant, pending.id, cutoff()),
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|c| **c).count(),
        1,
        "one of two concurrent repairs wins"
    );
}
