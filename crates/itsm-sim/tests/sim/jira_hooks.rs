//! Jira admin webhooks: registration, the JQL filter, the v2 payload with changelog items,
//! `X-Hub-Signature`, the delivery identifier and retries.

use std::time::Duration;

use lockstep_itsm_sim::control::jira_seed;
use reqwest::Method;
use ring::hmac;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::jira::{ADMIN, LOCKSTEP, create_sec, jira};

const WAIT: Duration = Duration::from_secs(10);

async fn register(sim: &lockstep_itsm_sim::SimHandle, url: &str, secret: Option<&str>) -> Value {
    let mut body = json!({"name": "lockstep", "url": url,
        "events": ["jira:issue_created", "jira:issue_updated", "comment_created"],
        "filters": {"issue-related-events-section": "project = SEC"}, "excludeBody": false});
    if let Some(s) = secret {
        body["secret"] = json!(s);
    }
    let r = sim
        .http_client()
        .post(format!("{}/rest/webhooks/1.0/webhook", sim.base_url()))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .json(&body)
        .send()
        .await
        .expect("sent");
    let r = into_resp(r).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        r.body.get("secret").is_none(),
        "a secret is never read back"
    );
    r.body
}

#[tokio::test]
async fn only_admins_register_webhooks() {
    let sim = start().await;
    let r = sim
        .http_client()
        .post(format!("{}/rest/webhooks/1.0/webhook", sim.base_url()))
        .basic_auth(LOCKSTEP.0, Some(LOCKSTEP.1))
        .json(&json!({"url": "https://x/y", "events": []}))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn signed_v2_deliveries_with_changelog_for_matching_issues_only() {
    let sim = start().await;
    let (url, rx) = receiver().await;
    register(&sim, &url, Some("It's a Secret to Everybody")).await;

    // An OPS change is outside the webhook's JQL: nothing is even queued.
    let r = jira(
        &sim,
        LOCKSTEP,
        Method::POST,
        "issue/OPS-1/transitions",
        Some(json!({"transition": {"id": "31"}})),
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(
        sim.control()
            .deliveries()
            .await
            .expect("deliveries")
            .is_empty()
    );

    // Priya moves SEC-1 in the UI.
    let act = sim
        .control()
        .jira_transition(jira_seed::PRIYA, "SEC-1", "11", json!({}))
        .await
        .expect("act");
    assert_eq!(act.status, 204);
    let d = sim
        .control()
        .wait_for_deliveries(1, WAIT)
        .await
        .expect("delivered");
    assert_eq!(d.len(), 1);
    let got = rx.got.lock()[0].clone();
    let header = |n: &str| {
        got.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };

    // X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>, checked with ring directly.
    let sig = header("x-hub-signature");
    let hex_tag = sig.strip_prefix("sha256=").expect("sha256= prefix");
    let tag = hex::decode(hex_tag).expect("hex");
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"It's a Secret to Everybody");
    assert!(hmac::verify(&key, &got.body, &tag).is_ok());
    assert!(
        hmac::verify(
            &hmac::Key::new(hmac::HMAC_SHA256, b"wrong"),
            &got.body,
            &tag
        )
        .is_err()
    );
    assert!(!header("x-atlassian-webhook-identifier").is_empty());
    assert_eq!(header("x-atlassian-webhook-flow"), "Primary");
    assert!(got.headers.get("x-atlassian-webhook-retry").is_none());
    assert!(
        got.headers.get("webhook-signature").is_none(),
        "no Standard Webhooks headers"
    );

    let body: Value = serde_json::from_slice(&got.body).expect("json");
    assert_eq!(body["webhookEvent"], "jira:issue_updated");
    assert_eq!(body["issue_event_type_name"], "issue_generic");
    assert_eq!(body["user"]["accountId"], jira_seed::PRIYA);
    assert_eq!(body["issue"]["key"], "SEC-1");
    assert!(
        body["issue"]["self"]
            .as_str()
            .expect("self")
            .contains("/rest/api/2/issue/")
    );
    assert!(
        body["issue"]["fields"]["description"].is_string(),
        "v2 representation, not ADF"
    );
    assert_eq!(
        body["issue"]["fields"]["status"]["statusCategory"]["key"],
        "indeterminate"
    );
    let item = &body["changelog"]["items"][0];
    assert_eq!(
        (item["field"].as_str(), item["fieldtype"].as_str()),
        (Some("status"), Some("jira"))
    );
    assert_eq!(
        (item["from"].as_str(), item["fromString"].as_str()),
        (Some("1"), Some("Open"))
    );
    assert_eq!(
        (item["to"].as_str(), item["toString"].as_str()),
        (Some("10002"), Some("Triaged"))
    );

    // A create carries no changelog; a comment fires comment_created and an issue_commented update.
    let key = create_sec(&sim, "new one").await;
    jira(
        &sim,
        LOCKSTEP,
        Method::POST,
        &format!("issue/{key}/comment"),
        Some(json!({"body": {"type": "doc", "version": 1, "content": []}})),
    )
    .await;
    let d = sim
        .control()
        .wait_for_deliveries(4, WAIT)
        .await
        .expect("delivered");
    let events: Vec<Value> = d
        .iter()
        .map(|x| serde_json::from_str(&x.body).expect("json"))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["webhookEvent"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "jira:issue_updated",
            "jira:issue_created",
            "comment_created",
            "jira:issue_updated"
        ]
    );
    assert!(events[1].get("changelog").is_none());
    assert_eq!(events[3]["issue_event_type_name"], "issue_commented");
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_identifier() {
    let sim = start().await;
    sim.control()
        .patch_jira_settings(json!({"webhook_max_retries": 2, "webhook_retry_backoff_ms": 10}))
        .await
        .expect("settings");
    let (url, rx) = receiver().await;
    *rx.status.lock() = 503;
    register(&sim, &url, None).await;
    let act = sim
        .control()
        .jira_transition(jira_seed::PRIYA, "SEC-1", "11", json!({}))
        .await
        .expect("act");
    assert_eq!(act.status, 204);
    let d = sim
        .control()
        .wait_for_deliveries(3, WAIT)
        .await
        .expect("three attempts");
    assert_eq!(d.len(), 3);
    assert!(d.iter().all(|x| x.event_id == d[0].event_id));
    let got = rx.got.lock().clone();
    let ids: Vec<_> = got
        .iter()
        .map(|g| g.headers.get("x-atlassian-webhook-identifier").cloned())
        .collect();
    assert!(ids.iter().all(|i| i.is_some() && *i == ids[0]));
    let retries: Vec<Option<&str>> = got
        .iter()
        .map(|g| {
            g.headers
                .get("x-atlassian-webhook-retry")
                .and_then(|v| v.to_str().ok())
        })
        .collect();
    assert_eq!(retries, [None, Some("1"), Some("2")]);
    assert!(
        got.iter()
            .all(|g| g.headers.get("x-hub-signature").is_none()),
        "unsigned without a secret"
    );
}

#[tokio::test]
async fn deleting_an_issue_needs_the_permission_and_deletes_subtasks_only_when_asked() {
    let sim = start().await;
    let (url, _rx) = receiver().await;
    let r = sim
        .http_client()
        .post(format!("{}/rest/webhooks/1.0/webhook", sim.base_url()))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .json(
            &json!({"name": "deletes", "url": url, "events": ["jira:issue_deleted"],
            "filters": {"issue-related-events-section": "project = SEC"}}),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 201);
    let parent = create_sec(&sim, "parent").await;
    let child = jira(
        &sim,
        LOCKSTEP,
        Method::POST,
        "issue",
        Some(
            json!({"fields": {"project": {"key": "SEC"}, "parent": {"key": parent},
            "issuetype": {"name": "Sub-task"}, "summary": "child", "customfield_10050": "h"}}),
        ),
    )
    .await;
    assert_eq!(child.status, 201, "{}", child.text);
    let child = child.body["key"].as_str().expect("key").to_owned();

    // Browse without "Delete issues" is 403; no Browse at all is Jira's one 404.
    let reader = ("reader@example.com", "reader-token");
    let nobody = ("nobody@example.com", "nobody-token");
    let path = format!("issue/{parent}");
    assert_eq!(
        jira(&sim, reader, Method::DELETE, &path, None).await.status,
        403
    );
    assert_eq!(
        jira(&sim, nobody, Method::DELETE, &path, None).await.status,
        404
    );
    let refused = jira(&sim, LOCKSTEP, Method::DELETE, &path, None).await;
    assert_eq!(refused.status, 400, "subtasks: {}", refused.text);
    assert_eq!(
        jira(&sim, LOCKSTEP, Method::GET, &path, None).await.status,
        200
    );

    let cascade = format!("{path}?deleteSubtasks=true");
    let gone = jira(&sim, LOCKSTEP, Method::DELETE, &cascade, None).await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    for key in [&parent, &child] {
        let r = jira(&sim, LOCKSTEP, Method::GET, &format!("issue/{key}"), None).await;
        assert_eq!(r.status, 404, "{key}: {}", r.text);
    }
    let sent = sim
        .control()
        .wait_for_deliveries(2, WAIT)
        .await
        .expect("delivered");
    let mut deleted: Vec<(String, String)> = sent
        .iter()
        .map(|d| {
            let body: Value = serde_json::from_str(&d.body).expect("json");
            let event = body["webhookEvent"].as_str().unwrap_or("").to_owned();
            (
                event,
                body["issue"]["key"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    deleted.sort();
    let mut expected = vec![
        ("jira:issue_deleted".to_owned(), parent.clone()),
        ("jira:issue_deleted".to_owned(), child.clone()),
    ];
    expected.sort();
    assert_eq!(deleted, expected);
}
