//! The executor against the emulator: safe retries, Retry-After, timeouts, resets, error
//! classes, bounded concurrency, metrics and masked logs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lockstep_connectors::servicenow::ServiceNowCredentials;
use lockstep_connectors::{ConnectorError, ErrorClass};
use lockstep_crypto::SecretString;
use lockstep_domain::{FindingId, ServiceNowTable, Severity};
use lockstep_itsm_sim::control::{FaultRule, InjectedError, RateLimitRule};
use parking_lot::Mutex;

use crate::support::{Env, INTEGRATION_USER, new_ticket};

fn fault(method: &str, path: &str, error: InjectedError, times: Option<u64>) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path_prefix: path.into(),
        error_rate: 1.0,
        error,
        times,
        ..FaultRule::default()
    }
}

async fn read(env: &Env) -> Result<(), ConnectorError> {
    env.integration()
        .find_by_correlation(ServiceNowTable::Incident, FindingId::new())
        .await
        .map(drop)
}

#[tokio::test]
async fn a_503_read_is_retried_until_it_succeeds() {
    let env = Env::start().await;
    let rule = fault(
        "GET",
        "/api/now/table/incident",
        InjectedError::Status { status: 503 },
        Some(2),
    );
    env.sim.control().set_faults(&[rule]).await.unwrap();
    read(&env).await.expect("third attempt succeeds");
    let statuses: Vec<_> = env
        .requests("/api/now/table/incident")
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(statuses, vec![Some(503), Some(503), Some(200)]);
}

#[tokio::test]
async fn persistent_5xx_ends_as_an_unavailable_vendor_error() {
    let env = Env::start().await;
    let rule = fault(
        "GET",
        "/api/now/table/incident",
        InjectedError::Status { status: 503 },
        None,
    );
    env.sim.control().set_faults(&[rule]).await.unwrap();
    let err = read(&env).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Vendor { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Unavailable);
    assert!(err.is_transient());
    assert_eq!(
        env.requests("/api/now/table/incident").await.len(),
        3,
        "max_attempts"
    );

    // A 500 is not retried at all.
    let rule = fault(
        "GET",
        "/api/now/table/incident",
        InjectedError::Status { status: 500 },
        None,
    );
    env.sim.control().set_faults(&[rule]).await.unwrap();
    env.sim.control().clear_requests().await.unwrap();
    assert!(matches!(
        read(&env).await,
        Err(ConnectorError::Vendor { status: 500, .. })
    ));
    assert_eq!(env.requests("/api/now/table/incident").await.len(), 1);
}

#[tokio::test]
async fn a_create_is_not_retried_after_an_ambiguous_502() {
    let env = Env::start().await;
    let rule = fault(
        "POST",
        "/api/now/table/incident",
        InjectedError::Status { status: 502 },
        None,
    );
    env.sim.control().set_faults(&[rule]).await.unwrap();
    let err = env
        .integration()
        .create_ticket(&new_ticket(
            ServiceNowTable::Incident,
            "K-502",
            Severity::High,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::Vendor { status: 502, .. }),
        "{err:?}"
    );
    let posts: Vec<_> = env
        .requests("/api/now/table/incident")
        .await
        .into_iter()
        .filter(|r| r.0 == "POST")
        .collect();
    assert_eq!(
        posts.len(),
        1,
        "a POST may have been processed; it is never resent"
    );
    assert_eq!(
        env.count("incident", "correlation_idSTARTSWITHlockstep:")
            .await,
        0
    );
}

#[tokio::test]
async fn a_429_retry_after_within_the_cap_is_waited_for() {
    let env = Env::start().await;
    let rule = RateLimitRule {
        user: Some(INTEGRATION_USER.into()),
        limit: 1,
        window_secs: 2,
        ..RateLimitRule::default()
    };
    env.sim.control().set_rate_limits(&[rule]).await.unwrap();
    let client = env.integration();
    // One call per two-second window: a quick second call is refused and waits for the next
    // window (a third covers the rare case of the first two straddling a window boundary).
    let mut waited = None;
    for _ in 0..3 {
        let started = Instant::now();
        client
            .find_by_correlation(ServiceNowTable::Incident, FindingId::new())
            .await
            .expect("succeeds, if need be after the wait");
        if started.elapsed() >= Duration::from_millis(900) {
            waited = Some(started.elapsed());
            break;
        }
    }
    assert!(waited.is_some(), "one call waited for Retry-After");
    let statuses: Vec<_> = env
        .requests("/api/now/table/incident")
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert!(statuses.contains(&Some(429)), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&Some(200)));
}

#[tokio::test]
async fn a_429_beyond_the_cap_is_reported_with_its_retry_after() {
    let env = Env::start().await;
    let rule = RateLimitRule {
        limit: 1,
        window_secs: 3600,
        ..RateLimitRule::default()
    };
    env.sim.control().set_rate_limits(&[rule]).await.unwrap();
    read(&env).await.expect("first call is within the limit");
    env.sim.control().clear_requests().await.unwrap();
    let err = read(&env).await.unwrap_err();
    let wait = err.retry_after().expect("retry_after carried");
    assert!(
        wait > Duration::from_secs(3) && wait <= Duration::from_secs(3600),
        "{wait:?}"
    );
    assert_eq!(err.class(), ErrorClass::ResourceExhausted);
    assert!(err.to_string().contains("Rate limit"), "{err}");
    assert_eq!(
        env.requests("/api/now/table").await.len(),
        1,
        "no waiting for an hour"
    );
}

#[tokio::test]
async fn slow_answers_time_out_and_reads_are_retried() {
    let env = Env::with_http(|c| c.request_timeout = Duration::from_millis(300)).await;
    let rule = FaultRule {
        method: Some("GET".into()),
        path_prefix: "/api/now/table/incident".into(),
        latency_ms: 1500,
        ..FaultRule::default()
    };
    env.sim.control().set_faults(&[rule]).await.unwrap();
    let started = Instant::now();
    let err = read(&env).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Timeout { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::DeadlineExceeded);
    assert!(
        started.elapsed() >= Duration::from_millis(850),
        "three attempts of 300 ms: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_reset_connection_is_retried_for_reads() {
    let env = Env::start().await;
    let rule = FaultRule {
        path_prefix: "/api/now/table/incident".into(),
        reset_rate: 1.0,
        times: Some(1),
        ..FaultRule::default()
    };
    env.sim.control().set_faults(&[rule]).await.unwrap();
    read(&env).await.expect("the retry gets through");
    let statuses: Vec<_> = env
        .requests("/api/now/table/incident")
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(statuses, vec![None, Some(200)]);
}

#[tokio::test]
async fn a_hibernating_instance_is_named() {
    let env = Env::start().await;
    env.sim
        .control()
        .set_faults(&[fault("GET", "/api/now", InjectedError::Hibernating, None)])
        .await
        .unwrap();
    let err = read(&env).await.unwrap_err();
    assert!(err.to_string().contains("hibernating"), "{err}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn concurrency_is_bounded_per_integration() {
    let env = Env::with_http(|c| c.max_concurrency_per_integration = 2).await;
    let rule = FaultRule {
        method: Some("GET".into()),
        path_prefix: "/api/now/table/incident".into(),
        latency_ms: 250,
        ..FaultRule::default()
    };
    env.sim.control().set_faults(&[rule]).await.unwrap();
    let client = env.integration();
    let started = Instant::now();
    let calls =
        (0..6).map(|_| client.find_by_correlation(ServiceNowTable::Incident, FindingId::new()));
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    // Six calls, two at a time, 250 ms each: at least three rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(740),
        "{:?}",
        started.elapsed()
    );
}

/// Counts every counter increment and histogram sample by key (name and labels).
#[derive(Default)]
struct Recorded(Mutex<BTreeMap<String, u64>>);

struct Handle(Arc<Recorded>, String);

impl metrics::CounterFn for Handle {
    fn increment(&self, value: u64) {
        *self.0.0.lock().entry(self.1.clone()).or_default() += value;
    }
    fn absolute(&self, _: u64) {}
}

impl metrics::HistogramFn for Handle {
    fn record(&self, _: f64) {
        *self.0.0.lock().entry(self.1.clone()).or_default() += 1;
    }
}

struct TestRecorder(Arc<Recorded>);

fn key_text(key: &metrics::Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl metrics::Recorder for TestRecorder {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::from_arc(Arc::new(Handle(self.0.clone(), key_text(key))))
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(
        &self,
        key: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::from_arc(Arc::new(Handle(self.0.clone(), key_text(key))))
    }
}

#[tokio::test]
async fn every_attempt_is_counted_with_its_outcome() {
    let env = Env::start().await;
    let rule = fault(
        "GET",
        "/api/now/table/incident",
        InjectedError::Status { status: 503 },
        Some(1),
    );
    env.sim.control().set_faults(&[rule]).await.unwrap();
    let recorded = Arc::new(Recorded::default());
    let recorder = TestRecorder(recorded.clone());
    {
        // The test runtime is single-threaded, so a thread-local recorder sees every call.
        let _guard = metrics::set_default_local_recorder(&recorder);
        read(&env).await.unwrap();
    }
    let seen = recorded.0.lock().clone();
    let key = |outcome: &str| {
        format!(
            "lockstep_vendor_requests_total{{op=find_by_correlation,outcome={outcome},vendor=servicenow}}"
        )
    };
    assert_eq!(seen.get(&key("server_error")), Some(&1), "{seen:#?}");
    assert_eq!(seen.get(&key("success")), Some(&1), "{seen:#?}");
    let latency =
        "lockstep_vendor_request_duration_seconds{op=find_by_correlation,vendor=servicenow}";
    assert_eq!(seen.get(latency), Some(&2), "{seen:#?}");
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_show_requests_but_never_secrets() {
    let env = Env::start().await;
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        // Another test's thread may have registered one of the executor's callsites while only
        // the no-op global dispatcher existed and cached "never" for it after this subscriber's
        // own rebuild; rebuilding again here makes every callsite ask this subscriber.
        tracing::callsite::rebuild_interest_cache();
        let oauth = env.client(ServiceNowCredentials::OAuthPassword {
            client_id: "lockstep".into(),
            client_secret: SecretString::new("lockstep-secret"),
            username: "beth.anglin".into(),
            password: SecretString::new("beth.anglin"),
        });
        oauth
            .find_by_correlation(ServiceNowTable::Incident, FindingId::new())
            .await
            .unwrap();
        let key = env.client(ServiceNowCredentials::ApiKey {
            key: SecretString::new("now_lockstep_integration_key"),
        });
        key.find_by_correlation(ServiceNowTable::Incident, FindingId::new())
            .await
            .unwrap();
    }
    let logs = String::from_utf8(captured.0.lock().clone()).unwrap();
    assert!(
        logs.contains("vendor request") && logs.contains("vendor response"),
        "{logs}"
    );
    assert!(
        logs.contains("oauth_token") && logs.contains("[masked]"),
        "{logs}"
    );
    for secret in [
        "lockstep-secret",
        "password=beth.anglin",
        "now_lockstep_integration_key",
        "Bearer ",
    ] {
        assert!(
            !logs.contains(secret),
            "{secret} leaked into the logs:\n{logs}"
        );
    }
    // The token endpoint's answer is logged with its tokens masked.
    assert!(
        logs.contains(r#"access_token\":\"[masked]"#)
            || logs.contains(r#""access_token":"[masked]""#),
        "{logs}"
    );
}
