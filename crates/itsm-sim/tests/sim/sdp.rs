//! ServiceDesk Plus v3 emulator: what the Python conformance suite does not cover: an expired Cloud
//! access token refreshed, an error inside an HTTP 200, webhook token headers and the shared drop
//! control, configurable statuses and key expiry on the simulated clock.

use std::time::Duration;

use lockstep_itsm_sim::SimHandle;
use lockstep_itsm_sim::control::{
    DeliveryBehaviour, DeliveryOutcome, SdpStatus, SdpTechnician, SdpWebhook, sdp_seed,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const ACCEPT: &str = "application/vnd.manageengine.sdp.v3+json";
const WAIT: Duration = Duration::from_secs(10);

/// A v3 call: `input_data` as a form field (query parameter on GET), one auth header.
async fn v3(
    sim: &SimHandle,
    portal: &str,
    auth: (&str, &str),
    method: Method,
    path: &str,
    input: Option<Value>,
) -> Resp {
    let url = format!("{}/app/{portal}/api/v3/{path}", sim.base_url());
    let mut req = sim
        .http_client()
        .request(method.clone(), url)
        .header("Accept", ACCEPT)
        .header(auth.0, auth.1);
    if let Some(v) = input {
        let pair = [("input_data", v.to_string())];
        req = if method == Method::GET {
            req.query(&pair)
        } else {
            req.form(&pair)
        };
    }
    into_resp(req.send().await.expect("sent")).await
}

async fn refresh(sim: &SimHandle) -> Value {
    let r = sim
        .http_client()
        .post(format!("{}/oauth/v2/token", sim.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", sdp_seed::CLIENT_ID),
            ("client_secret", sdp_seed::CLIENT_SECRET),
            ("refresh_token", sdp_seed::REFRESH_TOKEN),
        ])
        .send()
        .await
        .expect("sent");
    let r = into_resp(r).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn code(r: &Resp) -> u64 {
    r.body["response_status"]["messages"][0]["status_code"]
        .as_u64()
        .unwrap_or_default()
}

const ONPREM_AUTH: (&str, &str) = ("authtoken", sdp_seed::LOCKSTEP_KEY);

#[tokio::test]
async fn an_expired_cloud_token_is_4022_until_refreshed() {
    let sim = start().await;
    let grant = refresh(&sim).await;
    let life = grant["expires_in"].as_i64().expect("expires_in");
    let bearer = format!(
        "Zoho-oauthtoken {}",
        grant["access_token"].as_str().expect("token")
    );
    let auth = ("Authorization", bearer.as_str());
    let ok = v3(&sim, sdp_seed::CLOUD, auth, Method::GET, "requests", None).await;
    assert_eq!(ok.status, 200, "{}", ok.text);

    sim.control()
        .advance_clock(life + 1)
        .await
        .expect("advance");
    let expired = v3(&sim, sdp_seed::CLOUD, auth, Method::GET, "requests", None).await;
    assert_eq!(
        (expired.status.as_u16(), code(&expired)),
        (401, 4022),
        "{}",
        expired.text
    );

    let fresh = refresh(&sim).await;
    let bearer = format!(
        "Zoho-oauthtoken {}",
        fresh["access_token"].as_str().expect("token")
    );
    assert_ne!(fresh["access_token"], grant["access_token"]);
    let again = v3(
        &sim,
        sdp_seed::CLOUD,
        ("Authorization", bearer.as_str()),
        Method::POST,
        "requests",
        Some(json!({"request": {"subject": "after refresh"}})),
    )
    .await;
    assert_eq!(
        again.body["response_status"]["status_code"], 2000,
        "{}",
        again.text
    );
}

#[tokio::test]
async fn an_error_inside_http_200_creates_nothing() {
    let sim = start().await;
    sim.control()
        .sdp_errors_in_200(1, 4004)
        .await
        .expect("inject");
    let create = json!({"request": {"subject": "lost"}});
    let r = v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::POST,
        "requests",
        Some(create),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["response_status"]["status_code"], 4000);
    assert_eq!(code(&r), 4004);
    assert!(r.body.get("request").is_none());
    let list = json!({"list_info": {"row_count": 100, "get_total_count": true}});
    let l = v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::GET,
        "requests",
        Some(list),
    )
    .await;
    assert_eq!(l.body["list_info"]["total_count"], 0, "{}", l.text);
}

fn hook(url: &str) -> SdpWebhook {
    SdpWebhook {
        id: 0,
        portal: sdp_seed::ONPREM.into(),
        url: url.into(),
        events: vec!["request_update".into()],
        payload_template: Some(
            r#"{"id":"${request.id}","status":"${request.status.name}"}"#.into(),
        ),
        header_name: Some("X-Webhook-Token".into()),
        header_value: Some("s3cret".into()),
        target_id: String::new(),
    }
}

#[tokio::test]
async fn webhooks_carry_the_token_header_and_no_signature() {
    let sim = start().await;
    let (url, rx) = receiver().await;
    let added = sim
        .control()
        .add_sdp_webhook(&hook(&url))
        .await
        .expect("hook");
    assert!(added.header_value.is_none(), "the token is never read back");
    let create = json!({"request": {"subject": "watched"}});
    let r = v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::POST,
        "requests",
        Some(create),
    )
    .await;
    let id = r.body["request"]["id"].as_str().expect("id").to_string();

    // A technician resolves it in SDP; only `request_update` is subscribed.
    let acted = sim
        .control()
        .sdp_set_status(sdp_seed::ONPREM, "ravi@itdesk.example.com", &id, "Resolved")
        .await
        .expect("act");
    assert_eq!(acted.status, 200);
    let d = sim
        .control()
        .wait_for_deliveries(1, WAIT)
        .await
        .expect("delivered");
    assert_eq!(d.len(), 1);
    let got = rx.got.lock().clone();
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(body, json!({"id": id, "status": "Resolved"}));
    let h = &got[0].headers;
    assert_eq!(
        h.get("x-webhook-token").and_then(|v| v.to_str().ok()),
        Some("s3cret")
    );
    assert!(h.keys().all(|k| !k.as_str().contains("signature")), "{h:?}");
}

#[tokio::test]
async fn dropped_sdp_webhooks_are_recorded_and_never_sent() {
    let sim = start().await;
    let (url, rx) = receiver().await;
    sim.control()
        .add_sdp_webhook(&hook(&url))
        .await
        .expect("hook");
    sim.control()
        .set_delivery_behaviour(&DeliveryBehaviour {
            drop_rate: 1.0,
            ..DeliveryBehaviour::default()
        })
        .await
        .expect("behaviour");
    let create = json!({"request": {"subject": "dropped"}});
    let r = v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::POST,
        "requests",
        Some(create),
    )
    .await;
    let id = r.body["request"]["id"].as_str().expect("id").to_string();
    let put = json!({"request": {"subject": "changed"}});
    v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::PUT,
        &format!("requests/{id}"),
        Some(put),
    )
    .await;
    let d = sim.control().deliveries().await.expect("deliveries");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].outcome, DeliveryOutcome::Dropped);
    assert!(rx.got.lock().is_empty());
}

#[tokio::test]
async fn configured_statuses_and_expiring_keys() {
    let sim = start().await;
    let added = sim
        .control()
        .add_sdp_status(
            sdp_seed::ONPREM,
            &SdpStatus {
                id: String::new(),
                name: "Awaiting Vendor".into(),
                internal_name: None,
                in_progress: true,
                stop_timer: true,
                color: "#123456".into(),
            },
        )
        .await
        .expect("status");
    let create = json!({"request": {"subject": "s", "status": {"name": "Awaiting Vendor"}}});
    let r = v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::POST,
        "requests",
        Some(create),
    )
    .await;
    assert_eq!(
        r.body["request"]["status"]["id"],
        json!(added.id),
        "{}",
        r.text
    );
    assert_eq!(r.body["request"]["status"]["stop_timer"], true);

    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let key = "TEMP-KEY-0001";
    sim.control()
        .add_sdp_technician(
            sdp_seed::ONPREM,
            &SdpTechnician {
                id: String::new(),
                name: "Temp".into(),
                email_id: "temp@itdesk.example.com".into(),
                api_key: Some(key.into()),
                key_expires_ms: Some(now_ms + 3_600_000),
                read_only: false,
                is_technician: true,
            },
        )
        .await
        .expect("technician");
    let ok = v3(
        &sim,
        sdp_seed::ONPREM,
        ("authtoken", key),
        Method::GET,
        "requests",
        None,
    )
    .await;
    assert_eq!(ok.status, 200);
    sim.control()
        .advance_clock(2 * 3600)
        .await
        .expect("advance");
    let late = v3(
        &sim,
        sdp_seed::ONPREM,
        ("authtoken", key),
        Method::GET,
        "requests",
        None,
    )
    .await;
    assert_eq!((late.status.as_u16(), code(&late)), (401, 4022));
}

#[tokio::test]
async fn shared_faults_and_duplicates_apply_to_sdp() {
    use lockstep_itsm_sim::control::{FaultRule, InjectedError};
    let sim = start().await;
    let (url, rx) = receiver().await;
    sim.control()
        .add_sdp_webhook(&hook(&url))
        .await
        .expect("hook");
    sim.control()
        .set_delivery_behaviour(&DeliveryBehaviour {
            duplicate_rate: 1.0,
            ..DeliveryBehaviour::default()
        })
        .await
        .expect("behaviour");
    sim.control()
        .set_faults(&[FaultRule {
            path_prefix: format!("/app/{}/api/v3/requests", sdp_seed::ONPREM),
            method: Some("GET".into()),
            error_rate: 1.0,
            error: InjectedError::Status { status: 502 },
            times: Some(1),
            ..FaultRule::default()
        }])
        .await
        .expect("faults");
    let faulted = v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::GET,
        "requests",
        None,
    )
    .await;
    assert_eq!(faulted.status, 502);
    let served = v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::GET,
        "requests",
        None,
    )
    .await;
    assert_eq!(served.status, 200);

    let create = json!({"request": {"subject": "twice"}});
    let r = v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::POST,
        "requests",
        Some(create),
    )
    .await;
    let id = r.body["request"]["id"].as_str().expect("id").to_string();
    let put = json!({"request": {"subject": "changed"}});
    v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::PUT,
        &format!("requests/{id}"),
        Some(put),
    )
    .await;
    let d = sim
        .control()
        .wait_for_deliveries(2, WAIT)
        .await
        .expect("delivered");
    assert_eq!(d.len(), 2);
    assert_eq!(
        d[0].event_id, d[1].event_id,
        "a duplicate is the same event"
    );
    assert_eq!(rx.got.lock().len(), 2);
}

/// What a connector's correlation marker relies on: a UDF is searchable by its dotted path.
#[tokio::test]
async fn search_criteria_reach_udf_fields() {
    let sim = start().await;
    for marker in ["finding-1", "finding-2"] {
        let create = json!({"request": {"subject": marker, "template": {"name": sdp_seed::SECURITY_TEMPLATE},
            "impact": {"name": "Affects User"},
            "udf_fields": {"udf_sline_301": marker, "udf_long_302": "42"}}});
        let r = v3(
            &sim,
            sdp_seed::ONPREM,
            ONPREM_AUTH,
            Method::POST,
            "requests",
            Some(create),
        )
        .await;
        assert_eq!(r.body["response_status"]["status_code"], 2000, "{}", r.text);
    }
    let list = json!({"list_info": {"row_count": 10, "search_criteria": [
        {"field": "udf_fields.udf_sline_301", "condition": "is", "value": "finding-2"}]}});
    let l = v3(
        &sim,
        sdp_seed::ONPREM,
        ONPREM_AUTH,
        Method::GET,
        "requests",
        Some(list),
    )
    .await;
    let subjects: Vec<&str> = l.body["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["subject"].as_str())
        .collect();
    assert_eq!(subjects, ["finding-2"]);
}
