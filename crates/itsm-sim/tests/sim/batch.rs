use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn b64(v: &Value) -> String {
    STANDARD.encode(v.to_string())
}

fn unb64(s: &Value) -> Value {
    serde_json::from_slice(&STANDARD.decode(s.as_str().unwrap_or("")).expect("base64"))
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn sub_requests_run_in_order_with_the_outer_identity() {
    let sim = start().await;
    let req = json!({
        "batch_request_id": 42,
        "rest_requests": [
            {"id": "1", "method": "POST", "url": "/api/now/table/incident", "body": b64(&json!({"short_description": "b1"})),
             "headers": [{"name": "Content-Type", "value": "application/json"}]},
            {"id": 2, "method": "GET", "url": "/api/now/table/incident?sysparm_query=short_description=b1&sysparm_fields=number", "headers": []},
            {"id": "3", "method": "GET", "url": "/api/now/table/incident/nope", "headers": [], "exclude_response_headers": true},
        ]
    });
    let r = post(&sim, "beth.anglin", "/api/now/v1/batch", req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["batch_request_id"], "42");
    assert_eq!(r.body["unserviced_requests"], json!([]));
    let items = r.body["serviced_requests"].as_array().expect("items");
    assert_eq!(
        items
            .iter()
            .map(|i| i["id"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    assert_eq!(
        (
            items[0]["status_code"].as_u64(),
            items[0]["status_text"].as_str()
        ),
        (Some(201), Some("Created"))
    );
    assert_eq!(
        unb64(&items[0]["body"])["result"]["sys_created_by"],
        "beth.anglin"
    );
    assert_eq!(
        unb64(&items[1]["body"]),
        json!({"result": [{"number": "INC0010001"}]})
    );
    let headers: Vec<(&str, &str)> = items[1]["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap_or(""),
                h["value"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(headers.contains(&("X-Total-Count", "1")), "{headers:?}");
    assert_eq!(items[2]["status_code"], 404);
    assert_eq!(items[2]["headers"], json!([]));
    assert!(items[0]["execution_time"].is_u64());
}

#[tokio::test]
async fn budget_overflow_goes_to_unserviced_and_auth_is_required() {
    let sim = start().await;
    sim.control()
        .patch_settings(json!({"batch_max_requests": 1}))
        .await
        .expect("settings");
    let req = json!({"batch_request_id": "x", "rest_requests": [
        {"id": "a", "method": "GET", "url": "/api/now/table/incident"},
        {"id": "b", "method": "GET", "url": "/api/now/table/incident"},
    ]});
    let r = post(&sim, "admin", "/api/now/v1/batch", req.clone()).await;
    assert_eq!(
        r.body["serviced_requests"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(r.body["unserviced_requests"], json!(["b"]));
    let unauth = sim
        .http_client()
        .post(format!("{}/api/now/v1/batch", sim.base_url()))
        .json(&req)
        .send()
        .await
        .expect("sent");
    assert_eq!(unauth.status(), StatusCode::UNAUTHORIZED);
    let bad = post(
        &sim,
        "admin",
        "/api/now/v1/batch",
        json!({"rest_requests": "nope"}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
