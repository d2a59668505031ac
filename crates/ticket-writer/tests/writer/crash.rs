//! No duplicate tickets, ever: a writer killed between the vendor's answer and its write-back
//! leaves exactly one ticket, and the retry links it.
//!
//! The writer runs as a child process (the real `ticket-writer` binary). The emulator answers
//! creates slowly; while the create is in flight the test holds a lock that blocks the
//! write-back, waits until the ticket exists on the vendor side, then SIGKILLs the writer. The
//! retry goes to a fresh writer, which finds the pending link, looks the ticket up by correlation
//! id, and writes it back.

use std::process::Stdio;
use std::time::Duration;

use lockstep_itsm_sim::control::FaultRule;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::ticket_service_client::TicketServiceClient;

use crate::support::{Env, MASTER_KEYS, channel, eventually, req, service_env, spec};

#[tokio::test]
async fn a_writer_killed_before_its_write_back_leaves_exactly_one_ticket() {
    let env = Env::start().await;
    let integration = env.integration(&env.a.admin, "sn").await;
    let id = env.import(&env.a.analyst, "CRASH", 1).await.remove(0);

    let (probe, addr) = lockstep_testkit::free_std_listener();
    drop(probe);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ticket-writer"))
        .envs(service_env(&env.db, &env.nats, &env.ca))
        .env("LOCKSTEP_GRPC__LISTEN", addr.to_string())
        .env("LOCKSTEP_MASTER_KEYS", MASTER_KEYS)
        .env("LOCKSTEP_WRITER__PUSH_ENABLED", "false")
        .env("LOCKSTEP_TELEMETRY__FORMAT", "pretty")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the ticket-writer binary starts");
    let mut connected = None;
    for _ in 0..100 {
        if let Ok(c) = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
        {
            connected = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut doomed = TicketServiceClient::new(connected.expect("the child writer listens"));

    env.sim
        .control()
        .set_faults(&[FaultRule {
            method: Some("POST".into()),
            path_prefix: "/api/now/table/incident".into(),
            latency_ms: 1500,
            times: Some(1),
            ..Default::default()
        }])
        .await
        .unwrap();
    let create = pb::CreateTicketRequest {
        request_id: String::new(),
        finding_id: id.clone(),
        spec: Some(spec(&integration)),
    };
    let token = env.a.analyst.clone();
    let in_flight = {
        let create = create.clone();
        tokio::spawn(async move { doomed.create_ticket(req(&token, create)).await })
    };

    // The pending link is written before the vendor call...
    let pool = env.store().pool().clone();
    eventually("the pending link", || async {
        sqlx_count(
            &pool,
            "SELECT count(*) FROM ticket_links WHERE state = 'pending'",
        )
        .await
            == 1
    })
    .await;
    // ...then the write-back is blocked while the vendor creates the ticket.
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE ticket_links IN SHARE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    eventually("the ticket on the vendor side", || async {
        env.incidents_for(&id).await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    blocker.rollback().await.unwrap();
    assert!(
        in_flight.await.unwrap().is_err(),
        "the killed writer never answered"
    );
    assert_eq!(
        sqlx_count(
            &pool,
            "SELECT count(*) FROM ticket_links WHERE state = 'pending'"
        )
        .await,
        1
    );

    // The retry (another writer) links the existing ticket instead of making a second one.
    let mut retry = TicketServiceClient::new(channel(env.writer_addr).await);
    let result = retry
        .create_ticket(req(&env.a.analyst, create.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(result.outcome, pb::TicketOutcome::Created as i32);
    let link = result.link.unwrap();
    assert_eq!(link.state, "live");
    assert_eq!(env.incidents_for(&id).await, 1, "exactly one ticket");
    let again = retry
        .create_ticket(req(&env.a.analyst, create))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.outcome, pb::TicketOutcome::AlreadyLinked as i32);
    assert_eq!(again.link.unwrap().key, link.key);
    assert_eq!(env.incidents_for(&id).await, 1);
}

#[tokio::test]
async fn an_abandoned_pending_link_without_a_ticket_is_created_once_when_stale() {
    let env = Env::start_with(|c| c.writer.pending_stale_after = Duration::from_secs(1)).await;
    let integration = env.integration(&env.a.admin, "sn").await;
    let id = env.import(&env.a.analyst, "STALE", 1).await.remove(0);
    // A writer died before its create reached the vendor: a pending link, no ticket.
    let finding = lockstep_domain::FindingId::parse(&id).unwrap();
    let integration_id = lockstep_domain::IntegrationId::parse(&integration.id).unwrap();
    let target =
        lockstep_domain::TicketTarget::parse(lockstep_domain::Vendor::ServiceNow, "incident")
            .unwrap();
    env.store()
        .links()
        .insert_pending(env.a.id, finding, integration_id, &target)
        .await
        .unwrap();
    let create = pb::CreateTicketRequest {
        request_id: String::new(),
        finding_id: id.clone(),
        spec: Some(spec(&integration)),
    };
    // While it may still be in flight, a retry does not create.
    let err = env
        .tickets()
        .create_ticket(req(&env.a.analyst, create.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Aborted, "{}", err.message());
    assert_eq!(env.incidents_for(&id).await, 0);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (mut c1, mut c2) = (env.tickets(), env.tickets());
    let (x, y) = tokio::join!(
        c1.create_ticket(req(&env.a.analyst, create.clone())),
        c2.create_ticket(req(&env.a.analyst, create.clone())),
    );
    let ok = [&x, &y].iter().filter(|r| r.is_ok()).count();
    assert!(ok >= 1, "{x:?} {y:?}");
    assert_eq!(
        env.incidents_for(&id).await,
        1,
        "two concurrent retries made one ticket"
    );
}

async fn sqlx_count(pool: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}
