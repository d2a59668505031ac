use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lockstep_itsm_sim::control::{DeliveryBehaviour, DeliveryOutcome, WebhookTargetSpec};
use ring::hmac;
use serde_json::{Value, json};

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(10);

/// Verifies a Standard Webhooks signature with ring directly: an implementation independent of
/// the emulator's signer.
fn verify(secret: &[u8], r: &Received) -> bool {
    let h = |n: &str| {
        r.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let signed = format!("{}.{}.", h("webhook-id"), h("webhook-timestamp"));
    let mut msg = signed.into_bytes();
    msg.extend_from_slice(&r.body);
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    h("webhook-signature")
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b| STANDARD.decode(b).ok())
        .any(|tag| hmac::verify(&key, &msg, &tag).is_ok())
}

fn body(r: &Received) -> Value {
    serde_json::from_slice(&r.body).expect("json body")
}

#[tokio::test]
async fn signed_payload_on_insert_and_update() {
    let sim = start().await;
    let (url, rx) = receiver().await;
    sim.control()
        .add_webhook_target(&WebhookTargetSpec {
            url,
            secret: Some("s3cr3t".into()),
            ..Default::default()
        })
        .await
        .expect("target");
    let rec = incident(&sim, json!({"short_description": "Störung", "correlation_id": "lockstep:42", "impact": "1", "urgency": "1"})).await;
    sim.control()
        .start_incident("INC0010001", "beth.anglin")
        .await
        .expect("started");
    let deliveries = sim
        .control()
        .wait_for_deliveries(2, WAIT)
        .await
        .expect("delivered");
    assert!(
        deliveries
            .iter()
            .all(|d| d.outcome == DeliveryOutcome::Delivered && d.status == Some(200))
    );
    let got = rx.got.lock().clone();
    assert_eq!(got.len(), 2);
    for r in &got {
        assert!(verify(b"s3cr3t", r), "signature verifies");
        assert!(!verify(b"wrong", r));
        assert!(r.body.is_ascii(), "non-ASCII is escaped");
        let ts: i64 = r.headers["webhook-timestamp"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("unix");
        assert!((time::OffsetDateTime::now_utc().unix_timestamp() - ts).abs() < 60);
        assert_eq!(r.headers["content-type"], "application/json");
    }
    let (insert, update) = (body(&got[0]), body(&got[1]));
    let id = rec["sys_id"].as_str().expect("id");
    assert_eq!(
        got[0].headers["webhook-id"].to_str().expect("ascii"),
        format!("{id}-0")
    );
    assert_eq!(insert["event_id"], format!("{id}-0"));
    assert_eq!(
        (
            insert["event_type"].as_str(),
            insert["table"].as_str(),
            insert["number"].as_str(),
            insert["state"].as_str()
        ),
        (
            Some("insert"),
            Some("incident"),
            Some("INC0010001"),
            Some("1")
        )
    );
    assert_eq!(insert["correlation_id"], "lockstep:42");
    assert_eq!(insert["fields"]["short_description"], "Störung");
    assert_eq!(insert["fields"]["priority"], "1");
    assert_eq!(
        (
            update["event_type"].as_str(),
            update["state"].as_str(),
            update["incident_state"].as_str(),
            update["sys_mod_count"].as_str()
        ),
        (Some("update"), Some("2"), Some("2"), Some("1"))
    );
    assert_eq!(update["sys_updated_by"], "beth.anglin");
    assert_eq!(
        update["fields"]["assigned_to"],
        "46d44a23a9fe19810012d100cca80666"
    );
    let keys: Vec<&String> = update.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "close_code",
            "correlation_id",
            "event_id",
            "event_type",
            "fields",
            "incident_state",
            "number",
            "state",
            "sys_id",
            "sys_mod_count",
            "sys_updated_by",
            "sys_updated_on",
            "table"
        ]
    );
}

#[tokio::test]
async fn token_targets_topics_and_change_requests() {
    let sim = start().await;
    let (url, rx) = receiver().await;
    sim.control()
        .add_webhook_target(&WebhookTargetSpec {
            url,
            token: Some("tok".into()),
            topics: vec!["change_request".into()],
            ..Default::default()
        })
        .await
        .expect("target");
    incident(&sim, json!({"short_description": "not for this target"})).await;
    post(
        &sim,
        "admin",
        "/api/now/table/change_request",
        json!({"short_description": "chg"}),
    )
    .await;
    sim.control()
        .wait_for_deliveries(1, WAIT)
        .await
        .expect("delivered");
    let got = rx.got.lock().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].headers["x-lockstep-token"], "tok");
    assert!(got[0].headers.get("webhook-signature").is_none());
    let b = body(&got[0]);
    assert_eq!(
        (
            b["table"].as_str(),
            b["number"].as_str(),
            b["state"].as_str(),
            b["incident_state"].as_str()
        ),
        (
            Some("change_request"),
            Some("CHG0030001"),
            Some("-5"),
            Some("")
        )
    );
    assert_eq!(b["fields"]["type"], "normal");
}

#[tokio::test]
async fn drops_duplicates_failures_and_redelivery() {
    let sim = start().await;
    let (url, rx) = receiver().await;
    let c = sim.control();
    c.add_webhook_target(&WebhookTargetSpec {
        url,
        secret: Some("k".into()),
        ..Default::default()
    })
    .await
    .expect("target");
    c.set_delivery_behaviour(&DeliveryBehaviour {
        drop_rate: 1.0,
        ..Default::default()
    })
    .await
    .expect("behaviour");
    incident(&sim, json!({"short_description": "dropped"})).await;
    let d = c.wait_for_deliveries(1, WAIT).await.expect("recorded");
    assert_eq!(d[0].outcome, DeliveryOutcome::Dropped);
    c.set_delivery_behaviour(&DeliveryBehaviour {
        duplicate_rate: 1.0,
        ..Default::default()
    })
    .await
    .expect("behaviour");
    incident(&sim, json!({"short_description": "twice"})).await;
    c.wait_for_deliveries(3, WAIT).await.expect("delivered");
    let got = rx.got.lock().clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    assert_eq!(got[0].body, got[1].body);
    *rx.status.lock() = 500;
    c.set_delivery_behaviour(&DeliveryBehaviour::default())
        .await
        .expect("behaviour");
    incident(&sim, json!({"short_description": "refused"})).await;
    let all = c.wait_for_deliveries(4, WAIT).await.expect("attempted");
    let failed = all.last().expect("last").clone();
    assert_eq!(
        (failed.outcome, failed.status),
        (DeliveryOutcome::Failed, Some(500))
    );
    assert!(failed.headers.contains_key("webhook-signature"));
    *rx.status.lock() = 204;
    c.redeliver(failed.id).await.expect("redelivered");
    let all = c.wait_for_deliveries(5, WAIT).await.expect("attempted");
    let again = all.last().expect("last");
    assert_eq!(
        (again.outcome, again.attempt, again.event_id.as_str()),
        (DeliveryOutcome::Delivered, 2, failed.event_id.as_str())
    );
}

#[tokio::test]
async fn delay_and_reordering() {
    let sim = start().await;
    let (url, rx) = receiver().await;
    let c = sim.control();
    c.add_webhook_target(&WebhookTargetSpec {
        url,
        ..Default::default()
    })
    .await
    .expect("target");
    c.set_delivery_behaviour(&DeliveryBehaviour {
        delay_ms: 200,
        ..Default::default()
    })
    .await
    .expect("behaviour");
    let started = std::time::Instant::now();
    incident(&sim, json!({"short_description": "late"})).await;
    c.wait_for_deliveries(1, WAIT).await.expect("delivered");
    assert!(started.elapsed() >= Duration::from_millis(200));
    // Hold every first event back so the later update overtakes it: the ordering guard's test.
    c.set_delivery_behaviour(&DeliveryBehaviour {
        reorder_rate: 1.0,
        reorder_delay_ms: 300,
        ..Default::default()
    })
    .await
    .expect("behaviour");
    c.start_incident("INC0010001", "beth.anglin")
        .await
        .expect("update 1");
    c.set_delivery_behaviour(&DeliveryBehaviour::default())
        .await
        .expect("behaviour");
    c.hold_incident("INC0010001", "beth.anglin", "1")
        .await
        .expect("update 2");
    c.wait_for_deliveries(3, WAIT).await.expect("delivered");
    let counts: Vec<String> = rx
        .got
        .lock()
        .iter()
        .map(|r| body(r)["sys_mod_count"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(counts, ["0", "2", "1"]);
}
