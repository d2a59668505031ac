use std::time::{Duration, Instant};

use lockstep_itsm_sim::SimConfig;
use lockstep_itsm_sim::control::{FaultRule, InjectedError};
use reqwest::StatusCode;

use crate::helpers::*;

fn rule(prefix: &str) -> FaultRule {
    FaultRule {
        path_prefix: prefix.into(),
        ..FaultRule::default()
    }
}

#[tokio::test]
async fn latency_applies_per_endpoint() {
    let sim = start().await;
    sim.control()
        .set_faults(&[FaultRule {
            latency_ms: 300,
            ..rule("/api/now/table/incident")
        }])
        .await
        .expect("faults");
    let t = Instant::now();
    assert_eq!(
        get(&sim, "admin", "/api/now/table/incident").await.status,
        StatusCode::OK
    );
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    get(&sim, "admin", "/api/now/table/change_request").await;
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn injected_errors_look_like_the_platforms_front_end() {
    let sim = start().await;
    let c = sim.control();
    c.set_faults(&[FaultRule {
        error_rate: 1.0,
        error: InjectedError::Status { status: 502 },
        ..rule("/api/now")
    }])
    .await
    .expect("faults");
    let r = get(&sim, "admin", "/api/now/table/incident").await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
    );
    c.set_faults(&[FaultRule {
        error_rate: 1.0,
        error: InjectedError::Hibernating,
        ..rule("")
    }])
    .await
    .expect("faults");
    let r = get(&sim, "admin", "/api/now/table/incident").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("Instance Hibernating page"));
    c.set_faults(&[FaultRule {
        error_rate: 1.0,
        error: InjectedError::TooManyRequests {
            retry_after_secs: 7,
        },
        ..rule("")
    }])
    .await
    .expect("faults");
    let r = get(&sim, "admin", "/api/now/table/incident").await;
    assert_eq!(
        (r.status, r.header("retry-after")),
        (StatusCode::TOO_MANY_REQUESTS, Some("7"))
    );
    assert!(r.header("x-ratelimit-limit").is_none());
    c.set_faults(&[FaultRule {
        error_rate: 1.0,
        error: InjectedError::TransactionTimeout,
        ..rule("")
    }])
    .await
    .expect("faults");
    let r = get(&sim, "admin", "/api/now/table/incident").await;
    assert!(
        r.text
            .contains("Transaction cancelled: maximum execution time exceeded")
    );
    // The control API is never faulted, and clearing switches faults off at run time.
    c.clear_faults().await.expect("cleared");
    assert_eq!(
        get(&sim, "admin", "/api/now/table/incident").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn connection_resets_and_limited_rules() {
    let sim = start().await;
    sim.control()
        .set_faults(&[FaultRule {
            reset_rate: 1.0,
            times: Some(1),
            ..rule("/api/now/table")
        }])
        .await
        .expect("faults");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let err = client
        .get(format!("{}/api/now/table/incident", sim.base_url()))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect_err("reset");
    assert!(!err.is_status());
    let ok = client
        .get(format!("{}/api/now/table/incident", sim.base_url()))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("second ok");
    assert_eq!(ok.status(), StatusCode::OK);
    let log = sim.control().requests().await.expect("log");
    assert_eq!(log[0].fault.as_deref(), Some("reset"));
    assert_eq!(log[0].status, None);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults() {
    async fn pattern(seed: u64) -> Vec<u16> {
        let sim = start_with(SimConfig {
            seed,
            ..SimConfig::default()
        })
        .await;
        sim.control()
            .set_faults(&[FaultRule {
                error_rate: 0.5,
                ..rule("/api/now")
            }])
            .await
            .expect("faults");
        let mut out = Vec::new();
        for _ in 0..30 {
            out.push(
                get(&sim, "admin", "/api/now/table/incident")
                    .await
                    .status
                    .as_u16(),
            );
        }
        out
    }
    let a = pattern(42).await;
    assert_eq!(a, pattern(42).await);
    assert!(a.contains(&503) && a.contains(&200));
    assert_ne!(a, pattern(43).await);
}
