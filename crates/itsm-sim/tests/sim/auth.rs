use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn token(sim: &lockstep_itsm_sim::SimHandle, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = sim
        .http_client()
        .post(format!("{}/oauth_token.do", sim.base_url()))
        .form(form)
        .send()
        .await
        .expect("sent");
    let r = into_resp(r).await;
    (r.status, r.body)
}

async fn with_bearer(sim: &lockstep_itsm_sim::SimHandle, token: &str) -> StatusCode {
    sim.http_client()
        .get(format!("{}/api/now/table/incident", sim.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
        .status()
}

const DENIED: &str = r#"{"error":"server_error","error_description":"access_denied"}"#;

#[tokio::test]
async fn missing_or_wrong_credentials_get_the_401_envelope() {
    let sim = start().await;
    let none = into_resp(
        sim.http_client()
            .get(format!("{}/api/now/table/incident", sim.base_url()))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let wrong = into_resp(
        sim.http_client()
            .get(format!("{}/api/now/table/incident", sim.base_url()))
            .basic_auth("admin", Some("x"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    for r in [none, wrong] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.body,
            json!({"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"})
        );
        assert_eq!(
            r.header("www-authenticate"),
            Some("BASIC realm=\"Service-now\"")
        );
        assert_eq!(r.header("server"), Some("ServiceNow"));
    }
}

#[tokio::test]
async fn basic_auth_gate_admits_only_the_role_or_web_service_users() {
    let sim = start().await;
    sim.control()
        .patch_settings(json!({"basic_auth_gate": true}))
        .await
        .expect("settings");
    assert_eq!(
        get(&sim, "admin", "/api/now/table/incident").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&sim, "lockstep.integration", "/api/now/table/incident")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn oauth_password_refresh_and_expiry() {
    let sim = start().await;
    let (status, body) = token(
        &sim,
        &[
            ("grant_type", "password"),
            ("client_id", "lockstep"),
            ("client_secret", "lockstep-secret"),
            ("username", "beth.anglin"),
            ("password", "beth.anglin"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            body["token_type"].as_str(),
            body["scope"].as_str(),
            body["expires_in"].as_i64()
        ),
        (Some("Bearer"), Some("useraccount"), Some(1799))
    );
    let access = body["access_token"].as_str().expect("access").to_string();
    let refresh = body["refresh_token"].as_str().expect("refresh").to_string();
    assert_eq!(with_bearer(&sim, &access).await, StatusCode::OK);

    sim.control()
        .set_token_lifespans(60, 120)
        .await
        .expect("lifespans");
    let (_, short) = token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "lockstep"),
            ("client_secret", "lockstep-secret"),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(short["expires_in"], 59);
    assert_eq!(short["refresh_token"], refresh.as_str());
    let short_access = short["access_token"].as_str().expect("access").to_string();
    sim.control().advance_clock(61).await.expect("clock");
    assert_eq!(
        with_bearer(&sim, &short_access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(with_bearer(&sim, &access).await, StatusCode::OK);
    sim.control().advance_clock(8_640_000).await.expect("clock");
    let (status, body) = token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "lockstep"),
            ("client_secret", "lockstep-secret"),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body.to_string(), DENIED);
}

#[tokio::test]
async fn oauth_failures_all_look_the_same() {
    let sim = start().await;
    let bad_secret = token(
        &sim,
        &[
            ("grant_type", "password"),
            ("client_id", "lockstep"),
            ("client_secret", "no"),
            ("username", "admin"),
            ("password", "admin"),
        ],
    )
    .await;
    let bad_user = token(
        &sim,
        &[
            ("grant_type", "password"),
            ("client_id", "lockstep"),
            ("client_secret", "lockstep-secret"),
            ("username", "admin"),
            ("password", "no"),
        ],
    )
    .await;
    // A web-service-only user cannot log in interactively, so the password grant refuses it.
    let wsao = token(
        &sim,
        &[
            ("grant_type", "password"),
            ("client_id", "lockstep"),
            ("client_secret", "lockstep-secret"),
            ("username", "lockstep.integration"),
            ("password", "lockstep.integration"),
        ],
    )
    .await;
    let cc_disabled = token(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "lockstep"),
            ("client_secret", "lockstep-secret"),
        ],
    )
    .await;
    for (status, body) in [bad_secret, bad_user, wsao, cc_disabled] {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body.to_string(), DENIED);
    }
    let json_body = sim
        .http_client()
        .post(format!("{}/oauth_token.do", sim.base_url()))
        .json(&json!({"grant_type": "client_credentials", "client_id": "lockstep", "client_secret": "lockstep-secret"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(json_body.status(), StatusCode::UNAUTHORIZED);
    sim.control()
        .patch_settings(json!({"client_credentials_enabled": true}))
        .await
        .expect("settings");
    let (status, body) = token(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "lockstep"),
            ("client_secret", "lockstep-secret"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("refresh_token").is_none());
    let created = sim
        .http_client()
        .post(format!("{}/api/now/table/incident", sim.base_url()))
        .bearer_auth(body["access_token"].as_str().expect("token"))
        .json(&json!({"short_description": "cc"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        into_resp(created).await.body["result"]["sys_created_by"],
        "lockstep.integration"
    );
}

#[tokio::test]
async fn api_keys_in_header_or_query() {
    let sim = start().await;
    let url = format!("{}/api/now/table/incident", sim.base_url());
    let header = sim
        .http_client()
        .get(&url)
        .header("x-sn-apikey", "now_lockstep_integration_key")
        .send()
        .await
        .expect("sent");
    assert_eq!(header.status(), StatusCode::OK);
    let query = sim
        .http_client()
        .get(format!("{url}?x-sn-apikey=now_lockstep_integration_key"))
        .send()
        .await
        .expect("sent");
    assert_eq!(query.status(), StatusCode::OK);
    sim.control()
        .add_api_keys(&[lockstep_itsm_sim::control::ApiKey {
            key: "expired".into(),
            user_name: "admin".into(),
            expires_at: Some(1),
        }])
        .await
        .expect("keys");
    let expired = sim
        .http_client()
        .get(&url)
        .header("x-sn-apikey", "expired")
        .send()
        .await
        .expect("sent");
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn acls_row_level_table_level_and_writes() {
    let sim = start().await;
    let id = incident(&sim, json!({"short_description": "acl"})).await["sys_id"]
        .as_str()
        .expect("id")
        .to_string();
    for user in ["no.roles", "read.only"] {
        let r = get(&sim, user, "/api/now/table/incident").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, json!({"result": []}));
        // X-Total-Count is ACL-blind (§1.8).
        assert_eq!(r.header("x-total-count"), Some("1"));
        assert_eq!(
            get(&sim, user, &format!("/api/now/table/incident/{id}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        get(&sim, "incident.reader", "/api/now/table/incident")
            .await
            .body["result"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let insert = post(
        &sim,
        "incident.reader",
        "/api/now/table/incident",
        json!({"short_description": "no"}),
    )
    .await;
    assert_eq!(insert.status, StatusCode::FORBIDDEN);
    assert_eq!(
        insert.body,
        json!({"error": {"message": "Operation Failed", "detail": "ACL Exception Insert Failed due to security constraints"}, "status": "failure"})
    );
    let update = patch(
        &sim,
        "incident.reader",
        &format!("/api/now/table/incident/{id}"),
        json!({"state": "2"}),
    )
    .await;
    assert_eq!(
        update.body["error"]["detail"],
        "ACL Exception Update Failed due to security constraints"
    );
    let delete = call(
        &sim,
        reqwest::Method::DELETE,
        "beth.anglin",
        &format!("/api/now/table/incident/{id}"),
        None,
    )
    .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    assert_eq!(
        delete.body["error"]["detail"],
        "ACL Exception Delete Failed due to security constraints"
    );
    let table_level = get(&sim, "no.roles", "/api/now/table/sys_db_object").await;
    assert_eq!(table_level.status, StatusCode::FORBIDDEN);
    assert_eq!(
        table_level.body,
        json!({"error": {"message": "Insufficient rights to query records", "detail": null}, "status": "failure"})
    );
    assert_eq!(
        get(&sim, "beth.anglin", "/api/now/table/sys_db_object")
            .await
            .status,
        StatusCode::OK
    );
    // Own role rows only for non-admins.
    let roles = get(
        &sim,
        "beth.anglin",
        "/api/now/table/sys_user_has_role?sysparm_fields=role.name",
    )
    .await;
    assert_eq!(roles.body["result"], json!([{"role.name": "itil"}]));
}
