//! The Batch API (§8): `POST /api/now/v1/batch`. Sub-requests carry base64 bodies and run one after
//! another with the outer request's identity (pysnc sends them without Authorization or Accept)
//! through the same Table API code; what does not fit the item or time budget comes back in
//! `unserviced_requests`.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ServiceNow;
use super::acl::Caller;
use super::api::{ApiRequest, ApiResponse};
use super::errors::SnError;
use super::{Route, route, table_api};

#[derive(Deserialize)]
struct BatchRequest {
    batch_request_id: Value,
    #[serde(default)]
    rest_requests: Vec<RestRequest>,
}

#[derive(Deserialize)]
struct NameValue {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct RestRequest {
    id: Value,
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    exclude_response_headers: bool,
}

fn id_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn handle(sn: &ServiceNow, caller: &Caller, req: &ApiRequest) -> Result<ApiResponse, SnError> {
    if req.method != Method::POST {
        return Err(SnError::method_not_allowed());
    }
    let batch: BatchRequest = serde_json::from_slice(&req.body).map_err(|_| SnError::bad_json())?;
    let settings = sn.settings();
    let started = Instant::now();
    let budget = Duration::from_millis(settings.batch_time_budget_ms);
    let mut serviced = Vec::new();
    let mut unserviced = Vec::new();
    for item in &batch.rest_requests {
        let over_items = settings
            .batch_max_requests
            .is_some_and(|max| serviced.len() >= max);
        if over_items || started.elapsed() > budget {
            unserviced.push(json!(id_string(&item.id)));
            continue;
        }
        let t0 = Instant::now();
        let resp = run_item(sn, caller, item);
        let headers: Vec<Value> = if item.exclude_response_headers {
            Vec::new()
        } else {
            resp.headers
                .iter()
                .filter_map(|(k, v)| {
                    v.to_str()
                        .ok()
                        .map(|v| json!({"name": canonical(k.as_str()), "value": v}))
                })
                .collect()
        };
        serviced.push(json!({
            "id": id_string(&item.id),
            "status_code": resp.status.as_u16(),
            "status_text": resp.status.canonical_reason().unwrap_or(""),
            "headers": headers,
            "body": STANDARD.encode(&resp.body),
            "execution_time": t0.elapsed().as_millis() as u64,
        }));
    }
    Ok(ApiResponse::json(
        StatusCode::OK,
        &json!({
            // pysnc sends a number and compares str(id) with the answer: always a string.
            "batch_request_id": id_string(&batch.batch_request_id),
            "serviced_requests": serviced,
            "unserviced_requests": unserviced,
        }),
    ))
}

/// `x-total-count` → `X-Total-Count`, as the platform spells its headers.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn run_item(sn: &ServiceNow, caller: &Caller, item: &RestRequest) -> ApiResponse {
    let (path, query) = item.url.split_once('?').unwrap_or((item.url.as_str(), ""));
    let mut headers = HeaderMap::new();
    for h in &item.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(h.name.as_str()),
            HeaderValue::try_from(h.value.as_str()),
        ) {
            headers.insert(n, v);
        }
    }
    let body = match item.body.as_deref().map(|b| STANDARD.decode(b)) {
        Some(Ok(bytes)) => Bytes::from(bytes),
        Some(Err(_)) => return SnError::bad_json().into(),
        None => Bytes::new(),
    };
    let Ok(method) = Method::from_bytes(item.method.to_ascii_uppercase().as_bytes()) else {
        return SnError::method_not_allowed().into();
    };
    let sub = ApiRequest {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body,
    };
    let result = match route(path) {
        Route::Table(t) => table_api::handle(sn, caller, &sub, &t),
        _ => Err(SnError::bad_uri()),
    };
    result.unwrap_or_else(ApiResponse::from)
}
