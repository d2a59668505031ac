//! A command's gRPC requests carry its trace: the CLI continues `TRACEPARENT` from its
//! environment (a traced script or CI job that runs it) and sends the `traceparent` of its own
//! command span, so the services' spans of the call join the caller's trace.

use std::sync::{Arc, Mutex};

use tokio_stream::wrappers::TcpListenerStream;
use tonic::codegen::http;

#[tokio::test]
async fn a_command_sends_a_traceparent_that_continues_the_callers_trace() {
    // A gRPC server that knows no Lockstep service (the call fails UNIMPLEMENTED) and records
    // the traceparent of every request it gets.
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = Arc::clone(&seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_, health) = tonic_health::server::health_reporter();
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(tower::util::MapRequestLayer::new(
                move |request: http::Request<tonic::body::Body>| {
                    let traceparent = request.headers().get("traceparent");
                    record.lock().unwrap().push(
                        traceparent
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned(),
                    );
                    request
                },
            ))
            .add_service(health)
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["findings", "list", "--server", &format!("http://{addr}")])
        .env("LOCKSTEP_TOKEN", "lst_trace")
        .env("TRACEPARENT", format!("00-{trace_id}-{caller_span}-01"))
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_SDK_DISABLED")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success(), "the fake server implements nothing");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let parts: Vec<&str> = seen[0].split('-').collect();
    assert_eq!(parts.len(), 4, "{seen:?}");
    assert_eq!(parts[1], trace_id, "the caller's trace continues");
    assert_ne!(parts[2], caller_span, "the CLI's own span is the parent");
    assert_eq!(parts[3], "01", "sampled, as the caller's was");
}
