//! The Tickets page's row button for a Jira ticket: a person moves the issue in Jira, the
//! admin webhook of that change is lost and no poll is due; `SyncService.ResyncTicket` reads that
//! one issue (one GET), the applier moves the finding before the answer, the activity says
//! "resync", and asking again is "current".

use lockstep_domain::{FindingStatus, SyncChannel};
use lockstep_itsm_sim::control::{DeliveryBehaviour, DeliveryOutcome};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::sync_service_client::SyncServiceClient;

use super::world::{HOOK_SECRET, JiraWorld, req};
use super::{IN_PROGRESS, last_channel, polled, transition};

fn outcome(r: &pb::ResyncTicketResponse) -> pb::TicketResyncOutcome {
    pb::TicketResyncOutcome::try_from(r.outcome).unwrap()
}

#[tokio::test]
async fn a_change_whose_webhook_was_lost_is_brought_by_resync_ticket_then_it_is_current() {
    let world = JiraWorld::start().await.unwrap();
    let integration = world.integration("lockstep", "OPS", false).await.unwrap();
    world
        .register_webhook(integration, "OPS", Some(HOOK_SECRET))
        .await
        .unwrap();
    let finding = world.import("RS", 1).await.unwrap()[0];
    let key = world.ticket(finding, integration, "OPS").await.unwrap();
    let link = world
        .store()
        .links()
        .find_active(world.tenant, finding, integration)
        .await
        .unwrap()
        .expect("the ticket's link");
    let poller = world.start_poller().await.unwrap();
    // The first poll (due at the integration's creation) is over and the next is 300 s away:
    // nothing but the re-sync reads the change below.
    polled(&world, integration).await;

    world
        .sim
        .control()
        .set_delivery_behaviour(&DeliveryBehaviour {
            drop_rate: 1.0,
            ..Default::default()
        })
        .await
        .unwrap();
    transition(&world, &key, IN_PROGRESS).await;
    // The emulator records the send (or the drop) when the change commits.
    let deliveries = world.sim.control().deliveries().await.unwrap();
    let updates: Vec<_> = deliveries
        .iter()
        .filter(|d| d.body.contains("\"webhookEvent\":\"jira:issue_updated\""))
        .collect();
    assert!(
        !updates.is_empty()
            && updates
                .iter()
                .all(|d| d.outcome == DeliveryOutcome::Dropped),
        "the change's webhook was lost: {updates:?}"
    );
    assert_eq!(world.status(finding).await.unwrap(), FindingStatus::Open);

    let mut sync = SyncServiceClient::connect(format!("http://{poller}"))
        .await
        .unwrap();
    let ask = || {
        req(
            &world.analyst,
            pb::ResyncTicketRequest {
                link_id: link.id.to_string(),
            },
        )
    };
    world.sim.control().clear_requests().await.unwrap();
    let applied = sync.resync_ticket(ask()).await.unwrap().into_inner();
    assert_eq!(
        outcome(&applied),
        pb::TicketResyncOutcome::Applied,
        "{applied:?}"
    );
    assert_eq!(applied.ticket_key, key);
    assert_eq!(
        (
            applied.vendor_state.as_str(),
            applied.vendor_state_label.as_str()
        ),
        ("3", "In Progress")
    );
    assert_eq!(applied.finding_status, "in_progress");
    assert_eq!(applied.last_sync_channel, "resync");
    // What the answer says is what the store holds.
    assert_eq!(
        world.status(finding).await.unwrap(),
        FindingStatus::InProgress
    );
    assert_eq!(last_channel(&world, finding).await, SyncChannel::Resync);
    let sent: Vec<_> = world
        .sim
        .control()
        .requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    let issue = link.external_id.as_ref().expect("the issue id");
    assert_eq!(
        sent,
        [("GET".to_owned(), format!("/rest/api/3/issue/{issue}"))],
        "the re-sync is one GET of the issue"
    );

    let again = sync.resync_ticket(ask()).await.unwrap().into_inner();
    assert_eq!(
        outcome(&again),
        pb::TicketResyncOutcome::Current,
        "{again:?}"
    );
    assert_eq!(again.vendor_version, applied.vendor_version);
    assert_eq!(again.finding_status, "in_progress");
    assert_eq!(again.last_sync_channel, "resync");
    world.stop().await;
}
