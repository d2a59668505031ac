//! `SyncService.ResyncTicket` over gRPC against the running App, with sync-applier in-process:
//! a change made in the emulator is read for that one ticket, applied with channel `resync`
//! before the answer, and never twice; a ticket Lockstep already holds is "current"; unknown
//! and other tenants' links are NOT_FOUND, an inactive integration FAILED_PRECONDITION, and a
//! vendor failure keeps its class.

use std::time::{Duration, Instant};

use lockstep_domain::{FindingStatus, SyncChannel, TicketLinkId};
use lockstep_platform::Shutdown;
use lockstep_proto::v1 as pb;
use lockstep_store::{PageRequest, Role};
use tonic::Code;

use crate::support::{Env, Sim};
use crate::sync_service::{authed, start, token};

/// sync-applier in-process on the test's database and bus prefix, until the token fires.
async fn start_applier(env: &Env) -> Shutdown {
    let vars = [
        ("LOCKSTEP_DATABASE__URL", env.db.url()),
        ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0"),
        ("LOCKSTEP_APPLIER__FETCH_WAIT", "200ms"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let config: lockstep_sync_applier::Config = lockstep_platform::config::load_with_env(
        lockstep_sync_applier::config::DEFAULTS,
        None,
        vars,
    )
    .unwrap();
    let deps = lockstep_sync_applier::Deps {
        store: env.store().clone(),
        bus: env.bus.clone(),
    };
    let app = lockstep_sync_applier::App::build(config, deps)
        .await
        .unwrap();
    let shutdown = Shutdown::new();
    tokio::spawn(app.run(shutdown.clone()));
    shutdown
}

/// Waits until the scheduler's first poll of `integration` (due at creation) has finished, so no
/// poll reads the change this test makes: the re-sync is the only reader.
async fn first_poll_done(env: &Env, integration: lockstep_domain::IntegrationId) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = env.store().poll_state().get(env.tenant, integration).await;
        if state.is_ok_and(|s| s.last_success_at.is_some()) {
            return;
        }
        assert!(Instant::now() < deadline, "the first poll never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn request(link: TicketLinkId) -> pb::ResyncTicketRequest {
    pb::ResyncTicketRequest {
        link_id: link.to_string(),
    }
}

fn outcome(r: &pb::ResyncTicketResponse) -> pb::TicketResyncOutcome {
    pb::TicketResyncOutcome::try_from(r.outcome).unwrap()
}

#[tokio::test]
async fn a_change_in_the_emulator_is_applied_once_with_channel_resync_before_the_answer() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 3600).await;
    let link = env.linked_ticket(&sim, &integration, "CVE-1").await;
    let untouched = env.linked_ticket(&sim, &integration, "CVE-2").await;
    let mut app = start(&env, &sim).await;
    let applier = start_applier(&env).await;
    first_poll_done(&env, integration.id).await;
    let analyst = token(&env, env.tenant, "ops", Role::Analyst).await;
    let key = link.ticket_key.as_ref().unwrap().as_str().to_owned();

    // Lockstep holds the version the create answered: nothing to publish.
    let current = app
        .client
        .resync_ticket(authed(request(link.id), &analyst))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(outcome(&current), pb::TicketResyncOutcome::Current);
    assert_eq!(current.ticket_key, key);
    assert_eq!(current.vendor_state, "1");
    assert_eq!(current.finding_status, "open");
    assert!(env.observed().await.is_empty(), "nothing was published");

    // A person starts work on the incident in ServiceNow.
    sim.sim
        .control()
        .start_incident(&key, "beth.anglin")
        .await
        .unwrap();
    let applied = app
        .client
        .resync_ticket(authed(request(link.id), &analyst))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        outcome(&applied),
        pb::TicketResyncOutcome::Applied,
        "{applied:?}"
    );
    assert_eq!(applied.vendor_state, "2");
    assert_eq!(applied.finding_status, "in_progress");
    assert_eq!(applied.last_sync_channel, "resync");
    assert_eq!(applied.link_id, link.id.to_string());
    assert_eq!(applied.finding_id, link.finding_id.to_string());
    // The answer is what the store holds: the finding moved, and the feed names the channel.
    let finding = env
        .store()
        .findings()
        .get(env.tenant, link.finding_id)
        .await
        .unwrap();
    assert_eq!(finding.status, FindingStatus::InProgress);
    let feed = env
        .store()
        .activity()
        .list_for_finding(env.tenant, link.finding_id, PageRequest::first(20))
        .await
        .unwrap()
        .items;
    let moved: Vec<_> = feed
        .iter()
        .filter(|a| a.to_status == Some(FindingStatus::InProgress))
        .collect();
    assert_eq!(moved.len(), 1, "{feed:?}");
    assert_eq!(moved[0].channel, SyncChannel::Resync);
    assert!(
        moved[0].message.contains("via resync"),
        "{}",
        moved[0].message
    );

    // Asked again: current, nothing published or applied a second time.
    let again = app
        .client
        .resync_ticket(authed(request(link.id), &analyst))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(outcome(&again), pb::TicketResyncOutcome::Current);
    assert_eq!(again.finding_status, "in_progress");
    let observed = env.observed().await;
    assert_eq!(observed.len(), 1, "one reading published");
    assert_eq!(observed[0].2.channel, "resync");
    // A poll of the integration finds that version applied already (the same ticket version
    // has one event id whichever path reads it), and only the one ticket was read.
    let poll = app
        .client
        .resync(authed(
            pb::ResyncRequest {
                integration_id: integration.id.to_string(),
            },
            &analyst,
        ))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!(poll.ok, "{poll:?}");
    assert_eq!(poll.tickets_changed, 0, "{poll:?}");
    let feed_after = env
        .store()
        .activity()
        .list_for_finding(env.tenant, link.finding_id, PageRequest::first(20))
        .await
        .unwrap()
        .items;
    assert_eq!(feed_after.len(), feed.len(), "nothing applied twice");
    let other = env
        .store()
        .findings()
        .get(env.tenant, untouched.finding_id)
        .await
        .unwrap();
    assert_eq!(other.status, FindingStatus::Open);
    applier.trigger();
    app.stop().await;
}

#[tokio::test]
async fn unknown_foreign_inactive_and_refused_links_get_their_statuses() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 3600).await;
    let link = env.linked_ticket(&sim, &integration, "CVE-1").await;
    let other = env.store().tenants().create("Globex").await.unwrap().id;
    let their_integration = env.integration_of(other, &sim, "theirs", 3600).await;
    let theirs = env
        .linked_ticket_of(
            other,
            &sim,
            &their_integration,
            "CVE-9",
            lockstep_domain::Severity::Low,
        )
        .await;
    let mut app = start(&env, &sim).await;
    let analyst = token(&env, env.tenant, "ops", Role::Analyst).await;
    let viewer = token(&env, env.tenant, "viewer", Role::Viewer).await;
    let mut call = async |link: pb::ResyncTicketRequest, token: &str| {
        app.client
            .resync_ticket(authed(link, token))
            .await
            .unwrap_err()
    };

    let unknown = call(request(TicketLinkId::new()), &analyst).await;
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    let foreign = call(request(theirs.id), &analyst).await;
    assert_eq!(foreign.code(), Code::NotFound, "{foreign:?}");
    let garbage = call(
        pb::ResyncTicketRequest {
            link_id: "INC0010001".into(),
        },
        &analyst,
    )
    .await;
    assert_eq!(garbage.code(), Code::InvalidArgument);
    let denied = call(request(link.id), &viewer).await;
    assert_eq!(denied.code(), Code::PermissionDenied);

    // The vendor failing keeps its class: a 500 is UNAVAILABLE, and nothing is published.
    sim.sim
        .control()
        .set_faults(&[lockstep_itsm_sim::control::FaultRule {
            path_prefix: "/api/now/table/incident".into(),
            method: Some("GET".into()),
            error_rate: 1.0,
            error: lockstep_itsm_sim::control::InjectedError::Status { status: 500 },
            ..Default::default()
        }])
        .await
        .unwrap();
    let refused = call(request(link.id), &analyst).await;
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("500"), "{}", refused.message());
    sim.sim.control().clear_faults().await.unwrap();

    env.store()
        .integrations()
        .set_active(env.tenant, integration.id, false)
        .await
        .unwrap();
    let inactive = call(request(link.id), &analyst).await;
    assert_eq!(inactive.code(), Code::FailedPrecondition, "{inactive:?}");
    assert!(
        inactive.message().contains("activate it first"),
        "{}",
        inactive.message()
    );
    assert!(env.observed().await.is_empty(), "nothing was published");
    app.stop().await;
}
