//! kill -9 of the applier PROCESS in the middle of 1,000 events (in group messages of 8), then a
//! restart: every event is applied exactly once in effect.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lockstep_proto::v1;
use prost::Message as _;

use crate::support::*;

fn spawn_applier(w: &World) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sync-applier"))
        .env("LOCKSTEP_DATABASE__URL", w.db.url())
        .env("LOCKSTEP_NATS__URL", w.nats.url())
        .env("LOCKSTEP_NATS__SUBJECT_PREFIX", w.nats.prefix())
        .env("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0")
        .env("LOCKSTEP_APPLIER__BATCH_SIZE", "25")
        // A fetch of 200 events spans several transactions, and a group may straddle two.
        .env("LOCKSTEP_APPLIER__MAX_EVENTS_PER_TRANSACTION", "60")
        .env("LOCKSTEP_APPLIER__ACK_WAIT", "3s")
        .env("LOCKSTEP_APPLIER__FETCH_WAIT", "200ms")
        .env("LOCKSTEP_TELEMETRY__FILTER", "warn")
        .env("OTEL_SDK_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the sync-applier binary")
}

#[tokio::test]
async fn kill_dash_nine_mid_stream_then_restart_applies_every_event_exactly_once() {
    const N: usize = 1000;
    let w = World::new(false).await;
    let findings = w.linked_findings(N).await;
    w.bus.ensure_stream(&Default::default()).await.unwrap();
    // In groups, as ingest-webhook's group commit stores them under load: a message is settled
    // only once every delivery in it has applied.
    let events: Vec<_> = (0..N)
        .map(|i| w.webhook(i, "6", 10, 3, "beth.anglin"))
        .collect();
    for group in events.chunks(8) {
        w.publish_group(group.to_vec()).await;
    }

    let mut first = spawn_applier(&w);
    let started = eventually(Duration::from_secs(60), || async {
        w.count("SELECT count(*) FROM inbox").await >= (N / 4) as i64
    })
    .await;
    assert!(started, "the applier made progress");
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = w.count("SELECT count(*) FROM inbox").await;
    assert!(at_kill < N as i64, "killed mid-stream ({at_kill} applied)");

    let mut second = spawn_applier(&w);
    let done = eventually(Duration::from_secs(120), || async {
        w.count("SELECT count(*) FROM inbox").await == N as i64
    })
    .await;
    // Let redeliveries of the killed process's unacked events (ack_wait 3 s) come and go.
    tokio::time::sleep(Duration::from_secs(5)).await;
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(done, "every event applied after the restart");

    assert_eq!(w.count("SELECT count(*) FROM inbox").await, N as i64);
    assert_eq!(
        w.count("SELECT count(*) FROM activity").await,
        N as i64,
        "one activity row per event"
    );
    assert_eq!(
        w.count("SELECT count(*) FROM findings WHERE status = 're_test'")
            .await,
        N as i64
    );
    assert_eq!(findings.len(), N);
    // Every change is published; one may come twice after the crash (its batch redelivered in a
    // different composition is a different message), but then as the same change, same id.
    let published: Vec<v1::FindingChanged> = w
        .messages("fc-probe", w.bus.subjects().all_finding_changes())
        .await
        .iter()
        .flat_map(|d| v1::FindingChanges::decode(d.payload()).unwrap().changes)
        .collect();
    let mut first: std::collections::HashMap<&str, &v1::FindingChanged> = Default::default();
    for change in &published {
        let earlier = first.entry(change.event_id.as_str()).or_insert(change);
        assert_eq!(*earlier, change, "a repeated change is the same change");
    }
    assert_eq!(first.len(), N, "a finding change for every event");
}
