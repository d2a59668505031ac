//! A failing vendor never delays the others: a 429 answer backs that integration off (at least
//! as long as Retry-After asks) while the healthy integrations keep being polled on time; the last
//! error is recorded and visible.

use std::time::Duration;

use lockstep_itsm_sim::control::{FaultRule, InjectedError};
use lockstep_platform::Shutdown;
use time::OffsetDateTime;

use crate::support::{Env, Sim};

#[tokio::test]
async fn a_vendor_answering_429_backs_off_while_the_others_are_polled_on_time() {
    let env = Env::start().await;
    let healthy = Sim::start().await;
    let limited = Sim::start().await;
    let good = env.integration(&healthy, "healthy", 1).await;
    let bad = env.integration(&limited, "rate limited", 1).await;
    env.linked_ticket(&healthy, &good, "CVE-G").await;
    env.linked_ticket(&limited, &bad, "CVE-B").await;
    limited
        .sim
        .control()
        .set_faults(&[FaultRule {
            path_prefix: "/api/now/table/incident".into(),
            method: Some("GET".into()),
            error_rate: 1.0,
            error: InjectedError::TooManyRequests {
                retry_after_secs: 120,
            },
            ..FaultRule::default()
        }])
        .await
        .unwrap();
    healthy.sim.control().clear_requests().await.unwrap();

    // One replica polls both (the executors of the two emulators differ only in trusted CA, so
    // each integration gets a poller wired to its emulator; both share the same database).
    let shutdown = Shutdown::new();
    let pa = env.poller(&healthy, "replica-healthy");
    let pb = env.poller(&limited, "replica-limited");
    // Each replica can only reach its emulator: make each claim only its own integration by
    // running them in turn first, then the healthy one on its schedule.
    let started = std::time::Instant::now();
    let bad_first = pb.poll_now(env.tenant, bad.id).await.unwrap();
    let err = bad_first.outcome.unwrap_err();
    assert!(
        err.to_string().contains("429") || err.to_string().to_ascii_lowercase().contains("rate"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "no long in-call wait for Retry-After"
    );

    let running = tokio::spawn({
        let (pa, shutdown) = (pa.clone(), shutdown.clone());
        async move { pa.run(shutdown).await }
    });
    tokio::time::sleep(Duration::from_millis(3500)).await;
    shutdown.trigger();
    running.await.unwrap();

    // The healthy integration was polled on its 1-second interval...
    let healthy_polls = healthy.feed_requests().await.len();
    assert!(healthy_polls >= 3, "healthy polled {healthy_polls} times");
    let good_state = env
        .store()
        .poll_state()
        .get(env.tenant, good.id)
        .await
        .unwrap();
    assert!(good_state.last_error.is_none());
    // ...while the rate-limited one waits at least the 120 s it was asked to, with its error
    // recorded for the status API.
    let bad_state = env
        .store()
        .poll_state()
        .get(env.tenant, bad.id)
        .await
        .unwrap();
    assert_eq!(bad_state.consecutive_failures, 1);
    assert!(
        bad_state
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("vendor")
    );
    assert!(bad_state.next_due_at >= OffsetDateTime::now_utc() + time::Duration::seconds(110));
    assert!(bad_state.lease_owner.is_none());
}

#[tokio::test]
async fn a_slow_vendor_times_out_without_holding_the_others() {
    let env = Env::start().await;
    let sim = Sim::start().await;
    let slow = env.integration(&sim, "slow", 300).await;
    env.linked_ticket(&sim, &slow, "CVE-S").await;
    sim.sim
        .control()
        .set_faults(&[FaultRule {
            path_prefix: "/api/now/table/incident".into(),
            method: Some("GET".into()),
            latency_ms: 3000,
            ..FaultRule::default()
        }])
        .await
        .unwrap();
    let mut settings = crate::support::fast_settings();
    settings.poll_timeout = Duration::from_millis(800);
    let poller = env.poller_with(&sim, "r", settings);
    let started = std::time::Instant::now();
    let cycle = poller.run_due_once().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let err = cycle.reports[0].outcome.as_ref().unwrap_err();
    assert!(err.to_string().contains("did not finish"), "{err}");
    let state = env
        .store()
        .poll_state()
        .get(env.tenant, slow.id)
        .await
        .unwrap();
    assert_eq!(state.consecutive_failures, 1);
    assert!(state.watermark.is_none(), "no watermark from a failed poll");
}
