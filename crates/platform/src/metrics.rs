//! The process-wide Prometheus recorder behind the `metrics` facade.
//!
//! Services record with `metrics::counter!`/`histogram!`/`gauge!` anywhere; this module installs
//! the one recorder (once, however many services share the process) and renders the exposition
//! text for `/metrics`. Histograms whose names end in `_seconds` or `_bytes` get real buckets —
//! without them metrics-exporter-prometheus renders summaries, which cannot be aggregated
//! across replicas. Other histograms stay summaries; name them with a unit.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::Error;

/// Latency buckets (seconds): 1 ms to 5 min, dense where webhook and API latencies live.
pub const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];
/// Size buckets (bytes): 256 B to 4 MiB, covering webhook bodies and API payloads.
pub const BYTES_BUCKETS: &[f64] = &[
    256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
];

/// How often histogram samples are folded into buckets when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installs the Prometheus recorder as the global `metrics` recorder, or returns the handle of
/// the one installed earlier. Fails only if some other recorder was installed first.
pub fn install_recorder() -> Result<PrometheusHandle, Error> {
    let mut slot = HANDLE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(handle) = slot.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), SECONDS_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_bytes".to_owned()), BYTES_BUCKETS))
        .map_err(|e| Error::Metrics(e.to_string()))?
        .install_recorder()
        .map_err(|e| Error::Metrics(format!("cannot install the Prometheus recorder: {e}")))?;
    // `install_recorder` leaves upkeep to the caller; without it histogram samples pile up in
    // memory between scrapes. A plain thread works whether or not a Tokio runtime exists.
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        })
        .map_err(|e| Error::Metrics(format!("cannot start the upkeep thread: {e}")))?;
    *slot = Some(handle.clone());
    Ok(handle)
}

/// The Prometheus text exposition of every metric recorded in this process.
pub fn render() -> Result<String, Error> {
    let handle = install_recorder()?;
    handle.run_upkeep();
    Ok(handle.render())
}

/// Records `lockstep_build_info{service, version} 1`, the conventional way to expose which
/// build runs where (join on it in PromQL instead of labelling every series with a version).
pub fn record_build_info(service: &str, version: &str) {
    metrics::gauge!("lockstep_build_info", "service" => service.to_owned(), "version" => version.to_owned())
        .set(1.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_is_idempotent_and_renders_histograms_with_buckets() {
        install_recorder().unwrap();
        install_recorder().unwrap();
        metrics::counter!("lockstep_test_events_total", "outcome" => "ok").increment(3);
        metrics::histogram!("lockstep_test_duration_seconds").record(0.02);
        record_build_info("test-service", "1.2.3");

        let text = render().unwrap();
        assert!(
            text.contains("lockstep_test_events_total{outcome=\"ok\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("lockstep_test_duration_seconds_bucket{le=\"0.025\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("lockstep_test_duration_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.contains("lockstep_build_info{service=\"test-service\",version=\"1.2.3\"} 1"),
            "{text}"
        );
    }
}
