//! One trace across every hop, checked by an OTLP collector in the test process
//! ([`collector`]): a webhook's trace from ingest-webhook through JetStream into the applier's
//! event and the `finding.changed` it publishes; a caller's gRPC trace through ticket-writer
//! into the vendor's HTTP call, an HTTP JSON API call through the api's request span and
//! ticket-writer into the vendor's HTTP call, and from the api through `finding.changed` into
//! ticket-writer's push and its vendor call.

mod collector;
mod services;

use std::time::Duration;

use lockstep_bus::ConsumerSettings;
use lockstep_domain::FindingStatus;
use lockstep_itsm_sim::control::DeliveryBehaviour;
use lockstep_proto::v1 as pb;
use lockstep_stories::{InboundLoop, SECRET};

use self::collector::{CLIENT, CONSUMER, PRODUCER, SERVER, collector, new_traceparent, of_trace};
use self::services::Services;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_webhook_is_one_trace_from_ingest_webhook_into_the_applier_and_its_finding_change() {
    let collector = collector();
    let world = InboundLoop::start(false).await.unwrap();
    let (finding, number) = world.ticketed_finding("trace-1").await.unwrap();
    world
        .sign_webhooks(SECRET, DeliveryBehaviour::default())
        .await
        .unwrap();
    world
        .sim
        .control()
        .resolve_incident(&number, "beth.anglin", "Solution provided", "patched")
        .await
        .unwrap();
    world
        .wait_for(finding, FindingStatus::ReTest, WAIT)
        .await
        .unwrap();

    // The emulator sends no traceparent, so the trace starts at ingest-webhook's request span
    // (only this test's integration appears in that path).
    let path = format!("/v1/webhooks/{}", world.integration);
    let spans = collector
        .wait_for(
            "the applier's event in the webhook's trace",
            WAIT,
            |spans| {
                spans
                    .iter()
                    .filter(|s| s.kind == SERVER && s.attr("url.path") == path)
                    .any(|request| {
                        of_trace(spans, &request.trace_id)
                            .iter()
                            .any(|s| s.name == "apply_event")
                    })
            },
        )
        .await;
    let request = spans
        .iter()
        .find(|s| s.kind == SERVER && s.attr("url.path") == path)
        .unwrap();
    assert_eq!(request.name, "POST /v1/webhooks/{integration_id}");
    assert_eq!(request.attr("http.response.status_code"), "202");
    assert!(request.parent_span_id.is_empty(), "{request:?}");
    let trace = of_trace(&spans, &request.trace_id);
    let publish = trace
        .iter()
        .find(|s| s.kind == PRODUCER && s.name == "publish webhook_batch")
        .expect("the JetStream publish is in the request's trace");
    let event = trace
        .iter()
        .find(|s| s.name == "apply_event")
        .expect("the applier's event span");
    assert_eq!(event.kind, CONSUMER);
    assert!(
        event
            .attr("event_id")
            .contains(&world.integration.to_string()),
        "{event:?}"
    );
    assert_eq!(event.attr("outcome"), "done", "{event:?}");
    // The applier continues the delivery's own context: its parent is the request span (a
    // group may hold deliveries of other requests, so the message header is not used).
    assert_eq!(
        event.parent_span_id, request.span_id,
        "{event:?} {publish:?}"
    );

    // The finding.changed the event caused carries the event's context on.
    let consumer = world
        .bus
        .consumer(
            "trace-story",
            vec![world.bus.subjects().finding_changed(world.tenant)],
            &ConsumerSettings::default(),
        )
        .await
        .unwrap();
    let messages = consumer.fetch(10, Duration::from_secs(5)).await.unwrap();
    let change = messages
        .iter()
        .flat_map(|m| m.decode::<pb::FindingChanges>().unwrap().changes)
        .find(|c| c.finding_id == finding.to_string())
        .expect("the finding's change was published");
    assert_eq!(
        change.traceparent,
        format!("00-{}-{}-01", event.trace_id, event.span_id)
    );
    world.stop().await;
}

#[tokio::test]
async fn ingest_webhook_continues_the_senders_traceparent() {
    let collector = collector();
    let world = InboundLoop::start(false).await.unwrap();
    let (traceparent, trace_id) = new_traceparent();
    // Refused (no credentials), but traced all the same.
    let status = reqwest::Client::new()
        .post(&world.webhook_url)
        .header("traceparent", &traceparent)
        .body("{}")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    let spans = collector
        .wait_for("the request span in the sender's trace", WAIT, |spans| {
            of_trace(spans, &trace_id).iter().any(|s| s.kind == SERVER)
        })
        .await;
    let request = of_trace(&spans, &trace_id)[0].clone();
    assert_eq!(request.parent_span_id, &traceparent[36..52]);
    assert_eq!(request.attr("http.response.status_code"), "401");
    world.stop().await;
}

#[tokio::test]
async fn a_grpc_call_is_one_trace_through_ticket_writer_and_the_api_to_the_vendor() {
    let collector = collector();
    let env = Services::start().await;
    let integration = env.integration().await;
    let finding = env.import("TRACE").await;

    // A caller (the CLI) → ticket-writer's CreateTicket → the vendor's POST.
    let (traceparent, create_trace) = new_traceparent();
    env.create_ticket(&traceparent, &finding, &integration)
        .await;
    let spans = collector
        .wait_for("the vendor call in the caller's trace", WAIT, |spans| {
            of_trace(spans, &create_trace)
                .iter()
                .any(|s| s.kind == CLIENT && s.attr("lockstep.vendor") == "servicenow")
        })
        .await;
    let trace = of_trace(&spans, &create_trace);
    let rpc = trace
        .iter()
        .find(|s| s.kind == SERVER)
        .expect("ticket-writer's server span");
    assert_eq!(rpc.name, "lockstep.v1.TicketService/CreateTicket");
    assert_eq!(rpc.parent_span_id, &traceparent[36..52]);
    let post = trace
        .iter()
        .find(|s| s.kind == CLIENT && s.attr("http.request.method") == "POST")
        .expect("the vendor POST's client span");
    // The vendor received the client span's context.
    let sent = format!("00-{create_trace}-{}-01", post.span_id);
    assert!(
        env.vendor_traceparents().await.contains(&sent),
        "the emulator did not receive {sent}"
    );

    // The api's SetFindingStatus → finding.changed → ticket-writer's push → the vendor's PATCH.
    let (traceparent, close_trace) = new_traceparent();
    let caller = &traceparent[36..52];
    env.close_finding(&traceparent, &finding).await;
    // Spans are exported as they end, parents after their children: wait for the whole trace,
    // every span hanging from the caller or from another span of the same trace (ONE trace).
    let spans = collector
        .wait_for(
            "the pushed vendor call in the api caller's trace, with all its parents",
            WAIT,
            |spans| {
                let trace = of_trace(spans, &close_trace);
                trace
                    .iter()
                    .any(|s| s.kind == CLIENT && s.attr("http.request.method") == "PATCH")
                    && trace.iter().all(|span| {
                        span.parent_span_id == caller
                            || trace.iter().any(|p| p.span_id == span.parent_span_id)
                    })
            },
        )
        .await;
    let trace = of_trace(&spans, &close_trace);
    let names: Vec<&str> = trace.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "lockstep.v1.FindingService/SetFindingStatus",
        "publish finding_changes",
        "push_change",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    env.stop();
}

#[tokio::test]
async fn an_http_api_call_is_one_trace_through_the_api_and_ticket_writer_to_the_vendor() {
    let collector = collector();
    let env = Services::start().await;
    let integration = env.integration().await;
    let finding = env.import("TRACE-HTTP").await;

    // A caller with a traceparent → the api's POST /v1/tickets → ticket-writer's CreateTicket
    // (gRPC, the api's context in its metadata) → the vendor's POST.
    let (traceparent, trace_id) = new_traceparent();
    env.create_ticket_over_http(&traceparent, &finding, &integration)
        .await;
    let spans = collector
        .wait_for(
            "the api's request span and the vendor call in the caller's trace",
            WAIT,
            |spans| {
                let trace = of_trace(spans, &trace_id);
                trace.iter().any(|s| s.name == "POST /v1/tickets")
                    && trace
                        .iter()
                        .any(|s| s.kind == CLIENT && s.attr("http.request.method") == "POST")
            },
        )
        .await;
    let trace = of_trace(&spans, &trace_id);
    let request = trace.iter().find(|s| s.name == "POST /v1/tickets").unwrap();
    assert_eq!(request.kind, SERVER);
    assert_eq!(request.parent_span_id, &traceparent[36..52]);
    assert_eq!(request.attr("http.route"), "/v1/tickets");
    assert_eq!(request.attr("http.response.status_code"), "200");
    let rpc = trace
        .iter()
        .find(|s| s.name == "lockstep.v1.TicketService/CreateTicket")
        .expect("ticket-writer's server span in the HTTP caller's trace");
    assert_eq!(rpc.parent_span_id, request.span_id, "{rpc:?}");
    let post = trace
        .iter()
        .find(|s| s.kind == CLIENT && s.attr("http.request.method") == "POST")
        .unwrap();
    let sent = format!("00-{trace_id}-{}-01", post.span_id);
    assert!(
        env.vendor_traceparents().await.contains(&sent),
        "the emulator did not receive {sent}"
    );
    env.stop();
}
