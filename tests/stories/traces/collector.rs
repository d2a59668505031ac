//! An OTLP collector in the test process: the collector's own gRPC `TraceService` (from
//! opentelemetry-proto) on a port-0 listener, keeping every span it receives.
//!
//! Tracing is process-global (one subscriber, one tracer provider), so the story binary's tests
//! share ONE collector: the first test that needs it installs the platform's telemetry with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` pointing here, on a runtime of its own that outlives every test
//! (the exporter's gRPC channel lives on the runtime it was built on). Each test finds its own
//! spans by the trace id it started or by an id only it uses; spans of other tests that run
//! meanwhile are exported too and simply not looked at.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use lockstep_platform::config::TelemetryConfig;
use lockstep_platform::telemetry::{self, TelemetryGuard};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;

/// One received span, with what the tests look at.
#[derive(Debug, Clone)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub name: String,
    /// OTLP's `SpanKind`: 2 server, 3 client, 4 producer, 5 consumer.
    pub kind: i32,
    pub attributes: HashMap<String, String>,
}

pub const SERVER: i32 = 2;
pub const CLIENT: i32 = 3;
pub const PRODUCER: i32 = 4;
pub const CONSUMER: i32 = 5;

impl Span {
    pub fn attr(&self, key: &str) -> &str {
        self.attributes.get(key).map_or("", String::as_str)
    }
}

#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<Span>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let received = request
            .into_inner()
            .resource_spans
            .into_iter()
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans)
            .map(|span| Span {
                trace_id: hex::encode(&span.trace_id),
                span_id: hex::encode(&span.span_id),
                parent_span_id: hex::encode(&span.parent_span_id),
                name: span.name,
                kind: span.kind,
                attributes: span
                    .attributes
                    .into_iter()
                    .map(|kv| {
                        let value = match kv.value.and_then(|v| v.value) {
                            Some(Value::StringValue(s)) => s,
                            Some(Value::IntValue(i)) => i.to_string(),
                            Some(Value::BoolValue(b)) => b.to_string(),
                            Some(other) => format!("{other:?}"),
                            None => String::new(),
                        };
                        (kv.key, value)
                    })
                    .collect(),
            });
        self.spans.lock().unwrap().extend(received);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

pub struct Collector {
    receiver: Receiver,
    guard: TelemetryGuard,
    _runtime: tokio::runtime::Runtime,
}

static COLLECTOR: OnceLock<Collector> = OnceLock::new();

/// The shared collector, started and installed as the process's exporter on first use.
pub fn collector() -> &'static Collector {
    COLLECTOR.get_or_init(|| {
        // Built on a thread of its own: the calling test's runtime cannot block on another.
        std::thread::spawn(start)
            .join()
            .expect("starting the collector")
    })
}

fn start() -> Collector {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the collector");
    let receiver = Receiver::default();
    let guard = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let service = TraceServiceServer::new(receiver.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        // The standard variables are how an operator points Lockstep at a collector; the
        // platform reads them (injected here, the process environment is shared).
        let env = move |name: &str| match name {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
            "OTEL_SERVICE_NAME" => Some("lockstep-stories".to_owned()),
            _ => None,
        };
        let config = TelemetryConfig {
            // Logs of the story binary stay quiet; spans are traced whatever the log level.
            filter: "warn".to_owned(),
            ..TelemetryConfig::default()
        };
        telemetry::init_with_env(&config, &env).expect("telemetry starts")
    });
    assert!(
        guard.is_exporting(),
        "another global subscriber was installed first; the trace stories need theirs"
    );
    Collector {
        receiver,
        guard,
        _runtime: runtime,
    }
}

impl Collector {
    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.receiver.spans.lock().unwrap().clone()
    }

    /// Waits until the spans received satisfy `done` (flushing the exporter each round), and
    /// returns them; fails naming `what` and the span names seen after `timeout`.
    pub async fn wait_for(
        &'static self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Span]) -> bool,
    ) -> Vec<Span> {
        let started = Instant::now();
        loop {
            let guard = &self.guard;
            tokio::task::spawn_blocking(move || guard.force_flush())
                .await
                .unwrap()
                .expect("the exporter flushes to the collector");
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            if started.elapsed() > timeout {
                let seen: Vec<_> = spans
                    .iter()
                    .map(|s| {
                        format!(
                            "{} {}/{}<-{}",
                            s.name, s.trace_id, s.span_id, s.parent_span_id
                        )
                    })
                    .collect();
                panic!("timed out waiting for {what}; spans received: {seen:#?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A fresh W3C `traceparent` (sampled) and its trace id, as a traced caller would send.
pub fn new_traceparent() -> (String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let span_id = &uuid::Uuid::new_v4().simple().to_string()[..16];
    (format!("00-{trace_id}-{span_id}-01"), trace_id)
}

/// The spans of one trace.
pub fn of_trace<'a>(spans: &'a [Span], trace_id: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.trace_id == trace_id).collect()
}
