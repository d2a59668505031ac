//! Vendor-neutral control routes.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::FaultRule;
use crate::state::{RequestEntry, SimState};
use crate::webhooks::{Delivery, DeliveryBehaviour, WebhookTarget, WebhookTargetSpec};

pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route(
            "/_sim/health",
            get(|| async { Json(json!({"status": "ok"})) }),
        )
        .route("/_sim/info", get(info))
        .route("/_sim/reset", post(reset))
        .route("/_sim/tls/ca.pem", get(ca_pem))
        .route(
            "/_sim/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
        .route("/_sim/webhooks/targets", get(targets).post(add_target))
        .route("/_sim/webhooks/targets/{id}", delete(remove_target))
        .route(
            "/_sim/webhooks/behaviour",
            get(get_behaviour).put(put_behaviour),
        )
        .route(
            "/_sim/webhooks/deliveries",
            get(deliveries).delete(clear_deliveries),
        )
        .route("/_sim/webhooks/deliveries/{id}/redeliver", post(redeliver))
        .route("/_sim/clock", get(clock))
        .route("/_sim/clock/advance", post(advance))
        .route("/_sim/requests", get(requests).delete(clear_requests))
        .with_state(state)
}

type S = State<Arc<SimState>>;

async fn info(State(s): S) -> Json<Value> {
    Json(
        json!({"base_url": s.base_url, "seed": s.rng.seed(), "tls": s.ca_pem.is_some(), "vendors": ["servicenow", "jira", "sdp"]}),
    )
}

async fn reset(State(s): S) -> StatusCode {
    s.reset();
    StatusCode::NO_CONTENT
}

async fn ca_pem(State(s): S) -> Response {
    match &s.ca_pem {
        Some(pem) => {
            let mut r = pem.clone().into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-pem-file"),
            );
            r
        }
        None => (StatusCode::NOT_FOUND, "the emulator runs without TLS").into_response(),
    }
}

async fn get_faults(State(s): S) -> Json<Vec<FaultRule>> {
    Json(s.faults.list())
}

async fn put_faults(State(s): S, Json(rules): Json<Vec<FaultRule>>) -> Json<Vec<FaultRule>> {
    s.faults.set(rules);
    Json(s.faults.list())
}

async fn clear_faults(State(s): S) -> StatusCode {
    s.faults.set(Vec::new());
    StatusCode::NO_CONTENT
}

async fn targets(State(s): S) -> Json<Vec<WebhookTarget>> {
    Json(s.webhooks.targets())
}

async fn add_target(State(s): S, Json(spec): Json<WebhookTargetSpec>) -> Response {
    if spec.url.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "url is required"})),
        )
            .into_response();
    }
    (StatusCode::CREATED, Json(s.webhooks.add_target(spec))).into_response()
}

async fn remove_target(State(s): S, Path(id): Path<String>) -> StatusCode {
    if s.webhooks.remove_target(&id) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn get_behaviour(State(s): S) -> Json<DeliveryBehaviour> {
    Json(s.webhooks.behaviour())
}

async fn put_behaviour(State(s): S, Json(b): Json<DeliveryBehaviour>) -> Json<DeliveryBehaviour> {
    s.webhooks.set_behaviour(b);
    Json(s.webhooks.behaviour())
}

async fn deliveries(State(s): S) -> Json<Vec<Delivery>> {
    Json(s.webhooks.deliveries())
}

async fn clear_deliveries(State(s): S) -> StatusCode {
    s.webhooks.clear_deliveries();
    StatusCode::NO_CONTENT
}

async fn redeliver(State(s): S, Path(id): Path<u64>) -> Response {
    match s.webhooks.redeliver(id) {
        Some(new_id) => {
            (StatusCode::ACCEPTED, Json(json!({"delivery_id": new_id}))).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn clock(State(s): S) -> Json<Value> {
    let now = s.clock.now();
    Json(
        json!({"now": crate::clock::format_utc(now), "unix": now.unix_timestamp(), "offset_secs": s.clock.offset_secs()}),
    )
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

async fn advance(State(s): S, Json(a): Json<Advance>) -> Json<Value> {
    s.clock.advance(a.seconds);
    clock(State(s)).await
}

async fn requests(State(s): S) -> Json<Vec<RequestEntry>> {
    Json(s.requests.list())
}

async fn clear_requests(State(s): S) -> StatusCode {
    s.requests.clear();
    StatusCode::NO_CONTENT
}
