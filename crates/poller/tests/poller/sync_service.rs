//! `SyncService` over gRPC against the running App: Resync answers what changed with no
//! cooldown; ResyncAll twice within 60 s is refused with the remaining delay; callers see only
//! their tenant; poll status shows the last error.

use std::time::Duration;

use lockstep_platform::Shutdown;
use lockstep_poller::{App, Config, Deps, config::DEFAULTS};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::sync_service_client::SyncServiceClient;
use lockstep_store::Role;
use tonic::Code;
use tonic::transport::Channel;

use crate::support::{Env, Sim, fast_settings};

pub(crate) struct Running {
    pub(crate) client: SyncServiceClient<Channel>,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub(crate) async fn stop(self) {
        self.shutdown.trigger();
        self.task.await.unwrap();
    }
}

pub(crate) async fn start(env: &Env, sim: &Sim) -> Running {
    let vars = [
        ("LOCKSTEP_DATABASE__URL".to_owned(), env.db.url().to_owned()),
        ("LOCKSTEP_GRPC__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "LOCKSTEP_ADMIN__LISTEN".to_owned(),
            "127.0.0.1:0".to_owned(),
        ),
    ];
    let mut config: Config =
        lockstep_platform::config::load_with_env(DEFAULTS, None, vars).unwrap();
    config.poller = fast_settings();
    // Long intervals: only re-syncs poll in these tests.
    config.poller.tick = Duration::from_secs(3600);
    let deps = Deps {
        store: env.store().clone(),
        bus: env.bus.clone(),
        keyring: env.keyring.clone(),
        http: sim.exec.clone(),
    };
    let app = App::build(config, deps).await.unwrap();
    let addr = app.grpc_addr();
    let shutdown = Shutdown::new();
    let task = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { app.run(shutdown).await.unwrap() }
    });
    let client = SyncServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    Running {
        client,
        shutdown,
        task,
    }
}

pub(crate) async fn token(
    env: &Env,
    tenant: lockstep_domain::TenantId,
    name: &str,
    role: Role,
) -> String {
    let token = format!("lst_{}", uuid::Uuid::new_v4().simple());
    env.store()
        .api_tokens()
        .create(tenant, name, &lockstep_crypto::hash_token(&token), role)
        .await
        .unwrap();
    token
}

pub(crate) fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn resync_polls_now_and_answers_how_many_tickets_changed() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 3600).await;
    let a = env.linked_ticket(&sim, &integration, "CVE-1").await;
    let b = env.linked_ticket(&sim, &integration, "CVE-2").await;
    let mut app = start(&env, &sim).await;
    let analyst = token(&env, env.tenant, "ops", Role::Analyst).await;
    let request = || pb::ResyncRequest {
        integration_id: integration.id.to_string(),
    };

    let first = app
        .client
        .resync(authed(request(), &analyst))
        .await
        .unwrap()
        .into_inner();
    let first = first.result.unwrap();
    assert!(first.ok, "{first:?}");
    assert_eq!(first.tickets_changed, 0);
    for link in [&a, &b] {
        sim.sim
            .control()
            .start_incident(link.ticket_key.as_ref().unwrap().as_str(), "beth.anglin")
            .await
            .unwrap();
    }
    // No cooldown on a single integration.
    let second = app
        .client
        .resync(authed(request(), &analyst))
        .await
        .unwrap()
        .into_inner();
    let second = second.result.unwrap();
    assert_eq!(second.tickets_changed, 2, "{second:?}");
    assert!(second.tickets_read >= 2);
    assert!(second.watermark.is_some());
    assert_eq!(env.observed().await.len(), 2);

    // Viewers may not re-sync; strangers are not let in; other tenants' integrations do not exist.
    let viewer = token(&env, env.tenant, "viewer", Role::Viewer).await;
    let denied = app
        .client
        .resync(authed(request(), &viewer))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let anonymous = app.client.resync(request()).await.unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let other = env.store().tenants().create("Globex").await.unwrap().id;
    let outsider = token(&env, other, "globex", Role::Admin).await;
    let hidden = app
        .client
        .resync(authed(request(), &outsider))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn resync_all_twice_within_the_cooldown_is_refused_with_the_remaining_delay() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let one = env.integration(&sim, "sn-1", 3600).await;
    let two = env.integration(&sim, "sn-2", 3600).await;
    let link = env.linked_ticket(&sim, &one, "CVE-1").await;
    env.linked_ticket(&sim, &two, "CVE-2").await;
    let mut app = start(&env, &sim).await;
    let caller = token(&env, env.tenant, "ops", Role::Analyst).await;
    // The first poll establishes the watermarks; a change arrives before the re-sync.
    app.client
        .resync_all(authed(pb::ResyncAllRequest::default(), &caller))
        .await
        .unwrap();
    let caller = token(&env, env.tenant, "ops-2", Role::Analyst).await;
    sim.sim
        .control()
        .start_incident(link.ticket_key.as_ref().unwrap().as_str(), "beth.anglin")
        .await
        .unwrap();

    let all = app
        .client
        .resync_all(authed(pb::ResyncAllRequest::default(), &caller))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.results.len(), 2);
    assert!(all.results.iter().all(|r| r.ok), "{all:?}");
    assert_eq!(all.tickets_changed, 1);

    let refused = app
        .client
        .resync_all(authed(pb::ResyncAllRequest::default(), &caller))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    let secs: u64 = refused
        .metadata()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((55..=60).contains(&secs), "{secs}");
    let ms: u64 = refused
        .metadata()
        .get("lockstep-retry-after-ms")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(ms > 55_000 && ms <= 60_000, "{ms}");
    assert!(
        refused.message().contains(&format!("{secs} s")),
        "{}",
        refused.message()
    );

    // The cooldown is per caller: another token may go ahead, and Resync of one is never limited.
    let other = token(&env, env.tenant, "ops-3", Role::Admin).await;
    app.client
        .resync_all(authed(
            pb::ResyncAllRequest {
                integration_ids: vec![one.id.to_string()],
            },
            &other,
        ))
        .await
        .unwrap();
    app.client
        .resync(authed(
            pb::ResyncRequest {
                integration_id: one.id.to_string(),
            },
            &caller,
        ))
        .await
        .unwrap();
    app.stop().await;
}

#[tokio::test]
async fn poll_status_shows_the_last_error() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let integration = env.integration(&sim, "sn", 3600).await;
    env.linked_ticket(&sim, &integration, "CVE-1").await;
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
    let mut app = start(&env, &sim).await;
    let caller = token(&env, env.tenant, "ops", Role::Viewer).await;
    let admin = token(&env, env.tenant, "admin", Role::Admin).await;
    let result = app
        .client
        .resync(authed(
            pb::ResyncRequest {
                integration_id: integration.id.to_string(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!(!result.ok);
    assert!(result.error.contains("500"), "{}", result.error);
    let status = app
        .client
        .get_poll_status(authed(pb::GetPollStatusRequest::default(), &caller))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.statuses.len(), 1);
    let s = &status.statuses[0];
    // The scheduler's own first poll may have failed before the re-sync did.
    assert!(s.consecutive_failures >= 1);
    assert!(s.last_error.contains("500"), "{}", s.last_error);
    assert!(!s.polling);
    app.stop().await;
}
