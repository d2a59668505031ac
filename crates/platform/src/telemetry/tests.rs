use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use tokio::io::AsyncReadExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::fmt::MakeWriter;

use super::*;

#[test]
fn exporter_internals_are_matched_by_crate_not_by_prefix() {
    assert!(is_exporter_internal("h2"));
    assert!(is_exporter_internal("hyper_util::client::legacy"));
    assert!(is_exporter_internal("tower::buffer::worker"));
    assert!(!is_exporter_internal("tower_http::trace::on_request"));
    assert!(!is_exporter_internal("lockstep_ingest_webhook"));
    assert!(!is_exporter_internal("h2o"));
}

/// The only test that touches the global subscriber: init installs once, later calls are inert,
/// and without an endpoint spans still carry trace context that the global propagator injects.
#[test]
fn init_is_idempotent_and_propagates_w3c_context_without_exporting() {
    let no_env = |_: &str| None;
    let guard = init_with_env(&TelemetryConfig::default(), &no_env).unwrap();
    assert!(!guard.is_exporting());
    let second = init_with_env(&TelemetryConfig::default(), &no_env).unwrap();
    assert!(second.provider.is_none());

    let span = tracing::info_span!("handle_webhook");
    let mut headers = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&span.context(), &mut headers);
    });
    let traceparent = headers.get("traceparent").expect("traceparent injected");
    assert!(
        traceparent.starts_with("00-") && traceparent.len() == 55,
        "{traceparent}"
    );
    continues_and_carries_w3c_context();
    drop(guard);
}

/// `propagation` with the global propagator installed: a caller's context is continued from a
/// `traceparent` value or HTTP headers, and a span's own context goes out the same ways.
fn continues_and_carries_w3c_context() {
    use axum::http::HeaderMap;

    let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let span = tracing::info_span!("rpc");
    propagation::continue_trace(&span, propagation::from_traceparent(caller).unwrap());
    let own = propagation::traceparent(&span);
    assert!(
        own.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && own.ends_with("-01"),
        "{own}"
    );
    assert!(
        !own.contains("00f067aa0ba902b7"),
        "the span is the caller's child: {own}"
    );

    let mut headers = HeaderMap::new();
    propagation::inject(&span, &mut headers);
    assert_eq!(headers["traceparent"], own.as_str());
    let from_headers = tracing::info_span!("server");
    propagation::continue_trace(&from_headers, propagation::extract(&headers));
    assert!(propagation::traceparent(&from_headers).contains("4bf92f3577b34da6a3ce929d0e0e4736"));

    for bad in [
        "",
        "00-zz-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    ] {
        assert!(propagation::from_traceparent(bad).is_none(), "{bad:?}");
    }
    // Without a parent, a span starts a trace of its own.
    let root = propagation::traceparent(&tracing::info_span!("root"));
    assert!(
        !root.is_empty() && !root.contains("4bf92f3577b34da6a3ce929d0e0e4736"),
        "{root}"
    );
}

#[test]
fn invalid_filter_names_its_source() {
    let rust_log = |name: &str| (name == "RUST_LOG").then(|| "lockstep=notalevel".to_owned());
    let plan = plan::plan(&TelemetryConfig::default(), &rust_log).unwrap();
    let err = log_filter(&plan).unwrap_err().to_string();
    assert!(
        err.contains("\"lockstep=notalevel\" (from RUST_LOG)"),
        "{err}"
    );

    let config = TelemetryConfig {
        filter: "lockstep=debug,h2=warn".into(),
        ..TelemetryConfig::default()
    };
    let plan = plan::plan(&config, &|_| None).unwrap();
    assert!(log_filter(&plan).is_ok());
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

#[test]
fn json_lines_carry_the_trace_id_of_the_current_span() {
    let provider = SdkTracerProvider::builder().build();
    let buffer = Buffer::default();
    let slot = Arc::new(OnceLock::new());
    let subscriber = Registry::default()
        .with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(JsonFields::new())
                .event_format(json::JsonWithTraceIds::new(Arc::clone(&slot)))
                .with_writer(buffer.clone()),
        )
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let dispatch = tracing::Dispatch::new(subscriber);
    slot.set(dispatch.downgrade()).unwrap();

    let trace_id = tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(outside = true, "no span");
        let span = tracing::info_span!("apply", finding = "f-1");
        let _entered = span.enter();
        tracing::info!(outcome = "applied", "inside a span");
        span.context().span().span_context().trace_id().to_string()
    });

    let output = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = output
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "{output}");
    assert!(lines[0].get("trace_id").is_none(), "{output}");
    assert_eq!(lines[1]["trace_id"], trace_id.as_str(), "{output}");
    assert_eq!(
        lines[1]["span_id"].as_str().map(str::len),
        Some(16),
        "{output}"
    );
    assert_eq!(lines[1]["outcome"], "applied");
    assert_eq!(lines[1]["span"]["finding"], "f-1");
}

/// With an endpoint, spans leave the process over OTLP/gRPC: a fake collector sees the HTTP/2
/// connection preface that starts every gRPC call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_exporter_sends_spans_to_the_endpoint() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let collector = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut preface = [0u8; 24];
        conn.read_exact(&mut preface).await.unwrap();
        preface
    });

    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(otlp_exporter(&endpoint).unwrap())
        .build();
    provider.tracer("test").in_span("exported", |_| {});
    let flushing = provider.clone();
    let flush = tokio::task::spawn_blocking(move || flushing.force_flush());

    let preface = tokio::time::timeout(Duration::from_secs(10), collector)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&preface, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    // The fake collector hung up, so the flush itself reports a failed export; that is expected.
    let _ = flush.await.unwrap();
    tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(Duration::from_secs(2)))
        .await
        .unwrap()
        .ok();
}

#[test]
fn otlp_exporter_outside_a_runtime_is_a_clear_error() {
    let err = otlp_exporter("http://127.0.0.1:4317").unwrap_err();
    assert!(err.to_string().contains("Tokio runtime"), "{err}");
}
