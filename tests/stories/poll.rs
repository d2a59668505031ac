//! The safety net across services: the emulator drops every webhook, a person resolves the
//! incident in ServiceNow, and the poller (in-process, 1-second interval) brings the change
//! through JetStream to sync-applier, which applies it with channel `poll`.

use std::time::Duration;

use lockstep_connectors::Credentials as ServiceNowCredentials;
use lockstep_crypto::SecretString;
use lockstep_domain::{FindingStatus, SyncChannel};
use lockstep_itsm_sim::control::{DeliveryBehaviour, DeliveryOutcome};
use lockstep_service_kit::vendor::{auth_kind, seal_credentials};
use lockstep_store::{IntegrationSettings, PageRequest};
use lockstep_stories::{InboundLoop, SECRET};

/// The emulator's integration user (seeded with its name as password).
const USER: &str = "lockstep.integration";
/// One cycle of the test poller.
const INTERVAL_SECS: u32 = 1;
/// What "within one cycle" allows: the interval plus scheduling, the applier's fetch and a slow CI.
const ONE_CYCLE: Duration = Duration::from_secs(INTERVAL_SECS as u64 + 4);
const WAIT: Duration = Duration::from_secs(15);

/// Gives the story's integration real credentials for the emulator and a short poll interval.
async fn make_pollable(world: &InboundLoop) -> anyhow::Result<()> {
    let creds = ServiceNowCredentials::Basic {
        username: USER.into(),
        password: SecretString::new(USER),
    };
    let sealed = seal_credentials(&world.keyring, world.tenant, world.integration, &creds)
        .map_err(|s| anyhow::anyhow!("{s}"))?;
    let integrations = || world.store().integrations();
    integrations()
        .rotate_credentials(world.tenant, world.integration, auth_kind(&creds), &sealed)
        .await?;
    let current = integrations().get(world.tenant, world.integration).await?;
    integrations()
        .update_settings(
            world.tenant,
            world.integration,
            &IntegrationSettings {
                poll_interval_secs: INTERVAL_SECS,
                ..current.settings
            },
        )
        .await?;
    Ok(())
}

/// The poller service in-process (ports 0, fast ticks) on the world's database and bus prefix,
/// running until the world stops.
async fn start_poller(world: &InboundLoop) -> anyhow::Result<()> {
    let env = [
        ("LOCKSTEP_DATABASE__URL", world.db.url()),
        ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0"),
        ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0"),
        ("LOCKSTEP_POLLER__TICK", "50ms"),
        ("LOCKSTEP_POLLER__REPLICA_ID", "stories-poller"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into_iter()
    // The emulator listens on loopback, which only an explicit allow-list reaches.
    .chain([lockstep_testkit::loopback_vendor_allow_list()]);
    let config: lockstep_poller::Config =
        lockstep_platform::config::load_with_env(lockstep_poller::config::DEFAULTS, None, env)?;
    let http = config
        .vendor_http
        .executor()
        .map_err(|e| anyhow::anyhow!(e))?;
    let app = lockstep_poller::App::build(
        config,
        lockstep_poller::Deps {
            store: world.store().clone(),
            bus: world.bus.clone(),
            keyring: world.keyring.clone(),
            http,
        },
    )
    .await?;
    tokio::spawn(app.run(world.shutdown()));
    Ok(())
}

/// Waits until the poller has completed a poll of the story's integration.
async fn wait_for_first_poll(world: &InboundLoop) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let state = world
            .store()
            .poll_state()
            .get(world.tenant, world.integration)
            .await;
        if matches!(&state, Ok(s) if s.last_success_at.is_some()) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(anyhow::anyhow!(
                "no completed poll after {WAIT:?}: {state:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_resolve_whose_webhook_was_dropped_reaches_the_finding_by_poll_within_one_cycle() {
    let world = InboundLoop::start(false).await.unwrap();
    make_pollable(&world).await.unwrap();
    let (finding, number) = world.ticketed_finding("story-poll").await.unwrap();
    // ingest-webhook is the target, but the instance loses every delivery.
    let dropping = DeliveryBehaviour {
        drop_rate: 1.0,
        ..Default::default()
    };
    world.sign_webhooks(SECRET, dropping).await.unwrap();
    start_poller(&world).await.unwrap();
    // The first cycle reads the ticket as ticket-writer left it: nothing changes.
    wait_for_first_poll(&world).await.unwrap();
    assert_eq!(world.status(finding).await.unwrap(), FindingStatus::Open);

    let control = world.sim.control();
    control
        .resolve_incident(
            &number,
            "beth.anglin",
            "Solution provided",
            "patched OpenSSL",
        )
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    world
        .wait_for(finding, FindingStatus::ReTest, WAIT)
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(took <= ONE_CYCLE, "took {took:?}, more than one cycle");

    assert!(
        control
            .deliveries()
            .await
            .unwrap()
            .iter()
            .all(|d| d.outcome != DeliveryOutcome::Delivered),
        "no webhook may have arrived"
    );
    let feed = world
        .store()
        .activity()
        .list_for_finding(world.tenant, finding, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(feed.items.len(), 1, "{:?}", feed.items);
    assert_eq!(feed.items[0].channel, SyncChannel::Poll);
    assert_eq!(feed.items[0].actor, "beth.anglin");
    let link = world
        .store()
        .links()
        .find_active(world.tenant, finding, world.integration)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.last_sync_channel, Some(SyncChannel::Poll));
    println!(
        "{number} resolved in ServiceNow by beth.anglin; webhook dropped; finding {finding} is \
         re_test after {:.1}s (poll interval {INTERVAL_SECS}s), activity channel {}, link \
         last_sync_channel {}",
        took.as_secs_f64(),
        feed.items[0].channel,
        link.last_sync_channel.unwrap(),
    );
    world.stop().await;
}
