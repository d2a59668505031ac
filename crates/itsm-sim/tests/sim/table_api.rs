use reqwest::Method;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn create_returns_201_location_and_string_values() {
    let sim = start().await;
    let r = post(
        &sim,
        "admin",
        "/api/now/table/incident",
        json!({"short_description": "x", "impact": 2, "urgency": 2}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let rec = &r.body["result"];
    let id = rec["sys_id"].as_str().expect("sys_id");
    assert_eq!(id.len(), 32);
    assert_eq!(
        r.header("location").expect("location"),
        format!("{}/api/now/table/incident/{id}", sim.base_url())
    );
    for (k, v) in rec.as_object().expect("object") {
        assert!(v.is_string() || v.is_object(), "{k} is {v}");
    }
    assert_eq!(rec["impact"], "2");
    assert_eq!(rec["priority"], "3");
    assert_eq!(rec["active"], "true");
    assert_eq!(rec["sys_mod_count"], "0");
    assert_eq!(rec["close_code"], "");
    assert_eq!(rec["opened_at"], rec["sys_created_on"]);
    assert_eq!(rec["sys_created_on"], rec["sys_updated_on"]);
    assert_eq!(
        r.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
}

#[tokio::test]
async fn read_update_delete_and_their_status_codes() {
    let sim = start().await;
    let id = incident(&sim, json!({"short_description": "crud"})).await["sys_id"]
        .as_str()
        .expect("id")
        .to_string();
    let path = format!("/api/now/table/incident/{id}");
    let one = get(&sim, "admin", &path).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["result"]["short_description"], "crud");
    let patched = patch(
        &sim,
        "admin",
        &path,
        json!({"short_description": "patched"}),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.body["result"]["sys_mod_count"], "1");
    let put = call(
        &sim,
        Method::PUT,
        "admin",
        &path,
        Some(json!({"description": "put"})),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(put.body["result"]["sys_mod_count"], "2");
    let del = call(&sim, Method::DELETE, "admin", &path, None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert!(del.text.is_empty());
    let gone = get(&sim, "admin", &path).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone.body,
        json!({"error": {"message": "No Record found", "detail": "Record doesn't exist or ACL restricts the record retrieval"}, "status": "failure"})
    );
    for m in [Method::PATCH, Method::DELETE] {
        assert_eq!(
            call(&sim, m, "admin", &path, Some(json!({}))).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn unknown_table_is_400_and_unknown_resource_too() {
    let sim = start().await;
    let r = get(&sim, "admin", "/api/now/table/u_nope").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"error": {"message": "Invalid table u_nope", "detail": null}, "status": "failure"})
    );
    let r = get(&sim, "admin", "/api/now/nothing/here").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn v1_empty_list_is_404_but_v2_and_latest_are_empty_arrays() {
    let sim = start().await;
    let v1 = get(&sim, "admin", "/api/now/v1/table/incident").await;
    assert_eq!(v1.status, StatusCode::NOT_FOUND);
    assert_eq!(
        error_of(&v1),
        (
            "No Record found".into(),
            json!("Records matching query not found. Check query parameter or offset parameter")
        )
    );
    for path in ["/api/now/v2/table/incident", "/api/now/table/incident"] {
        let r = get(&sim, "admin", path).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, json!({"result": []}));
        assert_eq!(r.header("x-total-count"), Some("0"));
    }
}

#[tokio::test]
async fn limit_offset_total_count_and_link_header() {
    let sim = start().await;
    for i in 0..25 {
        incident(&sim, json!({"short_description": format!("n{i:02}")})).await;
    }
    let r = get(&sim, "admin", "/api/now/table/incident?sysparm_query=ORDERBYshort_description&sysparm_limit=10&sysparm_offset=10").await;
    assert_eq!(r.header("x-total-count"), Some("25"));
    let rows = r.body["result"].as_array().expect("rows");
    assert_eq!(rows.len(), 10);
    assert_eq!(rows[0]["short_description"], "n10");
    let base = format!(
        "{}/api/now/table/incident?sysparm_query=ORDERBYshort_description",
        sim.base_url()
    );
    let expected = format!(
        "<{base}&sysparm_offset=0&sysparm_limit=10>;rel=\"first\",<{base}&sysparm_offset=0&sysparm_limit=10>;rel=\"prev\",\
         <{base}&sysparm_offset=20&sysparm_limit=10>;rel=\"next\",<{base}&sysparm_offset=20&sysparm_limit=10>;rel=\"last\""
    );
    assert_eq!(r.header("link"), Some(expected.as_str()));
    let first = get(&sim, "admin", "/api/now/table/incident?sysparm_limit=10").await;
    assert!(!first.header("link").expect("link").contains("rel=\"prev\""));
    let suppressed = get(
        &sim,
        "admin",
        "/api/now/table/incident?sysparm_limit=10&sysparm_suppress_pagination_header=true",
    )
    .await;
    assert!(suppressed.header("link").is_none());
    assert_eq!(suppressed.header("x-total-count"), Some("25"));
    let no_count = get(
        &sim,
        "admin",
        "/api/now/table/incident?sysparm_no_count=true",
    )
    .await;
    assert!(no_count.header("x-total-count").is_none());
    assert_eq!(no_count.body["result"].as_array().map(Vec::len), Some(25));
    let head = call(&sim, Method::HEAD, "admin", "/api/now/table/incident", None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.text.is_empty());
    assert_eq!(head.header("x-total-count"), Some("25"));
}

#[tokio::test]
async fn fields_dot_walk_and_invalid_fields() {
    let sim = start().await;
    let rec = incident(&sim, json!({"short_description": "f", "caller_id": ABEL})).await;
    let id = rec["sys_id"].as_str().expect("id");
    let r = get(
        &sim,
        "admin",
        &format!("/api/now/table/incident/{id}?sysparm_fields=number,caller_id.email,bogus"),
    )
    .await;
    assert_eq!(
        r.body["result"],
        json!({"number": "INC0010001", "caller_id.email": "abel.tuter@example.com"})
    );
}

#[tokio::test]
async fn writes_ignore_unknown_and_system_fields_and_take_the_first_of_an_array() {
    let sim = start().await;
    let r = post(
        &sim,
        "admin",
        "/api/now/table/incident",
        json!([{"short_description": "first", "bogus": "x", "sys_created_by": "mallory", "number": "INC9"}, {"short_description": "second"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["result"]["short_description"], "first");
    assert_eq!(r.body["result"]["sys_created_by"], "admin");
    assert_eq!(r.body["result"]["number"], "INC0010001");
    assert!(r.body["result"].get("bogus").is_none());
    assert_eq!(
        get(&sim, "admin", "/api/now/table/incident")
            .await
            .header("x-total-count"),
        Some("1")
    );
}

#[tokio::test]
async fn no_response_body_header_bad_json_and_method_override() {
    let sim = start().await;
    let r = sim
        .http_client()
        .post(format!("{}/api/now/table/incident", sim.base_url()))
        .basic_auth("admin", Some("admin"))
        .header("X-no-response-body", "true")
        .json(&json!({"short_description": "quiet"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().expect("ascii").to_string();
    assert!(r.text().await.expect("text").is_empty());
    let bad = sim
        .http_client()
        .post(format!("{}/api/now/table/incident", sim.base_url()))
        .basic_auth("admin", Some("admin"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("sent");
    let bad = into_resp(bad).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&bad).0, "Exception while reading request");
    let overridden = sim
        .http_client()
        .post(location)
        .basic_auth("admin", Some("admin"))
        .header("X-HTTP-Method-Override", "PATCH")
        .json(&json!({"description": "via override"}))
        .send()
        .await
        .expect("sent");
    let overridden = into_resp(overridden).await;
    assert_eq!(overridden.status, StatusCode::OK);
    assert_eq!(overridden.body["result"]["description"], "via override");
}

#[tokio::test]
async fn oversized_body_is_rejected_with_the_platform_text() {
    let sim = start().await;
    let big = "x".repeat(10_485_761);
    let r = sim
        .http_client()
        .post(format!("{}/api/now/table/incident", sim.base_url()))
        .basic_auth("admin", Some("admin"))
        .header("content-type", "application/json")
        .body(format!("{{\"description\":\"{big}\"}}"))
        .send()
        .await
        .expect("sent");
    let r = into_resp(r).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let (message, detail) = error_of(&r);
    assert_eq!(message, "Exception while reading request");
    assert_eq!(
        detail,
        Value::String("Rejected large REST payload with content-length = 10485779 bytes. Max allowed: 10485760 bytes.".into())
    );
}

#[tokio::test]
async fn input_display_values_and_name_value_queries() {
    let sim = start().await;
    let r = post(
        &sim,
        "admin",
        "/api/now/table/incident?sysparm_input_display_value=true",
        json!({"short_description": "idv", "caller_id": "Abel Tuter", "category": "Network", "impact": "1 - High"}),
    )
    .await;
    assert_eq!(r.body["result"]["caller_id"]["value"], ABEL);
    assert_eq!(r.body["result"]["category"], "network");
    assert_eq!(r.body["result"]["impact"], "1");
    incident(&sim, json!({"short_description": "other"})).await;
    let by_label = get(&sim, "admin", "/api/now/table/incident?category=Network").await;
    assert_eq!(by_label.header("x-total-count"), Some("1"));
    let by_value = get(
        &sim,
        "admin",
        "/api/now/table/incident?category=network&impact=1",
    )
    .await;
    assert_eq!(by_value.header("x-total-count"), Some("1"));
    // sysparm_query wins over name-value pairs.
    let both = get(
        &sim,
        "admin",
        "/api/now/table/incident?category=network&sysparm_query=short_description=other",
    )
    .await;
    assert_eq!(both.header("x-total-count"), Some("1"));
    assert_eq!(both.body["result"][0]["short_description"], "other");
}

#[tokio::test]
async fn choice_fields_are_not_cleared_and_unknown_close_codes_are_dropped() {
    let sim = start().await;
    let rec = incident(&sim, json!({"short_description": "c", "category": "network", "close_code": "Solved (Permanently)"})).await;
    assert_eq!(rec["close_code"], "");
    let id = rec["sys_id"].as_str().expect("id");
    let r = patch(
        &sim,
        "admin",
        &format!("/api/now/table/incident/{id}"),
        json!({"category": "", "description": ""}),
    )
    .await;
    assert_eq!(r.body["result"]["category"], "network");
}
